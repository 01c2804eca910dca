"""Powers: ``x**y`` with rules that stay finite at ``x = 0`` and in ``y``.

* Every partial derivative of ``x^y`` is one member of the closed family
  ``x^(y-j) P(log x, y)`` (``power_family``), evaluated as one scaled product:
  ``d/dx x^y = y x^(y-1)`` without rounding ``y - 1`` (an error that ``log x``
  amplifies to ~100 ulp), finite where ``x^y`` overflows but ``x^(y-1)`` does not,
  and higher derivatives that never lose a subnormal term.
* Strong zeros: ``d/dx x^0 = 0`` even at ``x = 0``; ``d/dy x^y = x^y log x`` is
  ``0`` where ``x^y = 0`` (``0^y``, ``y > 0``), not ``0 * -inf = nan``. For ``x < 0``
  it is ``nan`` (``x^y`` is not real as a function of ``y``).
* Integer exponents (Python ``int`` or integer arrays) give ``n x^(n-1)`` with no ``y``
  derivative, like ``jax.numpy``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.dtypes import prepare
from .._core.strong import strong_mul
from ._polynomial_terms import Terms, combine_terms
from ._rule import constant, stable_rule
from ._scaled import scaled_product

__all__ = ["power", "float_power"]


# A polynomial in (log x, y): sorted ((m, i, c), ...) for sum c (log x)^m y^i.
Polynomial = Terms


def _evaluate(poly: Polynomial, log_x, y):
    total = None
    for m, i, c in poly:
        term = constant(float(c), y)
        if m:
            term = term * log_x**m
        if i:
            term = term * y**i
        total = term if total is None else total + term
    return total


def _power_family_value(j: int, poly: Polynomial, x, y):
    out = jax.lax.pow(x, y)
    if (j, poly) == (0, ((0, 0, 1),)):
        return out  # power itself: lax.pow bit for bit
    log_x = jnp.log(x)
    bracket = _evaluate(poly, log_x, y)
    magnitude = jnp.abs(out)
    normal = (
        (x != 0)
        & jnp.isfinite(magnitude)
        & (magnitude >= constant(float(jnp.finfo(x.dtype).tiny), x).real)
    )
    # x^y x^-j P from mantissas and exponents: x^y / x can be subnormal where the
    # product with P is not.
    direct = scaled_product([(out, 1), (x, -j), (bracket, 1)])
    lowered = strong_mul(jax.lax.pow(x, y - constant(float(j), x)), bracket)
    if not jnp.issubdtype(x.dtype, jnp.complexfloating):
        # x > 0 with x^y out of range: x^(y-j) from mantissa and exponent.
        positive = x > 0
        safe_x = jnp.where(positive, x, jnp.ones_like(x))
        rescued = _power_times(safe_x, y - constant(float(j), x), bracket)
        lowered = jnp.where(positive & jnp.isfinite(x), rescued, lowered)
    return jnp.where(normal, direct, lowered)


def _veltkamp(a):
    # a = hi + lo exactly, hi with half the mantissa bits (Veltkamp's splitting).
    bits = (jnp.finfo(a.dtype).nmant + 2) // 2
    scaled = constant(2.0**bits + 1.0, a) * a
    hi = scaled - (scaled - a)
    return hi, a - hi


def _power_times(x, a, factor):
    """:math:`x^a \\cdot` ``factor`` for ``x > 0`` where :math:`x^a` alone may leave
    the range. With :math:`x = m 2^e` (``frexp``) and :math:`a e = k + r` split
    exactly (``a = hi + lo``, ``hi e`` exact, :math:`k` an integer), the result is
    :math:`m^a\\,2^r\\,\\mathrm{factor} \\cdot 2^k`: a few ulp, where
    :math:`\\exp(a \\log x + \\log|\\mathrm{factor}|)` loses :math:`|a \\log x|` ulp
    (700 in float64 near the underflow threshold)."""
    mantissa, exponent = jnp.frexp(x)
    e = exponent.astype(x.dtype)
    a = jnp.where(jnp.isfinite(a), a, jnp.zeros_like(a))
    hi, lo = _veltkamp(a)
    product = hi * e
    whole = jnp.floor(product)
    rest = (product - whole) + lo * e
    f_mantissa, f_exponent = jnp.frexp(factor)
    value = jnp.power(mantissa, a) * jnp.exp2(rest) * f_mantissa
    limit = 4 * int(jnp.finfo(x.dtype).maxexp)
    shift = jnp.clip(whole, -limit, limit).astype(jnp.int32) + f_exponent
    return jnp.ldexp(value, shift)


_POWER_FAMILY: dict[tuple[int, Polynomial], object] = {}


def power_family(j: int, poly: Polynomial):
    """The core :math:`F_{j,P}(x, y) = x^{y-j} P(\\log x, y)`, ``P`` a polynomial with
    integer coefficients given as ``((m, i, c), ...)`` for :math:`\\sum c
    (\\log x)^m y^i`; ``power`` is :math:`F_{0,1}` (``lax.pow`` itself, bit for bit).

    The family is closed under differentiation,

    .. math::

        \\partial_x F_{j,P} = F_{j+1,\\,(y-j)P + \\partial_L P}, \\qquad
        \\partial_y F_{j,P} = F_{j,\\,L P + \\partial_y P},

    so every rule multiplies the tangent by one primal member: no quotient chain
    whose reverse-mode transpose overflows (``(x^y log x)/x`` near the overflow
    threshold), and no sum of separately rounded terms of which one is subnormal
    (``2 x^(y-2)`` next to ``x^(y-2) log^2 x``) while the derivative is not.

    Values: where ``x^y`` is a normal number, the scaled product ``x^y x^-j P``
    (no rounding of ``y - j``, whose error ``log x`` would amplify); where ``x^y``
    under- or overflows and ``x > 0``, ``sign(P) exp((y - j) log x + log|P|)``; at
    ``x = 0`` and for ``x < 0``, ``pow(x, y - j)`` strong-times ``P`` (``0`` where
    the power is ``0``; ``nan`` where ``P`` involves ``log x`` of ``x < 0``, where
    ``x^y`` is not a real function of ``y``). Written by hand: the closed-form
    family is the point.
    """
    poly = combine_terms(poly)
    key = (j, poly)
    if key not in _POWER_FAMILY:

        def primal(x, y):
            return _power_family_value(j, poly, x, y)

        def rule(p, out, t):
            x, y = p
            d_x = power_family(j + 1, _partial_x(j, poly))(x, y)
            d_y = power_family(j, _partial_y(poly))(x, y)
            return strong_mul(t[0], d_x) + strong_mul(t[1], d_y)

        _POWER_FAMILY[key] = stable_rule(primal, rule)
    return _POWER_FAMILY[key]


def _partial_x(j: int, poly: Polynomial) -> Polynomial:
    # (y - j) P + dP/dL
    return combine_terms(
        triple
        for m, i, c in poly
        for triple in ((m, i + 1, c), (m, i, -j * c), (m - 1, i, m * c))
        if triple[0] >= 0
    )


def _partial_y(poly: Polynomial) -> Polynomial:
    # L P + dP/dy
    return combine_terms(
        triple
        for m, i, c in poly
        for triple in ((m + 1, i, c), (m, i - 1, i * c))
        if triple[1] >= 0
    )


# d x^y = (y x^(y-1)) dx + (x^y log x) dy, and so on at every order.
power_core = power_family(0, ((0, 0, 1),))


def _integer_power(n: int):
    # d x^n = n x^(n-1) dx, with x^0 constant; n is static.
    if n == 0:
        return lambda x: jnp.ones_like(x)
    if n not in _INTEGER_POWERS:
        lower = _integer_power(n - 1)
        _INTEGER_POWERS[n] = stable_rule(
            lambda x: jax.lax.integer_pow(x, n),
            lambda p, out, t: strong_mul(t[0], constant(float(n), out) * lower(p[0])),
        )
    return _INTEGER_POWERS[n]


_INTEGER_POWERS: dict[int, object] = {}


def power(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`x_1^{x_2}` with derivatives stable at every order.

    :math:`\\partial_{x_1} = x_2\\,x_1^{x_2-1}` and :math:`\\partial_{x_2} = x_1^{x_2}
    \\log x_1`, both as strong products (``0`` where a factor is ``0``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.power, argnums=1)(0.0, 2.0)  # jax.numpy: nan in older JAX
        Array(0., dtype=float32, weak_type=True)
        >>> jax.grad(lambda x: cnp.power(x, 3))(jnp.float32(1e-10))
        Array(3.e-20, dtype=float32)
    """
    if isinstance(x2, int) and not isinstance(x2, bool):
        (x,) = prepare("power", lambda v: jnp.power(v, x2), x1)
        if x2 < 0:
            return reciprocal_power(x, -x2)
        return _integer_power(x2)(x)
    dtype2 = jnp.result_type(x2)
    if jnp.issubdtype(dtype2, jnp.integer) or dtype2 == jnp.bool_:
        # An integer array exponent has no derivative: only d/dx flows.
        x, n = prepare("power", jnp.power, x1, x2)
        return power_core(x, jax.lax.stop_gradient(n))
    return power_core(*prepare("power", jnp.power, x1, x2))


def reciprocal_power(x, n: int):
    """``1 / x**n`` for a static positive integer ``n``, through :func:`power_core`."""
    return power_core(x, constant(-float(n), x))


def float_power(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """:func:`power` computed in the dtype of ``jax.numpy.float_power`` (the widest
    enabled float).

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.float_power(2, 3)
        Array(8., dtype=float32, weak_type=True)
    """
    return power_core(*prepare("float_power", jnp.float_power, x1, x2))

"""Inverse trigonometric functions and ``sinc``, with range-safe derivative rules.

* ``arcsin'``/``arccos'`` = ``±1/sqrt(1-x^2)`` with ``1-x^2`` formed as ``1 - x*x``
  near 0 and as ``(1-x)(1+x)`` near ``|x| = 1`` (no cancellation in either place,
  nor in its derivatives).
* ``arctan'(x) = 1/(1+x^2)`` for ``|x| <= 1`` and ``r^2/(1+r^2)`` with ``r = 1/x``
  beyond: the higher derivatives (``~ 1/x^{k+1}``) never pass through ``1/x^4``-size
  intermediates that underflow.
* ``arctan2``: partials ``x/h^2`` and ``-y/h^2`` and all higher ones as monomials
  ``(x/h)^a (y/h)^b / h^n`` (``_ratio_polynomial``); ``0`` at the origin.
* ``sinc``: a Taylor polynomial for ``|x| < 1/2`` (so the derivatives *near* 0 are free
  of the cancellation in the quotient rule), ``sin(pi x)/(pi x)`` with an exact
  argument reduction (``sinpi``) beyond.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._core.dtypes import prepare
from .._core.strong import strong_div, strong_mul
from ._arithmetic import divide_core, reciprocal_core, sqrt_core, square_core
from ._ratio_polynomial import ratio_monomial
from ._rule import constant, stable_rule

__all__ = ["arcsin", "arccos", "arctan", "arctan2", "sinc", "angle"]


def one_minus_square(x):
    """``1 - x**2``: as ``1 - x*x`` for ``|x| < 1/2`` (derivative ``-2x`` exact near 0),
    as ``(1 - x)(1 + x)`` beyond (exact near ``|x| = 1``)."""
    one = constant(1.0, x)
    small = jnp.abs(x) < 0.5
    x_small = jnp.where(small, x, jnp.zeros_like(x))
    x_large = jnp.where(small, one, x)
    return jnp.where(small, one - x_small * x_small, (one - x_large) * (one + x_large))


def _inverse_sqrt_one_minus_square(x, t):
    return strong_div(t, sqrt_core(one_minus_square(x)))


# d arcsin = dx/sqrt(1 - x^2), 1 - x^2 from one_minus_square; d arccos = -d arcsin.
arcsin_core = stable_rule(
    jnp.arcsin, lambda p, out, t: _inverse_sqrt_one_minus_square(p[0], t[0])
)
arccos_core = stable_rule(
    jnp.arccos, lambda p, out, t: -_inverse_sqrt_one_minus_square(p[0], t[0])
)


def _arctan_derivative(x):
    # 1/(1+x^2) inside [-1, 1]; r^2/(1+r^2), r = 1/x, outside (double where).
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        return reciprocal_core(constant(1.0, x) + x * x)
    one = constant(1.0, x)
    inside = jnp.abs(x) <= 1
    x_in = jnp.where(inside, x, jnp.zeros_like(x))
    r2 = square_core(reciprocal_core(jnp.where(inside, jnp.ones_like(x), x)))
    return jnp.where(
        inside, reciprocal_core(one + square_core(x_in)), divide_core(r2, one + r2)
    )


arctan_core = stable_rule(
    jnp.arctan, lambda p, out, t: strong_mul(t[0], _arctan_derivative(p[0]))
)


def _arctan2_rule(p, out, t):
    # d atan2(y, x) = (x/h^2) dy - (y/h^2) dx: ratio monomials, whose own rules give
    # every higher partial in closed form; 0 at the origin.
    y, x = p
    return strong_mul(t[0], ratio_monomial(1, 0, 1)(x, y)) - strong_mul(
        t[1], ratio_monomial(0, 1, 1)(x, y)
    )


arctan2_core = stable_rule(jnp.arctan2, _arctan2_rule)


def _reduce_half_turns(x):
    # x = n + r with n integer, |r| <= 1/2, exact; returns r and (-1)**n.
    n = jnp.round(x)
    parity = n - 2 * jnp.floor(n / 2)
    return x - n, 1 - 2 * parity


def _sinpi(x):
    r, sign = _reduce_half_turns(x)
    return sign * jnp.sin(constant(np.pi, x) * r)


def _cospi(x):
    r, sign = _reduce_half_turns(x)
    return sign * jnp.cos(constant(np.pi, x) * r)


# d sin(pi x) = pi cos(pi x) dx, d cos(pi x) = -pi sin(pi x) dx, both reduced exactly.
sinpi_core = stable_rule(
    _sinpi, lambda p, out, t: strong_mul(t[0], constant(np.pi, out) * cospi_core(p[0]))
)
cospi_core: Callable[..., jax.Array] = stable_rule(
    _cospi,
    lambda p, out, t: -strong_mul(t[0], constant(np.pi, out) * sinpi_core(p[0])),
)

_SINC_SERIES_RADIUS = 0.5
# sinc(x) = sum_k (-1)^k (pi x)^(2k) / (2k+1)!, as a polynomial in u = x^2; 14 terms
# make the 4th derivative accurate to float64 rounding for |x| < 1/2 (the last
# neglected term is (pi/2)^28/29! ~ 4e-26); at 1/4 the quotient form still lost
# 2.6x the order-4 tolerance in float64 (found by the random-point test).
_SINC_COEFFICIENTS = np.array(
    [(-1) ** k * np.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(14)][::-1]
)


def _sinc_real(x):
    near = jnp.abs(x) < _SINC_SERIES_RADIUS
    x_near = jnp.where(near, x, jnp.zeros_like(x))
    x_far = jnp.where(near, jnp.ones_like(x), x)
    series = jnp.polyval(jnp.asarray(_SINC_COEFFICIENTS, x.dtype), x_near * x_near)
    quotient = divide_core(sinpi_core(x_far), constant(np.pi, x) * x_far)
    return jnp.where(near, series, quotient)


def arcsin(x: ArrayLike, /) -> jax.Array:
    """Element-wise inverse sine; derivative :math:`dx/\\sqrt{1-x^2}`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.arcsin)(0.0)
        Array(1., dtype=float32, weak_type=True)
    """
    return arcsin_core(*prepare("arcsin", jnp.arcsin, x))


def arccos(x: ArrayLike, /) -> jax.Array:
    """Element-wise inverse cosine; derivative :math:`-dx/\\sqrt{1-x^2}`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.arccos)(0.0)
        Array(-1., dtype=float32, weak_type=True)
    """
    return arccos_core(*prepare("arccos", jnp.arccos, x))


def arctan(x: ArrayLike, /) -> jax.Array:
    """Element-wise inverse tangent; derivative :math:`dx/(1+x^2)`, evaluated as
    :math:`r^2/(1+r^2)`, :math:`r = 1/x`, for :math:`|x| > 1`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(jax.grad(cnp.arctan))(jnp.float32(1e10))  # jax.numpy: 0
        Array(-2.e-30, dtype=float32)
    """
    return arctan_core(*prepare("arctan", jnp.arctan, x))


def arctan2(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise angle of the point ``(x2, x1)`` (NumPy's argument order).

    Partials :math:`\\partial_{x_1} = (x_2/h)/h`, :math:`\\partial_{x_2} = -(x_1/h)/h`,
    :math:`h = \\operatorname{hypot}(x_1, x_2)`; ``0`` at the origin, at every order.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.arctan2)(jnp.float32(1e30), jnp.float32(1e30))
        Array(5.e-31, dtype=float32)
    """
    return arctan2_core(*prepare("arctan2", jnp.arctan2, x1, x2))


def sinc(x: ArrayLike, /) -> jax.Array:
    """Normalised sinc, :math:`\\sin(\\pi x)/(\\pi x)`, ``sinc(0) = 1``.

    For :math:`|x| < 1/2` a 14-term Taylor polynomial (all derivatives accurate near,
    not only at, ``0``); beyond, ``sinpi(x)/(pi x)`` where ``sinpi`` reduces ``x``
    modulo 2 exactly, which is more accurate than ``jax.numpy.sinc`` for large ``x``.
    Complex inputs use the quotient form.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(jax.grad(cnp.sinc))(jnp.float32(1e-4))
        Array(-3.289868, dtype=float32)
    """
    (x,) = prepare("sinc", jnp.sinc, x)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        pi = constant(np.pi, x)
        is_zero = x == 0
        safe = jnp.where(is_zero, jnp.ones_like(x), x)
        return jnp.where(is_zero, jnp.ones_like(x), jnp.sin(pi * safe) / (pi * safe))
    return _sinc_real(x)


def angle(z: ArrayLike, deg: bool = False) -> jax.Array:
    """Argument of a complex number, :math:`\\operatorname{arctan2}(\\Im z, \\Re z)`,
    as ``jax.numpy.angle``, with :func:`arctan2`'s stable rule (``0`` at the origin).

    Args:
        z: real or complex array.
        deg: in degrees instead of radians.

    Returns:
        The angle, of the real dtype ``jax.numpy.angle`` gives.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> cnp.angle(jnp.complex64(1e30 + 1e30j))
        Array(0.7853982, dtype=float32)
    """
    result = jax.eval_shape(lambda v: jnp.angle(v, deg), z)
    z = jnp.asarray(z)
    if jnp.issubdtype(z.dtype, jnp.complexfloating):
        real, imag = jnp.real(z), jnp.imag(z)
    else:
        real = z.astype(result.dtype)
        imag = jnp.zeros_like(real)
    real, imag = real.astype(result.dtype), imag.astype(result.dtype)
    out = arctan2(imag, real)
    if deg:
        out = out * constant(180.0 / np.pi, out)
    return out

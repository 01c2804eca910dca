"""Division, reciprocal, squares and roots with rules that never square a small number.

Conventions where the true derivative is infinite: ``sqrt'(0) = +inf`` and
``cbrt'(0) = +inf`` for a non-zero tangent; a zero tangent or cotangent gives ``0``.
``abs'(0) = 0`` (the minimal-norm subgradient), at every order.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.dtypes import prepare
from .._core.strong import strong_div, strong_mul
from ._hypot import hypot_core
from ._rule import constant, stable_rule

__all__ = [
    "divide",
    "true_divide",
    "reciprocal",
    "square",
    "sqrt",
    "cbrt",
    "abs",
    "absolute",
    "fabs",
]


def _divide(x, y):
    # The barrier stops XLA from rewriting a user's (a / b) / c into a / (b * c).
    x, y = jax.lax.optimization_barrier((x, y))
    return jax.lax.div(x, y)


_QUOTIENTS: dict = {}


def quotient_power(k: int):
    """``q_k(x, y) = x / y**k`` without forming ``y**k``, with a one-term rule.

    :math:`dq_k = (dx / y^k) - dy\\,q_{k+1}(k x, y)`: every derivative in ``y`` of any
    order is a single quotient whose integer factor joins the numerator *before* the
    divisions, so it is not split into ``k`` subnormal halves that flush to ``0``
    (``d^2(a/b)/db^2 = 2a/b^3`` at ``a = b = 1e19`` in float32 is ``2e-38``).

    ``q_1`` is the division itself; ``q_k`` for ``k >= 2`` (derivatives only) is
    ``x * r * ... * r`` with ``r = 1/y``: one division instead of ``k`` (division is
    what a quotient's derivative costs), and the partial products are the successive
    quotients ``x/y^j``, so they leave the range only where those do. ``r`` is
    subnormal (flushed) only for ``|y| > 1/tiny``, where ``|q_k| < 4 tiny^(k-1)``.
    """
    if k not in _QUOTIENTS:

        def primal(x, y):
            if k == 1:
                return _divide(x, y)
            # Only derivatives use k >= 2: x * r * ... * r with r = 1/y, one division
            # and k products whose partial results are the successive quotients
            # x/y^j. r is subnormal (flushed) only for |y| > 1/tiny, where
            # |x/y^k| < 4 tiny^(k-1): no representable quotient is lost.
            reciprocal = jax.lax.div(jnp.ones_like(y), y)
            for _ in range(k):
                x = x * reciprocal
            return x

        def rule(p, out, t):
            x, y = p
            tangent_x = t[0]
            for _ in range(k):
                tangent_x = strong_div(tangent_x, y)
            return tangent_x - strong_mul(t[1], _folded_quotient(k, x, y))

        _QUOTIENTS[k] = stable_rule(primal, rule)
    return _QUOTIENTS[k]


def _folded_quotient(k, x, y):
    # k x / y^(k+1), with k folded into x unless k x would overflow.
    if k == 1:
        return quotient_power(2)(x, y)
    # One quotient chain (not one per branch): both branches are finite.
    factor = constant(float(k), x)
    fits = jnp.abs(x) <= constant(float(jnp.finfo(x.dtype).max) / k, x).real
    quotient = quotient_power(k + 1)(jnp.where(fits, factor * x, x), y)
    return jnp.where(fits, quotient, factor * quotient)


# d(x/y) = dx/y - dy*q_2(x, y): never x / y**2 (quotient_power).
divide_core = quotient_power(1)

# d(1/x) = -dx*((1/x)/x): the intermediate 1/x is as representable as the result.
reciprocal_core = stable_rule(
    lambda x: jax.lax.div(constant(1.0, x), x),
    lambda p, out, t: -strong_mul(t[0], strong_div(out, p[0])),
)

# d(x**2) = dx*(2x).
square_core = stable_rule(
    jax.lax.square, lambda p, out, t: strong_mul(t[0], p[0] + p[0])
)

# d(sqrt x) = dx/(2 sqrt x): divide by the reused output, strong at x = 0.
sqrt_core = stable_rule(jnp.sqrt, lambda p, out, t: strong_div(t[0], out + out))

# d(cbrt x) = dx/(3 cbrt(x)**2) = (dx/(3 out))/out: two divisions, no square.
cbrt_core = stable_rule(
    jnp.cbrt,
    lambda p, out, t: strong_div(strong_div(t[0], constant(3.0, out) * out), out),
)

# d|x| = dx*sign(x) for real x (sign(0) = 0: the zero subgradient).
_real_abs_core = stable_rule(
    jnp.abs, lambda p, out, t: strong_mul(t[0], jnp.sign(p[0]))
)


def divide(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise true division ``x1 / x2`` with derivatives stable at every order.

    Computes :math:`q = x_1 / x_2` exactly as ``jax.numpy.divide`` (behind an
    optimization barrier, so that under ``jit`` XLA cannot rewrite
    ``divide(divide(a, b), c)`` into the overflow-prone ``a / (b * c)``); the rule
    is :math:`dq = dx_1 / x_2 - dx_2\\,((x_1/x_2)/x_2)`, which stays finite wherever
    the true derivative is representable (JAX forms :math:`x_1/x_2^2`, whose
    denominator underflows or overflows).

    Args:
        x1: dividend; x2: divisor. Broadcast and promoted as in ``jax.numpy``.

    Returns:
        The quotient, shape ``broadcast(x1, x2)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> a = b = jnp.float32(1e-30)
        >>> jax.grad(lambda b: -cnp.divide(a, b))(b)  # jax.numpy gives inf
        Array(1.e+30, dtype=float32)
    """
    return divide_core(*prepare("divide", jnp.divide, x1, x2))


def true_divide(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """NumPy's name for :func:`divide` (same function, same stable rule).

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.true_divide(1.0, 4.0)
        Array(0.25, dtype=float32, weak_type=True)
    """
    return divide(x1, x2)


def reciprocal(x: ArrayLike, /) -> jax.Array:
    """Element-wise ``1 / x``; derivative :math:`-((1/x)/x)\\,dx`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(jax.grad(cnp.reciprocal))(jnp.float32(1e-12))
        Array(2.e+36, dtype=float32)
    """
    return reciprocal_core(*prepare("reciprocal", jnp.reciprocal, x))


def square(x: ArrayLike, /) -> jax.Array:
    """Element-wise ``x**2``; derivative :math:`2x\\,dx`.

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.square(3.0)
        Array(9., dtype=float32, weak_type=True)
    """
    return square_core(*prepare("square", jnp.square, x))


def sqrt(x: ArrayLike, /) -> jax.Array:
    """Element-wise square root; derivative :math:`dx / (2\\sqrt{x})`.

    Convention: ``sqrt'(0) = inf`` for a non-zero tangent, but a zero tangent or
    cotangent stays ``0``, so ``jnp.where(x > 0, cnp.sqrt(x), 0)`` has gradient ``0``
    at ``x = 0`` in reverse mode (``jnp.sqrt`` gives ``nan``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(lambda x: jnp.where(x > 0, cnp.sqrt(x), 0.0))(0.0)
        Array(0., dtype=float32, weak_type=True)
    """
    return sqrt_core(*prepare("sqrt", jnp.sqrt, x))


def cbrt(x: ArrayLike, /) -> jax.Array:
    """Element-wise real cube root :math:`y`; derivative :math:`(dx/(3y))/y`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.cbrt)(8.0)
        Array(0.08333334, dtype=float32, weak_type=True)
    """
    return cbrt_core(*prepare("cbrt", jnp.cbrt, x))


def abs(x: ArrayLike, /) -> jax.Array:  # noqa: A001 - NumPy's name
    """Element-wise absolute value, real or complex.

    Real: derivative :math:`\\operatorname{sign}(x)\\,dx`, ``0`` at ``x = 0``.
    Complex: :math:`|z| = \\operatorname{hypot}(\\Re z, \\Im z)` with the stable
    :func:`hypot` rule (no overflow at :math:`|z| \\sim 10^{30}` in float32; zero
    subgradient at ``z = 0``). Integer inputs return ``jax.numpy.abs(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> cnp.abs(jnp.complex64(3e30 + 4e30j))
        Array(5.e+30, dtype=float32)
    """
    dtype = jax.eval_shape(jnp.abs, x).dtype
    if not jnp.issubdtype(dtype, jnp.inexact):
        return jnp.abs(x)
    if jnp.issubdtype(jnp.result_type(x), jnp.complexfloating):
        (z,) = prepare("abs", lambda v: v, x)
        return hypot_core(jnp.real(z), jnp.imag(z))
    return _real_abs_core(*prepare("abs", jnp.abs, x))


def absolute(x: ArrayLike, /) -> jax.Array:
    """NumPy's name for :func:`abs` (same function, same stable rule).

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.absolute(-2.0)
        Array(2., dtype=float32, weak_type=True)
    """
    return abs(x)


def fabs(x: ArrayLike, /) -> jax.Array:
    """Element-wise absolute value of a real array, as ``jax.numpy.fabs``.

    The rule of the real :func:`abs`: :math:`\\operatorname{sign}(x)\\,dx`, ``0`` at
    ``x = 0``, at every order.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.fabs)(-2.0)
        Array(-1., dtype=float32, weak_type=True)
    """
    return _real_abs_core(*prepare("fabs", jnp.fabs, x))

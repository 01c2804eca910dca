"""Hyperbolic functions and their inverses, stable in the saturated tails.

* ``tanh'(x) = sech(x)**2`` with ``sech(x) = exp(-|x|) (1 + |tanh x|)``: no
  ``1 - tanh(x)**2`` (which is ``0`` for ``|x| > 9`` in float32).
* ``arcsinh'(x) = 1/hypot(x, 1)`` and ``arccosh'(x) = 1/(sqrt(x-1) sqrt(x+1))``: ``x``
  is never squared, so large arguments do not overflow to a zero derivative.
* ``arctanh'(x) = 1/(1-x^2)`` with ``1-x^2`` exact near 0 and near ``|x| = 1``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.dtypes import prepare
from .._core.strong import strong_div, strong_mul
from ._arithmetic import sqrt_core
from ._hypot import hypot_core
from ._rule import constant, stable_rule
from ._trigonometric import one_minus_square

__all__ = ["sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh"]

# d sinh = cosh dx; d cosh = sinh dx.
sinh_core = stable_rule(jnp.sinh, lambda p, out, t: strong_mul(t[0], cosh_core(p[0])))
cosh_core: Callable[..., jax.Array] = stable_rule(
    jnp.cosh, lambda p, out, t: strong_mul(t[0], sinh_core(p[0]))
)


def _sech2(x):
    # sech(x) = 2s / (1 + s**2) = s (1 + |tanh x|) with s = exp(-|x|): exact in the
    # tails (no 1 - tanh**2, no cancellation: both terms of 1 + |tanh x| are
    # positive), one exp where 1/cosh(x) takes two, and tanh(x) is the primal that
    # XLA computes once. s underflows only where sech(x)**2 has long underflowed.
    # Measured (CPU, 512 x 256 float32, vs jnp.tanh): HVP of sum(tanh) 2.3x -> 1.2x,
    # grad 1.47x -> 1.40x; within 2.5 (float32) / 5.3 (float64) eps of mpmath.
    s = jnp.exp(-jnp.abs(x))
    sech = s * (constant(1.0, x) + jnp.abs(jnp.tanh(x)))
    return sech * sech


# Its own rule d sech^2 = -2 tanh sech^2 dx multiplies bounded factors only, so no
# derivative of any order forms cosh**-3 * sinh**2 (which underflows where the
# product does not).
sech2_core = stable_rule(
    _sech2,
    lambda p, out, t: strong_mul(t[0], constant(-2.0, out) * tanh_core(p[0]) * out),
)

# d tanh = sech(x)**2 dx.
tanh_core: Callable[..., jax.Array] = stable_rule(
    jnp.tanh, lambda p, out, t: strong_mul(t[0], sech2_core(p[0]))
)


def _one_plus_square_root(x):
    # sqrt(1 + x**2) without squaring x: hypot(x, 1) for real x.
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        return sqrt_core(constant(1.0, x) + x * x)
    return hypot_core(x, jnp.ones_like(x))


# d arcsinh = dx / hypot(x, 1).
arcsinh_core = stable_rule(
    jnp.arcsinh, lambda p, out, t: strong_div(t[0], _one_plus_square_root(p[0]))
)

# d arccosh = (dx / sqrt(x - 1)) / sqrt(x + 1).
arccosh_core = stable_rule(
    jnp.arccosh,
    lambda p, out, t: strong_div(
        strong_div(t[0], sqrt_core(p[0] - constant(1.0, out))),
        sqrt_core(p[0] + constant(1.0, out)),
    ),
)

# d arctanh = dx / (1 - x^2), with 1 - x^2 free of cancellation near 0 and near 1.
arctanh_core = stable_rule(
    jnp.arctanh, lambda p, out, t: strong_div(t[0], one_minus_square(p[0]))
)


def sinh(x: ArrayLike, /) -> jax.Array:
    """Element-wise hyperbolic sine; derivative :math:`\\cosh(x)\\,dx`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.sinh)(0.0)
        Array(1., dtype=float32, weak_type=True)
    """
    return sinh_core(*prepare("sinh", jnp.sinh, x))


def cosh(x: ArrayLike, /) -> jax.Array:
    """Element-wise hyperbolic cosine; derivative :math:`\\sinh(x)\\,dx`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.cosh)(0.0)
        Array(0., dtype=float32, weak_type=True)
    """
    return cosh_core(*prepare("cosh", jnp.cosh, x))


def tanh(x: ArrayLike, /) -> jax.Array:
    """Element-wise hyperbolic tangent; derivative :math:`(1/\\cosh x)^2\\,dx`.

    ``jax.grad(jnp.tanh)(20.0)`` is ``0`` in float32; the truth is ``1.7e-17``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.tanh)(jnp.float32(20.0))
        Array(1.6993e-17, dtype=float32)
    """
    return tanh_core(*prepare("tanh", jnp.tanh, x))


def arcsinh(x: ArrayLike, /) -> jax.Array:
    """Element-wise inverse hyperbolic sine; derivative :math:`dx/\\sqrt{1+x^2}`.

    The square root is evaluated as ``hypot(x, 1)``, so ``x`` is never squared.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.arcsinh)(jnp.float32(1e30))
        Array(1.e-30, dtype=float32)
    """
    return arcsinh_core(*prepare("arcsinh", jnp.arcsinh, x))


def arccosh(x: ArrayLike, /) -> jax.Array:
    """Element-wise inverse hyperbolic cosine, :math:`x \\ge 1`.

    Derivative :math:`(dx/\\sqrt{x-1})/\\sqrt{x+1}`; ``+inf`` at ``x = 1``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.arccosh)(jnp.float32(1e30))
        Array(1.e-30, dtype=float32)
    """
    return arccosh_core(*prepare("arccosh", jnp.arccosh, x))


def arctanh(x: ArrayLike, /) -> jax.Array:
    """Element-wise inverse hyperbolic tangent; derivative :math:`dx/(1-x^2)`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.arctanh)(0.0)
        Array(1., dtype=float32, weak_type=True)
    """
    return arctanh_core(*prepare("arctanh", jnp.arctanh, x))

"""The log of the standard normal CDF, accurate in both tails at every order.

With :math:`z = -x/\\sqrt2` and :math:`\\Phi(x) = \\tfrac12\\operatorname{erfcx}(z)
e^{-x^2/2}`:

.. math::

    \\log\\Phi(x) = \\begin{cases}
        \\log(\\tfrac12\\operatorname{erfcx}(z)) - \\tfrac12 x^2 & x < 0 \\\\
        \\operatorname{log1p}(-\\Phi(-x)) & x \\ge 0
    \\end{cases}
    \\qquad
    \\frac{d}{dx}\\log\\Phi(x) = \\begin{cases}
        -x + \\sqrt2\\,\\rho_1(z) & x < 0 \\\\
        \\varphi(x)/\\Phi(x) & x \\ge 0
    \\end{cases}

where :math:`\\rho_1 = E_1/E_0` is the ratio of ``_erfcx.py``. For :math:`x < 0` the
polynomial part :math:`-x` is split off exactly, so the second derivative
:math:`-1 - \\rho_1'(z)` and the higher ones :math:`\\rho_1^{(k)}` never form the
difference :math:`x + \\varphi/\\Phi` (which cancels to ``0`` for
:math:`x \\ll -1`). For :math:`x \\ge 0` the slope :math:`g = \\varphi/\\Phi` is a
function of its own with :math:`g' = -g\\,(x + g)`, a product of positive factors.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._rule import constant, stable_rule
from ._erfcx import erfcx_core, tail_ratio_core

__all__ = ["log_ndtr"]


def _upper_slope_value(x):
    # phi(x) / Phi(x) for x >= 0, where Phi >= 1/2; exp(-x**2/2) underflows cleanly.
    density = jnp.exp(constant(-0.5, x) * jnp.square(x))
    scale = constant(1.0 / np.sqrt(2.0 * np.pi), x)
    return scale * density / jax.scipy.special.ndtr(x)


# g = phi/Phi has g' = -g (x + g): for x >= 0 both factors are positive, so no
# derivative of any order forms a difference of the large terms of phi'/Phi.
_upper_slope_core = stable_rule(
    _upper_slope_value,
    lambda p, out, t: -strong_mul(t[0], strong_mul(out, p[0] + out)),
)


def _z_of(x):
    # -x / sqrt(2): Phi(x) = erfcx(z) exp(-x**2/2) / 2.
    return constant(-1.0 / np.sqrt(2.0), x) * x


def _split(x):
    # Double where: each branch only ever sees arguments from its own half-line.
    negative = x < 0
    lower = jnp.where(negative, x, -jnp.ones_like(x))
    upper = jnp.where(negative, jnp.ones_like(x), x)
    return negative, lower, upper


def _gaussian_tail_factor(x):
    """``exp(-x**2/2)`` for ``x >= 0``, with ``x**2`` split exactly (Veltkamp).

    ``exp`` amplifies the rounding of ``x**2/2`` by ``x**2/2`` (8 ulp at ``x = 4``);
    with ``x = hi + lo``, ``hi`` of half the mantissa, ``hi**2/2`` is exact and the
    small rest ``hi lo + lo**2/2`` barely rounds.
    """
    bits = (np.finfo(x.dtype).nmant + 2) // 2
    x = jnp.minimum(x, constant(64.0, x))  # beyond, the factor is 0 anyway
    t = constant(2.0**bits + 1.0, x) * x
    hi = t - (t - x)
    lo = x - hi
    half = constant(0.5, x)
    # The barrier stops XLA from merging exp(a) * exp(b) into exp(a + b).
    exact, rest = jax.lax.optimization_barrier(
        (jnp.exp(-(half * hi) * hi), jnp.exp(-(hi * lo + (half * lo) * lo)))
    )
    return exact * rest


def _log_ndtr_primal(x):
    negative, lower, upper = _split(x)
    half = constant(0.5, x)
    # x < 0: log(erfcx(z)/2) - x**2/2, with -x**2/2 as (x/2)*x (x/2 exact, and x**2
    # alone would overflow too early).
    left = jnp.log(half * erfcx_core(_z_of(lower))) - (half * lower) * lower
    # 0 <= x < 1: log(Phi(x)), Phi in [1/2, 0.85). x >= 1: log1p(-Phi(-x)) with
    # Phi(-x) = erfcx(x/sqrt 2) exp(-x**2/2) / 2, free of erfc's x**2-fold
    # amplification of the rounding of x/sqrt(2).
    near = jnp.log(jax.scipy.special.ndtr(jnp.minimum(upper, constant(1.0, x))))
    tail = half * erfcx_core(-_z_of(upper)) * _gaussian_tail_factor(upper)
    far = jnp.log1p(-tail)
    right = jnp.where(upper < constant(1.0, x), near, far)
    return jnp.where(negative, left, right)


def _log_ndtr_slope(x):
    negative, lower, upper = _split(x)
    left = constant(np.sqrt(2.0), x) * tail_ratio_core(1)(_z_of(lower)) - lower
    right = _upper_slope_core(upper)
    return jnp.where(negative, left, right)


# d log Phi(x) = (phi(x) / Phi(x)) dx, in the cancellation-free form above.
log_ndtr_core = stable_rule(
    _log_ndtr_primal, lambda p, out, t: strong_mul(t[0], _log_ndtr_slope(p[0]))
)


def log_ndtr(x: ArrayLike, series_order: int = 3) -> jax.Array:
    """Log of the standard normal CDF, :math:`\\log\\Phi(x)`.

    Evaluated as :math:`\\log(\\tfrac12\\operatorname{erfcx}(-x/\\sqrt2)) - x^2/2`
    for :math:`x < 0` and :math:`\\operatorname{log1p}(-\\Phi(-x))` for
    :math:`x \\ge 0` (more accurate than ``jax.scipy.special.log_ndtr``, which loses
    up to all digits near ``x = 7.6`` in float64); derivative
    :math:`-x + \\sqrt2\\,\\rho_1(-x/\\sqrt2)` resp. :math:`\\varphi(x)/\\Phi(x)`
    (module docstring), stable at every order.

    Args:
        x: float32 or float64 array.
        series_order: accepted and validated as in ``jax.scipy.special.log_ndtr``;
            the value does not use the asymptotic series, so it has no effect.

    Returns:
        :math:`\\log\\Phi(x)`, same shape and dtype as ``x``.

    Raises:
        TypeError, ValueError: as ``jax.scipy.special.log_ndtr``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(jax.grad(special.log_ndtr))(jnp.float32(-1e4))  # jax: 2.1e+07
        Array(-1., dtype=float32)
    """
    (x,) = prepare(
        "special.log_ndtr",
        lambda v: jax.scipy.special.log_ndtr(v, series_order=series_order),
        x,
    )
    return log_ndtr_core(x)

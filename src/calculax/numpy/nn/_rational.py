"""``squareplus`` and ``soft_sign``: algebraic activations without cancellation.

``squareplus(x, b) = (x + sqrt(x**2 + b)) / 2`` cancels for ``x < 0`` (``x``
against ``sqrt(x**2 + b)``) and overflows in ``x**2`` for ``|x| > 1.8e19`` in
float32. With :math:`c = \\sqrt b`, :math:`h = \\operatorname{hypot}(x, c)` and the
bounded ratios :math:`r_x = x/h`, :math:`r_c = c/h` (``_ratio_polynomial``),

.. math::

    \\operatorname{squareplus} = \\begin{cases} (x + h)/2 & x \\ge 0 \\\\
        c^2 / (2(h - x)) & x < 0 \\end{cases}, \\qquad
    \\partial_x = \\frac{1 + r_x}{2} = \\frac{r_c^2}{2(1 - r_x)} \\ (x < 0), \\qquad
    \\partial_x^2 = \\frac{r_c^2}{2h},

and the second and higher derivatives are the closed-form ratio monomials of
``hypot``: nothing cancels and no square of ``x`` is formed.

``soft_sign(x) = x / (1 + |x|)``: JAX's quotient rule gives
:math:`1/(1+|x|) - |x|/(1+|x|)^2`, which cancels to a few digits for large ``|x|``;
here the derivative is :math:`(1 + |x|)^{-2}`, and the family
:math:`(1+|x|)^{-n}` has the rule :math:`-n\\operatorname{sign}(x)(1+|x|)^{-n-1}`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._arithmetic import sqrt_core
from .._ratio_polynomial import ratio_monomial
from .._rule import constant, stable_rule
from .._scaled import scaled_hypot

__all__ = ["squareplus", "soft_sign"]


def _squareplus_value(x, c):
    h = scaled_hypot(x, c)
    half = constant(0.5, x)
    negative = x < 0
    # x < 0: c^2 / (2 (h - x)), a sum of positives in the denominator.
    left = half * (c * c) / (h - jnp.where(negative, x, jnp.zeros_like(x)))
    right = half * (jnp.where(negative, jnp.zeros_like(x), x) + h)
    return jnp.where(negative, left, right)


def _slope_value(x, c):
    # (1 + r_x) / 2, as r_c^2 / (2 (1 - r_x)) for x < 0.
    r_x = ratio_monomial(1, 0, 0)(x, c)
    r_c = ratio_monomial(0, 1, 0)(x, c)
    half, one = constant(0.5, x), constant(1.0, x)
    negative = x < 0
    left = half * (r_c * r_c) / (one - jnp.where(negative, r_x, jnp.zeros_like(x)))
    return jnp.where(negative, left, half * (one + r_x))


# d slope = (r_c^2 / (2h)) dx - (r_x r_c / (2h)) dc: ratio monomials at every order.
_slope_core = stable_rule(
    _slope_value,
    lambda p, out, t: (
        constant(0.5, out)
        * (
            strong_mul(t[0], ratio_monomial(0, 2, 1)(*p))
            - strong_mul(t[1], ratio_monomial(1, 1, 1)(*p))
        )
    ),
)

# d squareplus = slope dx + (r_c / 2) dc.
_squareplus_core = stable_rule(
    _squareplus_value,
    lambda p, out, t: (
        strong_mul(t[0], _slope_core(*p))
        + strong_mul(t[1], constant(0.5, out) * ratio_monomial(0, 1, 0)(*p))
    ),
)


def squareplus(x: ArrayLike, b: ArrayLike = 4) -> jax.Array:
    """Squareplus :math:`(x + \\sqrt{x^2 + b})/2` (So, 2021), as ``jax.nn.squareplus``.

    Evaluated without cancellation for ``x < 0`` and without forming ``x**2``
    (module docstring); derivatives in ``x`` and ``b`` are closed forms in the
    ratios of :math:`\\operatorname{hypot}(x, \\sqrt b)`, stable at every order.

    Args:
        x: real array.
        b: smoothness, ``b >= 0``, broadcast with ``x``.

    Returns:
        Array of the shape and dtype of ``jax.nn.squareplus(x, b)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> nn.squareplus(jnp.float32(-1e4))  # jax: 0 (cancellation)
        Array(1.e-04, dtype=float32)
    """
    x, b = prepare("nn.squareplus", jax.nn.squareplus, x, b)
    return _squareplus_core(x, sqrt_core(b))


_RECIPROCAL_POWERS: dict[int, object] = {}


def _one_plus_abs_power(n: int):
    """The core :math:`x \\mapsto (1 + |x|)^{-n}`, rule :math:`-n\\,\\operatorname{sign}
    (x)\\,(1+|x|)^{-n-1}`; the value is :math:`r^n`, :math:`r = 1/(1+|x|)`, whose
    partial products lie between ``r`` and the result."""
    if n not in _RECIPROCAL_POWERS:

        def primal(x):
            r = constant(1.0, x) / (constant(1.0, x) + jnp.abs(x))
            out = r
            for _ in range(n - 1):
                out = out * r
            return out

        def rule(p, out, t):
            factor = constant(-float(n), out) * jnp.sign(p[0])
            return strong_mul(t[0], factor * _one_plus_abs_power(n + 1)(p[0]))

        _RECIPROCAL_POWERS[n] = stable_rule(primal, rule)
    return _RECIPROCAL_POWERS[n]


# d soft_sign = (1 + |x|)^-2 dx.
_soft_sign_core = stable_rule(
    jax.nn.soft_sign,
    lambda p, out, t: strong_mul(t[0], _one_plus_abs_power(2)(p[0])),
)


def soft_sign(x: ArrayLike) -> jax.Array:
    """Soft-sign :math:`x / (1 + |x|)`, as ``jax.nn.soft_sign``; derivative
    :math:`(1+|x|)^{-2}` without cancellation.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.soft_sign(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(nn.soft_sign)(jnp.float32(1e4))
        Array(9.998e-09, dtype=float32)
    """
    (x,) = prepare("nn.soft_sign", jax.nn.soft_sign, x)
    return _soft_sign_core(x)

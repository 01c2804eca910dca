"""``hypot`` by power-of-two rescaling, with a rule that divides instead of squaring.

The primal scales both arguments by :math:`2^{-e}`, where :math:`2^{e-1} \\le
\\max(|x|,|y|) < 2^e`: the scaling is exact, so :math:`\\sqrt{x^2+y^2}` can neither
overflow nor underflow (``1e30`` and ``1e-30`` in float32 are fine), and ties
``x = y`` are as accurate as any other point.

The derivative is :math:`d\\,h = (x/h)\\,dx + (y/h)\\,dy`; the ratios are bounded by
1, and every higher derivative is one closed-form polynomial in ``x/h``, ``y/h``
divided by :math:`h^n` (``_ratio_polynomial``), so no derivative of any order forms
a square of ``x``, cancels, or overflows in a partial product. At the origin
``hypot`` has no derivative; calculax returns the minimal-norm subgradient ``0``
there, and ``0`` for every higher derivative (never ``nan``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from .._core.dtypes import prepare
from .._core.strong import strong_mul
from ._ratio_polynomial import ratio_monomial
from ._rule import stable_rule
from ._scaled import power_of_two_rescale, ratio_or_zero, scaled_hypot

__all__ = [
    "hypot",
    "hypot_core",
    "hypot_ratio_core",
    "power_of_two_rescale",
    "ratio_or_zero",
]


# x / hypot(x, y), bounded by 1, 0 at the origin; its rules are closed forms.
hypot_ratio_core = ratio_monomial(1, 0, 0)

# dh = (x/h) dx + (y/h) dy, ratios bounded by 1; zero subgradient at the origin.
hypot_core = stable_rule(
    scaled_hypot,
    lambda p, out, t: (
        strong_mul(t[0], hypot_ratio_core(p[0], p[1]))
        + strong_mul(t[1], hypot_ratio_core(p[1], p[0]))
    ),
)


def hypot(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`\\sqrt{x_1^2 + x_2^2}` without overflow or underflow.

    Computed with an exact power-of-two rescaling; derivatives
    :math:`\\partial_{x_1} = x_1/h`, :math:`\\partial_{x_2} = x_2/h` at every order,
    ``0`` at the origin.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> x = jnp.float32(3e30)
        >>> cnp.hypot(x, jnp.float32(4e30)), jax.grad(cnp.hypot)(x, jnp.float32(4e30))
        (Array(5.e+30, dtype=float32), Array(0.6, dtype=float32))
    """
    return hypot_core(*prepare("hypot", jnp.hypot, x1, x2))

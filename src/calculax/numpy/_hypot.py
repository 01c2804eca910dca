"""``hypot`` by power-of-two rescaling, with a rule that divides instead of squaring.

The primal scales both arguments by :math:`2^{-e}`, where :math:`2^{e-1} \\le
\\max(|x|,|y|) < 2^e`: the scaling is exact, so :math:`\\sqrt{x^2+y^2}` can neither
overflow nor underflow (``1e30`` and ``1e-30`` in float32 are fine), and ties
``x = y`` are as accurate as any other point.

The derivative is :math:`d\\,h = (x/h)\\,dx + (y/h)\\,dy`; the ratios are bounded by
1, and the ratio :math:`r_x = x/h` has its own rule :math:`dr_x = (r_y^2/h)\\,dx -
(r_x r_y/h)\\,dy`, so no derivative of any order forms a square of ``x`` or cancels.
At the origin ``hypot`` has no
derivative; calculax returns the minimal-norm subgradient ``0`` there, and ``0`` for
every higher derivative (never ``nan``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._dtypes import prepare
from ._rule import stable_rule
from ._strong import strong_div, strong_mul

__all__ = [
    "hypot",
    "hypot_core",
    "hypot_ratio_core",
    "power_of_two_rescale",
    "ratio_or_zero",
]


def power_of_two_rescale(largest, *values):
    """``(e, values * 2**-e)`` with :math:`2^{e-1} \\le` ``largest`` :math:`< 2^e`.

    The scaling is exact (a change of exponent), so squares of the scaled values can
    neither overflow nor underflow; undo it with ``jnp.ldexp(result, e)``. Shared by
    :func:`hypot` and ``calculax.numpy.linalg.norm``.
    """
    _, exponent = jnp.frexp(largest)
    return exponent, tuple(jnp.ldexp(v, -exponent) for v in values)


def _scaled_hypot(x, y):
    ax, ay = jnp.abs(x), jnp.abs(y)
    exponent, (sx, sy) = power_of_two_rescale(jnp.maximum(ax, ay), ax, ay)
    out = jnp.ldexp(jnp.sqrt(jnp.square(sx) + jnp.square(sy)), exponent)
    return jnp.where(jnp.isinf(ax) | jnp.isinf(ay), jnp.inf, out)


def ratio_or_zero(x, h):
    """``x / h`` where ``h != 0``, else ``0`` (double ``where``: never ``nan``)."""
    is_zero = h == 0
    safe_h = jnp.where(is_zero, jnp.ones_like(h), h)
    return jnp.where(is_zero, jnp.zeros_like(x), strong_div(x, safe_h))


def _hypot_ratio(x, y):
    return ratio_or_zero(x, _scaled_hypot(x, y))


def _hypot_ratio_rule(p, out, t):
    # d(x/h) = (r_y (r_y/h)) dx - (r_x (r_y/h)) dy with r_y = y/h: the second
    # derivative of h in closed form, never 1/h - x**2/h**3 (which cancels to 0 when
    # |x| >> |y|); r_y/h lies between the result and 1/h, so it cannot underflow
    # or overflow where the result does not.
    x, y = p
    h = hypot_core(x, y)
    ratio_y = hypot_ratio_core(y, x)
    scaled_y = ratio_or_zero(ratio_y, h)
    return strong_mul(t[0], ratio_y * scaled_y) - strong_mul(t[1], out * scaled_y)


# x / hypot(x, y), bounded by 1, 0 at the origin; its own rule avoids cancellation.
hypot_ratio_core = stable_rule(_hypot_ratio, _hypot_ratio_rule)

# dh = (x/h) dx + (y/h) dy, ratios bounded by 1; zero subgradient at the origin.
hypot_core = stable_rule(
    _scaled_hypot,
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

"""``hypot`` by power-of-two rescaling, with a rule that divides instead of squaring.

The primal scales both arguments by :math:`2^{-e}`, where :math:`2^{e-1} \\le
\\max(|x|,|y|) < 2^e`: the scaling is exact, so :math:`\\sqrt{x^2+y^2}` can neither
overflow nor underflow (``1e30`` and ``1e-30`` in float32 are fine), and ties
``x = y`` are as accurate as any other point.

The derivative is :math:`d\\,h = (x/h)\\,dx + (y/h)\\,dy`; the ratios are bounded by
1, so no derivative of any order forms a square. At the origin ``hypot`` has no
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

__all__ = ["hypot", "hypot_core", "ratio_or_zero"]


def _scaled_hypot(x, y):
    ax, ay = jnp.abs(x), jnp.abs(y)
    largest = jnp.maximum(ax, ay)
    _, exponent = jnp.frexp(largest)
    root = jnp.sqrt(
        jnp.square(jnp.ldexp(ax, -exponent)) + jnp.square(jnp.ldexp(ay, -exponent))
    )
    out = jnp.ldexp(root, exponent)
    return jnp.where(jnp.isinf(ax) | jnp.isinf(ay), jnp.inf, out)


def ratio_or_zero(x, h):
    """``x / h`` where ``h != 0``, else ``0`` (double ``where``: no ``nan`` at any order)."""
    is_zero = h == 0
    safe_h = jnp.where(is_zero, jnp.ones_like(h), h)
    return jnp.where(is_zero, jnp.zeros_like(x), strong_div(x, safe_h))


# dh = (x/h) dx + (y/h) dy, ratios bounded by 1; zero subgradient at the origin.
hypot_core = stable_rule(
    _scaled_hypot,
    lambda p, out, t: strong_mul(t[0], ratio_or_zero(p[0], out))
    + strong_mul(t[1], ratio_or_zero(p[1], out)),
)


def hypot(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`\\sqrt{x_1^2 + x_2^2}` without overflow, underflow or ``nan``.

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

"""``x log y``, ``x log(1 + y)`` and the entropy term ``-x log x``.

The primal values are those of ``jax.scipy.special`` (``0`` at ``x = 0``). The
partials are strong products, so ``d/dy xlogy(0, y) = 0 * (1/y)`` is exactly ``0`` at
every order, even at ``y = 0`` where ``1/y`` is infinite, while the mixed partial
:math:`\\partial_x\\partial_y = 1/y` is kept (the ``x`` in ``x * (dy/y)`` is itself
differentiated).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_div, strong_mul
from .._exponential import log1p_core, log_core
from .._rule import constant, stable_rule

__all__ = ["xlogy", "xlog1py", "entr"]

# d(x log y) = dx log y + dy (x / y), strong. The quotient x / y is formed before
# the tangent is scaled, so that forward and reverse mode (which would transpose
# (x dy) / y into x (dy / y)) both differentiate it as (x / y) / y / ...: every
# intermediate lies between x / y and the result.
xlogy_core = stable_rule(
    jax.scipy.special.xlogy,
    lambda p, out, t: (
        strong_mul(t[0], log_core(p[1])) + strong_mul(t[1], strong_div(p[0], p[1]))
    ),
)

# d(x log1p y) = dx log1p y + dy (x / (1 + y)), strong, in the same order.
xlog1py_core = stable_rule(
    jax.scipy.special.xlog1py,
    lambda p, out, t: (
        strong_mul(t[0], log1p_core(p[1]))
        + strong_mul(t[1], strong_div(p[0], constant(1.0, out) + p[1]))
    ),
)


def _entr_slope(x):
    # -(log x + 1) for x >= 0 (+inf at 0); 0 on x < 0, where entr is the constant
    # -inf. The double where keeps log's rule away from negative x.
    negative = x < 0
    safe = jnp.where(negative, jnp.ones_like(x), x)
    slope = -(log_core(safe) + constant(1.0, x))
    return jnp.where(negative, jnp.zeros_like(x), slope)


# d entr(x) = -(log x + 1) dx.
entr_core = stable_rule(
    jax.scipy.special.entr, lambda p, out, t: strong_mul(t[0], _entr_slope(p[0]))
)


def xlogy(x: ArrayLike, y: ArrayLike) -> jax.Array:
    """:math:`x \\log y`, ``0`` where ``x = 0`` (``nan`` in ``y`` propagates).

    Partials :math:`\\log y` and :math:`x \\oslash y` (strong quotient: ``0`` where
    ``x = 0``, even at ``y = 0``), so every derivative in ``y`` vanishes at ``x = 0``
    while :math:`\\partial_x \\partial_y = 1/y`.

    Args:
        x, y: real arrays, broadcast together.

    Returns:
        :math:`x\\log y`, same shape and dtype as ``jax.scipy.special.xlogy``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.xlogy, argnums=1)(jnp.float32(0.0), jnp.float32(0.0))
        Array(0., dtype=float32)
    """
    return xlogy_core(*prepare("special.xlogy", jax.scipy.special.xlogy, x, y))


def xlog1py(x: ArrayLike, y: ArrayLike) -> jax.Array:
    """:math:`x \\log(1 + y)`, ``0`` where ``x = 0`` (``nan`` in ``y`` propagates).

    Partials :math:`\\operatorname{log1p} y` and :math:`x \\oslash (1+y)`.

    Args:
        x, y: real arrays, broadcast together.

    Returns:
        :math:`x\\operatorname{log1p} y`, shape and dtype of
        ``jax.scipy.special.xlog1py``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.xlog1py, argnums=1)(jnp.float32(0.0), jnp.float32(-1.0))
        Array(0., dtype=float32)
    """
    return xlog1py_core(*prepare("special.xlog1py", jax.scipy.special.xlog1py, x, y))


def entr(x: ArrayLike) -> jax.Array:
    """Entropy term :math:`-x\\log x` (``0`` at ``0``, ``-inf`` for :math:`x < 0`).

    Derivative :math:`-(\\log x + 1)`: ``+inf`` at ``x = 0`` for a non-zero tangent,
    ``0`` for :math:`x < 0` (the constant ``-inf``); higher derivatives
    :math:`-1/x, 1/x^2, \\dots` as strong quotients.

    Args:
        x: real array.

    Returns:
        :math:`\\operatorname{entr}(x)`, same shape and dtype as
        ``jax.scipy.special.entr``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.entr)(jnp.float32(1.0))
        Array(-1., dtype=float32)
    """
    return entr_core(*prepare("special.entr", jax.scipy.special.entr, x))

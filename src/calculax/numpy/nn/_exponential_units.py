"""ELU, CELU and SELU on the stable ``expm1``.

``jax.nn.elu`` differentiates ``expm1`` as ``expm1(x) + 1``, which rounds to ``0``
for ``x < -17`` in float32 (the slope :math:`\\alpha e^x` is a normal number down to
``x = -87``); these use ``calculax.numpy.expm1``, whose rule is :math:`e^x` itself.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from .._arithmetic import divide_core
from .._exponential import expm1_core
from .._rule import constant

__all__ = ["elu", "celu", "selu"]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu(x, alpha):
    positive = x > 0
    negative_part = jnp.where(positive, jnp.zeros_like(x), x)
    return jnp.where(positive, x, alpha * expm1_core(negative_part))


def elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
    """Exponential linear unit: ``x`` for ``x > 0``, :math:`\\alpha(e^x - 1)` else.

    Args:
        x: real array.
        alpha: scale of the negative branch, broadcast with ``x``.

    Returns:
        Array of the shape and dtype of ``jax.nn.elu(x, alpha)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(nn.elu)(jnp.float32(-20.0))  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    x, alpha = prepare("nn.elu", jax.nn.elu, x, alpha)
    return _elu(x, alpha)


def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
    """Continuously differentiable ELU :math:`\\max(x, 0) + \\alpha\\,
    \\operatorname{expm1}(\\min(x, 0)/\\alpha)`, as ``jax.nn.celu``.

    Args:
        x: real array.
        alpha: scale, broadcast with ``x``.

    Returns:
        Array of the shape and dtype of ``jax.nn.celu(x, alpha)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(nn.celu)(jnp.float32(-20.0))  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    x, alpha = prepare("nn.celu", jax.nn.celu, x, alpha)
    zero = jnp.zeros_like(x)
    return jnp.maximum(x, zero) + alpha * expm1_core(
        divide_core(jnp.minimum(x, zero), alpha)
    )


def selu(x: ArrayLike) -> jax.Array:
    """Scaled ELU :math:`\\lambda\\,\\operatorname{elu}(x, \\alpha)` with the constants
    of Klambauer et al. (2017), as ``jax.nn.selu``.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.selu(x)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> nn.selu(jnp.float32(1.0))
        Array(1.050701, dtype=float32)
    """
    (x,) = prepare("nn.selu", jax.nn.selu, x)
    alpha = constant(_SELU_ALPHA, x)
    return constant(_SELU_SCALE, x) * _elu(x, alpha)

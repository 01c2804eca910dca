"""Element-wise activations whose derivatives are stable sigmoids.

:math:`\\operatorname{softplus}' = \\sigma(x)` and :math:`(\\log\\sigma)' =
\\sigma(-x)`, with the stable sigmoid of ``special.expit`` (:math:`\\sigma' =
\\sigma(x)\\sigma(-x)`, :math:`\\sigma'' = -\\sigma'\\tanh(x/2)`): no
:math:`1 - \\sigma`, so ``softplus''(40)`` is ``4.2e-18`` in float32, not ``0``.
"""

from __future__ import annotations

import jax
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._rule import stable_rule
from ..special._logit import expit_core

__all__ = ["softplus", "sigmoid", "log_sigmoid", "softplus_core", "log_sigmoid_core"]

# d softplus(x) = sigma(x) dx.
softplus_core = stable_rule(
    jax.nn.softplus, lambda p, out, t: strong_mul(t[0], expit_core(p[0]))
)

# d log sigma(x) = sigma(-x) dx.
log_sigmoid_core = stable_rule(
    jax.nn.log_sigmoid, lambda p, out, t: strong_mul(t[0], expit_core(-p[0]))
)


def softplus(x: ArrayLike) -> jax.Array:
    """Softplus :math:`\\log(1 + e^x)`; derivative :math:`\\sigma(x)`.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.softplus(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(jax.grad(nn.softplus))(jnp.float32(40.0))  # jax: 0
        Array(4.248354e-18, dtype=float32)
    """
    return softplus_core(*prepare("nn.softplus", jax.nn.softplus, x))


def sigmoid(x: ArrayLike) -> jax.Array:
    """Logistic sigmoid :math:`\\sigma(x) = 1/(1 + e^{-x})`.

    Derivative :math:`\\sigma(x)\\,\\sigma(-x)`, both factors computed directly;
    the same function as :func:`calculax.numpy.special.expit`.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.sigmoid(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(nn.sigmoid)(jnp.float32(40.0))  # jax: 0
        Array(4.248354e-18, dtype=float32)
    """
    return expit_core(*prepare("nn.sigmoid", jax.nn.sigmoid, x))


def log_sigmoid(x: ArrayLike) -> jax.Array:
    """Log-sigmoid :math:`-\\log(1 + e^{-x})`; derivative :math:`\\sigma(-x)`.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.log_sigmoid(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(jax.grad(nn.log_sigmoid))(jnp.float32(-40.0))  # jax: 0
        Array(-4.248354e-18, dtype=float32)
    """
    return log_sigmoid_core(*prepare("nn.log_sigmoid", jax.nn.log_sigmoid, x))

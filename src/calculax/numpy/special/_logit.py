"""The logistic function ``expit`` and its inverse ``logit``.

``expit``: the sigmoid of ``calculax.numpy._logistic`` (:math:`\\sigma' =
\\sigma(x)\\,\\sigma(-x)`, :math:`\\sigma'' = -\\sigma'(x) \\tanh(x/2)`, never
:math:`1 - \\sigma(x)` nor a difference that cancels near 0). ``logit``'s derivative
:math:`1/(p(1-p))` is the sum of two quotients, :math:`1/p + 1/(1-p)`, so neither
:math:`p(1-p)` nor its powers are formed (they underflow for tiny ``p``); :math:`1 - p`
is exact for :math:`p \\ge 1/2`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_div
from .._logistic import sigmoid_core
from .._rule import constant, stable_rule

__all__ = ["expit", "logit", "expit_core"]

expit_core = sigmoid_core


def _logit_primal(p):
    # log(p / (1 - p)) loses all relative accuracy near p = 1/2 (the quotient rounds
    # near 1); there log1p((2p - 1) / (1 - p)) is used, with 2p - 1 exact.
    one, quarter = constant(1.0, p), constant(0.25, p)
    central = jnp.abs(p - constant(0.5, p)) <= quarter
    near_half = jnp.log1p((p + p - one) / (one - p))
    return jnp.where(central, near_half, jnp.log(p / (one - p)))


# d logit(p) = dp/p + dp/(1 - p): two strong quotients, never dp/(p(1-p)).
logit_core = stable_rule(
    _logit_primal,
    lambda p, out, t: (
        strong_div(t[0], p[0]) + strong_div(t[0], constant(1.0, out) - p[0])
    ),
)


def expit(x: ArrayLike) -> jax.Array:
    """Logistic sigmoid :math:`\\sigma(x) = 1/(1 + e^{-x})`, as ``jax.scipy.special``.

    Derivative :math:`\\sigma(x)\\,\\sigma(-x)`, both factors computed directly, so the
    saturated tail keeps its value at every order (``jax`` gives ``0`` at ``x = 40``
    in float32); :math:`\\sigma'' = -\\sigma' \\tanh(x/2)` (module docstring).

    Args:
        x: real array.

    Returns:
        :math:`\\sigma(x)`, same shape and floating dtype as ``jax.scipy.special``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.expit)(jnp.float32(40.0))
        Array(4.248354e-18, dtype=float32)
    """
    return expit_core(*prepare("special.expit", jax.scipy.special.expit, x))


def logit(x: ArrayLike) -> jax.Array:
    """Log-odds :math:`\\log(p/(1-p))`, the inverse of :func:`expit`.

    Evaluated as :math:`\\log(p/(1-p))`, or as
    :math:`\\operatorname{log1p}((2p-1)/(1-p))` for :math:`|p - 1/2| \\le 1/4`
    (where ``jax.scipy.special.logit`` loses all relative accuracy). Derivative
    :math:`dp/p + dp/(1-p)`: ``+inf`` at ``p = 0`` and ``p = 1``.

    Args:
        x: probabilities in :math:`[0, 1]` (``nan`` outside).

    Returns:
        :math:`\\operatorname{logit}(x)`, same shape and dtype as ``jax.scipy.special``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(jax.grad(special.logit))(jnp.float32(1e-15))
        Array(-1.e+30, dtype=float32)
    """
    return logit_core(*prepare("special.logit", jax.scipy.special.logit, x))

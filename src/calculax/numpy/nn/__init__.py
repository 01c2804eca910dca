"""Stable versions of ``jax.nn`` activation and normalization functions.

Same names, signatures and values as ``jax.nn``; the derivative rules are those of
:mod:`calculax.numpy.special` and ``calculax.numpy``'s stable sigmoid, stable at
every order.
"""

from ._activations import log_sigmoid as log_sigmoid
from ._activations import sigmoid as sigmoid
from ._activations import softplus as softplus
from ._softmax import log_softmax as log_softmax
from ._softmax import logsumexp as logsumexp
from ._softmax import softmax as softmax

__all__ = [
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "softmax",
    "softplus",
]

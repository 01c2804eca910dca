"""Stable versions of ``jax.scipy.special`` functions.

Each has the name, signature, broadcasting and dtype behaviour of its
``jax.scipy.special`` namesake; its derivative rule is a ``jax.custom_jvp`` written
with ``calculax.numpy`` functions and strong products, stable at every order.
"""

from ._erfcx import erfcx as erfcx
from ._logit import expit as expit
from ._logit import logit as logit
from ._logsumexp import logsumexp as logsumexp
from ._normal import log_ndtr as log_ndtr
from ._softmax import log_softmax as log_softmax
from ._softmax import softmax as softmax
from ._xlogy import entr as entr
from ._xlogy import xlog1py as xlog1py
from ._xlogy import xlogy as xlogy

__all__ = [
    "entr",
    "erfcx",
    "expit",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "softmax",
    "xlog1py",
    "xlogy",
]

"""``jax.scipy.special``, with stable versions where JAX's derivatives are not.

Each stable function has the name, signature, broadcasting and dtype behaviour of
its ``jax.scipy.special`` namesake; its derivative rule is a ``jax.custom_jvp``
written with ``calculax.numpy`` functions and strong products, stable at every
order. Every other name is JAX's own function (``calculax.numpy._kept``).
"""

from .._kept import lazy_namespace as _lazy_namespace
from ._erfcx import erfcx as erfcx
from ._gamma import digamma as digamma
from ._gamma import gammaln as gammaln
from ._gamma import polygamma as polygamma
from ._logit import expit as expit
from ._logit import logit as logit
from ._logsumexp import logsumexp as logsumexp
from ._normal import log_ndtr as log_ndtr
from ._relative_entropy import kl_div as kl_div
from ._relative_entropy import rel_entr as rel_entr
from ._softmax import log_softmax as log_softmax
from ._softmax import softmax as softmax
from ._xlogy import entr as entr
from ._xlogy import xlog1py as xlog1py
from ._xlogy import xlogy as xlogy

__all__ = [
    "digamma",
    "entr",
    "erfcx",
    "expit",
    "gammaln",
    "kl_div",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "polygamma",
    "rel_entr",
    "softmax",
    "xlog1py",
    "xlogy",
]

__getattr__, __dir__ = _lazy_namespace("jax.scipy.special", __name__, __all__)

"""``jax.nn``, with stable versions of its smooth activations and normalizations.

Same names, signatures and values as ``jax.nn`` (more accurate where stated); the
derivative rules are those of :mod:`calculax.numpy.special` and
``calculax.numpy``'s stable sigmoid, ``tanh``, ``expm1`` and ``hypot``, stable at
every order. Every other name is ``jax.nn``'s own function (piecewise-linear
activations, ``one_hot``, initializers, attention; ``calculax.numpy._kept``).
"""

from .._hyperbolic import tanh as tanh
from .._kept import lazy_namespace as _lazy_namespace
from ._activations import log_sigmoid as log_sigmoid
from ._activations import sigmoid as sigmoid
from ._activations import softplus as softplus
from ._exponential_units import celu as celu
from ._exponential_units import elu as elu
from ._exponential_units import selu as selu
from ._gated import gelu as gelu
from ._gated import glu as glu
from ._gated import mish as mish
from ._gated import silu as silu
from ._gated import swish as swish
from ._log1mexp import log1mexp as log1mexp
from ._log1mexp import logmeanexp as logmeanexp
from ._rational import soft_sign as soft_sign
from ._rational import squareplus as squareplus
from ._softmax import log_softmax as log_softmax
from ._softmax import logsumexp as logsumexp
from ._softmax import softmax as softmax

__all__ = [
    "celu",
    "elu",
    "gelu",
    "glu",
    "log1mexp",
    "log_sigmoid",
    "log_softmax",
    "logmeanexp",
    "logsumexp",
    "mish",
    "selu",
    "sigmoid",
    "silu",
    "soft_sign",
    "softmax",
    "softplus",
    "squareplus",
    "swish",
    "tanh",
]

__getattr__, __dir__ = _lazy_namespace("jax.nn", __name__, __all__)

"""Drop-in ``jax.numpy`` functions whose derivatives are stable at every order.

Import as ``import calculax.numpy as cnp``. Each function has the name, signature,
broadcasting and dtype behaviour of its ``jax.numpy`` namesake and the same primal
value (to rounding, or more accurate where stated); its derivative rule is a
``jax.custom_jvp`` written with these same functions, so first to fourth (and higher)
derivatives, forward and reverse, stay finite and accurate wherever the true
derivative is representable.
"""

from .._core.dtypes import SUPPORTED_DTYPES as SUPPORTED_DTYPES
from . import linalg as linalg
from . import nn as nn
from . import special as special
from ._arithmetic import abs as abs
from ._arithmetic import absolute as absolute
from ._arithmetic import cbrt as cbrt
from ._arithmetic import divide as divide
from ._arithmetic import reciprocal as reciprocal
from ._arithmetic import sqrt as sqrt
from ._arithmetic import square as square
from ._arithmetic import true_divide as true_divide
from ._exponential import exp as exp
from ._exponential import exp2 as exp2
from ._exponential import expm1 as expm1
from ._exponential import log as log
from ._exponential import log1p as log1p
from ._exponential import log2 as log2
from ._exponential import log10 as log10
from ._exponential import logaddexp as logaddexp
from ._hyperbolic import arccosh as arccosh
from ._hyperbolic import arcsinh as arcsinh
from ._hyperbolic import arctanh as arctanh
from ._hyperbolic import cosh as cosh
from ._hyperbolic import sinh as sinh
from ._hyperbolic import tanh as tanh
from ._hypot import hypot as hypot
from ._powers import float_power as float_power
from ._powers import power as power
from ._trigonometric import arccos as arccos
from ._trigonometric import arcsin as arcsin
from ._trigonometric import arctan as arctan
from ._trigonometric import arctan2 as arctan2
from ._trigonometric import sinc as sinc

__all__ = [
    "SUPPORTED_DTYPES",
    "abs",
    "absolute",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "cbrt",
    "cosh",
    "divide",
    "exp",
    "exp2",
    "expm1",
    "float_power",
    "hypot",
    "linalg",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "nn",
    "power",
    "reciprocal",
    "sinc",
    "sinh",
    "special",
    "sqrt",
    "square",
    "tanh",
    "true_divide",
]

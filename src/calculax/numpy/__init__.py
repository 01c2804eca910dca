"""Drop-in ``jax.numpy`` whose derivatives are stable at every order.

Import as ``import calculax.numpy as jnp`` (or ``cnp``): every public name of
``jax.numpy`` is here. The functions whose JAX derivative rules are unstable (a
quotient, square, logarithm or exponential whose intermediate leaves the range
before the derivative does) have the name, signature, broadcasting and dtype
behaviour of their ``jax.numpy`` namesake and the same primal value (to rounding,
or more accurate where stated); their derivative rule is a ``jax.custom_jvp``
written with these same functions, so first to fourth (and higher) derivatives,
forward and reverse, stay finite and accurate wherever the true derivative is
representable (``acos``, ``asin``, ..., ``pow`` are the same functions under the
Array API's names). Every other name is JAX's own object, looked up when first used;
``calculax.numpy._kept`` says why each is safe as it is (no derivative, linear,
tested smooth, or not covered).
"""

from .._core.dtypes import SUPPORTED_DTYPES as SUPPORTED_DTYPES
from . import linalg as linalg
from . import nn as nn
from . import special as special
from ._arithmetic import abs as abs
from ._arithmetic import absolute as absolute
from ._arithmetic import cbrt as cbrt
from ._arithmetic import divide as divide
from ._arithmetic import fabs as fabs
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
from ._exponential import logaddexp2 as logaddexp2
from ._hyperbolic import arccosh as acosh
from ._hyperbolic import arccosh as arccosh
from ._hyperbolic import arcsinh as arcsinh
from ._hyperbolic import arcsinh as asinh
from ._hyperbolic import arctanh as arctanh
from ._hyperbolic import arctanh as atanh
from ._hyperbolic import cosh as cosh
from ._hyperbolic import sinh as sinh
from ._hyperbolic import tanh as tanh
from ._hypot import hypot as hypot
from ._kept import lazy_namespace as _lazy_namespace
from ._powers import float_power as float_power
from ._powers import power as pow
from ._powers import power as power
from ._statistics import nanstd as nanstd
from ._statistics import std as std
from ._trigonometric import angle as angle
from ._trigonometric import arccos as acos
from ._trigonometric import arccos as arccos
from ._trigonometric import arcsin as arcsin
from ._trigonometric import arcsin as asin
from ._trigonometric import arctan as arctan
from ._trigonometric import arctan as atan
from ._trigonometric import arctan2 as arctan2
from ._trigonometric import arctan2 as atan2
from ._trigonometric import sinc as sinc

__all__ = [
    "SUPPORTED_DTYPES",
    "abs",
    "absolute",
    "acos",
    "acosh",
    "angle",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cbrt",
    "cosh",
    "divide",
    "exp",
    "exp2",
    "expm1",
    "fabs",
    "float_power",
    "hypot",
    "linalg",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "nanstd",
    "nn",
    "pow",
    "power",
    "reciprocal",
    "sinc",
    "sinh",
    "special",
    "sqrt",
    "square",
    "std",
    "tanh",
    "true_divide",
]

__getattr__, __dir__ = _lazy_namespace("jax.numpy", __name__, __all__)

"""Derivative tools: user-defined derivative rules, ``stabilize`` for unmodified JAX
code (and, in later issues, tensors)."""

from ._custom_derivative import custom_derivative as custom_derivative
from ._stabilize import StabilizeReport as StabilizeReport
from ._stabilize import stabilize as stabilize

"""Derivative tools: user-defined derivative rules, ``stabilize`` for unmodified JAX
code, and derivative tensors of any order and shape with their matrix-free products
and a checker against the truth."""

from ._check_derivative import DerivativeCheck as DerivativeCheck
from ._check_derivative import DerivativeMismatchError as DerivativeMismatchError
from ._check_derivative import check_derivative as check_derivative
from ._custom_derivative import custom_derivative as custom_derivative
from ._derivative import derivative as derivative
from ._derivative import hessian as hessian
from ._derivative import jacobian as jacobian
from ._derivative import mixed as mixed
from ._products import hvp as hvp
from ._products import mixed_hvp as mixed_hvp
from ._products import vhp as vhp
from ._size_guard import DerivativeTooLargeError as DerivativeTooLargeError
from ._stabilize import StabilizeReport as StabilizeReport
from ._stabilize import stabilize as stabilize

__all__ = [
    "DerivativeCheck",
    "DerivativeMismatchError",
    "DerivativeTooLargeError",
    "StabilizeReport",
    "check_derivative",
    "custom_derivative",
    "derivative",
    "hessian",
    "hvp",
    "jacobian",
    "mixed",
    "mixed_hvp",
    "stabilize",
    "vhp",
]

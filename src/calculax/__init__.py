"""calculax: calculus done right in JAX.

Derivatives of any order that stay finite and accurate across the whole floating-point
range. ``calculax.numpy`` holds the stable functions; ``calculax.custom_derivative``
lets you write your own stable rules; ``calculax.stabilize`` gives unmodified JAX code
the stable rules; ``calculax.audit`` checks derivatives against a high-precision
truth, and ``calculax.explain(f)(*args)`` shows how a derivative is computed, rule by
rule, against finite differences.
"""

from . import audit as audit
from .audit import explain as explain
from . import derivatives as derivatives
from . import numpy as numpy
from .derivatives import custom_derivative as custom_derivative
from .derivatives import stabilize as stabilize

__version__ = "0.1.0"

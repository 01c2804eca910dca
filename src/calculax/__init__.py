"""calculax: calculus done right in JAX."""

from . import numpy as numpy

__version__ = "0.1.0"

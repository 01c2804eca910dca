"""Robust one-dimensional integrals: ``quad`` for functions, ``expectation`` for
integrals against a log-density; finite, semi-infinite and infinite intervals, with
derivatives in the limits and parameters."""

from ._expectation import ExpectationResult as ExpectationResult
from ._expectation import expectation as expectation
from ._quad import QuadResult as QuadResult
from ._quad import quad as quad

__all__ = [
    "ExpectationResult",
    "QuadResult",
    "expectation",
    "quad",
]

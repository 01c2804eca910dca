"""Robust one-dimensional quadrature: finite, semi-infinite and infinite intervals."""

from ._quad import STATUS as STATUS
from ._quad import QuadResult as QuadResult
from ._quad import quad as quad

__all__ = [
    "QuadResult",
    "STATUS",
    "quad",
]

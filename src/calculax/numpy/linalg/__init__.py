"""``jax.numpy.linalg``, with stable norms and a stable matrix function.

``norm``, ``vector_norm`` and ``matrix_norm`` are ``jax.numpy.linalg``'s with an
overflow-free primal and stable derivatives (zero subgradient at the zero vector);
``matrix_function`` applies a scalar function to the eigenvalues of a symmetric
(Hermitian) matrix, with derivatives from divided differences that stay finite at
repeated eigenvalues. Every other name is ``jax.numpy.linalg``'s own function
(``calculax.numpy._kept``: linear maps, or decompositions not covered).
"""

from .._kept import lazy_namespace as _lazy_namespace
from ._matrix_function import matrix_function as matrix_function
from ._norm import matrix_norm as matrix_norm
from ._norm import norm as norm
from ._norm import vector_norm as vector_norm

__all__ = [
    "matrix_function",
    "matrix_norm",
    "norm",
    "vector_norm",
]

__getattr__, __dir__ = _lazy_namespace("jax.numpy.linalg", __name__, __all__)

"""Linear algebra whose derivatives stay finite and accurate at every order.

``norm`` is ``jax.numpy.linalg.norm`` with an overflow-free primal and stable
derivatives (zero subgradient at the zero vector); ``matrix_function`` applies a
scalar function to the eigenvalues of a symmetric (Hermitian) matrix, with
derivatives from divided differences that stay finite at repeated eigenvalues.
"""

from ._matrix_function import matrix_function as matrix_function
from ._norm import norm as norm

__all__ = [
    "matrix_function",
    "norm",
]

"""``matrix_function``: :math:`f(A)` of a symmetric matrix, differentiable at every
order even where eigenvalues repeat."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..._core.validate import is_traced
from ._daleckii_krein import spectral_derivative

__all__ = ["matrix_function"]

_DTYPES = tuple(
    np.dtype(d) for d in (jnp.float32, jnp.float64, jnp.complex64, jnp.complex128)
)


def matrix_function(f: Callable[[jax.Array], jax.Array], A: ArrayLike) -> jax.Array:
    """Apply a scalar function to a symmetric (Hermitian) matrix through its spectrum.

    Computes

    .. math::

        F(A) = V f(\\Lambda) V^H, \\qquad \\tfrac12 (A + A^H) = V \\Lambda V^H
        \\ (\\texttt{jnp.linalg.eigh}),

    e.g. ``matrix_function(cnp.exp, A)`` (the matrix exponential),
    ``jnp.trace(matrix_function(cnp.log, A))`` (:math:`\\log\\det A` for SPD ``A``).
    ``A`` must be symmetric (Hermitian) to rounding; the rounding error is removed
    by using its Hermitian part, so the gradient of a real function of :math:`F` is
    Hermitian. A non-symmetric ``A`` is an error: its :math:`f(A)` is not a function
    of the Hermitian part.

    Derivatives never differentiate eigenvectors (infinite at repeated eigenvalues,
    in every framework). They are the Daleckii--Krein formulas

    .. math::

        dF = V\\big(f^{[1]} \\circ (V^H\\,dA\\,V)\\big)V^H, \\qquad
        f^{[1]}_{ij} = f[\\lambda_i, \\lambda_j] =
        \\frac{f(\\lambda_i) - f(\\lambda_j)}{\\lambda_i - \\lambda_j}
        \\ \\big(f'(\\lambda_i) \\text{ if } \\lambda_i = \\lambda_j\\big),

    and at order :math:`k` the same with the divided differences
    :math:`f[\\lambda_{i_0}, \\dots, \\lambda_{i_k}]`. Each divided difference is
    taken from the recurrence when its points are apart and from the
    Hermite--Genocchi integral of :math:`f^{(k)}` when they are close or equal,
    whichever has the smaller error estimate; so ``jax.grad`` of
    ``jnp.trace(matrix_function(f, A))`` is :math:`f'(A)` and Hessian-vector products
    are right at ``A = I`` and at double eigenvalues.

    Supported orders: every order, forward and reverse mode (``grad``, ``jvp``,
    ``hessian``, ``jacfwd``/``jacrev`` in any nesting), with ``jit`` and ``vmap``;
    orders 1-4 are tested. Each order is its own primitive (``_daleckii_krein``), so
    forward-over-reverse never reaches ``eigh``'s derivative. Order :math:`k` costs
    an ``eigh`` plus :math:`O(k!\\,k\\,n^{k+1})` and differentiates ``f`` :math:`k`
    times (nested ``jax.jvp``). Measured (``tests/test_linalg.py``; ``exp``, ``log``,
    ``sqrt``; float32 and float64; at :math:`A = I`, at exact and at rounded double
    eigenvalues, and generic): :math:`\\langle G, D^kF(A)[E,\\dots,E]\\rangle` is
    within :math:`0.5\\,\\epsilon\\,(|\\text{truth}| + \\|G\\|\\|E\\|^k
    (M_k + \\|A\\| M_{k+1}))`, :math:`M_j = \\max_i|f^{(j)}(\\lambda_i)|`, for
    :math:`k = 1, \\dots, 4`: the accuracy of a backward-stable ``eigh``. The
    divided differences themselves are within a few :math:`\\epsilon` of exact.

    Args:
        f: element-wise function of a real array of eigenvalues, returning the same
            shape and dtype, differentiable as often as ``F`` is (e.g.
            ``calculax.numpy.exp``, ``log``, ``sqrt``, or a ``lambda``). It is a fixed
            function: it must not close over traced values (arrays being jitted,
            batched or differentiated); make such values part of ``A`` instead.
        A: shape ``(..., n, n)``, float32, float64, complex64 or complex128 (integers
            are promoted); leading axes are a batch.

    Returns:
        :math:`F(A)`, shape ``(..., n, n)``, dtype of ``A``.

    Raises:
        TypeError: ``f`` is not callable, closes over traced values, or does not
            return an array of its input's shape and dtype; ``A`` has an unsupported
            dtype.
        ValueError: ``A`` is not a (batch of) square matrices, or not symmetric
            (Hermitian) to rounding: :math:`\\max|A - A^H| > 64\\,n\\,\\epsilon
            \\max|A|` (under ``jit``/``vmap``/``grad``, an ``equinox`` runtime
            error with the same message).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> A = 2 * jnp.eye(2, dtype=jnp.float32)  # a double eigenvalue
        >>> logdet = lambda A: jnp.trace(cnp.linalg.matrix_function(cnp.log, A))
        >>> jax.grad(logdet)(A)  # the inverse; eigh-based code gives nan here
        Array([[0.5, 0. ],
               [0. , 0.5]], dtype=float32)
        >>> E = jnp.ones((2, 2), dtype=jnp.float32)
        >>> jax.jvp(jax.grad(logdet), (A,), (E,))[1]  # -A^-1 E A^-1
        Array([[-0.25, -0.25],
               [-0.25, -0.25]], dtype=float32)
    """
    if not callable(f):
        raise TypeError(
            "calculax.numpy.linalg.matrix_function: f must be a callable applied to "
            f"the eigenvalues (e.g. calculax.numpy.exp), got {type(f).__name__}."
        )
    A = jnp.asarray(A)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(
            "calculax.numpy.linalg.matrix_function: A must be a square matrix or a "
            f"batch of them, shape (..., n, n); got shape {A.shape}."
        )
    if not jnp.issubdtype(A.dtype, jnp.inexact):
        A = A.astype(jnp.promote_types(A.dtype, jnp.float_))
    if A.dtype not in _DTYPES:
        raise TypeError(
            f"calculax.numpy.linalg.matrix_function does not support dtype {A.dtype}: "
            "eigh is available for float32, float64, complex64 and complex128."
        )
    _check_spectral_function(f, A)
    A = _checked_hermitian(A)
    hermitian = (A + jnp.conj(jnp.swapaxes(A, -1, -2))) / 2
    return spectral_derivative(f, hermitian)


# Asymmetry allowed, in units of eps * n * max|A|: the rounding of a matrix built
# symmetric in floating point (``X @ X.T``, ``(B + B.T) / 2`` of a rounded ``B``).
_SYMMETRY_ULPS = 64


def _checked_hermitian(A: jax.Array) -> jax.Array:
    """``A``, checked Hermitian to rounding: ``max|A - A^H| <= 64 n eps max|A|``
    per matrix (``ValueError`` for a concrete ``A``, ``equinox.error_if`` under
    ``jit``, ``vmap`` and ``grad``)."""
    values = jax.lax.stop_gradient(A)
    asymmetry = jnp.max(
        jnp.abs(values - jnp.conj(jnp.swapaxes(values, -1, -2))), axis=(-2, -1)
    )
    scale = jnp.max(jnp.abs(values), axis=(-2, -1))
    eps = float(jnp.finfo(A.dtype).eps)
    bad = jnp.any(asymmetry > _SYMMETRY_ULPS * A.shape[-1] * eps * scale)
    message = (
        "calculax.numpy.linalg.matrix_function: `A` must be symmetric (Hermitian for "
        "complex A), because f(A) is computed from the eigendecomposition of its "
        "Hermitian part; got a matrix whose largest |A - A^H| entry exceeds 64 n eps "
        "max|A|. For a non-symmetric matrix use jax.scipy.linalg.expm or "
        "jax.scipy.linalg.funm."
    )
    if not is_traced(bad):
        if bool(bad):
            raise ValueError(message)
        return A
    import equinox as eqx  # on first use: calculax.numpy need not load equinox

    return eqx.error_if(A, bad, message)


def _check_spectral_function(f: Callable, A: jax.Array) -> None:
    real = jnp.finfo(A.dtype).dtype
    eigenvalues = jax.ShapeDtypeStruct((*A.shape[:-2], A.shape[-1]), real)
    closed = jax.make_jaxpr(f)(eigenvalues)
    if any(isinstance(c, jax.core.Tracer) for c in closed.consts):
        raise TypeError(
            "calculax.numpy.linalg.matrix_function: f closes over a traced value "
            "(an array being jitted, batched or differentiated). Its derivatives "
            "are not defined through f's closure; pass f a fixed function of the "
            "eigenvalues, e.g. with Python constants."
        )
    out = closed.out_avals
    if len(out) != 1 or out[0].shape != eigenvalues.shape or out[0].dtype != real:
        got = ", ".join(f"{a.dtype}{list(a.shape)}" for a in out)
        raise TypeError(
            "calculax.numpy.linalg.matrix_function: f must map the eigenvalues, "
            f"{real}{list(eigenvalues.shape)}, element-wise to an array of the same "
            f"shape and dtype; it returned {got}."
        )

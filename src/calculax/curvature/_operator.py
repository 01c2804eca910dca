"""Square linear operators on a parameter pytree, applied to flat vectors.

Every estimator accepts an :class:`AbstractOperator`, a dense square array, or a
``matvec`` callable with an ``example`` vector; :func:`as_operator` turns the last two
into operators. Operators are equinox Modules: their arrays are leaves, their functions
and structure static, so ``jit`` caches one compilation per function and shape.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._flat import Flat

__all__ = [
    "AbstractOperator",
    "DenseOperator",
    "MatvecOperator",
    "as_operator",
    "linear_operator",
]


class AbstractOperator(eqx.Module):
    """A square linear operator :math:`A` on the pytrees of structure ``flat``.

    Subclasses implement :meth:`flat_matvec` on vectors of length ``size``;
    :meth:`matvec` takes and returns pytrees and :meth:`matmat` applies ``A`` to the
    columns of an ``(size, k)`` matrix with ``vmap`` (memory: ``k`` matvecs at once).
    """

    flat: eqx.AbstractVar[Flat]

    @abc.abstractmethod
    def flat_matvec(self, v: jax.Array) -> jax.Array:
        """``A @ v`` for a flat vector ``v`` of shape ``(size,)``."""

    @property
    def size(self) -> int:
        return self.flat.size

    @property
    def dtype(self) -> np.dtype:
        return self.flat.dtype

    def matvec(self, vector):
        """``A v`` for a pytree ``v`` shaped like the parameters; same structure out."""
        flat = self.flat.ravel(vector, "vector")
        return self.flat.unravel(self.flat_matvec(flat))

    def matmat(self, columns: jax.Array) -> jax.Array:
        """``A @ V`` for ``V`` of shape ``(size, k)``, the ``k`` products batched."""
        return jax.vmap(self.flat_matvec, in_axes=1, out_axes=1)(columns)

    def as_dense(self) -> jax.Array:
        """The ``(size, size)`` matrix (``size`` matvecs; for checks on small cases)."""
        return self.matmat(jnp.eye(self.size, dtype=self.dtype))


class DenseOperator(AbstractOperator):
    """A dense square matrix as an operator on flat vectors."""

    matrix: jax.Array
    flat: Flat

    def __init__(self, matrix):
        matrix = jnp.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(
                f"`operator` given as an array must be a square matrix; got shape "
                f"{matrix.shape}. Pass an (n, n) array, an operator from "
                "`hessian_operator`, or a matvec callable with `example=`."
            )
        if not jnp.issubdtype(matrix.dtype, jnp.floating):
            matrix = matrix.astype(jnp.result_type(float))
        self.matrix = matrix
        self.flat = Flat.of(jax.ShapeDtypeStruct(matrix.shape[:1], matrix.dtype))

    def flat_matvec(self, v):
        return self.matrix @ v


class MatvecOperator(AbstractOperator):
    """A user's ``matvec(v) -> A v`` on pytrees shaped like ``example``."""

    fn: Callable
    flat: Flat

    def flat_matvec(self, v):
        out = self.fn(self.flat.unravel(v))
        return self.flat.ravel(out, "matvec(example)'s output")


def linear_operator(matvec: Callable, example) -> MatvecOperator:
    """Wrap ``matvec`` (pytree -> pytree of the same structure) as an operator.

    Args:
        matvec: the linear map ``v -> A v``.
        example: a pytree with the structure, shapes and dtypes of ``v``.

    Returns:
        A :class:`MatvecOperator`.

    Raises:
        TypeError: ``matvec`` is not callable or ``example`` has non-floating leaves.
        ValueError: ``matvec(example)`` has another structure or other shapes.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.curvature import linear_operator
        >>> op = linear_operator(lambda v: {"w": 2.0 * v["w"]}, {"w": jnp.ones(3)})
        >>> op.matvec({"w": jnp.arange(3.0)})["w"]
        Array([0., 2., 4.], dtype=float32)
    """
    if not callable(matvec):
        raise TypeError(f"`matvec` must be callable; got {type(matvec).__name__}.")
    flat = Flat.of(example, "example")
    out = jax.eval_shape(matvec, example)
    flat.check(out, "matvec(example)'s output")
    return MatvecOperator(fn=matvec, flat=flat)


def as_operator(operator: Any, example=None) -> AbstractOperator:
    """An operator from an operator, a dense square array, or a matvec + example."""
    if isinstance(operator, AbstractOperator):
        return operator
    if callable(operator):
        if example is None:
            raise TypeError(
                "`operator` is a matvec callable but no `example` vector was given; "
                "pass `example=` (a pytree shaped like the vectors it acts on)."
            )
        return linear_operator(operator, example)
    if isinstance(operator, jax.Array | np.ndarray):
        return DenseOperator(operator)
    raise TypeError(
        "`operator` must be an operator (e.g. from `hessian_operator`), a dense "
        f"square array, or a matvec callable with `example=`; got "
        f"{type(operator).__name__}."
    )

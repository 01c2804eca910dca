"""``norm``: ``jax.numpy.linalg.norm`` with stable primal and derivatives.

Vector norms and the Frobenius norm go through
:func:`~calculax.numpy.linalg._vector_norm.vector_norm_core`; the matrix norms of
order ``1``, ``-1``, ``inf`` and ``-inf`` are composed from two vector norms (a
``1``-norm along one axis, then a ``±inf``-norm along the other). Matrix norms of
order ``2``, ``-2`` and ``'nuc'`` are singular-value functions and are delegated to
``jax.numpy.linalg.norm``.
"""

from __future__ import annotations

import operator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..._core.dtypes import check_dtype
from .._arithmetic import abs as _abs
from ._vector_norm import vector_norm_core

__all__ = ["norm", "vector_norm", "matrix_norm"]

_SINGULAR_VALUE_ORDERS = ("nuc", 2, -2)


def norm(
    x: ArrayLike,
    ord: int | float | str | None = None,  # noqa: A002 - NumPy's name
    axis: None | int | tuple[int, ...] = None,
    keepdims: bool = False,
) -> jax.Array:
    """Vector or matrix norm, as ``jax.numpy.linalg.norm``, stable at every order.

    Vector norms (one axis; also ``ord=None, axis=None`` on any array, flattened),
    with an exact power-of-two scaling :math:`s_i = 2^{-e}|x_i|`:

    .. math::

        \\|x\\|_p = 2^e \\Big(\\sum_i s_i^p\\Big)^{1/p}, \\qquad
        2^{e-1} \\le m < 2^e,

    :math:`m` the largest (:math:`p > 0`) or smallest (:math:`p < 0`) :math:`|x_i|`
    (for :math:`|p|` beyond half the exponent range the :math:`|x_i|` are divided by
    :math:`m` instead): no overflow or underflow at ``1e±30`` in float32 or
    ``1e±300`` in float64. ``ord=inf``/``-inf`` give :math:`\\max_i|x_i|` /
    :math:`\\min_i|x_i|` and ``ord=0`` the number of non-zero entries (derivative
    ``0``). Derivatives, with :math:`N = \\|x\\|_p` and bounded ratios
    :math:`u_i = |x_i|/N`:

    .. math::

        \\partial_i N = G_i = \\operatorname{sign}(x_i)\\,u_i^{p-1}, \\qquad
        \\partial_j G_i = \\frac{p-1}{N}\\Big(\\delta_{ij}\\,u_i^{p-2}
        \\sum_{l \\ne i} u_l^p - (1 - \\delta_{ij})\\,G_i G_j\\Big)

    (:math:`G = x/N` for :math:`p = 2`): :math:`G` has its own rule, so the Hessian
    never forms :math:`1 - u_i^p`, which cancels when one entry dominates. At the
    zero vector every derivative is the zero subgradient ``0`` (never ``nan``);
    ties of the ``±inf`` norms share the derivative equally. Where a derivative is
    infinite (:math:`x_i = 0` with :math:`p < 1` for :math:`G`, :math:`p < 2` for
    :math:`\\partial G`), :math:`G_i = 0` is used and a zero tangent gives ``0``.

    Matrix norms (two axes): ``None``/``'fro'`` (the 2-norm of all entries), ``1``,
    ``-1`` (max/min column sum of :math:`|x|`), ``inf``, ``-inf`` (max/min row sum),
    all composed from the stable vector norms; ``2``, ``-2``, ``'nuc'`` are delegated
    to ``jax.numpy.linalg.norm`` (singular values): their values and derivatives are
    JAX's, in particular not finite at repeated singular values.

    Complex ``x`` is reduced to :math:`|x|` with the stable ``calculax.numpy.abs``
    first (zero subgradient at ``0``).

    Args:
        x: array, any real or complex dtype ``jax.numpy.linalg.norm`` accepts (integers
            are promoted to floating point).
        ord: the order, as in ``jax.numpy.linalg.norm``; a Python or NumPy scalar.
        axis: ``None``, one axis (vector norm) or two axes (matrix norm).
        keepdims: keep the reduced axes with size ``1``.

    Returns:
        The norm, of the real floating dtype and shape ``jax.numpy.linalg.norm``
        gives: ``x.shape`` without ``axis`` (with size-1 axes if ``keepdims``).

    Raises:
        ValueError: for an invalid ``ord`` or ``axis`` (``jax.numpy``'s message).
        TypeError: for an unsupported dtype, naming it.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> x = jnp.array([3e30, 4e30], dtype=jnp.float32)
        >>> cnp.linalg.norm(x), jnp.linalg.norm(x)
        (Array(5.e+30, dtype=float32), Array(inf, dtype=float32))
        >>> jax.grad(cnp.linalg.norm)(jnp.zeros(3, dtype=jnp.float32))
        Array([0., 0., 0.], dtype=float32)
        >>> hessian = jax.jit(jax.hessian(cnp.linalg.norm))
        >>> hessian(jnp.array([1.0, 1e-4], dtype=jnp.float32))
        Array([[ 1.e-08, -1.e-04],
               [-1.e-04,  1.e+00]], dtype=float32)
    """
    # jax.numpy validates ord/axis and fixes the result's dtype and shape.
    result = jax.eval_shape(lambda v: jnp.linalg.norm(v, ord, axis, keepdims), x)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(result.dtype)
    check_dtype("linalg.norm", x.dtype)
    if axis is None:
        if ord is None:
            out = _vector_norm(jnp.ravel(x), 2.0, (0,))
            return jnp.reshape(out, result.shape)
        axis = tuple(range(x.ndim))
    axes = _canonical_axes(axis, x.ndim)
    if len(axes) == 1:
        out = _vector_norm(x, _vector_order(ord), axes)
    elif ord is None or ord in ("f", "fro"):
        out = _vector_norm(x, 2.0, axes)
    elif ord in _SINGULAR_VALUE_ORDERS:
        return jnp.linalg.norm(x, ord, axis, keepdims)
    else:
        row_axis, col_axis = axes  # two: jnp.linalg.norm accepted (ord, axis) above
        out = _matrix_norm(x, ord, (row_axis, col_axis))
    if keepdims:
        out = jnp.expand_dims(out, axes)
    return out


def _canonical_axes(axis, ndim: int) -> tuple[int, ...]:
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(operator.index(a) % ndim for a in axes)


def _vector_order(ord) -> float:
    return 2.0 if ord is None else float(ord)


def _vector_norm(x: jax.Array, p: float, axes: tuple[int, ...]) -> jax.Array:
    """Norm over ``axes`` (moved last and flattened), without keepdims."""
    if p == 0:
        return jnp.sum(x != 0, axis=axes).astype(jnp.finfo(x.dtype).dtype)
    kept = [a for a in range(x.ndim) if a not in axes]
    x = jnp.moveaxis(x, axes, tuple(range(len(kept), x.ndim)))
    x = jnp.reshape(x, (*x.shape[: len(kept)], -1))
    if x.shape[-1] == 0:
        return jnp.linalg.norm(x, p, axis=-1)
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        x = _abs(x)
    return vector_norm_core(p)(x)


def _matrix_norm(x: jax.Array, ord, axes: tuple[int, int]) -> jax.Array:
    # ord=±1: the ±inf norm of the column 1-norms; ord=±inf: of the row 1-norms.
    row_axis, col_axis = axes
    summed, other = (row_axis, col_axis) if abs(ord) == 1 else (col_axis, row_axis)
    sums = _vector_norm(x, 1.0, (summed,))
    other -= other > summed
    return _vector_norm(sums, float(np.sign(ord)) * np.inf, (other,))


def vector_norm(
    x: ArrayLike,
    /,
    *,
    axis: int | tuple[int, ...] | None = None,
    keepdims: bool = False,
    ord: int | float | str = 2,  # noqa: A002 - the Array API's name
) -> jax.Array:
    """Vector norm over ``axis`` (all axes, flattened, by default), as
    ``jax.numpy.linalg.vector_norm``, with :func:`norm`'s stable primal and
    derivatives.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> cnp.linalg.vector_norm(jnp.full((2, 2), 1e30, dtype=jnp.float32))
        Array(2.e+30, dtype=float32)
    """
    order: Any = ord
    result = jax.eval_shape(
        lambda v: jnp.linalg.vector_norm(v, axis=axis, keepdims=keepdims, ord=order),
        x,
    )
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(result.dtype)
    check_dtype("linalg.vector_norm", x.dtype)
    axes = tuple(range(x.ndim)) if axis is None else _canonical_axes(axis, x.ndim)
    if x.ndim == 0:
        return jnp.reshape(_abs(x), result.shape)
    out = _vector_norm(x, _vector_order(ord), axes)
    return jnp.reshape(out, result.shape)


def matrix_norm(
    x: ArrayLike,
    /,
    *,
    keepdims: bool = False,
    ord: int | str = "fro",  # noqa: A002 - the Array API's name
) -> jax.Array:
    """Matrix norm over the last two axes, as ``jax.numpy.linalg.matrix_norm``: the
    stable :func:`norm` with ``axis=(-2, -1)``.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> cnp.linalg.matrix_norm(jnp.full((2, 2), 1e30, dtype=jnp.float32))
        Array(2.e+30, dtype=float32)
    """
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)

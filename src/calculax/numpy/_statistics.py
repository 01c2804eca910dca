"""Standard deviations from the norm of the deviations.

``jax.numpy.std`` is ``sqrt(var)``: the variance of ``[1e-25, 2e-25]`` underflows in
float32 (``2.5e-51``) although the standard deviation ``5e-26`` is a normal number,
and ``sqrt``'s derivative at a zero variance is ``nan``. Here

.. math::

    \\operatorname{std}(a) = \\frac{\\|a - \\bar a\\|_2}{\\sqrt{n - \\mathrm{ddof}}},

with ``calculax.numpy.linalg.norm``'s power-of-two scaling (no under- or overflow
unless the result does) and its derivatives (the zero subgradient at a constant
input, at every order).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._arithmetic import absolute, divide_core, sqrt_core
from .linalg._vector_norm import vector_norm_core

__all__ = ["std", "nanstd"]


def _check_axis(name: str, axis, ndim: int) -> None:
    # jax.numpy.std raises "tuple index out of range" for an axis out of bounds.
    axes = () if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if (
            isinstance(a, bool)
            or not isinstance(a, int)
            or not -ndim <= a < max(ndim, 1)
        ):
            raise ValueError(
                f"calculax.numpy.{name}: `axis` must be None, or integers in "
                f"[{-ndim}, {ndim}) for an array of dimension {ndim}; got {axis!r}."
            )


def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axis))


def _std(a, axis, dtype, ddof, keepdims, where, mean, result):
    a = jnp.asarray(a)
    if dtype is not None:
        a = a.astype(dtype)
    if not jnp.issubdtype(a.dtype, jnp.inexact):
        a = a.astype(result.dtype)
    axes = _axes(axis, a.ndim)
    if mean is None:
        mean = jnp.mean(a, axis=axes, keepdims=True, where=where)
    centered = a - mean
    if where is None:
        count = jnp.asarray(math.prod(a.shape[d] for d in axes), result.dtype)
    else:
        mask = jnp.broadcast_to(where, a.shape)
        centered = jnp.where(mask, centered, jnp.zeros_like(centered))
        count = jnp.sum(mask, axis=axes).astype(result.dtype)
    if jnp.issubdtype(centered.dtype, jnp.complexfloating):
        centered = absolute(centered)
    kept = [d for d in range(a.ndim) if d not in axes]
    moved = jnp.transpose(centered, (*kept, *axes))
    flat = jnp.reshape(moved, (*moved.shape[: len(kept)], -1)).astype(result.dtype)
    if flat.shape[-1] == 0:
        total = jnp.zeros(flat.shape[:-1], result.dtype)
    else:
        total = vector_norm_core(2.0)(flat)
    denominator = jnp.maximum(count - jnp.asarray(ddof, result.dtype), 0)
    out = divide_core(total, sqrt_core(jnp.broadcast_to(denominator, total.shape)))
    if keepdims:
        out = jnp.reshape(out, result.shape)
    return out


def std(
    a: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    dtype=None,
    out: None = None,
    ddof: int = 0,
    keepdims: bool = False,
    *,
    where: ArrayLike | None = None,
    mean: ArrayLike | None = None,
    correction: int | float | None = None,
) -> jax.Array:
    """Standard deviation along ``axis``, as ``jax.numpy.std``, from the stable norm
    of the deviations (module docstring).

    Args:
        a: array; ``axis``, ``dtype``, ``out``, ``ddof``, ``keepdims``, ``where``,
            ``mean``, ``correction``: as in ``jax.numpy.std``.

    Returns:
        The standard deviation, shape and dtype of ``jax.numpy.std``.

    Raises:
        ValueError: ``axis`` out of bounds (JAX raises ``IndexError``), or
            ``ddof`` and ``correction`` both given (JAX's message).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> x = jnp.array([1e-25, 2e-25], dtype=jnp.float32)
        >>> cnp.std(x), jnp.std(x)
        (Array(5.e-26, dtype=float32), Array(0., dtype=float32))
        >>> jax.grad(cnp.std)(jnp.ones(3, dtype=jnp.float32))  # jax: nan
        Array([0., 0., 0.], dtype=float32)
    """
    _check_axis("std", axis, jnp.ndim(a))
    options: dict[str, Any] = {"where": where, "mean": mean, "correction": correction}
    result = jax.eval_shape(
        lambda v: jnp.std(v, axis, dtype, out, ddof, keepdims, **options), a
    )
    correction_: int | float = ddof if correction is None else correction
    return _std(a, axis, dtype, correction_, keepdims, where, mean, result)


def nanstd(
    a: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    dtype=None,
    out: None = None,
    ddof: int = 0,
    keepdims: bool = False,
    where: ArrayLike | None = None,
    mean: ArrayLike | None = None,
) -> jax.Array:
    """:func:`std` ignoring ``nan`` entries, as ``jax.numpy.nanstd``.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> cnp.nanstd(jnp.array([1.0, jnp.nan, 3.0], dtype=jnp.float32))
        Array(1., dtype=float32)
    """
    _check_axis("nanstd", axis, jnp.ndim(a))
    options: dict[str, Any] = {"where": where, "mean": mean}
    result = jax.eval_shape(
        lambda v: jnp.nanstd(v, axis, dtype, out, ddof, keepdims, **options), a
    )
    a = jnp.asarray(a)
    present = ~jnp.isnan(a)
    mask = present if where is None else present & jnp.broadcast_to(where, a.shape)
    a = jnp.where(present, a, jnp.zeros_like(a))
    return _std(a, axis, dtype, ddof, keepdims, mask, mean, result)

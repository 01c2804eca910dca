"""Softmax and log-softmax whose derivatives keep the complement of a dominant weight.

With :math:`s = \\operatorname{softmax}(x)`, both derivatives are built on the
centred tangent :math:`c = t - \\langle s, t\\rangle`:
:math:`d\\,\\operatorname{softmax} = s \\odot c` and
:math:`d\\,\\operatorname{log\\_softmax} = c`. Written naively, the diagonal entry
:math:`1 - s_k` of a weight :math:`s_k \\approx 1` rounds to ``0`` (``softmax([0,
20])`` in float32: the Jacobian's ``2e-9`` becomes ``0``, the tail trap of
``sigmoid'(40)``). At most one weight exceeds :math:`1/2`; for it,

.. math::

    c_k = t_k \\sum_{i \\ne k} s_i - \\sum_{i \\ne k} s_i t_i, \\qquad
    c_j = t_j - s_k t_k - \\sum_{i \\ne k} s_i t_i \\quad (j \\ne k),

so :math:`1 - s_k` is the sum of the small weights, never a difference. Every product
with a tangent is strong, so masked (``-inf``) entries get exactly zero cotangent.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._rule import constant

__all__ = [
    "normalize_axis",
    "centered",
    "softmax_core",
    "log_softmax_core",
    "masked_softmax",
    "masked_log_softmax",
    "softmax",
    "log_softmax",
]

Axis = int | Sequence[int] | None


def normalize_axis(axis: Axis, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints (``None``: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(sorted(int(a) % max(ndim, 1) for a in axis))


def centered(s: jax.Array, t: jax.Array, axis: tuple[int, ...]) -> jax.Array:
    """:math:`t - \\langle s, t\\rangle` along ``axis``, exact in :math:`1 - s_k`."""
    zeros = jnp.zeros_like(s)
    dominant = s > constant(0.5, s)  # at most one entry per slice
    rest = jnp.where(dominant, zeros, s)
    complement = jnp.sum(rest, axis, keepdims=True)  # 1 - s_k, as a sum
    s_k = jnp.sum(jnp.where(dominant, s, zeros), axis, keepdims=True)
    t_k = jnp.sum(jnp.where(dominant, t, jnp.zeros_like(t)), axis, keepdims=True)
    mean_rest = jnp.sum(strong_mul(t, rest), axis, keepdims=True)
    return (
        jnp.where(dominant, strong_mul(t_k, complement), t - strong_mul(t_k, s_k))
        - mean_rest
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def softmax_core(x: jax.Array, axis: tuple[int, ...]) -> jax.Array:
    """``jax.nn.softmax(x, axis)`` with the stable rule ``s * centered(s, t)``."""
    return jax.nn.softmax(x, axis=axis)


@softmax_core.defjvp
def _softmax_jvp(axis, primals, tangents):
    # d softmax = s (t - <s, t>), with the centred tangent exact for s_k ~ 1.
    (x,), (t,) = primals, tangents
    s = softmax_core(x, axis)
    return s, strong_mul(s, centered(s, t, axis))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def log_softmax_core(x: jax.Array, axis: tuple[int, ...]) -> jax.Array:
    """``jax.nn.log_softmax(x, axis)`` with the stable rule ``centered(s, t)``."""
    return jax.nn.log_softmax(x, axis=axis)


@log_softmax_core.defjvp
def _log_softmax_jvp(axis, primals, tangents):
    # d log_softmax = t - <s, t> with s = softmax(x) (not exp(out), which loses
    # |out| ulp).
    (x,), (t,) = primals, tangents
    return log_softmax_core(x, axis), centered(softmax_core(x, axis), t, axis)


def masked_softmax(name, reference, x, axis: Axis, where) -> jax.Array:
    """Shared body of ``special.softmax`` and ``nn.softmax`` (masked entries: 0)."""
    (x,) = prepare(name, reference, x)
    axes = normalize_axis(axis, x.ndim)
    if where is None:
        return softmax_core(x, axes)
    inf = constant(float("inf"), x)
    out = softmax_core(jnp.where(where, x, -inf), axes)
    return jnp.where(where, out, jnp.zeros_like(out))


def masked_log_softmax(name, reference, x, axis: Axis, where) -> jax.Array:
    """Shared body of the two ``log_softmax`` functions (masked entries: ``-inf``)."""
    (x,) = prepare(name, reference, x)
    axes = normalize_axis(axis, x.ndim)
    if where is None:
        return log_softmax_core(x, axes)
    inf = constant(float("inf"), x)
    out = log_softmax_core(jnp.where(where, x, -inf), axes)
    return jnp.where(where, out, -inf)


def softmax(x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None) -> jax.Array:
    """Softmax :math:`e^{x_i}/\\sum_j e^{x_j}` along ``axis`` (default: all axes).

    Value of ``jax.scipy.special.softmax``; derivative :math:`s \\odot (t -
    \\langle s, t\\rangle)` with :math:`1 - s_k` summed, not subtracted, for a
    dominant weight (module docstring), so Jacobian and Hessian entries of
    saturated softmaxes keep their value at every order.

    Args:
        x: real array.
        axis: axis or axes to normalize over; ``None`` means all.

    Returns:
        Array of the shape and dtype of ``x`` (floating).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> x = jnp.array([0.0, 20.0], dtype=jnp.float32)
        >>> jax.jacobian(special.softmax)(x)[1, 1]  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    reference = functools.partial(jax.scipy.special.softmax, axis=axis)
    return masked_softmax("special.softmax", reference, x, axis, None)


def log_softmax(
    x: ArrayLike, /, *, axis: int | tuple[int, ...] | None = None
) -> jax.Array:
    """Log-softmax :math:`x_i - \\log\\sum_j e^{x_j}` along ``axis`` (default: all).

    Value of ``jax.scipy.special.log_softmax``; derivative :math:`t - \\langle s,
    t\\rangle`, with :math:`s` the softmax (module docstring).

    Args:
        x: real array.
        axis: axis or axes to normalize over; ``None`` means all.

    Returns:
        Array of the shape and dtype of ``x`` (floating).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> x = jnp.array([0.0, 20.0], dtype=jnp.float32)
        >>> jax.jacobian(special.log_softmax)(x)[1, 1]  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    reference = functools.partial(jax.scipy.special.log_softmax, axis=axis)
    return masked_log_softmax("special.log_softmax", reference, x, axis, None)

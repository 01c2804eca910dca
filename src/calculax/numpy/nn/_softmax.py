"""``jax.nn`` spellings of the softmax family: thin wrappers of ``special``'s cores.

``jax.nn.softmax`` and ``jax.nn.log_softmax`` normalize over ``axis=-1`` by default
and take a ``where`` mask; the values and the stable derivative rules are those of
:mod:`calculax.numpy.special` (see ``special/_softmax.py``).
"""

from __future__ import annotations

import functools

import jax
from jax.typing import ArrayLike

from ..special._logsumexp import logsumexp_impl
from ..special._softmax import masked_log_softmax, masked_softmax

__all__ = ["softmax", "log_softmax", "logsumexp"]


def softmax(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    """Softmax along ``axis``; masked-out entries are ``0``.

    Value of ``jax.nn.softmax``; derivative :math:`s \\odot (t - \\langle s,
    t\\rangle)` with :math:`1 - s_k` computed as a sum for a dominant weight.

    Args:
        x: real array.
        axis: axis or axes to normalize over; ``None`` means all.
        where: optional mask of the entries to include.

    Returns:
        Array of the shape and dtype of ``jax.nn.softmax(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> x = jnp.array([0.0, 20.0], dtype=jnp.float32)
        >>> jax.jacobian(nn.softmax)(x)[0, 0]  # jax: 2.0611537e-09 too (s_0 small)
        Array(2.0611537e-09, dtype=float32)
    """
    reference = functools.partial(jax.nn.softmax, axis=axis, where=where)
    return masked_softmax("nn.softmax", reference, x, axis, where)


def log_softmax(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = -1,
    where: ArrayLike | None = None,
) -> jax.Array:
    """Log-softmax along ``axis``; masked-out entries are ``-inf``.

    Value of ``jax.nn.log_softmax``; derivative :math:`t - \\langle s, t\\rangle`.

    Args:
        x: real array.
        axis: axis or axes to normalize over; ``None`` means all.
        where: optional mask of the entries to include.

    Returns:
        Array of the shape and dtype of ``jax.nn.log_softmax(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> x = jnp.array([0.0, 20.0], dtype=jnp.float32)
        >>> jax.jacobian(nn.log_softmax)(x)[1, 1]  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    reference = functools.partial(jax.nn.log_softmax, axis=axis, where=where)
    return masked_log_softmax("nn.log_softmax", reference, x, axis, where)


def logsumexp(
    a: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    b: ArrayLike | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
    where: ArrayLike | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """:math:`\\log\\sum_i b_i e^{a_i}`, as ``jax.nn.logsumexp``.

    The function of :func:`calculax.numpy.special.logsumexp` (same arguments, same
    stable rule).

    Returns:
        The reduction (and its sign if ``return_sign``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> a = jnp.array([0.0, 20.0], dtype=jnp.float32)
        >>> jax.hessian(nn.logsumexp)(a)[1, 1]  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    return logsumexp_impl("nn.logsumexp", a, axis, b, keepdims, return_sign, where)

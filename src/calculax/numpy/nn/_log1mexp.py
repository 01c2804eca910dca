"""``log1mexp`` and ``logmeanexp``.

:math:`\\operatorname{log1mexp}(x) = \\log(1 - e^{-x})`, :math:`x > 0`, has the
derivative :math:`s(x) = 1/\\operatorname{expm1}(x)`; JAX differentiates that
quotient again with the quotient rule, :math:`e^x/\\operatorname{expm1}(x)^2`, whose
denominator overflows for :math:`x > 44` in float32 (the truth
:math:`\\approx e^{-x}` is a normal number up to :math:`x = 87`). Here
:math:`s' = -s(1 + s)`, a product of positive factors each as representable as the
result, so every order is stable.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._rule import constant, stable_rule
from ..special._logsumexp import logsumexp_impl

__all__ = ["log1mexp", "logmeanexp"]

# s = 1/expm1(x), ds = -s (1 + s) dx.
_inverse_expm1_core = stable_rule(
    lambda x: constant(1.0, x) / jnp.expm1(x),
    lambda p, out, t: -strong_mul(t[0], out * (constant(1.0, out) + out)),
)

# d log1mexp = dx / expm1(x).
_log1mexp_core = stable_rule(
    jax.nn.log1mexp,
    lambda p, out, t: strong_mul(t[0], _inverse_expm1_core(p[0])),
)


def log1mexp(x: ArrayLike) -> jax.Array:
    """:math:`\\log(1 - e^{-x})` for :math:`x \\ge 0`, as ``jax.nn.log1mexp``.

    Derivative :math:`1/\\operatorname{expm1}(x)` with the rule
    :math:`s' = -s(1+s)` (module docstring): stable at every order.

    Args:
        x: real array, ``x >= 0`` (``nan`` below, as JAX).

    Returns:
        Array of the shape and dtype of ``jax.nn.log1mexp(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(jax.grad(nn.log1mexp))(jnp.float32(60.0))  # jax: -0.0
        Array(-8.756511e-27, dtype=float32)
    """
    (x,) = prepare("nn.log1mexp", jax.nn.log1mexp, x)
    return _log1mexp_core(x)


def logmeanexp(
    x: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    where: ArrayLike | None = None,
    keepdims: bool = False,
) -> jax.Array:
    """:math:`\\log\\frac1n\\sum_i e^{x_i}` over ``axis`` (``n`` entries, or those
    where ``where`` is true), as ``jax.nn.logmeanexp``: the stable
    :func:`calculax.numpy.special.logsumexp` minus :math:`\\log n`.

    Args:
        x: real array.
        axis: axis or axes to reduce; ``None`` means all.
        where: optional mask of the entries to include.
        keepdims: keep the reduced axes with size 1.

    Returns:
        Array of the shape and dtype of ``jax.nn.logmeanexp(x, axis, where,
        keepdims)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> nn.logmeanexp(jnp.array([0.0, 0.0], dtype=jnp.float32))
        Array(0., dtype=float32)
    """
    result = jax.eval_shape(
        lambda v: jax.nn.logmeanexp(v, axis=axis, where=where, keepdims=keepdims), x
    )
    lse = logsumexp_impl("nn.logmeanexp", x, axis, None, keepdims, False, where)
    x = jnp.asarray(x)
    mask = (
        jnp.ones(x.shape, bool) if where is None else jnp.broadcast_to(where, x.shape)
    )
    count = jnp.sum(mask, axis=axis, keepdims=keepdims).astype(result.dtype)
    return (lse - jnp.log(count)).astype(result.dtype)

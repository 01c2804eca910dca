"""``logsumexp`` whose derivative is a softmax, stable at every order.

Without ``b``: :math:`d\\operatorname{lse}(a) = \\sum_i s_i \\odot t_i` with
:math:`s = \\operatorname{softmax}(a)` from ``_softmax.py``, computed from
:math:`a - \\max a` (not :math:`e^{a - \\mathrm{out}}`, which loses :math:`|out|` ulp);
the Hessian is then the softmax Jacobian, exact in the saturated tail. A slice whose
entries are all ``-inf`` (or masked) has value ``-inf`` and zero weights.

With ``b`` (or complex ``a``): :math:`\\mathrm{out} = \\log|S|`, :math:`S = \\sum_i b_i
e^{a_i}`, and :math:`d\\,\\mathrm{out} = \\sum_i (b_i u_i) \\odot da_i + u_i \\odot
db_i` with :math:`u_i = e^{a_i - m} \\oslash \\sum_j b_j e^{a_j - m}` (:math:`m`: the
largest ``a`` with :math:`b \\ne 0`; the derivative in :math:`b_i` is right even at
:math:`b_i = 0`, where JAX gives 0). These weights are finite and strong at every
order, but for orders :math:`\\ge 2` the diagonal :math:`u_k(1 - b_k u_k)` of a
dominant term is formed as a difference, as in JAX. Measured limitation: at
``a = (0, 20, -5)``, ``b = (1, 1, 0)``, :math:`\\partial^2/\\partial a_1^2` is ``0``
in float32 (truth ``2.06e-9``) and ``4e-8`` off (relative) in float64. Tested
right (``tests/test_special.py``): first derivatives in ``a`` and ``b``, including
negative sums and zero weights, and second derivatives where no term dominates.
Without ``b`` there is no such limitation (orders 1-4 tested).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import check_dtype
from ..._core.strong import strong_div, strong_mul
from .._exponential import exp_core
from .._rule import constant
from ._softmax import Axis, normalize_axis, softmax_core

__all__ = ["logsumexp", "logsumexp_impl"]


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def _lse_core(a, axis):
    return jax.scipy.special.logsumexp(a, axis=axis, keepdims=True, return_sign=True)


@_lse_core.defjvp
def _lse_jvp(axis, primals, tangents):
    # d lse = sum(t * softmax(a)); an all -inf slice gets weights 0 (safe input).
    (a,), (t,) = primals, tangents
    out, sign = _lse_core(a, axis)
    empty = out == -constant(float("inf"), out)
    weights = softmax_core(jnp.where(empty, jnp.zeros_like(a), a), axis)
    weights = jnp.where(empty, jnp.zeros_like(weights), weights)
    tangent = jnp.sum(strong_mul(t, weights), axis, keepdims=True)
    return (out, sign), (tangent, jnp.zeros_like(sign))


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _weighted_lse_core(a, b, axis, return_sign):
    return _weighted_lse_value(a, b, axis, return_sign)


def _weighted_lse_value(a, b, axis, return_sign):
    if return_sign:
        return jax.scipy.special.logsumexp(
            a, axis=axis, b=b, keepdims=True, return_sign=True
        )
    out = jax.scipy.special.logsumexp(a, axis=axis, b=b, keepdims=True)
    return out, jnp.ones_like(out)


@_weighted_lse_core.defjvp
def _weighted_lse_jvp(axis, return_sign, primals, tangents):
    # d log S = (sum_i e^{a_i} (b_i da_i + db_i)) / S, with the shift m cancelling.
    (a, b), (ta, tb) = primals, tangents
    out, sign = _weighted_lse_core(a, b, axis, return_sign)
    inf = constant(float("inf"), a.real)
    shift = jnp.max(jnp.where(b != 0, a.real, -inf), axis, keepdims=True)
    shift = jax.lax.stop_gradient(jnp.where(jnp.isfinite(shift), shift, 0))
    scaled = exp_core(a - shift.astype(a.dtype))
    u = strong_div(scaled, jnp.sum(strong_mul(b, scaled), axis, keepdims=True))
    tangent = jnp.sum(
        strong_mul(ta, strong_mul(b, u)) + strong_mul(tb, u), axis, keepdims=True
    )
    if return_sign and jnp.issubdtype(a.dtype, jnp.complexfloating):
        tangent = jnp.real(tangent)  # out = log|S| is real: d out = Re(dS / S)
    return (out, sign), (tangent.astype(out.dtype), jnp.zeros_like(sign))


def logsumexp_impl(
    name: str, a, axis: Axis, b, keepdims: bool, return_sign: bool, where
):
    """Shared body of ``special.logsumexp`` and ``nn.logsumexp``."""
    for arg in (a, b):
        dtype = getattr(arg, "dtype", None)
        if dtype is not None and jnp.issubdtype(dtype, jnp.inexact):
            check_dtype(name, dtype)
    # JAX validates shapes and options; its sign has the working (promoted) dtype.
    _, sign_shape = jax.eval_shape(
        functools.partial(
            jax.scipy.special.logsumexp,
            axis=axis,
            keepdims=keepdims,
            return_sign=True,
        ),
        a,
        b=b,
        where=where,
    )
    dtype = sign_shape.dtype
    check_dtype(name, dtype)
    a = jnp.asarray(a).astype(dtype)
    if b is not None:
        a, b = jnp.broadcast_arrays(a, jnp.asarray(b).astype(dtype))
    if where is not None:
        a = jnp.where(where, a, -constant(float("inf"), a.real))
        b = None if b is None else jnp.where(where, b, jnp.zeros_like(b))
    axes = normalize_axis(axis, a.ndim)
    if b is None and not jnp.issubdtype(dtype, jnp.complexfloating):
        out, sign = _lse_core(a, axes)
    else:
        weights = jnp.ones_like(a) if b is None else b
        out, sign = _weighted_lse_core(a, weights, axes, return_sign)
    if not keepdims:
        out, sign = jnp.squeeze(out, axes), jnp.squeeze(sign, axes)
    if return_sign:
        return out, jax.lax.stop_gradient(sign)
    if b is not None and not jnp.issubdtype(dtype, jnp.complexfloating):
        out = jnp.where(sign < 0, jnp.full_like(out, jnp.nan), out)
    return out


def logsumexp(
    a: ArrayLike,
    axis: int | tuple[int, ...] | None = None,
    b: ArrayLike | None = None,
    keepdims: bool = False,
    return_sign: bool = False,
    where: ArrayLike | None = None,
) -> jax.Array | tuple[jax.Array, jax.Array]:
    """:math:`\\log\\sum_i b_i e^{a_i}` over ``axis``, as ``jax.scipy.special``.

    Same value as JAX. Derivative :math:`\\sum_i \\operatorname{softmax}(a)_i
    \\odot da_i` (without ``b``), whose own derivatives are the stable softmax rule;
    with ``b``, second and higher derivatives at a term of weight near 1 lose
    accuracy (module docstring). All-``-inf`` (or fully masked) slices give
    ``-inf`` with zero derivative; ``+inf`` entries give ``nan`` derivatives (as JAX).

    Args:
        a: array to reduce.
        axis: axis or axes to reduce; ``None`` means all.
        b: optional scale factors, broadcast to ``a`` (may be negative).
        keepdims: keep the reduced axes with size 1.
        return_sign: return ``(log|S|, sign(S))`` instead of ``log S`` (``nan``
            where ``S < 0``).
        where: optional mask of the entries to include.

    Returns:
        The reduction (and its sign if ``return_sign``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> a = jnp.array([0.0, 20.0], dtype=jnp.float32)
        >>> jax.hessian(special.logsumexp)(a)[0, 0]  # jax: 0
        Array(2.0611537e-09, dtype=float32)
    """
    return logsumexp_impl("special.logsumexp", a, axis, b, keepdims, return_sign, where)

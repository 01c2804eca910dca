r"""``linear_jvp``: a ``jax.custom_jvp`` whose tangent is a Jacobian times the tangent.

Some computations JAX can evaluate but not differentiate well: a
``lax.while_loop`` (forward mode works, reverse mode cannot transpose it), or an
adaptive quadrature whose derivative should be an integral with its own error
control rather than the derivative of one particular mesh. Both get the same
treatment: the output's tangent is written as

.. math::

    \dot y = J(x)\,\dot x, \qquad J = \partial y / \partial x_{\text{active}},

with :math:`J` computed from the primal values only. The tangent is then linear in
:math:`\dot x`, so JAX can transpose it: ``jax.grad``, ``jax.vjp`` and ``jax.jacrev``
work as well as ``jax.jvp``, under ``jit`` and ``vmap``, and :math:`J` itself may be
computed by a function wrapped the same way, which makes every order available.
Only the inputs whose tangent is not a symbolic zero (those actually being
differentiated) enter :math:`J`, so its last axis is as short as it can be.

How :math:`J` is computed is the caller's choice: by default ``jax.jacfwd`` of the
function itself (a forward-mode pass carrying ``m`` tangents), or a ``jacobian``
function (for an integral: the integral of the integrand's Jacobian).

Example:
    >>> import jax, jax.numpy as jnp
    >>> from calculax._core.linear_jvp import linear_jvp
    >>> def loop(x):  # a while loop: jax.grad of it alone fails
    ...     return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1,
    ...         c[1] * x), (0, jnp.asarray(1.0)))[1]
    >>> float(jax.grad(linear_jvp(loop))(jnp.asarray(2.0)))  # 3 x**2
    12.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

__all__ = ["linear_jvp", "selected", "with_selected", "is_float"]


def is_float(x) -> bool:
    """Whether ``x`` is a floating (or complex) array or scalar: a differentiable leaf.

    Inside a custom rule JAX may pass a scalar literal (a ``float`` subclass with a
    ``dtype``) rather than an array; it counts too.
    """
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return isinstance(x, float | complex)
    return jnp.issubdtype(dtype, jnp.inexact)


def selected(inputs, select: Sequence[bool]) -> list:
    """The leaves of ``inputs`` (flattened) whose entry in ``select`` is ``True``."""
    return [leaf for leaf, s in zip(jax.tree.leaves(inputs), select) if s]


def with_selected(inputs, select: Sequence[bool], new: Sequence) -> Any:
    """``inputs`` with its selected leaves replaced by ``new`` (in flatten order)."""
    leaves, treedef = jax.tree.flatten(inputs)
    it = iter(new)
    leaves = [next(it) if s else leaf for leaf, s in zip(leaves, select)]
    return jax.tree.unflatten(treedef, leaves)


def _default_jacobian(arrays_only: Callable, with_primal: bool = False) -> Callable:
    """``J`` by ``jax.jacfwd`` over the selected leaves, flattened into one vector
    (``with_primal``: ``(J, out)``, the output from the same forward pass)."""

    def jacobian(inputs, select):
        leaves = selected(inputs, select)
        dtype = jnp.result_type(*leaves)
        x = jnp.concatenate([jnp.ravel(v).astype(dtype) for v in leaves])

        def of_x(x):
            new, start = [], 0
            for v in leaves:
                size = int(np.size(v))
                piece = x[start : start + size].reshape(np.shape(v))
                new.append(piece.astype(v.dtype))
                start += size
            out = arrays_only(*with_selected(inputs, select, new))
            return eqx.filter(out, is_float), out

        jac, out = jax.jacfwd(of_x, has_aux=True)(x)
        return (jac, out) if with_primal else jac

    return jacobian


def linear_jvp(
    fn: Callable,
    jacobian: Callable | None = None,
    nondiff: tuple[int, ...] = (),
    primal_from_jacobian: bool = False,
) -> Callable[..., Any]:
    r"""``fn`` with a ``custom_jvp`` whose tangent is ``J @ x_dot``.

    Args:
        fn: ``fn(*inputs) -> out``: ``inputs`` pytrees of arrays (or ``None``;
            floating leaves are differentiable, every traced value ``fn`` uses
            must be among them, not closed over); ``out`` a pytree (an
            ``equinox.Module`` is fine) whose non-array leaves do not depend on
            the input values.
        jacobian: ``jacobian(inputs, select) -> J``: ``select`` is a tuple of
            booleans over ``jax.tree.leaves(inputs)`` (``True`` for each floating
            leaf whose tangent is not a symbolic zero); ``J`` has the structure
            of ``equinox.filter(out, is_float)`` and each leaf the shape of the
            output leaf plus one trailing axis of length ``m``, the total size of
            the selected leaves, in flatten order (see :func:`selected`). It must
            depend on the primal values only. Default: ``jax.jacfwd`` of ``fn``.
        nondiff: positions of inputs that are never differentiated (their
            tangents are treated as zero): e.g. a structure computed from the
            other inputs under ``stop_gradient``.
        primal_from_jacobian: with the default ``jacobian``, take the output from
            the forward pass that computes ``J`` (``fn`` runs once per tangent
            evaluation instead of twice: what an ODE solve wants); the output is
            then differentiable by an outer derivative in forward mode only.

    Returns:
        A function with ``fn``'s values whose tangent in every floating output
        leaf of shape ``s`` is ``tensordot(J, x_dot, 1)`` (``J`` of shape
        ``s + (m,)``); integer and boolean outputs get ``float0`` tangents.
    """
    statics: list = []

    def arrays_only(*inputs):
        # Inside a custom rule JAX may hand fn scalar literals, and fn may return
        # them: they are outputs like any array.
        out = jax.tree.map(
            lambda v: jnp.asarray(v) if is_float(v) and not eqx.is_array(v) else v,
            fn(*inputs),
        )
        dynamic, static = eqx.partition(out, eqx.is_array)
        statics.append(static)
        return dynamic

    if primal_from_jacobian and jacobian is not None:
        raise ValueError("linear_jvp: primal_from_jacobian needs the default jacobian")
    jac_fn = (
        _default_jacobian(arrays_only, primal_from_jacobian)
        if jacobian is None
        else jacobian
    )

    @jax.custom_jvp
    def wrapped(*inputs):
        return arrays_only(*inputs)

    def _jvp(primals, tangents):
        leaves, treedef = jax.tree.flatten(primals)
        dots = treedef.flatten_up_to(tangents)
        frozen = [
            i in nondiff for i, p in enumerate(primals) for _ in jax.tree.leaves(p)
        ]
        # Scalars may arrive as Python numbers or JAX literals: make them arrays.
        leaves = [
            jnp.asarray(v) if is_float(v) and not eqx.is_array(v) else v for v in leaves
        ]
        primals = jax.tree.unflatten(treedef, leaves)
        select = tuple(
            is_float(leaf) and not isinstance(dot, SymbolicZero) and not fixed
            for leaf, dot, fixed in zip(leaves, dots, frozen)
        )
        # The primal through the wrapped function: under an outer derivative its
        # inputs are tracers, and only this rule knows how to differentiate fn.
        if not any(select):
            out = arrays_only(*primals) if primal_from_jacobian else wrapped(*primals)
            return out, jax.tree.map(_zero_tangent, out)
        if primal_from_jacobian:
            jac, out = jac_fn(primals, select)
        else:
            out, jac = wrapped(*primals), jac_fn(primals, select)
        dtype = jnp.result_type(*(v for v, s in zip(leaves, select) if s))
        x_dot = jnp.concatenate(
            [jnp.ravel(d).astype(dtype) for d, s in zip(dots, select) if s]
        )
        out_dot = jax.tree.map(
            lambda o, j: _tangent(o, j, x_dot),
            out,
            jac,
            is_leaf=lambda v: v is None,
        )
        return out, out_dot

    wrapped.defjvp(_jvp, symbolic_zeros=True)

    def call(*inputs):
        dynamic = wrapped(*inputs)
        return eqx.combine(dynamic, statics[-1])

    return call


def _tangent(out, jac, x_dot):
    if out is None:
        return None
    if jac is None:
        return _zero_tangent(out)
    return jnp.tensordot(jac, x_dot.astype(jac.dtype), axes=1).astype(out.dtype)


def _zero_tangent(x):
    if is_float(x):
        return jnp.zeros_like(x)
    return np.zeros(np.shape(x), jax.dtypes.float0)

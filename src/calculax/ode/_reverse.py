r"""Reverse mode for ``solve_ivp``: a ``custom_jvp`` whose tangent is ``J @ v``.

The solve is a ``lax.while_loop`` (its step count is data), which JAX can
differentiate forward but cannot transpose, so ``jax.grad`` of it fails. Writing
reverse mode by hand (an adjoint ODE plus the implicit-function-theorem terms of
every event) would duplicate the forward path's event handling; instead this
wraps the solve in a ``jax.custom_jvp`` whose rule computes the Jacobian
:math:`J = \partial\,\text{outputs} / \partial x` of every floating output with
``jax.jacfwd`` of the existing forward-mode solve (one loop carrying :math:`m`
tangents, primal unbatched) and returns the tangent :math:`J\,\dot x`. That tangent
is a matrix product of a primal-only :math:`J` with :math:`\dot x`, linear and
transposable, so ``jax.grad``/``jax.vjp``/``jax.jacrev`` work, and
``jax.jvp``/``jax.jacfwd`` give the same numbers as before.

Cost: :math:`m` forward tangents, :math:`m` the number of scalar inputs whose
tangent is not a symbolic zero (only those are differentiated), for any number of
cotangents: fine for small ODEs and few parameters, not an adjoint method.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.custom_derivatives import SymbolicZero

__all__ = ["reverse_mode_ready"]


def _is_zero(x) -> bool:
    return isinstance(x, SymbolicZero)


def _is_float(x) -> bool:
    return eqx.is_array(x) and jnp.issubdtype(x.dtype, jnp.inexact)


def reverse_mode_ready(fn: Callable) -> Callable:
    r"""``fn`` with a ``custom_jvp`` rule ``J @ tangent`` (see the module docstring).

    Args:
        fn: ``fn(*inputs) -> out``; ``inputs`` pytrees of arrays (or ``None``;
            only floating ones are differentiated; every traced value ``fn``
            uses must be among them, not closed over); ``out`` a pytree (e.g.
            an ``equinox.Module``) whose non-array leaves do not depend on the
            input values.

    Returns:
        A function with ``fn``'s values whose tangent in every floating output
        leaf of shape ``s`` is ``tensordot(J, x_dot, 1)`` with ``J`` of shape
        ``s + (m,)``; integer and boolean outputs get ``float0`` tangents.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> def loop(x):  # a while loop: jax.grad of it alone fails
        ...     return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1,
        ...         c[1] * x), (0, jnp.asarray(1.0)))[1]
        >>> float(jax.grad(reverse_mode_ready(loop))(jnp.asarray(2.0)))  # 3 x**2
        12.0
    """
    statics: list = []

    def arrays_only(*inputs):
        dynamic, static = eqx.partition(fn(*inputs), eqx.is_array)
        statics.append(static)
        return dynamic

    @jax.custom_jvp
    def wrapped(*inputs):
        return arrays_only(*inputs)

    def _jvp(primals, tangents):
        leaves, treedef = jax.tree.flatten(primals)
        dots = treedef.flatten_up_to(tangents)
        active = [
            i
            for i, dot in enumerate(dots)
            if _is_float(leaves[i]) and not _is_zero(dot)
        ]
        if not active:
            out = arrays_only(*primals)
            return out, jax.tree.map(_zero_tangent, out)
        dtype = jnp.result_type(*(leaves[i] for i in active))
        x = jnp.concatenate([jnp.ravel(leaves[i]).astype(dtype) for i in active])
        x_dot = jnp.concatenate([jnp.ravel(dots[i]).astype(dtype) for i in active])

        def of_x(x):
            new, start = list(leaves), 0
            for i in active:
                size = int(np.size(leaves[i]))
                piece = x[start : start + size].reshape(np.shape(leaves[i]))
                new[i], start = piece.astype(leaves[i].dtype), start + size
            out = arrays_only(*jax.tree.unflatten(treedef, new))
            return eqx.filter(out, _is_float), out

        jac, out = jax.jacfwd(of_x, has_aux=True)(x)
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
    return jnp.tensordot(jac, x_dot.astype(jac.dtype), axes=1)


def _zero_tangent(x):
    if _is_float(x):
        return jnp.zeros_like(x)
    return np.zeros(np.shape(x), jax.dtypes.float0)

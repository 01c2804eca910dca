"""A ``lax.while_loop`` whose ``jax.vmap`` runs until every member is done, with
no per-member selects.

``jax.vmap`` of ``lax.while_loop`` with a batched condition runs the body while any
member is going and keeps finished members' carries with a ``select`` of every
leaf, every iteration. For the ODE loop those leaves include the event records
(capacity x state size per event) and the dense-output buffers: on CPU, copying
and selecting them cost as much as the steps. When the body itself already leaves
a finished member unchanged (writes masked, scatters out of range), the selects
are redundant; this loop's batching rule (``jax.custom_batching.custom_vmap``)
runs ``jax.vmap(body)`` under the unbatched condition "any member going", so
buffers are updated in place. Unbatched, it is ``lax.while_loop`` itself.
Differentiation goes through ``custom_vmap``'s forward-mode rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jax import lax

__all__ = ["any_member", "while_loop_until_all_done"]

Carry = TypeVar("Carry")


def while_loop_until_all_done(
    cond_fun: Callable[[Carry], jax.Array],
    body_fun: Callable[[Carry], Carry],
    init: Carry,
) -> Carry:
    """``lax.while_loop(cond_fun, body_fun, init)`` for a ``body_fun`` that is the
    identity wherever ``cond_fun`` is false.

    Under ``jax.vmap`` the body runs for all members while any is going (see the
    module docstring); the functions may close over traced values (they are
    closure-converted, so batched closed-over values are batched inputs).
    """
    init = jax.tree.map(jnp.asarray, init)  # Python scalars become loop arrays
    cond_closed = eqx.filter_closure_convert(cond_fun, init)
    body_closed = eqx.filter_closure_convert(body_fun, init)
    dynamic, static = eqx.partition((cond_closed, body_closed, init), eqx.is_array)
    # custom_vmap sees flat lists of arrays: its forward-mode rule cannot take
    # trees with None in them (JAX issue 9066), and partitioned trees have them.
    leaves, treedef = jax.tree.flatten(dynamic)
    _, carry_def = jax.tree.flatten(init)

    def parts(leaves):
        return eqx.combine(jax.tree.unflatten(treedef, leaves), static)

    def run(leaves):
        cond, body, carry = parts(leaves)
        # (lambdas: JAX hashes loop functions; closure-converted ones are not)
        return jax.tree.leaves(
            lax.while_loop(lambda c: cond(c), lambda c: body(c), carry)
        )

    loop = jax.custom_batching.custom_vmap(run)

    @loop.def_vmap
    def _batched(axis_size, in_batched, leaves):
        (in_batched,) = in_batched  # one flag list per argument
        if not any(in_batched):
            out = run(leaves)
            return out, [False] * len(out)
        leaves = [
            x if batched else jnp.broadcast_to(x, (axis_size, *jnp.shape(x)))
            for x, batched in zip(leaves, in_batched, strict=True)
        ]

        def going(member):
            cond, _, carry = parts(member)
            return cond(carry)

        def advance(member):
            cond, body, carry = parts(member)
            return jax.tree.leaves(eqx.filter((cond, body, body(carry)), eqx.is_array))

        def any_going(state):
            return jnp.any(jax.vmap(going)(state))

        state = lax.while_loop(any_going, jax.vmap(advance), leaves)
        out = jax.tree.leaves(parts(state)[2])
        return out, [True] * len(out)

    return jax.tree.unflatten(carry_def, loop(leaves))


@jax.custom_batching.custom_vmap
def any_member(flag: jax.Array) -> jax.Array:
    """``flag`` itself; under ``jax.vmap``, whether it is set for any member (an
    unbatched boolean). Meant as the predicate of a ``lax.cond`` whose skipped
    branch agrees with the taken one for members that do not need it: the
    branch then runs only in iterations where some member needs it, instead of
    for every member every time (``vmap`` turns a batched ``cond`` into both
    branches and a ``select``)."""
    return flag


@any_member.def_vmap
def _any_member_batched(axis_size, in_batched, flag):
    del axis_size
    (batched,) = in_batched
    return (jnp.any(flag) if batched else flag), False

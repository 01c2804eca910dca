"""Helpers shared by the rewrite patterns (``_rewrite_logs``, ``_rewrite_quotients``,
``_rewrite_patterns``): constants in an operand's dtype and the arguments of
``exp``, ``neg`` and the sigmoid's spellings."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._rewrite import Graph


def const(value: float, like) -> jax.Array:
    return jnp.asarray(value, dtype=jnp.result_type(like))


def exp_argument(graph: Graph, atom):
    eqn = graph.op(atom, "exp")
    return eqn.invars[0] if eqn is not None else None


def negated(graph: Graph, atom):
    eqn = graph.op(atom, "neg")
    return eqn.invars[0] if eqn is not None else None


def sigmoid_argument(graph: Graph, atom):
    """``v`` where ``atom`` is ``logistic(v)``, ``1/(1 + exp(-v))``; else None."""
    eqn = graph.op(atom, "logistic")
    if eqn is not None:
        return eqn.invars[0]
    eqn = graph.op(atom, "div")
    if eqn is None or not graph.is_constant(eqn.invars[0], 1):
        return None
    added = graph.op(eqn.invars[1], "add")
    if added is None or graph.other_than_one(added) is None:
        return None
    w = exp_argument(graph, graph.other_than_one(added))
    if w is None:
        return None
    return negated(graph, w) if negated(graph, w) is not None else ("neg", w)

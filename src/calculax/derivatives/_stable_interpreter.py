"""The interpreter behind ``stabilize``: a jaxpr evaluated with stable re-bindings.

Each equation is evaluated again, in order: a primitive with a stable counterpart
(``_stable_primitives``) is re-bound to the ``calculax.numpy`` function, and every
other primitive to itself. ``jit``/``closed_call`` bodies are inlined -- except
JAX's own ``hypot``, ``sinc`` and vector 2-norm, which are replaced whole by their
``calculax.numpy`` namesakes -- ``remat`` is kept as ``jax.checkpoint``, ``cond`` as
``lax.switch``, ``while`` as ``lax.while_loop`` and ``scan`` as ``lax.scan``. A
user's ``custom_jvp`` keeps its rule, with the rule and the body both evaluated by
this interpreter (so the rule's own derivatives are stable); a ``custom_vjp`` is
bound unchanged. With ``rewrite=True`` the patterns of ``_rewrite`` replace values.

Written by hand: JAX offers the interpreter pattern (``jax.make_jaxpr``, ``eqn.
primitive.bind``) but no library re-binds primitives to other implementations.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable

import jax
from jax import lax
from jax.extend import core

from .._core.dtypes import cast_like
from .._core.jaxpr import (
    CUSTOM_JVP,
    CUSTOM_VJP,
    REMAT,
    bind,
    callee,
    dependents,
    is_call,
    traced_name,
    uses,
)
from .._core.jaxpr import (
    evaluate as walk,
)
from ._rewrite import Graph, find_rewrites, sum_of_squares_rule
from ._stable_primitives import (
    STABLE_CUSTOM_JVP,
    STABLE_JAX_FUNCTIONS,
    stable_counterpart,
)

__all__ = ["Context", "StabilizeReport", "evaluate"]


@dataclasses.dataclass
class StabilizeReport:
    """What the last trace of a stabilized function did, equation by equation.

    ``rewritten`` counts the primitives (and JAX functions such as ``hypot``)
    re-bound to ``calculax.numpy``; ``untouched`` those left as they are (control
    flow and calls are entered, not counted); ``custom_rules`` names the user's own
    ``custom_jvp``/``custom_vjp`` functions, whose rules are kept; ``rewrites``
    counts the primal rewrites applied (``rewrite=True``), by rule.
    """

    rewritten: collections.Counter = dataclasses.field(
        default_factory=collections.Counter
    )
    untouched: collections.Counter = dataclasses.field(
        default_factory=collections.Counter
    )
    custom_rules: list = dataclasses.field(default_factory=list)
    rewrites: collections.Counter = dataclasses.field(
        default_factory=collections.Counter
    )


@dataclasses.dataclass(frozen=True)
class Context:
    """Options of one stabilized call: where to report, whether to rewrite."""

    record: StabilizeReport
    rewrite: bool = False


def evaluate(
    jaxpr: core.Jaxpr, consts, args, context: Context, linear: int = 0
) -> list:
    """The values of ``jaxpr`` at ``args``, with stable re-bindings.

    ``linear > 0``: the last ``linear`` arguments are tangents (a custom_jvp rule);
    equations that depend on them are bound as they are, so that the tangents stay
    linear (transposable) for reverse mode; the others are stabilized.
    """
    tangent = dependents(jaxpr, jaxpr.invars[len(jaxpr.invars) - linear :])
    substitutions = {
        key: _substitution(rule, context)
        for key, rule in find_rewrites(jaxpr, consts, context.rewrite).items()
        if not uses(rule.leaves, tangent)
    }

    def apply(eqn, invals):
        if uses(eqn.invars, tangent):
            return bind(eqn, invals)
        return _apply(eqn, invals, context)

    return walk(jaxpr, consts, args, apply, substitutions=substitutions)


def _substitution(rule, context: Context) -> Callable:
    counter = context.record.rewrites if rule.opt_in else context.record.rewritten

    def substitute(read):
        counter[rule.name] += 1
        value = rule.function(*[read(v) for v in rule.leaves])
        # The root may be broadcast beyond its leaves (e.g. ``ones(3) + x``).
        value = jax.numpy.broadcast_to(value, rule.aval.shape)
        return _match(value, rule.aval)

    return substitute


def _closed(closed_jaxpr: core.ClosedJaxpr, context: Context) -> Callable:
    def run(*args):
        return evaluate(closed_jaxpr.jaxpr, closed_jaxpr.consts, args, context)

    return run


def _apply(eqn, invals, context: Context):
    name = eqn.primitive.name
    params = eqn.params
    record = context.record
    stable = stable_counterpart(name, invals)
    if stable is not None:
        record.rewritten[name] += 1
        return _match(stable(*invals, **params), eqn.outvars[0].aval)
    if is_call(eqn, remat=False):
        library = _jax_function(params.get("jaxpr", params.get("call_jaxpr")))
        if library is not None:
            record.rewritten[library[0]] += 1
            return [_match(library[1](*invals), eqn.outvars[0].aval)]
        return evaluate(*callee(eqn), invals, context)
    if name in REMAT:
        jaxpr, consts = callee(eqn)
        body = functools.partial(evaluate, jaxpr, consts, context=context)
        return jax.checkpoint(
            lambda *a: body(a),
            prevent_cse=params.get("prevent_cse", True),
            policy=params.get("policy"),
        )(*invals)
    if name == "cond":
        branches = [_closed(b, context) for b in params["branches"]]
        return lax.switch(invals[0], branches, *invals[1:])
    if name == "while":
        return _while(params, invals, context)
    if name == "scan":
        return _scan(params, invals, context)
    if name == CUSTOM_JVP:
        return _custom_jvp(eqn, invals, context)
    if name == CUSTOM_VJP:
        _note_custom_rule(record, _custom_name(params)[0])
    elif name not in _STRUCTURAL:
        record.untouched[name] += 1
    return bind(eqn, invals)


# Data movement and comparisons: nothing to stabilize, not worth reporting.
_STRUCTURAL = frozenset(
    "add sub neg mul convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose slice dynamic_slice dynamic_update_slice concatenate "
    "select_n gt lt ge le eq ne and or not iota reduce_sum reduce_max reduce_min "
    "dot_general copy copy_p max min stop_gradient sign".split()
)


def _custom_name(params) -> tuple[str, bool]:
    return traced_name(params.get("call_jaxpr") or params.get("fun_jaxpr"))


def _jax_function(closed) -> tuple[str, Callable] | None:
    """``(name, stable function)`` when ``closed`` is JAX's hypot, sinc or 2-norm."""
    name, from_jax = traced_name(closed)
    if not from_jax or not isinstance(closed, core.ClosedJaxpr):
        return None
    if name in STABLE_JAX_FUNCTIONS:
        return name, STABLE_JAX_FUNCTIONS[name]
    if name == "norm":
        return _vector_two_norm(closed.jaxpr)
    return None


def _vector_two_norm(jaxpr: core.Jaxpr) -> tuple[str, Callable] | None:
    # jax.numpy.linalg.norm's vector 2-norm: its output is sqrt(sum(x**2)) of its
    # only argument, the pattern that rewrite=True also replaces.
    if len(jaxpr.invars) != 1 or len(jaxpr.outvars) != 1:
        return None
    graph = Graph(jaxpr, ())
    root = graph.op(jaxpr.outvars[0], "sqrt")
    rule = sum_of_squares_rule(graph, root) if root is not None else None
    if rule is None or rule.leaves != (jaxpr.invars[0],):
        return None
    return "norm", rule.function


def _custom_jvp(eqn, invals, context: Context):
    params = eqn.params
    name, from_jax = _custom_name(params)
    if name in STABLE_CUSTOM_JVP and from_jax:
        context.record.rewritten[name] += 1
        return [_match(STABLE_CUSTOM_JVP[name](*invals), eqn.outvars[0].aval)]
    _note_custom_rule(context.record, name)
    if params["symbolic_zeros"]:
        return bind(eqn, invals)  # the rule expects SymbolicZero tangents: as is
    return _user_rule_stabilized(params, context)(*invals)


def _note_custom_rule(record: StabilizeReport, name: str) -> None:
    if name not in record.custom_rules:  # a rule may call its own function
        record.custom_rules.append(name)


def _user_rule_stabilized(params, context: Context) -> Callable:
    """The user's custom_jvp function, its body and its rule run by this interpreter.

    The rule is the user's (never replaced); evaluating its primal factors here
    makes the rule's own derivatives -- the second and higher derivatives of the
    function -- stable. Its tangent operations are bound as they are (reverse mode
    transposes them; they must stay linear primitives).
    """
    body = _closed(params["call_jaxpr"], context)
    n_consts, rule = params["num_consts"], params["jvp_jaxpr_fun"]

    @jax.custom_jvp
    def function(*args):
        return tuple(body(*args))

    @function.defjvp
    def function_jvp(primals, tangents):
        n = len(primals) - n_consts
        jvp_jaxpr, consts, out_zeros = rule.call_wrapped(*([False] * n))
        args = [*primals[n_consts:], *tangents[n_consts:]]
        outs = evaluate(jvp_jaxpr, consts, args, context, linear=n)
        out_primals, nonzero = outs[: len(out_zeros)], iter(outs[len(out_zeros) :])
        out_tangents = [
            jax.numpy.zeros_like(p) if zero else next(nonzero)
            for p, zero in zip(out_primals, out_zeros)
        ]
        return tuple(out_primals), tuple(out_tangents)

    return lambda *args: list(function(*args))


def _while(params, invals, context: Context):
    cond_n, body_n = params["cond_nconsts"], params["body_nconsts"]
    cond_consts, body_consts = invals[:cond_n], invals[cond_n : cond_n + body_n]
    init = tuple(invals[cond_n + body_n :])
    cond = _closed(params["cond_jaxpr"], context)
    body = _closed(params["body_jaxpr"], context)
    return list(
        lax.while_loop(
            lambda carry: cond(*cond_consts, *carry)[0],
            lambda carry: tuple(body(*body_consts, *carry)),
            init,
        )
    )


def _scan(params, invals, context: Context):
    n_consts, n_carry = params["num_consts"], params["num_carry"]
    consts = invals[:n_consts]
    init = tuple(invals[n_consts : n_consts + n_carry])
    xs = tuple(invals[n_consts + n_carry :])
    body = _closed(params["jaxpr"], context)

    def step(carry, x):
        out = body(*consts, *carry, *x)
        return tuple(out[:n_carry]), tuple(out[n_carry:])

    carry, ys = lax.scan(
        step,
        init,
        xs,
        length=params["length"],
        reverse=params["reverse"],
        unroll=params["unroll"],
    )
    return [*carry, *ys]


def _match(value, aval):
    # The calculax function follows jax.numpy's promotion; the jaxpr fixes the
    # result's dtype (e.g. strong float32 where jax.numpy would keep a weak type).
    value = jax.numpy.asarray(value)
    weak = getattr(aval, "weak_type", False)
    if value.dtype != aval.dtype or value.weak_type != weak:
        value = cast_like(value, aval.dtype, weak)
    return value

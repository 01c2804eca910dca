"""Walking a jaxpr: the one environment loop and the call primitives, for every
interpreter of calculax.

An interpreter of JAX code (``stabilize``'s re-binding, the high-precision truth,
the Taylor-series engines, ``explain``'s recorder) evaluates a jaxpr equation by
equation. All of them share the loop (:func:`evaluate`, with known values and
liveness), the set of call primitives and how to enter them (:func:`is_call`,
:func:`callee`, :func:`inline`), and :func:`bind`; each supplies only its rule
for one equation: ``rule(eqn, invals) -> outvals``.

Written by hand: ``jax.core.eval_jaxpr`` binds every equation and cannot take other
rules; JAX's own interpreters (``jax.experimental.jet``) are private loops of the
same shape.

Example:
    >>> import jax, jax.numpy as jnp
    >>> closed = jax.make_jaxpr(lambda x: jnp.sin(x) * 2)(1.0)
    >>> def rule(eqn, invals):  # count the equations, bind each as it is
    ...     seen.append(eqn.primitive.name)
    ...     return bind(eqn, invals)
    >>> seen = []
    >>> (value,) = evaluate(closed.jaxpr, closed.consts, [0.5], rule)
    >>> round(float(value), 6)
    0.958851
    >>> seen
    ['sin', 'mul']
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import jax
from jax.extend import core

__all__ = [
    "CALLS",
    "CUSTOM_JVP",
    "CUSTOM_VJP",
    "REMAT",
    "bind",
    "callee",
    "dependents",
    "evaluate",
    "inline",
    "is_call",
    "needed",
    "sub_jaxprs",
    "trace_leaves",
    "traced_name",
    "uses",
]

#: Call primitives whose body is a jaxpr evaluated as it is (``jax.jit``, ...).
CALLS = frozenset({"jit", "pjit", "closed_call", "core_call"})
#: ``jax.checkpoint``: a call whose body is recomputed in reverse mode.
REMAT = frozenset({"remat2", "checkpoint", "remat"})
CUSTOM_JVP = "custom_jvp_call"
CUSTOM_VJP = "custom_vjp_call"

Rule = Callable[[Any, list], Any]


def _same(value):
    return value


def evaluate(
    jaxpr: core.Jaxpr,
    consts: Sequence,
    args: Sequence,
    rule: Rule,
    *,
    literal: Callable = _same,
    known: Mapping | None = None,
    substitutions: Mapping[int, Callable] | None = None,
) -> list:
    """The values of ``jaxpr.outvars``, each equation evaluated by ``rule``.

    Args:
        jaxpr: an open jaxpr (``closed.jaxpr``).
        consts: values of ``jaxpr.constvars``.
        args: values of ``jaxpr.invars``.
        rule: ``rule(eqn, invals)`` returns the equation's output (a list when
            ``eqn.primitive.multiple_results``).
        literal: converts the value of a literal operand (default: as it is).
        known: values of some variables given in advance: they are not recomputed,
            and equations needed only for them are skipped (liveness from the
            outputs back).
        substitutions: ``{id(eqn): substitute}``; such an equation's value is
            ``substitute(read)`` instead, ``read(var)`` being the value of any
            variable computed so far.

    Returns:
        The list of output values.
    """
    env: dict = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))
    known = known or {}
    env.update(known)
    keep = needed(jaxpr, set(known)) if known else None
    substitutions = substitutions or {}

    def read(var):
        return literal(var.val) if isinstance(var, core.Literal) else env[var]

    for index, eqn in enumerate(jaxpr.eqns):
        if keep is not None and index not in keep:
            continue
        substitute = substitutions.get(id(eqn))
        if substitute is not None:
            outvals = substitute(read)
        else:
            outvals = rule(eqn, [read(v) for v in eqn.invars])
        if not eqn.primitive.multiple_results:
            outvals = [outvals]
        for var, value in zip(eqn.outvars, outvals):
            if not isinstance(var, core.DropVar) and var not in known:
                env[var] = value
    return [read(v) for v in jaxpr.outvars]


def needed(jaxpr: core.Jaxpr, known: set) -> set[int]:
    """Indices of the equations that the outputs need, the ``known`` variables given."""
    live = {v for v in jaxpr.outvars if isinstance(v, core.Var)} - known
    keep = set()
    for index in reversed(range(len(jaxpr.eqns))):
        eqn = jaxpr.eqns[index]
        if any(v in live for v in eqn.outvars):
            keep.add(index)
            live |= {v for v in eqn.invars if isinstance(v, core.Var)} - known
    return keep


def uses(atoms: Sequence, variables: set) -> bool:
    """Whether any of ``atoms`` (variables or literals) is in ``variables``."""
    # Literals are not hashable, and never among the variables.
    return any(not isinstance(a, core.Literal) and a in variables for a in atoms)


def dependents(jaxpr: core.Jaxpr, sources: Sequence) -> set:
    """The variables of ``jaxpr`` computed from ``sources`` (and ``sources``)."""
    found = set(sources)
    if not found:
        return found
    for eqn in jaxpr.eqns:
        if uses(eqn.invars, found):
            found.update(eqn.outvars)
    return found


def bind(eqn, invals: Sequence):
    """The equation evaluated by its own primitive, as ``jax.core.eval_jaxpr`` does
    (call primitives get their sub-functions from ``get_bind_params``)."""
    return eqn.primitive.bind(*invals, **eqn.primitive.get_bind_params(eqn.params))


def is_call(eqn, *, remat: bool = True) -> bool:
    """Whether ``eqn`` calls a jaxpr that may be evaluated in its place (``jit``;
    also ``checkpoint`` when ``remat``)."""
    name = eqn.primitive.name
    return name in CALLS or (remat and name in REMAT)


def callee(eqn) -> tuple[core.Jaxpr, list]:
    """``(jaxpr, consts)`` of the body of a call, ``checkpoint`` or custom-rule call."""
    params = eqn.params
    inner = params.get("jaxpr")
    if inner is None:
        inner = params.get("call_jaxpr")
    if inner is None:
        inner = params.get("fun_jaxpr")
    if isinstance(inner, core.ClosedJaxpr):
        return inner.jaxpr, list(inner.consts)
    if inner is None:
        raise ValueError(f"the primitive {eqn.primitive.name!r} calls no jaxpr")
    return inner, []


def inline(eqn, invals: Sequence, rule: Rule, *, literal: Callable = _same) -> list:
    """The outputs of a call equation, its body evaluated by ``rule`` in place.

    ``literal`` also converts the body's constants (values captured by the call).
    """
    jaxpr, consts = callee(eqn)
    consts = [literal(c) for c in consts]
    return evaluate(jaxpr, consts, invals, rule, literal=literal)


def sub_jaxprs(params: Mapping) -> Iterator[core.Jaxpr]:
    """The jaxprs among an equation's parameters (bodies of calls, branches, loops)."""
    for value in params.values():
        items = value if isinstance(value, tuple | list) else (value,)
        for item in items:
            if isinstance(item, core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, core.Jaxpr):
                yield item


def trace_leaves(f: Callable, args: Sequence, argnum: int):
    """``f(*args)`` traced over the flattened leaves of ``args``.

    Returns ``(leaves, closed_jaxpr, output_shapes, start)``, where ``start`` is the
    index among ``leaves`` of the first leaf of ``args[argnum]``.
    """
    leaves, tree = jax.tree.flatten(args)
    closed, shapes = jax.make_jaxpr(
        lambda *flat: f(*jax.tree.unflatten(tree, flat)), return_shape=True
    )(*leaves)
    return leaves, closed, shapes, len(jax.tree.leaves(args[:argnum]))


def traced_name(closed) -> tuple[str, bool]:
    """``(function name, defined inside JAX)`` of a traced (closed) jaxpr.

    How the interpreters recognise JAX's own functions (``hypot``, ``logaddexp``,
    ``_frexp``, ...): by name *and* defining module, so a user's function of the
    same name is never mistaken for one.
    """
    info = getattr(getattr(closed, "jaxpr", None), "debug_info", None)
    if info is None:
        return "custom function", False
    source = (info.func_src_info or "").replace("\\", "/")
    return info.func_name, "/jax/_src/" in source

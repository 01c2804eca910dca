"""Walking a jaxpr: the environment loop shared by calculax's interpreters."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import jax
from jax.extend import core

__all__ = ["evaluate_jaxpr", "traced_name"]


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


def evaluate_jaxpr(
    jaxpr: core.Jaxpr,
    consts: Sequence,
    args: Sequence,
    apply: Callable,
    literal: Callable = lambda value: value,
    substitutions: Mapping[int, Callable] | None = None,
) -> list:
    """Evaluate ``jaxpr`` equation by equation with ``apply(eqn, invals)``.

    ``apply`` returns the equation's output (a list when the primitive has multiple
    results); ``literal`` converts the value of a literal operand. An equation whose
    ``id`` is in ``substitutions`` gets its value from ``substitutions[id(eqn)](read)``
    instead, where ``read(var)`` is the value of any variable computed so far.
    Returns the values of ``jaxpr.outvars``.
    """
    env: dict = {}

    def read(var):
        return literal(var.val) if isinstance(var, core.Literal) else env[var]

    for var, value in zip(jaxpr.constvars, consts):
        env[var] = value
    for var, value in zip(jaxpr.invars, args):
        env[var] = value
    substitutions = substitutions or {}
    for eqn in jaxpr.eqns:
        substitute = substitutions.get(id(eqn))
        if substitute is not None:
            outvals = substitute(read)
        else:
            outvals = apply(eqn, [read(v) for v in eqn.invars])
        if not eqn.primitive.multiple_results:
            outvals = [outvals]
        for var, value in zip(eqn.outvars, outvals):
            if not isinstance(var, core.DropVar):
                env[var] = value
    return [read(v) for v in jaxpr.outvars]

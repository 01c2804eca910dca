"""Walking a jaxpr: the environment loop shared by calculax's interpreters."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jax.extend import core

__all__ = ["evaluate_jaxpr"]


def evaluate_jaxpr(
    jaxpr: core.Jaxpr,
    consts: Sequence,
    args: Sequence,
    apply: Callable,
    literal: Callable = lambda value: value,
) -> list:
    """Evaluate ``jaxpr`` equation by equation with ``apply(eqn, invals)``.

    ``apply`` returns the equation's output (a list when the primitive has multiple
    results); ``literal`` converts the value of a literal operand. Returns the
    values of ``jaxpr.outvars``.
    """
    env: dict = {}

    def read(var):
        return literal(var.val) if isinstance(var, core.Literal) else env[var]

    for var, value in zip(jaxpr.constvars, consts):
        env[var] = value
    for var, value in zip(jaxpr.invars, args):
        env[var] = value
    for eqn in jaxpr.eqns:
        outvals = apply(eqn, [read(v) for v in eqn.invars])
        if not eqn.primitive.multiple_results:
            outvals = [outvals]
        for var, value in zip(eqn.outvars, outvals):
            if not isinstance(var, core.DropVar):
                env[var] = value
    return [read(v) for v in jaxpr.outvars]

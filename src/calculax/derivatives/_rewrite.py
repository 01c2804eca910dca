"""Primal rewriting for ``stabilize(f, rewrite=True)``: catastrophic patterns, fixed.

A rewrite replaces the value of one equation of ``f``'s jaxpr (the pattern's root) by
a stable expression of the pattern's leaves, in the spirit of Herbie (Panchekha et
al., PLDI 2015): each one below is a textbook identity whose right side avoids an
intermediate that overflows, underflows or cancels, and a test shows it reduces the
error against the high-precision truth.

================================  ==========================================
pattern                           rewritten to (``calculax.numpy``)
================================  ==========================================
``x / y**n`` (``n >= 2``)         ``(...((x / y) / y) ...) / y``
``log(exp(a) + exp(b))``          ``logaddexp(a, b)``
``sqrt(x**2 + y**2)``             ``hypot(x, y)``
``sqrt(sum(x**2))``               ``linalg.norm(x, axis=...)``
``log(1 + x)``                    ``log1p(x)``
``exp(x) - 1``                    ``expm1(x)``
``1 / (1 + exp(-x))``             ``special.expit(x)``
``log(sum(exp(x)))``              ``special.logsumexp(x, axis=...)``
``x * log(x)``                    ``special.xlogy(x, x)`` (``0`` at ``x = 0``)
``exp(log(a) - log(b))``          ``a / b`` (``nan`` where ``a < 0`` or ``b < 0``)
================================  ==========================================

One pattern is not opt-in, because it keeps the values: JAX's own ``logsumexp``,
``log|sum(exp(x - c))| + c`` with ``c`` under ``stop_gradient``, whose Hessian
forms ``p (1 - p)`` as ``p - p**2`` (``0`` where ``p`` rounds to 1), becomes
``special.logsumexp`` (``stabilize`` applies it always).

Squares are matched as ``integer_pow(x, 2)``, ``square(x)`` or ``x * x``; the
constant ``1`` as a literal or a concrete constant of the trace. Intermediate
equations are still evaluated (XLA removes them when nothing else uses them).

Written by hand: no JAX-ecosystem library rewrites jaxprs for accuracy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

from .. import numpy as cnp
from ..numpy import linalg, special

__all__ = ["Rewrite", "Graph", "find_rewrites", "sum_of_squares_rule"]


@dataclasses.dataclass(frozen=True)
class Rewrite:
    """The root equation's value is ``function(*leaves)``; ``name`` is the rule."""

    name: str
    function: Callable
    leaves: tuple
    aval: Any = None  # the root's abstract value (dtype and weak type to return)
    opt_in: bool = True  # False: the values are kept (a derivative-only rewrite)


class Graph:
    """Who produces each variable of a jaxpr, and which atoms are known constants."""

    def __init__(self, jaxpr: core.Jaxpr, consts: Sequence):
        self.producer = {v: e for e in jaxpr.eqns for v in e.outvars}
        self.constants = {
            var: np.asarray(value)
            for var, value in zip(jaxpr.constvars, consts)
            if isinstance(value, (np.ndarray, np.generic))
            or (isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer))
        }

    def op(self, atom, *names: str):
        """The equation that produced ``atom`` if its primitive is one of ``names``."""
        if isinstance(atom, core.Literal):
            return None
        eqn = self.producer.get(atom)
        return eqn if eqn is not None and eqn.primitive.name in names else None

    def is_constant(self, atom, value: float) -> bool:
        known: np.ndarray | None
        if isinstance(atom, core.Literal):
            known = np.asarray(atom.val)
        else:
            known = self.constants.get(atom)
        return known is not None and known.size > 0 and bool(np.all(known == value))

    def power_of(self, atom) -> tuple[Any, int] | None:
        """``(x, n)`` for ``atom = integer_pow(x, n)``, ``(x, 2)`` for ``square(x)``."""
        eqn = self.op(atom, "integer_pow", "square")
        if eqn is None:
            return None
        return eqn.invars[0], eqn.params[
            "y"
        ] if eqn.primitive.name == "integer_pow" else 2

    def square_root_of(self, atom):
        """``x`` when ``atom`` is ``x**2``, ``square(x)`` or ``x * x``; else None."""
        power = self.power_of(atom)
        if power is not None:
            return power[0] if power[1] == 2 else None
        eqn = self.op(atom, "mul")
        if eqn is None or eqn.invars[0] is not eqn.invars[1]:
            return None
        return eqn.invars[0]

    def other_than_one(self, eqn):
        """``x`` of ``1 + x`` / ``x + 1`` (an ``add`` equation); else None."""
        a, b = eqn.invars
        if self.is_constant(a, 1):
            return b
        if self.is_constant(b, 1):
            return a
        return None


def _repeated_quotient(n: int) -> Callable:
    # No intermediate leaves the range when the result does not: |x/y^j| lies
    # between |x| and |x/y^n| for every j.
    def quotient(x, y):
        for _ in range(n):
            x = cnp.divide(x, y)
        return x

    return quotient


def _quotient_of_logs(a, b):
    # exp(log a - log b) is nan where a or b is negative; a / b keeps that domain.
    defined = (a >= 0) & (b >= 0)
    return jnp.where(defined, cnp.divide(a, b), jnp.nan)


def _over_axes(function: Callable, axes: tuple[int, ...]) -> Callable:
    return lambda x: function(x, axis=tuple(int(a) for a in axes))


def _norm_over(x, axis: tuple[int, ...]):
    # sqrt(sum(x**2, axis)) of a real x with calculax.numpy.linalg.norm.
    kept = [d for d in range(jnp.ndim(x)) if d not in axis]
    moved = jnp.transpose(x, (*kept, *axis))
    flat = jnp.reshape(moved, (*moved.shape[: len(kept)], -1))
    return linalg.norm(flat, axis=-1)


def _div(graph: Graph, eqn) -> Rewrite | None:
    numerator, denominator = eqn.invars
    added = graph.op(denominator, "add")
    if graph.is_constant(numerator, 1) and added is not None:
        exp = graph.op(graph.other_than_one(added), "exp")
        negated = graph.op(exp.invars[0], "neg") if exp is not None else None
        if negated is not None:
            return Rewrite(
                "1/(1 + exp(-x)) -> expit(x)", special.expit, (negated.invars[0],)
            )
    power = graph.power_of(denominator)
    if power is not None and power[1] >= 2:
        base, n = power
        return Rewrite(
            f"x / y**{n} -> repeated division", _repeated_quotient(n), (numerator, base)
        )
    return None


def _log(graph: Graph, eqn) -> Rewrite | None:
    (argument,) = eqn.invars
    added = graph.op(argument, "add")
    if added is not None:
        x = graph.other_than_one(added)
        if x is not None:
            return Rewrite("log(1 + x) -> log1p(x)", cnp.log1p, (x,))
        exps = [graph.op(v, "exp") for v in added.invars]
        if all(e is not None for e in exps):
            leaves = tuple(e.invars[0] for e in exps)
            return Rewrite(
                "log(exp(a) + exp(b)) -> logaddexp(a, b)", cnp.logaddexp, leaves
            )
    total = graph.op(argument, "reduce_sum")
    exp = graph.op(total.invars[0], "exp") if total is not None else None
    if exp is not None:
        function = _over_axes(special.logsumexp, total.params["axes"])
        return Rewrite("log(sum(exp(x))) -> logsumexp(x)", function, (exp.invars[0],))
    return None


def _sub(graph: Graph, eqn) -> Rewrite | None:
    exp = graph.op(eqn.invars[0], "exp")
    if exp is not None and graph.is_constant(eqn.invars[1], 1):
        return Rewrite("exp(x) - 1 -> expm1(x)", cnp.expm1, (exp.invars[0],))
    return None


def _sqrt(graph: Graph, eqn) -> Rewrite | None:
    (argument,) = eqn.invars
    added = graph.op(argument, "add")
    if added is not None:
        roots = [graph.square_root_of(v) for v in added.invars]
        if all(r is not None for r in roots):
            return Rewrite("sqrt(x**2 + y**2) -> hypot(x, y)", cnp.hypot, tuple(roots))
    return sum_of_squares_rule(graph, eqn)


def sum_of_squares_rule(graph: Graph, eqn) -> Rewrite | None:
    """The rewrite of ``sqrt(sum(x**2, axes))`` (the equation ``eqn`` is the
    ``sqrt``) for a real ``x``: ``calculax.numpy.linalg.norm`` over ``axes``."""
    total = graph.op(eqn.invars[0], "reduce_sum")
    root = graph.square_root_of(total.invars[0]) if total is not None else None
    if root is None or not _is_real(root):
        return None
    axes = tuple(int(a) for a in total.params["axes"])
    return Rewrite("sqrt(sum(x**2)) -> norm(x)", lambda x: _norm_over(x, axes), (root,))


def _mul(graph: Graph, eqn) -> Rewrite | None:
    a, b = eqn.invars
    for x, other in ((a, b), (b, a)):
        log = graph.op(other, "log")
        if log is not None and log.invars[0] is x:
            return Rewrite(
                "x * log(x) -> xlogy(x, x)", lambda x: special.xlogy(x, x), (x,)
            )
    return None


def _exp(graph: Graph, eqn) -> Rewrite | None:
    difference = graph.op(eqn.invars[0], "sub")
    if difference is None:
        return None
    logs = [graph.op(v, "log") for v in difference.invars]
    if all(log is not None for log in logs):
        leaves = tuple(log.invars[0] for log in logs)
        return Rewrite("exp(log(a) - log(b)) -> a / b", _quotient_of_logs, leaves)
    return None


def _shifted_logsumexp(graph: Graph, eqn) -> Rewrite | None:
    # log|sum(exp(x - C), axes)| + c, C = c or c broadcast, c = stop_gradient(...):
    # logsumexp(x) for any finite shift c (JAX's logsumexp shifts by the maximum).
    for logged, shift in (eqn.invars, eqn.invars[::-1]):
        if graph.op(shift, "stop_gradient") is None:
            continue
        log = graph.op(logged, "log")
        argument = log.invars[0] if log is not None else None
        absolute = graph.op(argument, "abs")
        argument = absolute.invars[0] if absolute is not None else argument
        kept = graph.op(argument, "broadcast_in_dim")
        argument = kept.invars[0] if kept is not None else argument
        total = graph.op(argument, "reduce_sum")
        exp = graph.op(total.invars[0], "exp") if total is not None else None
        sub = graph.op(exp.invars[0], "sub") if exp is not None else None
        if sub is None:
            continue
        offset = graph.op(sub.invars[1], "broadcast_in_dim")
        if (offset.invars[0] if offset is not None else sub.invars[1]) is not shift:
            continue
        axes = tuple(int(a) for a in total.params["axes"])
        keepdims = kept is not None

        def function(x, axes=axes, keepdims=keepdims):
            return special.logsumexp(x, axis=axes, keepdims=keepdims)

        return Rewrite("logsumexp", function, (sub.invars[0],), opt_in=False)
    return None


def _is_real(atom) -> bool:
    return jnp.issubdtype(atom.aval.dtype, jnp.floating)


_PATTERNS: dict[str, Callable[[Graph, Any], Rewrite | None]] = {
    "div": _div,
    "log": _log,
    "sub": _sub,
    "sqrt": _sqrt,
    "mul": _mul,
    "exp": _exp,
}


_KEEPING_VALUES: dict[str, Callable[[Graph, Any], Rewrite | None]] = {
    "add": _shifted_logsumexp,
}


def find_rewrites(
    jaxpr: core.Jaxpr, consts: Sequence, opt_in: bool
) -> dict[int, Rewrite]:
    """The rewrites of ``jaxpr``'s floating-point equations, keyed by ``id(eqn)``:
    those that keep the values, and with ``opt_in`` those that change them."""
    graph = Graph(jaxpr, consts)
    found = {}
    for eqn in jaxpr.eqns:
        if not _is_real(eqn.outvars[0]):
            continue
        name = eqn.primitive.name
        pattern = _KEEPING_VALUES.get(name)
        rewrite = pattern(graph, eqn) if pattern is not None else None
        if rewrite is None and opt_in and name in _PATTERNS:
            rewrite = _PATTERNS[name](graph, eqn)
        if rewrite is not None:
            found[id(eqn)] = dataclasses.replace(rewrite, aval=eqn.outvars[0].aval)
    return found

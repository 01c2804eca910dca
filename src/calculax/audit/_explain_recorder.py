"""``explain``'s recorder: ``f``'s jaxpr evaluated equation by equation, each one's
value and derivatives recorded, in forward or reverse mode.

Forward mode (``jax.jvp`` nested ``order`` times on the evaluation, compiled with
``jax.jit``): each row's derivatives are the tangents the rules push forward. Reverse
mode: each row's derivative of order ``j`` is ``jax.jacrev`` nested ``j`` times on the
function ``x -> row value`` (its own reverse pass, so no other row's cotangent enters
it), and the function's derivative is ``jax.grad`` nested ``order`` times.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

from .._core.jaxpr import bind, callee, evaluate, is_call, traced_name
from ..derivatives import StabilizeReport, stabilize
from ._explain_report import Step, format_number
from ._rules import CALCULAX_RULES, rule_formula

__all__ = ["MODES", "Recorder", "autodiff"]

MODES = ("forward", "reverse")


def _nested_jvp(g: Callable, x, order: int):
    # Level 0: g(x); level j: (primal, tangent) of level j - 1 under jax.jvp.
    if order == 0:
        return g(x)
    return jax.jvp(lambda v: _nested_jvp(g, v, order - 1), (x,), (jnp.ones_like(x),))


def _component(hyper, j: int, order: int):
    # The derivative of order j: the tangent part at the j outermost levels.
    for level in range(order):
        hyper = hyper[1] if level < j else hyper[0]
    return hyper


def _nested(transform: Callable, g: Callable, order: int) -> Callable:
    for _ in range(order):
        g = transform(g)
    return g


def autodiff(g: Callable, x, order: int, mode: str) -> float:
    """The derivative of order ``order`` of the scalar ``g`` at ``x``, compiled:
    ``jax.jvp`` nested (forward) or ``jax.grad`` nested (reverse)."""
    if mode == "forward":
        nested = jax.jit(lambda v: _component(_nested_jvp(g, v, order), order, order))
    else:
        nested = jax.jit(_nested(jax.grad, g, order))
    return float(nested(x))


class Recorder:
    """Evaluates a jaxpr equation by equation, naming and recording each one."""

    def __init__(self, stabilized: bool, dtype: np.dtype):
        self.stabilized = stabilized
        self.dtype = dtype
        self.names: dict = {}
        self.rows: list[tuple] = []
        self.outputs: list = []
        self.count = 0
        self.recording = True

    def chain(self, closed, values, names, argnums: int, order: int, mode: str):
        """The rows and the derivative of ``closed`` in argument ``argnums``."""
        for var, name in zip(closed.jaxpr.invars, names):
            self.names[var] = name
        for i, var in enumerate(closed.jaxpr.constvars, start=1):
            self.names[var] = f"c{i}"

        def g(x):
            self.outputs = []
            args = [*values[:argnums], x, *values[argnums + 1 :]]
            out = evaluate(closed.jaxpr, closed.consts, args, self._apply)
            self.recording = False  # the rows are named once, at the first trace
            return out[0], self.outputs

        x = values[argnums]
        if mode == "forward":
            hyper = jax.jit(lambda v: _nested_jvp(g, v, order))(x)
            final = float(_component(hyper, order, order)[0])
            levels = [_component(hyper, j, order)[1] for j in range(order + 1)]
            values_, derivatives = levels[0], _forward_rows(levels, order)
        else:
            values_, derivatives, final = _reverse_rows(g, x, order)
        steps = []
        for k, (primitive, equation, rule, source) in enumerate(self.rows):
            steps.append(
                Step(
                    index=k + 1,
                    primitive=primitive,
                    equation=equation,
                    rule=rule,
                    source=source,
                    values=[np.asarray(v) for v in values_[k]],
                    derivatives=derivatives[k],
                )
            )
        return steps, final

    def _name(self, var) -> str:
        if isinstance(var, core.Literal):
            return format_number(var.val, self.dtype)
        return self.names.get(var, "?")

    def _apply(self, eqn, invals):
        name = eqn.primitive.name
        if is_call(eqn):
            return self._inline(eqn, invals)
        outs, rule, source = _bind(eqn, invals, self.stabilized)
        if self.recording:
            out_names = []
            for var in eqn.outvars:
                self.count += 1
                self.names[var] = f"v{self.count}"
                out_names.append(self.names[var])
            inputs = " ".join(self._name(v) for v in eqn.invars)
            self.rows.append(
                (name, f"{', '.join(out_names)} = {name} {inputs}", rule, source)
            )
        self.outputs.append(list(outs) if eqn.primitive.multiple_results else [outs])
        return outs

    def _inline(self, eqn, invals):
        jaxpr, consts = callee(eqn)
        if self.recording:
            for inner_var, outer_var in zip(jaxpr.invars, eqn.invars):
                self.names[inner_var] = self._name(outer_var)
        outs = evaluate(jaxpr, consts, invals, self._apply)
        if self.recording:
            for outer_var, inner_var in zip(eqn.outvars, jaxpr.outvars):
                self.names[outer_var] = self._name(inner_var)
        return outs


def _forward_rows(levels: Sequence, order: int) -> list:
    # derivatives[k][i][j - 1]: output i of row k, order j (None: no tangent).
    rows = []
    for k, outputs in enumerate(levels[0]):
        rows.append(
            [
                [_tangent(level[k][i]) for level in levels[1 : order + 1]]
                for i in range(len(outputs))
            ]
        )
    return rows


def _reverse_rows(g: Callable, x, order: int):
    """Row values, row derivatives and the function's derivative, each derivative
    by nested reverse mode on its own function of ``x``."""
    out, rows = g(x)  # names the rows (eagerly) and gives the values
    del out

    def row(k: int, i: int) -> Callable:
        return lambda v: g(v)[1][k][i]

    def floating(value) -> bool:
        return jnp.issubdtype(jnp.result_type(value), jnp.inexact)

    @jax.jit
    def derivatives(v):
        table = [
            [
                [_nested(jax.jacrev, row(k, i), j)(v) for j in range(1, order + 1)]
                if floating(value)
                else None
                for i, value in enumerate(outputs)
            ]
            for k, outputs in enumerate(rows)
        ]
        final = _nested(jax.grad, lambda u: g(u)[0], order)(v)
        return table, final

    table, final = derivatives(x)
    table = [
        [
            [np.asarray(d) for d in entry] if entry is not None else [None] * order
            for entry in outputs
        ]
        for outputs in table
    ]
    return rows, table, float(final)


def _tangent(value):
    array = np.asarray(value)
    return None if array.dtype == jax.dtypes.float0 else array


def _bind(eqn, invals, stabilized: bool):
    """The equation's outputs, the rule applied (a formula) and its source."""
    params = eqn.params

    def one(*operands):
        return bind(eqn, operands)

    name = eqn.primitive.name
    if stabilized and name in ("custom_jvp_call", "custom_vjp_call"):
        owner = _custom_name(params)
        if owner in CALCULAX_RULES and not callable(CALCULAX_RULES[owner]):
            # one of calculax's stable functions (a rewritten idiom): its own rule
            return one(*invals), rule_formula(owner, params, stable=True), "calculax"
    if stabilized:
        stable = stabilize(one, report=True)
        outs = stable(*invals)
        record: StabilizeReport = getattr(stable, "report")  # set by report=True
        rewritten = sorted(record.rewritten)
        if rewritten and name in ("cond", "while", "scan"):
            rule = f"calculax's rules for {', '.join(rewritten)} inside the {name}"
            return outs, rule, "calculax"
        if rewritten and name in ("custom_jvp_call", "custom_vjp_call"):
            owner = _custom_name(params)
            rule = f"calculax's rules for {', '.join(rewritten)} inside {owner}"
            return outs, rule, "calculax"
        if rewritten:
            return outs, rule_formula(rewritten[0], params, stable=True), "calculax"
    else:
        outs = one(*invals)
    if name in ("custom_jvp_call", "custom_vjp_call"):
        kind = name.removesuffix("_call")
        return outs, f"the {kind} rule of {_custom_name(params)}", "custom"
    return outs, rule_formula(name, params, stable=False), "jax"


def _custom_name(params) -> str:
    return traced_name(params.get("call_jaxpr", params.get("fun_jaxpr")))[0]

"""``explain(f)(*args)``: how a derivative is computed, primitive by primitive.

Automatic differentiation does not take finite differences: forward mode pushes a
tangent :math:`\\dot v_i = \\partial v_i / \\partial x` through ``f``'s primitives in
order, each with its exact derivative rule (the chain rule),

.. math:: v_i = p_i(v_{j}, v_{k}), \\qquad
          \\dot v_i = \\partial_1 p_i\\,\\dot v_j + \\partial_2 p_i\\,\\dot v_k,

and the derivative is the last tangent. ``explain`` evaluates ``f``'s jaxpr equation
by equation (calls such as ``jit`` inlined) under ``jax.jvp`` nested ``order`` times
-- the computation of ``jax.jvp`` on ``f``, compiled with ``jax.jit`` as the
autodiff value it is compared with is, so the two agree bit for bit -- and records
each equation's value and its derivatives of orders ``1..order``, with the rule
applied written out (:mod:`._rules`). With ``stabilized=True`` each equation is
bound through :func:`calculax.stabilize`, so the rows show calculax's rules.

It then compares with the central finite differences of order ``k`` on the points
:math:`x + j h` (``j`` integer: ``(f(x+h) - f(x-h)) / 2h`` for ``k = 1``),

.. math:: D_h^k f(x) = (c h)^{-k} \\sum_{i=0}^{k} (-1)^i \\binom{k}{i}
          f\\big(x + c (k/2 - i) h\\big), \\qquad c = 2 \\text{ for odd } k,
          \\ 1 \\text{ for even } k,

for ``h = s |x|`` (``s`` at ``x = 0``) over the steps ``s``: the error is
``O(h^2)`` truncation plus ``O(eps / h^k)`` rounding, a V over ``s``. The points
and ``f`` at them are evaluated in ``x``'s dtype (as a user's finite difference
would be); the weighted sum and the division by ``(c h)^k`` in float64 (so that
``h^k`` cannot underflow), the estimate then rounded to ``x``'s dtype.

Written by hand: JAX shows a jaxpr (``jax.make_jaxpr``) but not the tangents along it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

from .._core.differences import combine, stencil
from .._core.jaxpr import bind, callee, evaluate, is_call, traced_name
from .._core.truth import true_derivative
from ..derivatives import StabilizeReport, stabilize
from ._explain_report import (
    ExplainReport,
    FiniteDifference,
    Step,
    format_number,
    relative_error,
)
from ._rules import rule_formula

__all__ = ["explain", "STEPS"]

STEPS = tuple(10.0**-k for k in range(1, 16))


def explain(
    f: Callable,
    *,
    argnums: int = 0,
    order: int = 1,
    steps: Sequence[float] = STEPS,
    stabilized: bool = False,
) -> Callable[..., ExplainReport]:
    """Show how the derivative of ``f`` is computed: rule by rule, and against
    finite differences (module doc).

    Args:
        f: a scalar function of scalar arguments, written with ``jax.numpy``.
        argnums: the argument to differentiate in.
        order: the derivative order, >= 1.
        steps: the relative steps ``s`` of the finite differences (``h = s |x|``).
        stabilized: show the rules of :func:`calculax.stabilize` instead of JAX's.

    Returns:
        A function of ``f``'s arguments (scalars; their dtype is the report's) that
        returns an :class:`ExplainReport`: ``.steps`` (one row per primitive),
        ``.finite_differences``, ``.derivative``, ``.autodiff``, ``.truth``,
        ``.to_markdown()`` and ``.plot(path)``.

    Raises:
        TypeError: ``f`` is not callable, or an argument is not a real scalar.
        ValueError: a bad ``argnums``/``order``/``steps``, a non-scalar output, or
            ``f`` cannot be differentiated in forward mode (``custom_vjp``).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.audit import explain
        >>> report = explain(lambda a, b: -a / b, argnums=1)(1e-30, 1e-30)
        >>> [step.equation for step in report.steps]
        ['v1 = neg a', 'v2 = div v1 b']
        >>> report.steps[1].rule
        'd(x/y) = dx/y - x*dy*y**-2'
        >>> report.derivative, report.autodiff  # b**-2 overflows float32
        (inf, inf)
        >>> explain(lambda a, b: -a / b, argnums=1, stabilized=True)(
        ...     1e-30, 1e-30
        ... ).derivative
        1e+30
    """
    if not callable(f):
        raise TypeError(
            f"explain expects a callable (a function of JAX scalars), got "
            f"{type(f).__name__}: {f!r:.80}"
        )
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"order must be an int >= 1, got {order!r}")
    if isinstance(argnums, bool) or not isinstance(argnums, int):
        raise ValueError(
            f"argnums must be one int (the argument index), got {argnums!r}"
        )
    steps = tuple(float(s) for s in steps)
    if not steps or not all(0 < s < math.inf for s in steps):
        raise ValueError(f"steps must be positive finite numbers, got {steps}")

    def run(*args: Any) -> ExplainReport:
        values = _scalars(args, argnums)
        names = _argnames(f, len(values))
        dtype = np.dtype(values[argnums].dtype)
        closed = jax.make_jaxpr(f)(*values)
        if len(closed.jaxpr.outvars) != 1 or closed.jaxpr.outvars[0].aval.shape != ():
            raise ValueError(
                f"explain needs a scalar-valued f; it returns "
                f"{[str(v.aval) for v in closed.jaxpr.outvars]}"
            )
        recorder = _Recorder(stabilized, dtype)
        target = stabilize(f) if stabilized else f
        try:
            steps_, derivative = recorder.chain(closed, values, names, argnums, order)
            autodiff = _derivative(
                _along(target, values, argnums), values[argnums], order
            )
        except TypeError as error:
            if "custom_vjp" not in str(error):
                raise
            raise ValueError(
                "explain pushes tangents forward (jax.jvp), and f calls a custom_vjp "
                "function, which JAX cannot differentiate in forward mode; give it a "
                "custom_jvp rule to explain it"
            ) from None
        try:
            truth = true_derivative(f, *values, argnums=argnums, order=order)
        except NotImplementedError:
            truth = None
        differences = _finite_differences(f, values, argnums, order, steps, truth)
        return ExplainReport(
            name=getattr(f, "__name__", type(f).__name__),
            args=tuple(values),
            argnames=tuple(names),
            argnums=argnums,
            order=order,
            dtype=dtype,
            stabilized=stabilized,
            steps=steps_,
            derivative=derivative,
            autodiff=autodiff,
            truth=truth,
            finite_differences=differences,
        )

    return run


def _scalars(args: Sequence, argnums: int) -> list:
    if not 0 <= argnums < len(args):
        raise ValueError(f"argnums={argnums} is out of range for {len(args)} arguments")
    values = []
    for i, a in enumerate(args):
        array = jnp.asarray(a)
        if array.shape != () or not jnp.issubdtype(array.dtype, jnp.floating):
            raise TypeError(
                f"explain needs real floating-point scalars; argument {i} is {a!r:.60} "
                f"({array.dtype}{list(array.shape)})"
            )
        values.append(array)
    return values


def _argnames(f: Callable, count: int) -> list[str]:
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return names[:count] if len(names) >= count else [f"x{i}" for i in range(count)]


def _along(f: Callable, values: Sequence, argnums: int) -> Callable:
    def g(x):
        return f(*values[:argnums], x, *values[argnums + 1 :])

    return g


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


def _derivative(g: Callable, x, order: int) -> float:
    nested = jax.jit(lambda v: _component(_nested_jvp(g, v, order), order, order))
    return float(nested(x))


class _Recorder:
    """Evaluates a jaxpr equation by equation, naming and recording each one."""

    def __init__(self, stabilized: bool, dtype: np.dtype):
        self.stabilized = stabilized
        self.dtype = dtype
        self.names: dict = {}
        self.rows: list[tuple] = []
        self.outputs: list = []
        self.count = 0

    def chain(self, closed, values, names, argnums, order):
        """The rows and the derivative of ``closed`` in argument ``argnums``."""
        for var, name in zip(closed.jaxpr.invars, names):
            self.names[var] = name
        for i, var in enumerate(closed.jaxpr.constvars, start=1):
            self.names[var] = f"c{i}"

        def g(x):
            args = [*values[:argnums], x, *values[argnums + 1 :]]
            out = evaluate(closed.jaxpr, closed.consts, args, self._apply)
            return out[0], self.outputs

        hyper = jax.jit(lambda v: _nested_jvp(g, v, order))(values[argnums])
        final = float(_component(hyper, order, order)[0])
        levels = [_component(hyper, j, order)[1] for j in range(order + 1)]
        steps = []
        for k, (primitive, equation, rule, source) in enumerate(self.rows):
            count = len(levels[0][k])
            steps.append(
                Step(
                    index=k + 1,
                    primitive=primitive,
                    equation=equation,
                    rule=rule,
                    source=source,
                    values=[np.asarray(levels[0][k][i]) for i in range(count)],
                    derivatives=[
                        [_tangent(level[k][i]) for level in levels[1:]]
                        for i in range(count)
                    ],
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
        for inner_var, outer_var in zip(jaxpr.invars, eqn.invars):
            self.names[inner_var] = self._name(outer_var)
        outs = evaluate(jaxpr, consts, invals, self._apply)
        for outer_var, inner_var in zip(eqn.outvars, jaxpr.outvars):
            self.names[outer_var] = self._name(inner_var)
        return outs


def _tangent(value):
    array = np.asarray(value)
    return None if array.dtype == jax.dtypes.float0 else array


def _bind(eqn, invals, stabilized: bool):
    """The equation's outputs, the rule applied (a formula) and its source."""
    params = eqn.params

    def one(*operands):
        return bind(eqn, operands)

    name = eqn.primitive.name
    if stabilized:
        stable = stabilize(one, report=True)
        outs = stable(*invals)
        record: StabilizeReport = getattr(stable, "report")  # set by report=True
        rewritten = sorted(record.rewritten)
        if rewritten and name in ("cond", "while", "scan"):
            rule = f"calculax's rules for {', '.join(rewritten)} inside the {name}"
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


def _finite_differences(f, values, argnums, order, steps, truth):
    dtype = np.dtype(values[argnums].dtype)
    x = np.asarray(values[argnums])[()]
    scale = abs(float(x)) if x != 0 else 1.0
    offsets, _ = stencil(order)
    with np.errstate(over="ignore", invalid="ignore"):
        h = np.asarray(steps, dtype=np.float64) * scale
        shifts = (h[:, None] * np.asarray(offsets)[None, :]).astype(dtype)
        points = (x + shifts).astype(dtype)
    evaluate_at = jax.jit(jax.vmap(_along(f, values, argnums)))
    samples = np.asarray(evaluate_at(jnp.asarray(points.reshape(-1)))).astype(
        np.float64
    )
    samples = samples.reshape(points.shape)
    rows = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        estimates = combine(list(samples.T), h, order)
        estimates = estimates.astype(dtype).astype(np.float64)  # what dtype holds
    for step, estimate in zip(steps, estimates.tolist()):
        rows.append(FiniteDifference(step, estimate, relative_error(estimate, truth)))
    return rows

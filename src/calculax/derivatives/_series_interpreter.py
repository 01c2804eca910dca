r"""Taylor mode: a jaxpr interpreter in series arithmetic, through ``custom_jvp`` rules.

:func:`taylor_series` pushes :math:`x(t) = x_0 + h t` through ``f``'s jaxpr, every
value a truncated series (the rules of ``_series_rules``, on either engine: arrays,
``_series``, or coefficient nodes, ``_series_terms``). ``jit`` and ``checkpoint``
bodies are evaluated in place. A ``custom_jvp``
function :math:`y = g(x)` -- every function of ``calculax.numpy`` and every
``calculax.stabilize``'d function -- is evaluated through its rule, never through
its primal implementation's derivatives: :math:`y_0 = g(x_0)` by the primal, and
:math:`y = y_0 + \int \dot y\,dt` with
:math:`\dot y = \text{rule}(x(t), x'(t))` evaluated in series arithmetic one order
shorter, the rule's reuse of the primal output replaced by the current iterate of
:math:`y` (a fixed point, one more exact order per pass, as for ``exp``). A rule that
calls further ``custom_jvp`` functions is evaluated the same way, recursively; each
level is one order shorter, so the recursion ends (at order 0, the primal value).

With the array engine the whole evaluation is one ``lax.fori_loop`` of ``order``
passes over the fixed points' iterates (see ``_series``): the traced graph holds the
function once, the rules of the ``custom_jvp`` functions once per nesting level,
whatever the order. The coefficient engine (:func:`unrolled_derivative`, for
functions of JAX primitives only) resolves every fixed point order by order.

Series hold derivatives, :math:`c_j = h^j\,y^{(j)}(0)`, never :math:`y^{(j)}/j!`: an
order whose derivative is representable is computed without the factorial that
under- or overflows at order ~35 in float32, and one whose derivative is not
representable overflows to ``inf``.

Written by hand: ``jax.experimental.jet`` has no ``custom_jvp`` support, unrolls
its recurrences per order and scales by factorials.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend import core

from .._core.jaxpr import CUSTOM_JVP, bind, callee, is_call, trace_leaves
from .._core.jaxpr import evaluate as walk
from ._series import Arrays, Series, Store, is_float, lift
from ._series_rules import UnsupportedPrimitive, apply_rule
from ._series_terms import Unrolled

__all__ = [
    "UnsupportedPrimitive",
    "series_obstacle",
    "taylor_coefficients",
    "taylor_series",
    "unrolled_derivative",
]


def evaluate(
    ops, jaxpr, consts, args, n: int, known=None, *, follow_rules: bool = True
) -> list:
    """``jaxpr``'s outputs, its inputs series of length ``n`` or constants.

    ``known`` maps variables to values given in advance (a rule's primal output):
    the equations that only compute them are skipped. ``follow_rules=False``
    refuses ``custom_jvp`` functions (:class:`UnsupportedPrimitive`).
    """

    def rule(eqn, values):
        if not any(ops.is_series(v) for v in values):
            return bind(eqn, values)
        if is_call(eqn):  # jit and checkpoint bodies: evaluated in place
            jaxpr, consts = callee(eqn)
            return evaluate(ops, jaxpr, consts, values, n, follow_rules=follow_rules)
        if eqn.primitive.name == CUSTOM_JVP:
            if not follow_rules:
                raise UnsupportedPrimitive(CUSTOM_JVP)
            return _custom_jvp(ops, eqn, values, n)
        return apply_rule(ops, eqn, values)

    return walk(jaxpr, consts, args, rule, known=known)


def _truncate(ops, value, n: int):
    """A series ``n`` orders long (a plain value at ``n = 1``)."""
    if not ops.is_series(value):
        return value
    raw = ops.raw(value)
    while ops.length(raw) > n:
        raw = ops.head(raw)
    return ops.wrap(raw) if n > 1 else ops.order0(raw)


def _tangent(ops, value, aval, n: int):
    if ops.is_series(value):
        return _truncate(ops, ops.wrap(ops.deriv(ops.raw(value))), n - 1)
    if not is_float(aval):
        return np.zeros(aval.shape, jax.dtypes.float0)
    return jnp.zeros(aval.shape, aval.dtype)


def _custom_jvp(ops, eqn, values, n: int):
    """``y = g(x)`` through ``g``'s rule: the fixed point
    :math:`y = y_0 + \\int \\text{rule}(x, x'; y)\\,dt` (module docstring)."""
    params = eqn.params
    n_consts = params["num_consts"]
    if params["symbolic_zeros"] or any(ops.is_series(v) for v in values[:n_consts]):
        raise UnsupportedPrimitive(
            "custom_jvp_call (symbolic zeros or closed-over series)"
        )
    body = params["call_jaxpr"]
    y0 = core.jaxpr_as_fun(body)(*[_truncate(ops, v, 1) for v in values])
    primals = values[n_consts:]
    rule, rule_consts, zeros = params["jvp_jaxpr_fun"].call_wrapped(
        *([False] * len(primals))
    )
    floats = [is_float(v.aval) for v in eqn.outvars]
    avals = [v.aval for v in eqn.invars[n_consts:]]
    args = [_truncate(ops, v, n - 1) for v in primals]
    args += [_tangent(ops, v, a, n) for v, a in zip(primals, avals)]
    starts = [y for y, f in zip(y0, floats) if f]
    outvars = [v for v, f in zip(rule.outvars[: len(y0)], floats) if f]

    def step(ys):
        known = {
            var: _truncate(ops, ops.wrap(y), n - 1)
            for var, y in zip(outvars, ys)
            if isinstance(var, core.Var)
        }
        outs = evaluate(ops, rule, rule_consts, args, n - 1, known)
        tangents = iter(outs[len(y0) :])
        new = []
        for y, is_f, zero in zip(y0, floats, zeros):
            tangent = None if zero else next(tangents)
            if is_f:
                new.append(ops.integral(y, _series_of(ops, tangent, n - 1, y)))
        return tuple(new)

    solved = iter(ops.fixed_point(tuple(starts), step, n))
    return [ops.wrap(next(solved)) if f else y for y, f in zip(y0, floats)]


def _series_of(ops, value, n: int, like):
    """A tangent (a series, a constant or ``None`` for zero) as a series of length
    ``n`` in ``like``'s dtype."""
    if value is None:
        value = jnp.zeros_like(like)
    if ops.is_series(value):
        return ops.cast(ops.raw(value), jnp.result_type(like))
    return ops.lift(jnp.asarray(value, jnp.result_type(like)), n)


def _pass(jaxpr, consts, flat, start: int, n: int, step, old):
    """One evaluation of ``jaxpr`` by the array engine: its output series and the
    new iterates."""
    inputs = list(flat)
    inputs[start] = Series(lift(flat[start], n).at[1].set(step))
    store = Store(old)
    ops = Arrays(store)
    outs = evaluate(ops, jaxpr, consts, inputs, n)
    series = [o.c if isinstance(o, Series) else lift(o, n) for o in outs]
    return series, store.iterates()


def taylor_series(
    f: Callable, args: Sequence, argnum: int, order: int, step: float = 1.0
):
    """The series of ``f``'s output along :math:`x_{argnum} = x_0 + h t` (array
    engine, through ``custom_jvp`` rules).

    Returns ``f``'s output pytree, each leaf replaced by an array of shape
    ``(order + 1, *leaf.shape)``: :math:`c_k = h^k\\,\\partial^k f / \\partial x^k`
    (``h = step``). Raises :class:`UnsupportedPrimitive` for a primitive without a
    series rule.

    Example:
        >>> import calculax.numpy as cnp
        >>> taylor_series(cnp.exp, (0.0,), 0, 3)  # every derivative of exp at 0
        Array([1., 1., 1., 1.], dtype=float32)
    """
    n = order + 1
    flat, closed, shapes, start = trace_leaves(f, args, argnum)
    flat = [jnp.asarray(v) for v in flat]

    def one_pass(old, flat):
        return _pass(closed.jaxpr, closed.consts, flat, start, n, step, old)

    # The iterates' shapes from an abstract pass; the loop starts from zeros (the
    # store puts the exact order-0 terms in), so the graph holds one pass.
    out_shapes, state_shapes = jax.eval_shape(lambda v: one_pass(None, v), flat)
    if not state_shapes:
        outs, _ = one_pass(None, flat)
    else:
        zeros = jax.tree.map(
            lambda s: jnp.zeros(s.shape, s.dtype), (out_shapes, state_shapes)
        )
        outs, _ = lax.fori_loop(0, order, lambda _, c: one_pass(c[1], flat), zeros)
    return jax.tree.unflatten(jax.tree.structure(shapes), outs)


def taylor_coefficients(
    f: Callable, args: Sequence, argnum: int, order: int, step: float = 1.0
):
    """The normalised coefficients :math:`c_k / k!` of :func:`taylor_series`.

    Example:
        >>> import calculax.numpy as cnp
        >>> taylor_coefficients(cnp.exp, (0.0,), 0, 3)  # 1/k!, through exp's rule
        Array([1.        , 1.        , 0.5       , 0.16666667], dtype=float32)
    """
    series = taylor_series(f, args, argnum, order, step)
    factorials = np.array([math.factorial(k) for k in range(order + 1)], float)

    def normalise(c):
        scale = jnp.asarray(1 / factorials, c.dtype)
        return c * scale.reshape((order + 1,) + (1,) * (c.ndim - 1))

    return jax.tree.map(normalise, series)


def unrolled_derivative(f: Callable, args: Sequence, argnum: int, order: int):
    """``f``'s output pytree along :math:`x_{argnum} = x_0 + t`, each leaf replaced by
    its derivative of order ``order`` (coefficient engine).

    Raises :class:`UnsupportedPrimitive` for ``custom_jvp`` functions (left to the
    array engine) and primitives without a rule.

    Example:
        >>> import jax.numpy as jnp
        >>> unrolled_derivative(jnp.exp, (0.0,), 0, 3)
        Array(1., dtype=float32)
    """
    n = order + 1
    flat, closed, shapes, start = trace_leaves(f, args, argnum)
    ops = Unrolled()
    inputs = list(flat)
    inputs[start] = ops.path(jnp.asarray(flat[start]), 1.0, n)
    # custom_jvp functions are left to the array engine, whose graph does not grow
    # with the order.
    outs = evaluate(ops, closed.jaxpr, closed.consts, inputs, n, follow_rules=False)
    ops.force(order)
    leaves = []
    for out, shape in zip(outs, jax.tree.leaves(shapes)):
        last = out[order] if ops.is_series(out) else 0
        leaves.append(jnp.broadcast_to(jnp.asarray(last, shape.dtype), shape.shape))
    return jax.tree.unflatten(jax.tree.structure(shapes), leaves)


def series_obstacle(f: Callable, args: Sequence, argnum: int, order: int) -> str | None:
    """The first primitive of ``f`` (or of a rule it calls) without a series rule."""
    try:
        jax.make_jaxpr(lambda *a: taylor_series(f, a, argnum, order))(*args)
    except UnsupportedPrimitive as error:
        return error.primitive
    return None

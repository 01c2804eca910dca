r"""Taylor mode through ``custom_jvp`` rules: a jaxpr interpreter in series arithmetic.

:func:`taylor_coefficients` pushes :math:`x(t) = x_0 + t` through ``f``'s jaxpr,
every value a truncated series (``_series``, ``_series_rules``). A ``custom_jvp``
function :math:`y = g(x)` -- every function of ``calculax.numpy`` and every
``calculax.stabilize``'d function -- is evaluated through its rule, never through
its primal implementation's derivatives: :math:`y_0 = g(x_0)` by the primal, and
:math:`y = y_0 + \int \dot y\,dt` with
:math:`\dot y = \text{rule}(x(t), x'(t))` evaluated in series arithmetic one order
shorter, the rule's reuse of the primal output replaced by the current iterate of
:math:`y` (a fixed point, one more exact order per pass, as for ``exp``). A rule that
calls further ``custom_jvp`` functions is evaluated the same way, recursively; each
level is one order shorter, so the recursion ends (at order 0, the primal value).

The whole evaluation is one ``lax.fori_loop`` of ``order`` passes over the fixed
points' iterates (see ``_series``): the traced graph holds the function once, the
rules of the ``custom_jvp`` functions once per nesting level, whatever the order.

Written by hand: ``jax.experimental.jet`` has no ``custom_jvp`` support and unrolls
its recurrences per order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend import core

from .._core.jaxpr import CUSTOM_JVP, bind, callee, is_call, trace_leaves
from .._core.jaxpr import evaluate as walk
from ._series import Store, integral, lift
from ._series_rules import Series, UnsupportedPrimitive, apply_rule, is_float, order0

__all__ = ["UnsupportedPrimitive", "series_obstacle", "taylor_coefficients"]


def _truncate(value, n: int):
    if not isinstance(value, Series):
        return value
    return Series(value.c[:n]) if n > 1 else value.c[0]


def evaluate(jaxpr, consts, args, n: int, store: Store, known=None) -> list:
    """``jaxpr``'s outputs, its inputs series of length ``n`` or constants.

    ``known`` maps variables to values given in advance (a rule's primal output):
    the equations that only compute them are skipped.
    """

    def rule(eqn, values):
        if not any(isinstance(v, Series) for v in values):
            return bind(eqn, values)
        return _apply(store, eqn, values, n)

    return walk(jaxpr, consts, args, rule, known=known)


def _apply(store, eqn, values, n):
    if is_call(eqn):  # jit and checkpoint bodies: evaluated in place
        return evaluate(*callee(eqn), values, n, store)
    if eqn.primitive.name == CUSTOM_JVP:
        return _custom_jvp(store, eqn, values, n)
    return apply_rule(store, eqn, values, n)


def _tangent(value, aval, n: int):
    if isinstance(value, Series):
        return Series(
            value.c[1:]
            * jnp.arange(1, n, dtype=value.c.dtype).reshape(
                (n - 1,) + (1,) * (value.c.ndim - 1)
            )
        )
    if not is_float(aval):
        return np.zeros(aval.shape, jax.dtypes.float0)
    return jnp.zeros(aval.shape, aval.dtype)


def _custom_jvp(store: Store, eqn, values, n: int):
    """``y = g(x)`` through ``g``'s rule: see the module docstring."""
    params = eqn.params
    n_consts = params["num_consts"]
    if params["symbolic_zeros"] or any(
        isinstance(v, Series) for v in values[:n_consts]
    ):
        raise UnsupportedPrimitive(
            "custom_jvp_call (symbolic zeros or closed-over series)"
        )
    body = params["call_jaxpr"]
    y0 = core.jaxpr_as_fun(body)(*[order0(v) for v in values])
    primals = values[n_consts:]
    rule, rule_consts, zeros = params["jvp_jaxpr_fun"].call_wrapped(
        *([False] * len(primals))
    )
    floats = [is_float(v.aval) for v in eqn.outvars]
    states = [store.state(lift(y, n)) if f else None for y, f in zip(y0, floats)]
    known = {
        var: _truncate(Series(state[1]), n - 1)
        for var, state in zip(rule.outvars[: len(y0)], states)
        if state is not None and isinstance(var, core.Var)
    }
    avals = [v.aval for v in eqn.invars[n_consts:]]
    args = [_truncate(v, n - 1) for v in primals]
    args += [_tangent(v, a, n) for v, a in zip(primals, avals)]
    outs = evaluate(rule, rule_consts, args, n - 1, store, known)
    tangents = iter(outs[len(y0) :])
    results = []
    for y, state, zero in zip(y0, states, zeros):
        tangent = None if zero else next(tangents)
        if state is None:
            results.append(y)
            continue
        dy = (
            lift(jnp.zeros_like(y), n - 1)
            if tangent is None
            else _series_of(tangent, n - 1)
        )
        new = integral(y, dy.astype(y.dtype))
        store.put(state[0], new)
        results.append(Series(new))
    return results


def _series_of(value, n: int):
    return value.c if isinstance(value, Series) else lift(value, n)


def _pass(jaxpr, consts, flat, start: int, n: int, step, old):
    """One evaluation of ``jaxpr``: its output series and the new iterates."""
    inputs = list(flat)
    inputs[start] = Series(lift(flat[start], n).at[1].set(step))
    store = Store(old)
    outs = evaluate(jaxpr, consts, inputs, n, store)
    return [_series_of(o, n) for o in outs], store.iterates()


def taylor_coefficients(
    f: Callable, args: Sequence, argnum: int, order: int, step: float = 1.0
):
    """The series of ``f``'s output along :math:`x_{argnum} = x_0 + h t`.

    Returns ``f``'s output pytree, each leaf replaced by an array of shape
    ``(order + 1, *leaf.shape)``:
    :math:`c_k = h^k\\,\\partial^k f / \\partial x^k / k!` (``h = step``).
    Raises :class:`UnsupportedPrimitive` for a primitive without a series rule.

    Example:
        >>> import calculax.numpy as cnp
        >>> taylor_coefficients(cnp.exp, (0.0,), 0, 3)  # 1/k!, through exp's rule
        Array([1.        , 1.        , 0.5       , 0.16666667], dtype=float32)
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


def series_obstacle(f: Callable, args: Sequence, argnum: int, order: int) -> str | None:
    """The first primitive of ``f`` (or of a rule it calls) without a series rule."""
    try:
        jax.make_jaxpr(lambda *a: taylor_coefficients(f, a, argnum, order))(*args)
    except UnsupportedPrimitive as error:
        return error.primitive
    return None

"""The integration loop: one ``lax.while_loop`` over diffrax solver steps.

Written around diffrax's ``solver.step`` and ``PIDController.adapt_step_size``
rather than ``diffeqsolve`` because events must be *recorded* (every occurrence, with
terminal counts); a ``diffeqsolve`` event can only stop the solve. The loop detects
and books occurrences (``_crossings.py``); they are located after it, all at once
(``_locate.py``). Memory is bounded by the outputs asked for (``t_eval``, event
capacities, dense output), not by the number of steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
from jax import lax

from ._crossings import Booked, Items, Records, StepData, StepView, book, candidates
from ._ensemble import while_loop_until_all_done
from ._locate import Located, Method, locate_all

__all__ = ["Problem", "integrate"]


class Problem(NamedTuple):
    """The flattened problem in forward time ``s`` (``s_start <= s_end``)."""

    term: diffrax.ODETerm
    solver: diffrax.AbstractSolver
    controller: diffrax.PIDController
    args: object
    s_start: jax.Array
    s_end: jax.Array
    y0: jax.Array
    g_all: Callable[[jax.Array, jax.Array], jax.Array] | None  # (s, y) -> (E,)
    event_config: tuple  # direction, terminal count, capacity: (E,) int arrays
    capacity: int
    teval_s: jax.Array | None
    dense: bool
    max_steps: int | jax.Array  # an int where it sizes the dense buffers
    interior_points: int


class _Carry(NamedTuple):
    s0: jax.Array
    s1: jax.Array
    y: jax.Array
    solver_state: object
    controller_state: tuple  # diffrax's PID state
    g0: tuple[jax.Array, jax.Array] | None  # events and their d/ds at s0
    records: Records | None
    failed: jax.Array  # 0 or the negative status
    n_steps: jax.Array
    n_accepted: jax.Array
    out_index: jax.Array
    out_y: jax.Array | None
    dense_s: jax.Array | None
    dense_info: object
    located: Located | None = None  # set by integrate, after the loop


def _init(p: Problem) -> _Carry:
    error_order = p.solver.error_order(p.term)
    s1, controller_state = p.controller.init(
        p.term, p.s_start, p.s_end, p.y0, None, p.args, p.solver.func, error_order
    )
    s1 = jnp.minimum(s1, p.s_end)
    solver_state = p.solver.init(p.term, p.s_start, s1, p.y0, p.args)
    n, dtype, int_ = p.y0.shape[0], p.y0.dtype, jnp.int32
    g0 = records = out_y = dense_s = dense_info = None
    if p.g_all is not None:
        g0 = _values_and_slopes(p, p.g_all, p.s_start, p.y0)
        records = _empty_records(p, g0[0].shape[0], s1)
    if p.teval_s is not None:
        out_y = jnp.full((p.teval_s.shape[0], n), jnp.nan, dtype)
    if p.dense:
        _, _, info, _, _ = jax.eval_shape(
            lambda: p.solver.step(
                p.term, p.s_start, s1, p.y0, p.args, solver_state, False
            )
        )
        dense_info = jax.tree.map(
            lambda x: jnp.zeros((p.max_steps, *x.shape), x.dtype), info
        )
        # Unused boundaries at +inf keep the array sorted for searchsorted.
        dense_s = jnp.full(p.max_steps + 1, jnp.inf, dtype).at[0].set(p.s_start)
    zero = jnp.asarray(0, int_)
    return _Carry(
        p.s_start,
        s1,
        p.y0,
        solver_state,
        controller_state,
        g0,
        records,
        zero,
        zero,
        zero,
        zero,
        out_y,
        dense_s,
        dense_info,
    )


def _empty_records(p: Problem, e: int, s1) -> Records:
    """No occurrences; unused slots hold the first step (harmless to locate)."""
    cap, n, dtype = p.capacity, p.y0.shape[0], p.y0.dtype
    nan = jnp.full((e, cap), jnp.nan, dtype)
    points = p.interior_points + 2
    zeros = jnp.zeros((e, points), dtype)
    no = jnp.zeros((e, points), bool)
    last = Items(zeros, zeros, zeros, zeros, no, no, jnp.zeros((e, points), jnp.int32))
    first = Booked(p.s_start, s1, p.y0)
    count = jnp.zeros(e, jnp.int32)
    return Records(
        counts=count,
        a=nan,
        b=nan,
        g_a=nan,
        g_b=nan,
        touch=jnp.zeros((e, cap), bool),
        steps=Booked(
            jnp.full((e, cap), p.s_start, dtype),
            jnp.full((e, cap), s1, dtype),
            jnp.broadcast_to(p.y0, (e, cap, n)),
        ),
        stopped=jnp.asarray(False),
        last=last,
        last_step=first,
        last_count=count,
    )


def _values_and_slopes(p: Problem, g_all: Callable, s, y):
    r"""The events at ``(s, y)`` and their rates :math:`dg/ds = \partial_s g +
    \nabla_y g \cdot f(s, y)` (for touches next to step ends; the rates only
    decide, so they are not differentiated)."""
    field = lax.stop_gradient(p.term.vf(s, y, p.args))
    values, slopes = jax.jvp(g_all, (s, y), (jnp.ones_like(s), field))
    return values, lax.stop_gradient(slopes)


def _grid(p: Problem, g_all: Callable, view: StepView, info, g0):
    r"""Event values at the step's ends (exact states) and interior points, and
    the events with their slopes at the end (``_values_and_slopes``).

    The interior states come from the step's interpolant on the unit interval:
    diffrax's interpolants depend on time only through
    :math:`\theta = (t - s_0) / (s_1 - s_0)` (their stage increments already
    carry the step size), so fixed fractions :math:`\theta` make the
    interpolation weights constants. Under ``jax.vmap`` the weighted sum of the
    stages is then one matrix product shared by the batch instead of a batched
    product per member (on CPU the latter made these samples cost more than the
    step itself).
    """
    dtype = view.s0.dtype
    fractions = jnp.linspace(0, 1, p.interior_points + 2, dtype=dtype)[1:-1]
    inner_s = view.s0 + fractions * (view.s1 - view.s0)
    unit = p.solver.interpolation_cls(
        t0=jnp.zeros((), dtype), t1=jnp.ones((), dtype), **info
    )
    inner_y = jax.vmap(unit.evaluate)(fractions)
    inner_g = jax.vmap(g_all)(inner_s, inner_y)
    g1, slope1 = _values_and_slopes(p, g_all, view.s1, view.y1)
    grid_s = jnp.concatenate([view.s0[None], inner_s, view.s1[None]])
    grid_g = jnp.concatenate([g0[0][:, None], inner_g.T, g1[:, None]], axis=1)
    return (grid_s, grid_g, inner_y), (g0[1], slope1), (g1, slope1)


def _fill_outputs(p: Problem, step_to, end, index, out_y, accept):
    """States at the ``t_eval`` points in the step, each by one step of the method
    from the step's start (as accurate as the steps; the interpolant is less so)."""

    def cond(c):
        i, _ = c
        safe = jnp.minimum(i, p.teval_s.shape[0] - 1)
        return accept & (i < p.teval_s.shape[0]) & (p.teval_s[safe] <= end)

    def body(c):
        i, out = c
        return i + 1, out.at[i].set(step_to(p.teval_s[i]))

    return lax.while_loop(cond, body, (index, out_y))


def _adapt(p: Problem, floor, c: _Carry, y1, y_error, solver_result):
    """Accept or reject; the next step (clipped to the end, as diffrax does); a
    failure status when the step size collapses (-2 if the state went non-finite)."""
    y_error = jnp.where(jnp.isnan(y_error), jnp.inf, y_error)
    error_order = p.solver.error_order(p.term)
    if error_order is None:  # as diffrax's PIDController would (not for METHODS)
        raise ValueError(f"solve_ivp: {type(p.solver).__name__} has no error order")
    accept, next_s0, next_s1, _, controller_state, _ = p.controller.adapt_step_size(
        c.s0,
        c.s1,
        c.y,
        y1,
        p.args,
        y_error,
        error_order,
        c.controller_state,
    )
    next_s0 = jnp.minimum(next_s0, p.s_end)
    clip = next_s1 > floor
    next_s1 = jnp.where(
        clip, jnp.where(accept, p.s_end, next_s0 + 0.5 * (p.s_end - next_s0)), next_s1
    )
    eps = jnp.finfo(c.s0.dtype).eps
    min_step = 10 * eps * jnp.maximum(jnp.abs(c.s0), jnp.abs(p.s_end))
    collapsed = ~accept & (next_s1 - next_s0 < min_step)
    nonfinite = ~jnp.all(jnp.isfinite(y1))
    solver_failed = accept & (solver_result != diffrax.RESULTS.successful)
    failed = jnp.where(collapsed | solver_failed, jnp.where(nonfinite, -2, -1), 0)
    return accept, next_s0, next_s1, controller_state, failed


def _store_dense(p: Problem, c: _Carry, accept, info):
    """Append an accepted step's end and interpolation coefficients."""
    if c.dense_s is None:  # not p.dense
        return c.dense_s, c.dense_info
    slot = jnp.where(accept, c.n_accepted, p.max_steps)  # out of range: dropped
    dense_s = c.dense_s.at[slot + 1].set(c.s1, mode="drop")
    dense_info = jax.tree.map(
        lambda buf, x: buf.at[slot].set(x, mode="drop"), c.dense_info, info
    )
    return dense_s, dense_info


def _going(p: Problem, c: _Carry) -> jax.Array:
    going = (c.s0 < p.s_end) & (c.failed == 0) & (c.n_steps < p.max_steps)
    if c.records is not None:
        going = going & ~c.records.stopped
    return going


def _body(p: Problem, floor, c: _Carry) -> _Carry:
    """One attempted step; the identity for a finished solve (so that the batched
    loop, ``_ensemble.py``, needs no selects)."""
    active = _going(p, c)
    y1, y_error, info, solver_state, solver_result = p.solver.step(
        p.term, c.s0, c.s1, c.y, p.args, c.solver_state, False
    )
    accept, next_s0, next_s1, controller_state, failed = _adapt(
        p, floor, c, y1, y_error, solver_result
    )
    accept = accept & active
    view = StepView(
        c.s0, c.s1, c.y, y1, p.solver.interpolation_cls(t0=c.s0, t1=c.s1, **info)
    )

    def step_to(s):
        """One step of the method from the step's start to ``s`` (exact at ends)."""
        y = p.solver.step(p.term, c.s0, s, c.y, p.args, c.solver_state, False)[0]
        return jnp.where(s == c.s1, y1, jnp.where(s == c.s0, c.y, y))

    def tolerance(y):
        return p.controller.atol + p.controller.rtol * jnp.abs(y)

    g1, records = c.g0, c.records
    if p.g_all is not None:
        assert c.g0 is not None and c.records is not None  # set with g_all (_init)
        grid, slopes, g1_new = _grid(p, p.g_all, view, info, c.g0)
        items = candidates(view, p.g_all, grid, slopes, p.event_config[0], tolerance)
        step = Booked(c.s0, c.s1, c.y)
        records = book(c.records, items, step, accept, p.event_config)
        g1 = jax.tree.map(lambda new, old: jnp.where(accept, new, old), g1_new, c.g0)
    out_index, out_y = c.out_index, c.out_y
    if p.teval_s is not None:
        out_index, out_y = _fill_outputs(p, step_to, c.s1, c.out_index, c.out_y, accept)
    dense_s, dense_info = _store_dense(p, c, accept, info)

    def keep(a, b):
        return jnp.where(accept, a, b)

    def if_active(a, b):
        return jnp.where(active, a, b)

    return _Carry(
        s0=if_active(next_s0, c.s0),
        s1=if_active(next_s1, c.s1),
        y=keep(y1, c.y),
        solver_state=jax.tree.map(keep, solver_state, c.solver_state),
        controller_state=jax.tree.map(if_active, controller_state, c.controller_state),
        g0=g1,
        records=records,
        failed=if_active(failed, c.failed).astype(jnp.int32),
        n_steps=c.n_steps + active.astype(jnp.int32),
        n_accepted=c.n_accepted + accept.astype(jnp.int32),
        out_index=out_index,
        out_y=out_y,
        dense_s=dense_s,
        dense_info=dense_info,
    )


def integrate(p: Problem) -> _Carry:
    """Run the loop; return the final carry (see ``_Carry``)."""
    eps = jnp.finfo(p.s_end.dtype).eps
    floor = p.s_end - 100 * eps * jnp.abs(p.s_end)

    c = while_loop_until_all_done(
        lambda c: _going(p, c), lambda c: _body(p, floor, c), _init(p)
    )
    if c.records is None or p.g_all is None:  # no events (both None then)
        return c
    located = locate_all(c.records, p.event_config, _method(p, p.g_all))
    out_y = c.out_y
    if p.teval_s is not None and out_y is not None:  # (both or neither: _init)
        # a terminal stop inside the last step
        after = located.stopped & (p.teval_s > located.s_stop)
        out_y = jnp.where(after[:, None], jnp.nan, out_y)
    return c._replace(located=located, out_y=out_y)


def _method(p: Problem, g_all: Callable) -> Method:
    def step_to(data: StepData, s):
        y = p.solver.step(
            p.term, data.s0, s, data.y0, p.args, data.solver_state, False
        )[0]
        return jnp.where(s == data.s1, data.y1, jnp.where(s == data.s0, data.y0, y))

    def field(s, y):
        return p.term.vf(s, y, p.args)

    def restep(step: Booked) -> StepData:
        state = p.solver.init(p.term, step.s0, step.s1, step.y0, p.args)
        y1, _, info, _, _ = p.solver.step(
            p.term, step.s0, step.s1, step.y0, p.args, state, False
        )
        return StepData(step.s0, step.s1, step.y0, y1, state, info)

    return Method(g_all, field, restep, step_to, p.solver.interpolation_cls)

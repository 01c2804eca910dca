"""The integration loop: one ``lax.while_loop`` over a stepper's attempts.

Written around steppers (``_steppers.py``: diffrax's Runge--Kutta steps under
its ``PIDController``, or Radau IIA with its own controller) rather than
diffrax's ``diffeqsolve`` because events must be *recorded* (every occurrence,
with terminal counts); a ``diffeqsolve`` event can only stop the solve. The
loop detects and books occurrences (``_crossings.py``); they are located after
it, all at once (``_locate.py``). Memory is bounded by the outputs asked for
(``t_eval``, event capacities, dense output), not by the number of steps.

One call is one *chunk*: it stops at the end of the interval, at a terminal
event, at a failure, after ``max_steps`` attempts, before a step whose
occurrences would not fit the event records, or (``detect_stiffness``) when the
problem's stiffness calls for the other kind of method. ``_chunks.py`` continues
from where a chunk stopped, outside ``jit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import diffrax
import jax
import jax.numpy as jnp
from jax import lax

from ._crossings import (
    Booked,
    Records,
    StepData,
    StepView,
    book,
    candidates,
    empty_records,
)
from ._ensemble import while_loop_until_all_done
from ._locate import Located, Method, locate_all
from ._steppers import DiffraxStepper, initial_step

__all__ = ["CODES", "Problem", "integrate"]

# Why a chunk stopped (besides reaching the end or a terminal event).
CODES = dict(
    collapsed=1,
    nonfinite_state=2,
    max_steps=3,
    max_events=4,
    nonfinite_event=5,
    stiff=6,  # an explicit method met stiffness: continue with Radau
    nonstiff=7,  # Radau's steps are set by accuracy: continue explicitly
)
_STIFF_STEPS = 15  # consecutive stiff steps before switching (Hairer's DOPRI5)
_RESET_AFTER = 6  # non-stiff steps that reset the count


class Problem(NamedTuple):
    """The flattened problem in forward time ``s`` (``s_start <= s_end``)."""

    term: diffrax.ODETerm
    stepper: Any  # _steppers.DiffraxStepper or _radau.Radau
    args: object
    s_start: jax.Array
    s_end: jax.Array
    y0: jax.Array
    g_all: Callable[[jax.Array, jax.Array], jax.Array] | None  # (s, y) -> (E,)
    event_config: tuple  # direction, terminal count, capacity: (E,) int arrays
    capacity: int
    teval_s: jax.Array | None
    teval_start: jax.Array  # first t_eval index this chunk may fill
    dense: bool
    max_steps: int | jax.Array  # an int where it sizes the dense buffers
    interior_points: int
    first_step: jax.Array  # nan: choose
    max_step: jax.Array
    rtol: jax.Array
    atol: jax.Array
    detect_stiffness: bool
    step_like: tuple  # per event: a jump (zero derivative wherever defined)
    stability: float  # the explicit method's real stability limit h*rho


class _Carry(NamedTuple):
    s0: jax.Array
    s1: jax.Array
    y: jax.Array
    state: object
    g0: tuple[jax.Array, jax.Array] | None  # events and their d/ds at s0
    records: Records | None
    failed: jax.Array  # 0 or a CODES value
    n_steps: jax.Array
    n_accepted: jax.Array
    counts: jax.Array  # nfev, njev, nlu
    stiff: jax.Array  # (2,) counters of the stiffness test
    out_index: jax.Array
    out_y: jax.Array | None
    dense_s: jax.Array | None
    dense_y: jax.Array | None
    dense_info: object
    located: Located | None = None  # set by integrate, after the loop


def _field(p: Problem):
    def field(s, y):
        return p.term.vf(s, y, p.args)

    return field


def _first_step(p: Problem, f0):
    """``first_step`` if given, else :func:`initial_step` (one evaluation)."""
    order = p.stepper.error_order(p.term)
    chosen = jnp.isnan(p.first_step)
    h = lax.cond(
        chosen,
        lambda: initial_step(
            _field(p), p.s_start, p.y0, f0, p.s_end, order, p.rtol, p.atol, p.max_step
        ),
        lambda: jnp.minimum(p.first_step, p.s_end - p.s_start).astype(p.y0.dtype),
    )
    return h, chosen.astype(jnp.int32)


def _init(p: Problem, floor) -> _Carry:
    n, dtype, int_ = p.y0.shape[0], p.y0.dtype, jnp.int32
    f0 = p.term.vf(p.s_start, p.y0, p.args)
    h0, heuristic = _first_step(p, f0)
    s1 = _clip_to_end(p, floor, p.s_start, p.s_start + h0, jnp.asarray(True))
    state = p.stepper.init(p.term, p.s_start, p.y0, p.args, f0)
    counts = jnp.array([1, 0, 0], int_) + jnp.array([1, 0, 0], int_) * heuristic
    if hasattr(p.stepper, "init_counts"):
        counts = counts + p.stepper.init_counts()
    g0 = records = out_y = dense_s = dense_y = dense_info = None
    failed = jnp.asarray(0, int_)
    if p.g_all is not None:
        g0 = _values_and_slopes(p, p.g_all, p.s_start, p.y0)
        records = empty_records(p, g0[0].shape[0], s1)
        bad = ~jnp.all(jnp.isfinite(g0[0]))
        failed = jnp.where(bad, CODES["nonfinite_event"], failed)
    if p.teval_s is not None:
        out_y = jnp.full((p.teval_s.shape[0], n), jnp.nan, dtype)
    if p.dense:
        _, _, info, _, _, _, _ = jax.eval_shape(
            lambda: p.stepper.attempt(p.term, p.s_start, s1, p.y0, p.args, state)
        )
        dense_info = jax.tree.map(
            lambda x: jnp.zeros((p.max_steps, *x.shape), x.dtype), info
        )
        # Unused boundaries at +inf keep the array sorted for searchsorted.
        dense_s = jnp.full(p.max_steps + 1, jnp.inf, dtype).at[0].set(p.s_start)
        dense_y = jnp.full((p.max_steps + 1, n), jnp.nan, dtype).at[0].set(p.y0)
    zero = jnp.asarray(0, int_)
    return _Carry(
        s0=p.s_start,
        s1=s1,
        y=p.y0,
        state=state,
        g0=g0,
        records=records,
        failed=failed,
        n_steps=zero,
        n_accepted=zero,
        counts=counts,
        stiff=jnp.zeros(2, int_),
        out_index=jnp.asarray(p.teval_start, int_),
        out_y=out_y,
        dense_s=dense_s,
        dense_y=dense_y,
        dense_info=dense_info,
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
    the interpolants depend on time only through
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
    unit = p.stepper.interpolation_cls(
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


def _clip_to_end(p: Problem, floor, s0, s1, accept):
    """Steps that would end within 100 ulp of the end end there (accepted) or
    halve the remaining interval (rejected), as diffrax does; an infinite end is
    never clipped to."""
    clip = s1 > floor
    return jnp.where(clip, jnp.where(accept, p.s_end, s0 + 0.5 * (p.s_end - s0)), s1)


def _store_dense(p: Problem, c: _Carry, accept, y1, info):
    """Append an accepted step's end, state and interpolation coefficients."""
    if c.dense_s is None:  # not p.dense
        return c.dense_s, c.dense_y, c.dense_info
    slot = jnp.where(accept, c.n_accepted, p.max_steps)  # out of range: dropped
    assert c.dense_s is not None and c.dense_y is not None
    dense_s = c.dense_s.at[slot + 1].set(c.s1, mode="drop")
    dense_y = c.dense_y.at[slot + 1].set(y1, mode="drop")
    dense_info = jax.tree.map(
        lambda buf, x: buf.at[slot].set(x, mode="drop"), c.dense_info, info
    )
    return dense_s, dense_y, dense_info


def _going(p: Problem, c: _Carry) -> jax.Array:
    going = (c.s0 < p.s_end) & (c.failed == 0) & (c.n_steps < p.max_steps)
    if c.records is not None:
        going = going & ~c.records.stopped
    return going


def _stiffness(p: Problem, c: _Carry, accept, info, h):
    """The stiffness counters after an accepted step and whether to switch."""
    if not p.detect_stiffness:
        return c.stiff, jnp.asarray(0, jnp.int32)
    stiff_count, calm_count = c.stiff[0], c.stiff[1]
    if isinstance(p.stepper, DiffraxStepper):
        stiff = p.stepper.stiffness(info, h) > p.stability
        stiff_count = jnp.where(
            stiff,
            stiff_count + 1,
            jnp.where(calm_count + 1 >= _RESET_AFTER, 0, stiff_count),
        )
        calm_count = jnp.where(stiff, 0, calm_count + 1)
        switch = stiff_count >= _STIFF_STEPS
        code = CODES["stiff"]
    else:  # Radau: switch back when an explicit method would be stable
        calm = p.stepper.stiffness(c.state, h) < 0.5 * p.stability
        calm_count = jnp.where(calm, calm_count + 1, 0)
        switch = calm_count >= _STIFF_STEPS
        code = CODES["nonstiff"]
    new = jnp.stack([stiff_count, calm_count]).astype(jnp.int32)
    new = jnp.where(accept, new, c.stiff)
    return new, jnp.where(accept & switch, code, 0).astype(jnp.int32)


def _events(p: Problem, c: _Carry, view: StepView, info, accept):
    """Detect and book the step's occurrences; a failure code when an event is
    not finite in the step or its occurrences would overflow the records."""
    if p.g_all is None:
        return c.g0, c.records, jnp.asarray(0, jnp.int32)
    assert c.g0 is not None and c.records is not None  # set with g_all (_init)
    grid, slopes, g1_new = _grid(p, p.g_all, view, info, c.g0)

    def tolerance(y):
        return p.atol + p.rtol * jnp.abs(y)

    items = candidates(view, p.g_all, grid, slopes, p.event_config[0], tolerance)
    nonfinite = accept & ~jnp.all(jnp.isfinite(grid[1]))
    wanted = c.records.counts + items.valid.sum(axis=1)
    full = accept & (wanted > p.event_config[2])  # (E,)
    code = jnp.where(
        nonfinite,
        CODES["nonfinite_event"],
        jnp.where(jnp.any(full), CODES["max_events"], 0),
    ).astype(jnp.int32)
    ok = accept & (code == 0)
    step = Booked(c.s0, c.s1, c.y)
    records = book(c.records, items, step, ok, p.event_config)
    records = records._replace(overflow=records.overflow | (full & ~nonfinite))
    g1 = jax.tree.map(lambda new, old: jnp.where(ok, new, old), g1_new, c.g0)
    return g1, records, code


def _body(p: Problem, floor, c: _Carry) -> _Carry:
    """One attempted step; the identity for a finished solve (so that the batched
    loop, ``_ensemble.py``, needs no selects)."""
    active = _going(p, c)
    accept, y1, info, h_next, state, counts, solver_failed = p.stepper.attempt(
        p.term, c.s0, c.s1, c.y, p.args, c.state
    )
    accept = accept & active
    view = StepView(
        c.s0, c.s1, c.y, y1, p.stepper.interpolation_cls(t0=c.s0, t1=c.s1, **info)
    )
    g1, records, event_code = _events(p, c, view, info, accept)
    stiff, switch = _stiffness(p, c, accept & (event_code == 0), info, c.s1 - c.s0)
    ok = accept & (event_code == 0)
    next_s0 = jnp.where(ok, c.s1, c.s0)
    next_s1 = _clip_to_end(p, floor, next_s0, next_s0 + h_next, ok)
    eps, tiny = jnp.finfo(c.s0.dtype).eps, jnp.finfo(c.s0.dtype).tiny
    min_step = 10 * jnp.maximum(eps * jnp.abs(c.s0), tiny)
    collapsed = active & ~accept & (h_next < min_step)
    nonfinite = ~jnp.all(jnp.isfinite(y1))
    failed = jnp.where(
        collapsed | (active & solver_failed),
        jnp.where(nonfinite, CODES["nonfinite_state"], CODES["collapsed"]),
        jnp.where(event_code != 0, event_code, switch),
    )

    def step_to(s):
        y = p.stepper.step_to(p.term, c.s0, c.s1, s, c.y, p.args, c.state, info)
        return jnp.where(s == c.s1, y1, y)

    out_index, out_y = c.out_index, c.out_y
    if p.teval_s is not None:
        out_index, out_y = _fill_outputs(p, step_to, c.s1, c.out_index, c.out_y, ok)
    dense_s, dense_y, dense_info = _store_dense(p, c, ok, y1, info)

    def keep(a, b):
        return jnp.where(ok, a, b)

    moving = active & (event_code == 0)

    def if_moving(a, b):
        return jnp.where(moving, a, b)

    return _Carry(
        s0=if_moving(next_s0, c.s0),
        s1=if_moving(next_s1, c.s1),
        y=keep(y1, c.y),
        state=jax.tree.map(if_moving, state, c.state),
        g0=g1,
        records=records,
        failed=jnp.where(active, failed, c.failed).astype(jnp.int32),
        n_steps=c.n_steps + active.astype(jnp.int32),
        n_accepted=c.n_accepted + ok.astype(jnp.int32),
        counts=c.counts + jnp.where(active, counts, 0),
        stiff=stiff,
        out_index=out_index,
        out_y=out_y,
        dense_s=dense_s,
        dense_y=dense_y,
        dense_info=dense_info,
    )


def integrate(p: Problem) -> _Carry:
    """Run the loop; return the final carry (see ``_Carry``)."""
    eps = jnp.finfo(p.s_end.dtype).eps
    floor = p.s_end - 100 * eps * jnp.abs(p.s_end)  # nan for an infinite end
    c = while_loop_until_all_done(
        lambda c: _going(p, c), lambda c: _body(p, floor, c), _init(p, floor)
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
        y = p.stepper.step_to(
            p.term, data.s0, data.s1, s, data.y0, p.args, data.solver_state, data.info
        )
        return jnp.where(s == data.s1, data.y1, jnp.where(s == data.s0, data.y0, y))

    def restep(step: Booked) -> StepData:
        y1, info, state = p.stepper.restep(p.term, step.s0, step.s1, step.y0, p.args)
        return StepData(step.s0, step.s1, step.y0, y1, state, info)

    return Method(
        g_all, _field(p), restep, step_to, p.stepper.interpolation_cls, p.step_like
    )

"""Detecting event occurrences inside each accepted step, without locating them.

The integration loop only *detects* and *books* occurrences; they are located after
the loop (``_locate.py``). Under ``jax.vmap`` every branch of a loop body runs for
every member, so a root find inside the loop would run, for the whole batch, in
every step where any member has a crossing; detection is a fixed amount of
vectorised work per step instead.

Each event ``j`` is sampled at ``P`` times of the step (``grid_s``, values
``grid_g[j]``). Its candidate occurrences are the ``P - 1`` intervals between
samples, and a touch or a close pair of roots between samples (``_touches.py``):

- interval ``i`` holds a crossing when both samples are finite, :math:`g_i \\ne 0` and
  :math:`\\operatorname{sign} g_{i+1} \\ne \\operatorname{sign} g_i` (arriving at an
  exact zero counts; leaving one does not, so a root is never seen twice, and an
  event that is exactly zero at :math:`t_0` does not fire there). A sign change
  brackets an odd number of roots; the one located is the occurrence;
- its direction is :math:`-\\operatorname{sign} g_i`; crossings in the other
  direction than the event's ``direction`` are not occurrences.

Occurrences are numbered per event in time order (a touch lies strictly inside a
triple of samples without a sign change, so ordering by interval start and touch
time is exact) and booked in the record slot ``counts + rank`` with the step's data
(stored once per step that books anything). A terminal event that reaches its count
stops the loop after the step; which of that step's occurrences come before the
stop is decided after location.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp

from ._touches import find_touches

__all__ = [
    "Booked",
    "Items",
    "Records",
    "StepData",
    "StepView",
    "book",
    "candidates",
    "empty_records",
]


class StepView(NamedTuple):
    """One accepted step ``[s0, s1]`` and its interpolant (exact at both ends)."""

    s0: jax.Array
    s1: jax.Array
    y0: jax.Array
    y1: jax.Array
    interpolation: diffrax.AbstractLocalInterpolation

    def state(self, s):
        inside = self.interpolation.evaluate(s)
        return jnp.where(
            s == self.s1, self.y1, jnp.where(s == self.s0, self.y0, inside)
        )


class StepData(NamedTuple):
    """What locating an occurrence needs of its step: ends, states, the solver's
    state at the start (for a fresh step to any time) and the interpolation
    coefficients. Only ``s0, s1, y0`` are booked (``Booked``): the rest is
    recomputed after the loop by the same step (far less carried data)."""

    s0: jax.Array
    s1: jax.Array
    y0: jax.Array
    y1: jax.Array
    solver_state: object
    info: object


class Booked(NamedTuple):
    """A step as booked: its ends and starting state."""

    s0: jax.Array
    s1: jax.Array
    y0: jax.Array


class Items(NamedTuple):
    """Candidate occurrences of one step, ``(E, P)``: ``P - 1`` intervals, a touch.

    A crossing's bracket is ``[a, b]`` with values ``g_a``, ``g_b``; a touch has
    ``a = b =`` its time. ``valid``: an occurrence of the event (direction
    included); ``rank``: its number among the event's occurrences in the step.
    """

    a: jax.Array
    b: jax.Array
    g_a: jax.Array
    g_b: jax.Array
    touch: jax.Array
    valid: jax.Array
    rank: jax.Array


class Records(NamedTuple):
    """Booked occurrences: counts ``(E,)`` (exact, even past capacity), per slot
    ``(E, cap)`` the bracket and its step (``Booked``, leaves ``(E, cap, ...)``),
    whether a terminal count was reached, and the last accepted step with its
    candidates and the counts before it."""

    counts: jax.Array  # not `count`, which would shadow tuple.count
    a: jax.Array
    b: jax.Array
    g_a: jax.Array
    g_b: jax.Array
    touch: jax.Array
    steps: Booked
    stopped: jax.Array
    last: Items
    last_step: Booked
    last_count: jax.Array
    overflow: jax.Array  # (E,) whose occurrences in a step would not fit


def _armed_start(s0, g0, grid_s, grid_g):
    """Per event: ``s0``, or the first nonzero sample where ``g0 == 0``."""
    nonzero = (grid_s[None, :] > s0) & (grid_g != 0)
    first = jnp.argmax(nonzero, axis=1)
    move = (g0 == 0) & nonzero.any(axis=1)
    return jnp.where(move, grid_s[first], s0)


def candidates(
    view: StepView,
    g_all: Callable,
    grid: tuple[jax.Array, jax.Array, jax.Array],
    slopes: tuple[jax.Array, jax.Array],
    direction: jax.Array,
    tolerance: Callable,
) -> Items:
    """The step's candidate occurrences (see the module docstring).

    ``grid`` is ``(grid_s, grid_g, grid_y)``: the events ``(E, P)`` at the ``P``
    sample times (``grid_s[0] = s0``, ``grid_s[-1] = s1``) and the states at the
    interior ones ``(P - 2, n)``; ``slopes``: :math:`dg/ds` at ``s0`` and ``s1``
    ``(E,)`` (for touches next to the step's ends); ``direction`` ``(E,)``;
    ``tolerance(y)`` is ``atol + rtol |y|`` (for touches). The last two columns
    hold a touch, or the two crossings of a close pair of roots.
    """
    grid_s, grid_g, _ = grid
    e = grid_g.shape[0]
    left, right = grid_g[:, :-1], grid_g[:, 1:]
    finite = jnp.isfinite(left) & jnp.isfinite(right)
    going = -jnp.sign(left).astype(direction.dtype)
    wanted = (direction[:, None] == 0) | (direction[:, None] == going)
    crossing = finite & (left != 0) & (jnp.sign(right) != jnp.sign(left)) & wanted
    lo = _armed_start(view.s0, grid_g[:, 0], grid_s, grid_g)
    near = find_touches(view, g_all, lo, grid, slopes, tolerance)
    sigma = jnp.sign(near.g_a).astype(direction.dtype)  # the samples' sign
    first_ok = (direction == 0) | (direction == -sigma)
    second_ok = (direction == 0) | (direction == sigma)
    touch_ok = near.touch & (direction == 0)
    starts = jnp.broadcast_to(grid_s[:-1], left.shape)
    ends = jnp.broadcast_to(grid_s[1:], left.shape)
    zero = jnp.zeros((e,), left.dtype)
    # Touch: a = b = its time; pair: [a, m] and [m, b].
    t1_a = jnp.where(near.pair, near.a, near.m)
    t1_b = near.m
    t2_a, t2_b = near.m, near.b
    a = jnp.concatenate([starts, t1_a[:, None], t2_a[:, None]], axis=1)
    valid = jnp.concatenate(
        [
            crossing,
            (touch_ok | (near.pair & first_ok))[:, None],
            (near.pair & second_ok)[:, None],
        ],
        axis=1,
    )
    # Rank: valid candidates of the same event that come earlier (keys distinct).
    earlier = valid[:, None, :] & (a[:, None, :] < a[:, :, None])
    return Items(
        a=a,
        b=jnp.concatenate([ends, t1_b[:, None], t2_b[:, None]], axis=1),
        g_a=jnp.concatenate(
            [left, jnp.where(near.pair, near.g_a, zero)[:, None], near.g_m[:, None]],
            axis=1,
        ),
        g_b=jnp.concatenate(
            [right, jnp.where(near.pair, near.g_m, zero)[:, None], near.g_b[:, None]],
            axis=1,
        ),
        touch=jnp.concatenate(
            [
                jnp.zeros(left.shape, bool),
                (~near.pair)[:, None],
                jnp.zeros((e, 1), bool),
            ],
            axis=1,
        ),
        valid=valid,
        rank=jnp.sum(earlier, axis=2).astype(jnp.int32),
    )


def empty_records(p, e: int, s1) -> Records:
    """No occurrences; unused slots hold the first step (harmless to locate)."""
    cap, n, dtype = p.capacity, p.y0.shape[0], p.y0.dtype
    nan = jnp.full((e, cap), jnp.nan, dtype)
    columns = p.interior_points + 3  # P - 1 intervals, a touch or a pair
    zeros = jnp.zeros((e, columns), dtype)
    no = jnp.zeros((e, columns), bool)
    last = Items(zeros, zeros, zeros, zeros, no, no, jnp.zeros((e, columns), jnp.int32))
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
        overflow=jnp.zeros(e, bool),
    )


def book(
    records: Records,
    items: Items,
    step: Booked,
    accept: jax.Array,
    config: tuple[jax.Array, jax.Array, jax.Array],
) -> Records:
    """Book an accepted step's occurrences: slot ``counts + rank`` while within the
    event's capacity (bracket and step), the count always; note whether a terminal
    count is reached. Writes are scatters that drop out-of-range slots, so nothing
    larger than the written slots is copied."""
    _, terminal, capacity = config
    e, cap = records.a.shape
    slot = records.counts[:, None] + items.rank
    write = accept & items.valid & (slot < capacity[:, None])
    rows = jnp.broadcast_to(jnp.arange(e)[:, None], slot.shape)
    cols = jnp.where(write, slot, cap)  # out of range: dropped

    def put(buf, x):
        x = jnp.broadcast_to(x, (*slot.shape, *buf.shape[2:]))
        return buf.at[rows, cols].set(x, mode="drop")

    count = records.counts + jnp.where(accept, items.valid.sum(axis=1), 0)
    stop = accept & jnp.any((terminal > 0) & (count >= terminal))

    def keep(new, old):
        return jnp.where(accept, new, old)

    return Records(
        counts=count.astype(records.counts.dtype),
        a=put(records.a, items.a),
        b=put(records.b, items.b),
        g_a=put(records.g_a, items.g_a),
        g_b=put(records.g_b, items.g_b),
        touch=put(records.touch, items.touch),
        steps=Booked(
            put(records.steps.s0, step.s0),
            put(records.steps.s1, step.s1),
            put(records.steps.y0, step.y0[None, None]),
        ),
        stopped=records.stopped | stop,
        last=jax.tree.map(keep, items, records.last),
        last_step=jax.tree.map(keep, step, records.last_step),
        last_count=keep(records.counts, records.last_count),
        overflow=records.overflow,
    )

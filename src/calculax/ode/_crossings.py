"""Finding every event occurrence inside one accepted step, earliest first.

Each event ``j`` keeps a reference point ``lo[j]`` in the step with value
``g_lo[j]``: the step's start, or the right end of the bracket of its last located
root. Its next occurrence is the first sample after ``lo[j]`` whose sign differs from
``sign(g_lo[j])`` (a zero counts as different). The sign changes of all events are
located in parallel with Chandrupatla's method; the earliest root wins, is recorded,
and its event's reference moves just past it, so the same root is never found again.
Where ``g_lo[j] == 0`` (an exact zero at the start of the solve, or a root hit
exactly), the event is re-armed by the first nonzero sample without firing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._root import chandrupatla
from ._touches import find_touches

__all__ = ["Records", "StepView", "find_occurrences"]


class StepView(NamedTuple):
    """One accepted step ``[s0, s1]`` and its interpolant (exact at both ends)."""

    s0: jax.Array
    s1: jax.Array
    y0: jax.Array
    y1: jax.Array
    interpolation: object

    def state(self, s):
        inside = self.interpolation.evaluate(s)
        return jnp.where(
            s == self.s1, self.y1, jnp.where(s == self.s0, self.y0, inside)
        )


class Records(NamedTuple):
    """Occurrences so far: counts ``(E,)``, times ``(E, cap)``, states
    ``(E, cap, n)``; whether and where a terminal event stopped the solve."""

    count: jax.Array
    s: jax.Array
    y: jax.Array
    stopped: jax.Array
    s_stop: jax.Array
    y_stop: jax.Array


class _Search(NamedTuple):
    lo: jax.Array
    g_lo: jax.Array
    touch: jax.Array  # (E,) time of a touch not yet recorded, or inf
    records: Records


def _arm(lo, g_lo, grid_s, grid_g):
    """Move a reference with ``g == 0`` to the first nonzero sample after it."""
    after = grid_s[None, :] > lo[:, None]
    nonzero = after & (grid_g != 0)
    first = jnp.argmax(nonzero, axis=1)
    move = (g_lo == 0) & nonzero.any(axis=1)
    rows = jnp.arange(lo.shape[0])
    return (
        jnp.where(move, grid_s[first], lo),
        jnp.where(move, grid_g[rows, first], g_lo),
    )


def _brackets(lo, g_lo, grid_s, grid_g):
    """Per event: is there a sign change after ``lo``, and its bracket ``[a, b]``."""
    after = grid_s[None, :] > lo[:, None]
    differ = after & (jnp.sign(grid_g) != jnp.sign(g_lo)[:, None])
    differ = differ & (g_lo != 0)[:, None]
    has = differ.any(axis=1)
    m = jnp.argmax(differ, axis=1)
    rows = jnp.arange(lo.shape[0])
    prev = jnp.maximum(m - 1, 0)
    use_lo = lo >= grid_s[prev]
    a = jnp.where(use_lo, lo, grid_s[prev])
    g_a = jnp.where(use_lo, g_lo, grid_g[rows, prev])
    return has, a, g_a, grid_s[m], grid_g[rows, m]


def _locate(view, g_all, has, a, g_a, b, g_b):
    """Roots of every event with a bracket (others: ``inf``), on the interpolant."""
    view = jax.tree.map(lax.stop_gradient, view)
    eps = jnp.finfo(view.s0.dtype).eps
    atol = eps * jnp.abs(view.s1 - view.s0)

    def one(j, a, g_a, b, g_b):
        def f(s):
            return g_all(s, view.state(s))[j]

        return chandrupatla(f, a, b, g_a, g_b, atol)

    events = jnp.arange(a.shape[0])
    g_b = jnp.where(has, g_b, 0)  # no bracket: returns at once
    root, _, right, g_right, _ = jax.vmap(one)(events, a, g_a, b, g_b)
    return jnp.where(has, root, jnp.inf), right, g_right


def _polish(polish, g_one, s):
    r"""Newton-correct the interpolant's root ``s`` on a fresh solver step.

    The interpolant is less accurate than the steps (diffrax's Dopri8 interpolant
    is ~1e-10 off at rtol 1e-12), so the state at ``s`` is recomputed by one step of
    the method from the step's start, :math:`y_s`, and ``s`` is corrected by one
    Newton step :math:`s^* = s - g(s, y_s) / (dg/ds)`, with
    :math:`dg/ds = \partial_s g + \nabla_y g \cdot f(s, y_s)` held constant: its
    tangent is then exactly the implicit-function-theorem one,
    :math:`\dot s^* = -\dot g / (dg/ds)`, and the root finder's iterations are
    never differentiated. The state is :math:`y^* = y_s + f(s, y_s)(s^* - s)`.
    """
    step_to, field = polish
    s = lax.stop_gradient(s)
    y_s = step_to(s)
    f_s = field(s, y_s)
    g, slope = jax.jvp(
        lambda u, y: g_one(u, y),
        (s, y_s),
        (jnp.ones_like(s), f_s),
    )
    # Double-where: a grazing root has dg/ds = 0; it keeps the interpolant's time.
    flat = slope == 0
    slope = lax.stop_gradient(jnp.where(flat, 1, slope))
    s_star = s - jnp.where(flat, 0, g / slope)
    return s_star, y_s + f_s * (s_star - s)


def find_occurrences(
    view: StepView,
    g_all: Callable,
    g0: jax.Array,
    grid: tuple[jax.Array, jax.Array],
    records: Records,
    config: tuple[jax.Array, jax.Array, jax.Array],
    polish: tuple[Callable, Callable],
    tolerance: Callable,
) -> Records:
    """Record every occurrence in the step, earliest first, until a terminal stop.

    ``grid`` is ``(grid_s, grid_g)``: the events ``(E, P)`` at the ``P`` sample
    times (``grid_s[0] = s0`` with ``grid_g[:, 0] = g0``, ``grid_s[-1] = s1``).
    ``config`` holds per-event ``direction``, terminal count (0: none), capacity.
    ``polish`` is ``(step_to, field)``: ``step_to(s)`` takes one solver step from the
    step's start to ``s``; ``field(s, y)`` is the vector field. ``tolerance(y)`` is
    ``atol + rtol |y|`` (for touches, ``_touches.py``).
    """
    grid_s, grid_g = grid
    direction, terminal, capacity = config
    lo, g_lo = _arm(jnp.full_like(g0, view.s0), g0, grid_s, grid_g)
    touch, touch_right, g_touch_right = find_touches(
        view, g_all, lo, grid_s, grid_g, tolerance
    )

    def cond(search):
        has = _brackets(search.lo, search.g_lo, grid_s, grid_g)[0]
        pending = jnp.isfinite(search.touch)
        return (has.any() | pending.any()) & ~search.records.stopped

    def body(search):
        has, a, g_a, b, g_b = _brackets(search.lo, search.g_lo, grid_s, grid_g)
        roots, right, g_right = _locate(view, g_all, has, a, g_a, b, g_b)
        k = jnp.argmin(jnp.minimum(roots, search.touch))
        is_touch = search.touch[k] < roots[k]
        crossing = -jnp.sign(search.g_lo[k]).astype(direction.dtype)
        matches = (direction[k] == 0) | ((direction[k] == crossing) & ~is_touch)
        s_root, y_root = _polish(polish, lambda s, y: g_all(s, y)[k], roots[k])
        s_touch = lax.stop_gradient(jnp.where(is_touch, search.touch[k], view.s0))
        s_root = jnp.where(is_touch, s_touch, s_root)
        y_root = jnp.where(is_touch, polish[0](s_touch), y_root)
        records = _record(search.records, k, matches, s_root, y_root, capacity)
        stop = matches & (terminal[k] > 0) & (records.count[k] >= terminal[k])
        records = records._replace(
            stopped=stop,
            s_stop=jnp.where(stop, s_root, records.s_stop),
            y_stop=jnp.where(stop, y_root, records.y_stop),
        )
        new_lo = jnp.where(is_touch, touch_right[k], right[k])
        new_g = jnp.where(is_touch, g_touch_right[k], g_right[k])
        lo = search.lo.at[k].set(new_lo)
        g_lo = search.g_lo.at[k].set(new_g)
        lo, g_lo = _arm(lo, g_lo, grid_s, grid_g)
        touch = search.touch.at[k].set(jnp.where(is_touch, jnp.inf, search.touch[k]))
        return _Search(lo, g_lo, touch, records)

    init = _Search(lo, g_lo, touch, records)
    return lax.while_loop(cond, body, init).records


def _record(records, k, matches, s_root, y_root, capacity):
    count = records.count[k] + matches.astype(records.count.dtype)
    slot = jnp.clip(count - 1, 0, records.s.shape[1] - 1)
    write = matches & (count <= capacity[k])
    s_new = records.s.at[k, slot].set(jnp.where(write, s_root, records.s[k, slot]))
    y_new = records.y.at[k, slot].set(jnp.where(write, y_root, records.y[k, slot]))
    return records._replace(count=records.count.at[k].set(count), s=s_new, y=y_new)

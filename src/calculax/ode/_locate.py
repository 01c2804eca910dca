"""Locating the booked occurrences after the loop, all at once.

Every booked occurrence (``_crossings.py``) keeps its bracket and its step's data,
so after the integration loop all of them are located in one vectorised pass:
Chandrupatla's method on the step's interpolant, then one Newton step on a fresh
step of the method (``_polish``). The candidates of the last step are located too:
when a terminal event stopped the loop there, the earliest terminal occurrence is
the stop, and that step's later occurrences are removed (earliest wins).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import diffrax
import jax
import jax.numpy as jnp
from jax import lax

from ._crossings import Booked, Records, StepData, StepView
from ._ensemble import any_member
from ._root import chandrupatla

__all__ = ["Located", "locate_all"]


class Located(NamedTuple):
    """Occurrences: counts ``(E,)``, times ``(E, cap)`` and states ``(E, cap, n)``
    (``nan`` past the count); whether and where a terminal event stopped."""

    counts: jax.Array  # not `count`, which would shadow tuple.count
    s: jax.Array
    y: jax.Array
    stopped: jax.Array
    s_stop: jax.Array
    y_stop: jax.Array


class Method(NamedTuple):
    """The problem's functions: events ``g_all(s, y) -> (E,)``, the field
    ``field(s, y)``, ``restep(booked) -> StepData`` (the booked step again),
    ``step_to(data, s)`` (one step of the method from the step's start to ``s``)
    and the solver's interpolation class."""

    g_all: Callable
    field: Callable
    restep: Callable
    step_to: Callable
    interpolation_cls: Callable[..., diffrax.AbstractLocalInterpolation]


def _polish(method: Method, data: StepData, j, s, newton):
    r"""The state at ``s`` by a fresh step, and where ``newton``, ``s`` corrected by
    one Newton step on it.

    The interpolant is less accurate than the steps (diffrax's Dopri8 interpolant
    is ~1e-10 off at rtol 1e-12), so the state at ``s`` is recomputed by one step of
    the method from the step's start, :math:`y_s`, and ``s`` is corrected by
    :math:`s^* = s - g(s, y_s) / (dg/ds)`, with
    :math:`dg/ds = \partial_s g + \nabla_y g \cdot f(s, y_s)` held constant: its
    tangent is then exactly the implicit-function-theorem one,
    :math:`\dot s^* = -\dot g / (dg/ds)`, and the root finder's iterations are
    never differentiated. The state is :math:`y^* = y_s + f(s, y_s)(s^* - s)`.
    """
    s = lax.stop_gradient(s)
    y_s = method.step_to(data, s)
    f_s = method.field(s, y_s)
    g, slope = jax.jvp(
        lambda u, y: method.g_all(u, y)[j], (s, y_s), (jnp.ones_like(s), f_s)
    )
    # Double-where: a grazing root has dg/ds = 0; it keeps the interpolant's time.
    flat = (slope == 0) | ~newton
    slope = lax.stop_gradient(jnp.where(flat, 1, slope))
    s_star = s - jnp.where(flat, 0, g / slope)
    return s_star, y_s + f_s * (s_star - s)


def _locate_one(method: Method, item):
    """One booked occurrence (``used``: a real one; others return ``nan``)."""
    s0, s1, y0, j, a, b, g_a, g_b, touch, used = item
    data = method.restep(Booked(s0, s1, y0))
    interpolation = method.interpolation_cls(t0=data.s0, t1=data.s1, **data.info)
    view = jax.tree.map(
        lax.stop_gradient, StepView(data.s0, data.s1, data.y0, data.y1, interpolation)
    )
    crossing = used & ~touch
    # Unused slots and touches: a bracket that returns at once (f_upper = 0).
    a = jnp.where(used, a, data.s0)
    b = jnp.where(used, b, data.s0)
    g_a = jnp.where(crossing, g_a, 1)
    g_b = jnp.where(crossing, g_b, 0)
    atol = jnp.finfo(a.dtype).eps * jnp.abs(data.s1 - data.s0)
    root = chandrupatla(
        lambda s: method.g_all(s, view.state(s))[j], a, b, g_a, g_b, atol
    )[0]
    root = jnp.where(touch, a, root)
    s_star, y_star = _polish(method, data, j, root, crossing)
    return jnp.where(used, s_star, jnp.nan), jnp.where(used, y_star, jnp.nan)


_CHUNK = 8  # items located together; chunks nobody uses are skipped


def _locate(method: Method, steps: Booked, fields, used):
    """Locate ``(E, K)`` items (steps' leaves ``(E, K, ...)``); returns times
    ``(E, K)`` and states ``(E, K, n)``.

    Items go in chunks of ``_CHUNK`` through one ``lax.scan``; a chunk with no
    used item is skipped, under ``jax.vmap`` when no member uses it
    (``any_member``): slots past an ensemble's largest count cost nothing.
    """
    e, k = used.shape
    n = steps.y0.shape[-1]
    rows = jnp.broadcast_to(jnp.arange(e)[:, None], (e, k))
    flat = [
        x.reshape(e * k, *x.shape[2:])
        for x in (steps.s0, steps.s1, steps.y0, rows, *fields, used)
    ]
    chunks = -(-(e * k) // _CHUNK)
    pad = chunks * _CHUNK - e * k
    items = [  # padding items are unused (used=False pads)
        jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1)).reshape(
            chunks, _CHUNK, *x.shape[1:]
        )
        for x in flat
    ]

    def chunk(_, item):
        def locate():
            return jax.vmap(lambda *i: _locate_one(method, i))(*item)

        def skip():
            return jax.tree.map(
                lambda x: jnp.full(x.shape, jnp.nan, x.dtype), jax.eval_shape(locate)
            )

        return None, lax.cond(any_member(item[-1].any()), locate, skip)

    _, (s, y) = lax.scan(chunk, None, items)
    s = s.reshape(-1)[: e * k].reshape(e, k)
    return s, y.reshape(-1, n)[: e * k].reshape(e, k, n)


def locate_all(records: Records, config, method: Method) -> Located:
    """Locate every booked occurrence; settle a terminal stop (module docstring)."""
    _, terminal, capacity = config
    e, cap = records.a.shape
    used = jnp.arange(cap)[None, :] < jnp.minimum(records.counts, capacity)[:, None]
    last = records.last
    valid = last.valid & records.stopped
    points = valid.shape[1]
    # One vectorised pass over the booked slots and the last step's candidates.
    last_step = jax.tree.map(
        lambda x: jnp.broadcast_to(x, (e, points, *jnp.shape(x))), records.last_step
    )
    steps = jax.tree.map(
        lambda a, b: jnp.concatenate([a, b], axis=1), records.steps, last_step
    )
    fields = tuple(
        jnp.concatenate([a, b], axis=1)
        for a, b in zip(
            (records.a, records.b, records.g_a, records.g_b, records.touch),
            (last.a, last.b, last.g_a, last.g_b, last.touch),
        )
    )
    s, y = _locate(method, steps, fields, jnp.concatenate([used, valid], axis=1))
    s, s_last, y, y_last = s[:, :cap], s[:, cap:], y[:, :cap], y[:, cap:]
    # The occurrence that reaches each terminal event's count; the earliest stops.
    number = records.last_count[:, None] + last.rank + 1
    reach = valid & (terminal[:, None] > 0) & (number == terminal[:, None])
    times = jnp.where(reach, s_last, jnp.inf).reshape(-1)
    first = jnp.argmin(times)
    s_stop, y_stop = times[first], y_last.reshape(times.shape[0], -1)[first]
    # Occurrences after the stop did not happen: uncounted and unrecorded.
    late = valid & (s_last > s_stop)
    slot = jnp.where(late, records.last_count[:, None] + last.rank, cap)
    rows = jnp.broadcast_to(jnp.arange(e)[:, None], slot.shape)
    s = s.at[rows, slot].set(jnp.nan, mode="drop")
    y = y.at[rows, slot].set(jnp.nan, mode="drop")
    return Located(
        counts=records.counts - late.sum(axis=1).astype(records.counts.dtype),
        s=s,
        y=y,
        stopped=records.stopped,
        s_stop=s_stop,
        y_stop=y_stop,
    )

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
    step_like: tuple[bool, ...]  # per event: derivative zero wherever defined


@jax.custom_jvp
def _no_derivative(x):
    """Zero, with a ``nan`` tangent: added to a value whose derivative the
    implicit function theorem cannot give (a step-like event's time)."""
    return jnp.zeros_like(x)


@_no_derivative.defjvp
def _no_derivative_jvp(primals, tangents):
    (x,), (dx,) = primals, tangents
    return jnp.zeros_like(x), jnp.full_like(dx, jnp.nan)


def _polish(method: Method, data: StepData, j, s, newton, bracket):
    r"""The state at ``s`` by a fresh step, and where ``newton``, ``s`` corrected by
    one Newton step on it; a step-like event (one whose derivative is zero
    wherever it is defined: a comparison, ``jnp.sign``, ``jnp.floor``) is
    bisected on fresh steps instead.

    The interpolant is less accurate than the steps (diffrax's Dopri8 interpolant
    is ~1e-10 off at rtol 1e-12), so the state at ``s`` is recomputed by one step of
    the method from the step's start, :math:`y_s`, and ``s`` is corrected by
    :math:`s^* = s - g(s, y_s) / (dg/ds)`, with
    :math:`dg/ds = \partial_s g + \nabla_y g \cdot f(s, y_s)` held constant: its
    tangent is then exactly the implicit-function-theorem one,
    :math:`\dot s^* = -\dot g / (dg/ds)`, and the root finder's iterations are
    never differentiated. The state is :math:`y^* = y_s + f(s, y_s)(s^* - s)`.
    A correction that would leave the bracket ``(a, b)`` (a jump that is not
    step-like everywhere) is not applied.

    A step-like event jumps at its root: its switch is where the *steps* (not
    the interpolant) change its sign, found by bisecting ``bracket = (a, b,
    g_a)`` with one fresh step per probe, to :math:`2(2\epsilon|s| + \epsilon
    h)`; its time and state then carry ``nan`` derivatives (the implicit
    function theorem does not apply). Which events are step-like is decided
    when tracing (``step_like``), so smooth events compile no bisection.
    """
    root = lax.stop_gradient(s)
    a, b, g_a = jax.tree.map(lax.stop_gradient, bracket)

    def probe(s):
        y = method.step_to(data, s)
        f = method.field(s, y)
        g, slope = jax.jvp(
            lambda u, y: method.g_all(u, y)[j], (s, y), (jnp.ones_like(s), f)
        )
        return y, f, g, slope

    if not any(method.step_like):
        y_s, f_s, g, slope = probe(root)
        return _newton(root, y_s, f_s, g, slope, newton, a, b)
    step_like = newton & jnp.asarray(method.step_like)[j]
    eps = jnp.finfo(root.dtype).eps
    width = 2 * (
        2 * eps * jnp.maximum(jnp.abs(a), jnp.abs(b)) + eps * (data.s1 - data.s0)
    )

    # One loop traces one fresh step: the first pass probes the root found on the
    # interpolant (Newton's data); further passes bisect a step-like event.
    def going(c):
        k, lo, hi, _, _ = c
        return (k == 0) | (step_like & (hi - lo > width))

    def body(c):
        k, lo, hi, y_hi, first = c
        s = jnp.where(k == 0, root, 0.5 * (lo + hi))
        y, f, g, slope = probe(s)
        first = jax.tree.map(
            lambda new, old: jnp.where(k == 0, new, old), (y, f, g, slope), first
        )
        before = jnp.sign(g) == jnp.sign(g_a)
        bisecting = k > 0
        lo = jnp.where(bisecting & before, s, lo)
        hi = jnp.where(bisecting & ~before, s, hi)
        y_hi = jnp.where(bisecting & ~before, y, y_hi)
        return k + 1, lo, hi, y_hi, first

    shapes = jax.eval_shape(probe, root)
    zeros = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), shapes)
    init = (jnp.asarray(0), a, b, zeros[0], zeros)
    _, _, hi, y_hi, (y_s, f_s, g, slope) = lax.while_loop(going, body, init)
    s_star, y_star = _newton(root, y_s, f_s, g, slope, newton, a, b)
    # applied to values that depend on the inputs: a custom_jvp whose inputs all
    # have symbolic-zero tangents (a step-like event's value) is skipped by JAX
    undefined = _no_derivative(hi + jnp.sum(y_hi) + g)
    s_star = jnp.where(step_like, hi + undefined, s_star)
    y_star = jnp.where(step_like, y_hi + undefined, y_star)
    return s_star, y_star


def _newton(s, y_s, f_s, g, slope, newton, a, b):
    """One Newton step from ``s`` (``_polish``), kept inside ``[a, b]``."""
    # Double-where: a grazing root has dg/ds = 0; it keeps the interpolant's time.
    flat = (slope == 0) | ~newton
    slope = lax.stop_gradient(jnp.where(flat, 1, slope))
    step = jnp.where(flat, 0, g / slope)
    outside = (s - step < jnp.minimum(a, b)) | (s - step > jnp.maximum(a, b))
    s_star = s - jnp.where(lax.stop_gradient(outside), 0, step)
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
    s_star, y_star = _polish(method, data, j, root, crossing, (a, b, g_a))
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
    # Padding items repeat the last item (a real step: the functions are never
    # called on made-up states) and are unused (used=False pads).
    items = [
        jnp.pad(
            x, [(0, pad)] + [(0, 0)] * (x.ndim - 1), mode="constant" if i else "edge"
        ).reshape(chunks, _CHUNK, *x.shape[1:])
        for i, x in zip([0] * (len(flat) - 1) + [1], flat)
    ]

    def chunk(_, item):
        def locate():
            return jax.vmap(lambda *i: _locate_one(method, i))(*item)

        def skip():  # the shapes of locate's results, without tracing it again
            return (
                jnp.full((_CHUNK,), jnp.nan, item[0].dtype),
                jnp.full((_CHUNK, n), jnp.nan, item[2].dtype),
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

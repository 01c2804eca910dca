"""From chunks to a ``Solution``: one chunk inside the compiled program, several
(concrete, outside ``jit``) with NumPy.

Assembling a single chunk inside the compiled program, and several with NumPy,
keeps eager JAX operations out of a solve: each one would compile a small
program of its own the first time (40 of them cost ~1.5 s in a one-off script).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS
from ._loop import CODES
from ._solution import DenseSolution, Solution, Stats, _Piece, unravel

__all__ = ["single", "status_of", "unravel"]

_ITEM = type(RESULTS.successful)
_STATUS_OF_CODE = {
    "collapsed": RESULTS.step_size_collapsed,
    "nonfinite_state": RESULTS.nonfinite_state,
    "max_steps": RESULTS.ode_max_steps_reached,
    "max_events": RESULTS.max_events_exceeded,
    "nonfinite_event": RESULTS.nonfinite_event,
}


def status_of(code, stopped):
    """The ``RESULTS`` item of a chunk's stop (``_loop.CODES``); NumPy for
    concrete values, ``jnp`` under tracing."""
    if isinstance(code, jax.core.Tracer) or isinstance(stopped, jax.core.Tracer):
        status = RESULTS.where(stopped, RESULTS.event_occurred, RESULTS.successful)
        for name, item in _STATUS_OF_CODE.items():
            status = RESULTS.where(code == CODES[name], item, status)
        return status
    code, stopped = int(code), bool(stopped)
    item = RESULTS.event_occurred if stopped else RESULTS.successful
    for name, candidate in _STATUS_OF_CODE.items():
        if code == CODES[name]:
            item = candidate
    return _ITEM(np.asarray(item._value, np.int32), RESULTS)


def single(chunk, options, t0, y0_flat, t_eval, interpolation_cls) -> Solution:
    """The Solution of a solve that is one chunk (inside the compiled program)."""
    d = chunk.direction
    structure = options.structure
    t_events, y_events = [], []
    for k, limit in enumerate(options.max_events):
        t_events.append(d * chunk.event_s[k, :limit])
        y_events.append(unravel(structure, chunk.event_y[k, :limit]))
    t_final = d * chunk.s_final
    if t_eval is None:
        t = jnp.stack([t0, t_final])
        y = unravel(structure, jnp.stack([y0_flat, chunk.y_final]))
    else:
        t, y = t_eval, unravel(structure, chunk.out_y)
    sol = None
    if options.dense:
        piece = _Piece(
            chunk.dense_s, chunk.dense_y, chunk.dense_info, chunk.n_accepted,
            interpolation_cls,
        )  # fmt: skip
        sol = DenseSolution(
            pieces=(piece,),
            direction=d,
            s_start=d * t0,
            s_final=chunk.s_final,
            y0=y0_flat,
            structure=structure,
        )
    return Solution(
        value=y,
        error=None,
        status=status_of(chunk.code, chunk.stopped),
        t=t,
        y=y,
        t_final=t_final,
        t_events=tuple(t_events),
        y_events=tuple(y_events),
        n_events=chunk.n_events,
        stats=_stats([chunk]),
        sol=sol,
    )


def _stats(chunks) -> Stats:
    n_steps = sum(c.n_steps for c in chunks)
    n_accepted = sum(c.n_accepted for c in chunks)
    counts = sum(c.counts for c in chunks)
    return Stats(
        n_steps=n_steps,
        n_accepted=n_accepted,
        n_rejected=n_steps - n_accepted,
        nfev=counts[0],
        njev=counts[1],
        nlu=counts[2],
    )


def several(chunks, options, t0, y0_flat, t_eval, classes) -> Solution:
    """The Solution of concrete chunks ``[(inputs, chunk)]`` (NumPy)."""
    chunks = [(inputs, jax.tree.map(np.asarray, c)) for inputs, c in chunks]
    last = chunks[-1][1]
    d = last.direction
    structure = options.structure
    t_events, y_events = [], []
    n_events = sum(c.n_events for _, c in chunks)
    for k, limit in enumerate(options.max_events):
        s = np.concatenate([c.event_s[k, : c.n_events[k]] for _, c in chunks])
        y = np.concatenate([c.event_y[k, : c.n_events[k]] for _, c in chunks])
        if limit is not None and s.shape[0] < limit:
            pad = limit - s.shape[0]
            s = np.pad(s, (0, pad), constant_values=np.nan)
            y = np.pad(y, ((0, pad), (0, 0)), constant_values=np.nan)
        t_events.append(d * s)
        y_events.append(unravel(structure, y))
    t_final = d * last.s_final
    if t_eval is None:
        t = np.stack([np.asarray(t0), t_final])
        y = unravel(structure, np.stack([np.asarray(y0_flat), last.y_final]))
    else:
        t, out = np.asarray(t_eval), np.array(chunks[0][1].out_y)
        for inputs, chunk in chunks[1:]:
            start = int(inputs.teval_start)
            out[start : chunk.out_index] = chunk.out_y[start : chunk.out_index]
        y = unravel(structure, out)
    sol = None
    if options.dense:
        sol = _dense(chunks, classes, d, t0, y0_flat, last.s_final, structure)
    stats = _stats([c for _, c in chunks])
    return Solution(
        value=y,
        error=None,
        status=status_of(last.code, last.stopped),
        t=t,
        y=y,
        t_final=t_final,
        t_events=tuple(t_events),
        y_events=tuple(y_events),
        n_events=n_events,
        stats=stats,
        sol=sol,
    )


def _dense(chunks, classes, d, t0, y0_flat, s_final, structure) -> DenseSolution:
    pieces: list[list] = []  # [cls, boundaries, values, infos]
    for (_, chunk), cls in zip(chunks, classes):
        n = int(chunk.n_accepted)
        s = chunk.dense_s[: n + 1]
        y = chunk.dense_y[: n + 1]
        info = jax.tree.map(lambda x: x[:n], chunk.dense_info)
        if pieces and pieces[-1][0] is cls:
            last = pieces[-1]
            last[1] = np.concatenate([last[1], s[1:]])
            last[2] = np.concatenate([last[2], y[1:]])
            last[3] = jax.tree.map(lambda a, b: np.concatenate([a, b]), last[3], info)
        else:
            pieces.append([cls, s, y, info])
    return DenseSolution(
        pieces=tuple(_padded(*piece) for piece in pieces),
        direction=d,
        s_start=d * np.asarray(t0),
        s_final=s_final,
        y0=np.asarray(y0_flat),
        structure=structure,
    )


def _padded(cls, s, y, info) -> _Piece:
    """Buffers padded to a power of two (evaluation compiles per length)."""
    n = s.shape[0] - 1
    size = 1 << max(n - 1, 1).bit_length()
    extra = size - n
    return _Piece(
        np.pad(s, (0, extra), constant_values=np.inf),
        np.pad(y, ((0, extra), (0, 0)), constant_values=np.nan),
        jax.tree.map(lambda x: np.pad(x, [(0, extra)] + [(0, 0)] * (x.ndim - 1)), info),
        np.asarray(n, np.int32),
        cls,
    )


__all__ += ["several"]

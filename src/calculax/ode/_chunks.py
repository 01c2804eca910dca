"""Running a solve in chunks.

Under ``jit``/``vmap``/differentiation a solve is one compiled chunk, bounded by
``max_steps`` and the event capacities. With concrete inputs it continues where
a chunk stopped for want of room (``max_steps=None``: no step limit;
``Event(max_events=None)``: no event limit), and ``method="auto"`` switches
between an explicit method and Radau when the loop's stiffness test says so
(LSODA's idea). A continued chunk starts from the previous chunk's last
accepted state with its proposed step size; the method's own state (FSAL
derivative, Jacobian) is rebuilt there, which costs one evaluation of each.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._assemble import several, unravel
from ._compiled import Inputs, Options, solve_chunk
from ._loop import CODES
from ._methods import METHODS, STIFF_METHOD
from ._radau import RadauInterpolation
from ._solution import Solution

__all__ = ["Request", "run"]

_MAX_SWITCHES = 40  # then "auto" stays with the method it has


@dataclasses.dataclass(frozen=True)
class Request:
    """A prepared solve: compiled-program keys and the first chunk's inputs."""

    fun: object
    fns: tuple
    jac: object
    inputs: Inputs
    options: Options
    explicit: str  # the explicit method "auto" uses ("" unless method="auto")
    traced: bool
    terminal: tuple  # per event: count (0: never)
    max_steps: int | None  # None: no limit (concrete inputs)
    t0: object
    y0_flat: object


def run(request: Request) -> Solution:
    """Solve (module docstring) and assemble the ``Solution``."""
    chunks: list = []
    methods: list[str] = []
    inputs, options = request.inputs, request.options
    found = np.zeros(len(request.fns), int)
    switches = 0
    while True:
        detect = bool(request.explicit) and not request.traced
        options = dataclasses.replace(
            options, detect_stiffness=detect and switches < _MAX_SWITCHES
        )
        chunk, solution = solve_chunk(
            request.fun, request.fns, request.jac, inputs, options
        )
        chunks.append((inputs, chunk))
        methods.append(options.method)
        if request.traced:
            return solution
        code = int(chunk.code)
        found = found + np.asarray(chunk.n_events)
        if bool(chunk.stopped) or code == 0 or not _continue(request, chunk, found):
            break
        if code in (CODES["stiff"], CODES["nonstiff"]):
            switches += 1
            method = STIFF_METHOD if code == CODES["stiff"] else request.explicit
            options = dataclasses.replace(options, method=method)
        inputs = _next_inputs(request, inputs, chunk, found)
    if len(chunks) == 1 and None not in request.options.max_events:
        return solution
    classes = [_interpolation_cls(m) for m in methods]
    return several(
        chunks, options, request.t0, request.y0_flat, request.inputs.t_eval, classes
    )


def _continue(request: Request, chunk, found) -> bool:
    """Whether the solve goes on after a chunk that stopped with ``chunk.code``."""
    code = int(chunk.code)
    if code in (CODES["stiff"], CODES["nonstiff"]):
        return True
    if code == CODES["max_steps"]:
        return request.max_steps is None
    if code == CODES["max_events"]:
        full = np.asarray(chunk.overflow)
        limits = request.options.max_events
        return not any(
            f and m is not None and n >= m for f, m, n in zip(full, limits, found)
        )
    return False


def _next_inputs(request: Request, inputs: Inputs, chunk, found) -> Inputs:
    d = float(chunk.direction)
    terminal = np.asarray(request.terminal, int)
    remaining = np.where(terminal > 0, terminal - found, 0)
    capacity = request.options.capacity
    room = [
        capacity if m is None else min(capacity, m - n)
        for m, n in zip(request.options.max_events, found)
    ]
    h = float(abs(chunk.h_next))
    direction = inputs.config[0]
    return dataclasses.replace(
        inputs,
        t_span=np.array([d * float(chunk.s_final), float(inputs.t_span[1])]),
        y0=unravel(request.options.structure, np.asarray(chunk.y_final)),
        teval_start=np.asarray(chunk.out_index, np.int32),
        config=(
            direction,
            np.asarray(remaining, np.int32),
            np.asarray(np.maximum(room, 0), np.int32),
        ),
        first_step=np.asarray(
            h if h > 0 else np.nan, np.asarray(inputs.first_step).dtype
        ),
    )


def _interpolation_cls(method: str):
    cls, _ = METHODS[method]
    return RadauInterpolation if cls is None else cls().interpolation_cls

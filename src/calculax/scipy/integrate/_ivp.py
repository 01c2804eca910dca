"""``solve_ivp`` with SciPy's signature, defaults, result layout and errors."""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable

import jax
import numpy as np

from ... import ode
from ..._core.validate import is_traced, staging
from ._functions import (
    _SLOTS,
    Host,
    Spec,
    Traced,
    column_groups,
    slot,
    traceable,
)
from ._result import OdeResult, OdeSolution

__all__ = ["solve_ivp"]

# SciPy's method names -> calculax.ode's methods.
METHODS = {
    "RK23": "Bosh3",
    "RK45": "Dopri5",
    "DOP853": "Dopri8",
    "Radau": "Radau",
    "BDF": "Radau",
    "LSODA": "auto",
}
_EXPLICIT = {"first_step", "max_step", "rtol", "atol"}
_ACCEPTED = {
    "RK23": _EXPLICIT,
    "RK45": _EXPLICIT,
    "DOP853": _EXPLICIT,
    "Radau": _EXPLICIT | {"jac", "jac_sparsity"},
    "BDF": _EXPLICIT | {"jac", "jac_sparsity"},
    "LSODA": _EXPLICIT | {"jac", "lband", "uband", "min_step"},
}
MESSAGES = {
    0: "The solver successfully reached the end of the integration interval.",
    1: "A termination event occurred.",
}
_EPS = np.finfo(float).eps
_TRACED_EVENTS = 100  # event capacity under jit


def solve_ivp(
    fun: Callable,
    t_span,
    y0,
    method="RK45",
    t_eval=None,
    dense_output: bool = False,
    events=None,
    vectorized: bool = False,
    args=None,
    **options,
) -> OdeResult:
    r"""Solve an initial value problem as ``scipy.integrate.solve_ivp`` does.

    The same arguments, defaults (``rtol=1e-3``, ``atol=1e-6``), result
    (:class:`OdeResult`: ``t`` ``(n_points,)`` with every accepted step, ``y``
    ``(n, n_points)``, ``sol``, ``t_events``/``y_events`` with the events found,
    ``nfev``/``njev``/``nlu``, ``status`` 0/1/-1, ``message``, ``success``),
    event semantics (``terminal`` a bool or count, ``direction`` by its sign, an
    event exactly 0 at ``t0`` fires there) and exceptions (``ValueError`` and
    ``TypeError`` with SciPy's messages) as SciPy 1.17. The integration is
    :func:`calculax.ode.solve_ivp`'s in float64: methods ``"RK23"``,
    ``"RK45"``, ``"DOP853"`` are the same Runge--Kutta pairs (diffrax's Bosh3,
    Dopri5, Dopri8 under a PID controller); ``"Radau"`` is Radau IIA (SciPy's
    algorithm, with Jacobian reuse); ``"BDF"`` runs Radau IIA too; ``"LSODA"``
    switches between Tsit5 and Radau as stiffness comes and goes.

    What calculax adds: events are sampled inside every step, so two roots
    inside one step (a pair closer than SciPy's steps) are both found, and a
    step-like (boolean) event is located at its switch; there is no step limit.

    ``fun`` is traced with JAX when it can be (then it runs compiled); a
    function JAX cannot trace (Python ``if`` on ``t`` or ``y``, NumPy calls on
    ``y``, ``float(y[0])``) is called with NumPy arrays instead, as SciPy calls
    it, from inside the compiled solver (``_functions.py``). Under ``jit``/
    ``vmap`` (traced ``t_span``, ``y0`` or ``t_eval``) the result keeps the
    arrays padded (``t``, ``y`` and ``t_events`` padded with ``nan``, at most
    4096 steps and 100 events per event function), ``status`` is an array and
    ``message`` does not name it.

    Args:
        fun: ``fun(t, y, *args)``, ``y`` of shape ``(n,)`` (``(n, k)`` when
            ``vectorized``); real or complex.
        t_span: ``(t0, tf)``; ``tf`` may be infinite.
        y0: ``(n,)`` initial state, real or complex.
        method: ``"RK45"``, ``"RK23"``, ``"DOP853"``, ``"Radau"``, ``"BDF"``,
            ``"LSODA"``, or a SciPy ``OdeSolver`` subclass (which SciPy itself
            then runs).
        t_eval: times at which to store the solution, inside ``t_span``, sorted.
        dense_output: also return ``sol``.
        events: callables ``event(t, y, *args)`` with optional ``terminal`` (bool
            or count) and ``direction`` attributes.
        vectorized: ``fun`` accepts ``y`` of shape ``(n, k)``.
        args: extra arguments of ``fun``, ``jac`` and the events.
        **options: ``rtol``, ``atol``, ``first_step``, ``max_step``, ``jac``
            (callable, array or sparse matrix; used by Radau/BDF/LSODA),
            ``jac_sparsity`` (the finite-difference Jacobian's pattern for a NumPy
            ``fun``), ``lband``/``uband``/``min_step`` (LSODA; accepted, not used).

    Returns:
        An :class:`OdeResult`.

    Raises:
        ValueError: as SciPy: an unknown method, ``t_eval`` outside ``t_span``
            or unsorted, ``y0`` not 1-D or not finite, a non-positive
            ``max_step``/``first_step``, a ``terminal`` attribute that is not a
            bool or positive integer, negative ``atol``.
        TypeError: ``args`` that cannot be unpacked; ``fun`` not callable.

    Example:
        >>> import numpy as np
        >>> from calculax.scipy.integrate import solve_ivp
        >>> def hit(t, y):
        ...     return y[0] - 0.8
        >>> hit.terminal = True
        >>> def grow(t, y):
        ...     return 0.01 * y * (1 - y)
        >>> sol = solve_ivp(grow, (0, 3000), [0.5], events=hit)
        >>> sol.status, sol.message
        (1, 'A termination event occurred.')
        >>> print(f"{sol.t_events[0][0]:.2f}")  # 100 ln 4 = 138.629..., at rtol 1e-3
        138.63
    """
    call = (fun, t_span, y0, method, t_eval, dense_output, events, vectorized, args)
    if inspect.isclass(method):
        import scipy.integrate

        if issubclass(method, scipy.integrate.OdeSolver):
            return scipy.integrate.solve_ivp(*call, **options)
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"`method` must be one of {list(METHODS)} or OdeSolver class.")
    if not callable(fun):
        raise TypeError(f"`fun` must be callable; got {type(fun).__name__}.")
    if staging() or is_traced((t_span, y0, t_eval)):
        return _traced(*call, options)
    t0, tf = map(float, t_span)
    args = _args(args)
    t_eval = _t_eval(t_eval, t0, tf)
    y0, spec = _y0(y0, vectorized)
    settings = _options(method, options, spec, t0, tf)
    event_list, terminal, direction = _events(events)
    if spec.n == 0 or t0 == tf:
        return _trivial(spec, y0, t0, tf, t_eval, dense_output, event_list)
    with _float64():
        return _solve(
            fun,
            t0,
            tf,
            y0,
            spec,
            METHODS[method],
            t_eval,
            dense_output,
            (event_list, terminal, direction),
            args,
            settings,
        )


@contextlib.contextmanager
def _float64():
    """float64 for the solve, in this thread and in the threads that run host
    callbacks (JAX's ``enable_x64`` context is per thread, and a callback's
    float64 result would be cast to float32 there): the global flag is set for
    the duration of the call and restored after."""
    before = bool(jax.config.jax_enable_x64)
    jax.config.update("jax_enable_x64", True)
    try:
        with jax.enable_x64(True):
            yield
    finally:
        jax.config.update("jax_enable_x64", before)


def _args(args):
    if args is None:
        return ()
    try:
        return tuple([*args])
    except TypeError as error:
        raise TypeError(
            "Supplied 'args' cannot be unpacked. Please supply `args` as a tuple "
            f"(e.g. `args=({args},)`)"
        ) from error


def _t_eval(t_eval, t0: float, tf: float):
    if t_eval is None:
        return None
    t_eval = np.asarray(t_eval)
    if t_eval.ndim != 1:
        raise ValueError("`t_eval` must be 1-dimensional.")
    if np.any(t_eval < min(t0, tf)) or np.any(t_eval > max(t0, tf)):
        raise ValueError("Values in `t_eval` are not within `t_span`.")
    d = np.diff(t_eval)
    if (tf > t0 and np.any(d <= 0)) or (tf < t0 and np.any(d >= 0)):
        raise ValueError("Values in `t_eval` are not properly sorted.")
    return t_eval.astype(float)


def _y0(y0, vectorized: bool):
    y0 = np.asarray(y0)
    if np.issubdtype(y0.dtype, np.complexfloating):
        dtype: type = complex
    else:
        dtype = float
    y0 = y0.astype(dtype, copy=False)
    if y0.ndim != 1:
        raise ValueError("`y0` must be 1-dimensional.")
    if not np.isfinite(y0).all():
        raise ValueError("All components of the initial state `y0` must be finite.")
    return y0, Spec(y0.shape[0], dtype is complex, bool(vectorized))


def _options(method: str, options: dict, spec: Spec, t0: float, tf: float) -> dict:
    known = _EXPLICIT | {"jac", "jac_sparsity", "lband", "uband", "min_step"}
    extraneous = [k for k in options if k not in _ACCEPTED[method]]
    if extraneous:
        warnings.warn(
            "The following arguments have no effect for a chosen solver: "
            f"{', '.join(f'`{x}`' for x in extraneous)}.",
            stacklevel=3,
        )
    unknown = [k for k in options if k not in known]
    del unknown  # SciPy warns and ignores them too
    max_step = options.get("max_step", np.inf)
    if max_step <= 0:
        raise ValueError("`max_step` must be positive.")
    first_step = options.get("first_step")
    if first_step is not None:
        if first_step <= 0:
            raise ValueError("`first_step` must be positive.")
        if first_step > np.abs(tf - t0):
            raise ValueError("`first_step` exceeds bounds.")
    rtol = np.asarray(options.get("rtol", 1e-3), dtype=float)
    if np.any(rtol < 100 * _EPS):
        warnings.warn(
            "At least one element of `rtol` is too small. "
            f"Setting `rtol = np.maximum(rtol, {100 * _EPS})`.",
            stacklevel=3,
        )
        rtol = np.maximum(rtol, 100 * _EPS)
    atol = np.asarray(options.get("atol", 1e-6), dtype=float)
    if atol.ndim > 0 and atol.shape != (spec.n,):
        raise ValueError("`atol` has wrong shape.")
    if np.any(atol < 0):
        raise ValueError("`atol` must be positive.")
    if rtol.ndim > 0 and rtol.shape != (spec.n,):
        raise ValueError("`rtol` has wrong shape.")
    jac = options.get("jac") if "jac" in _ACCEPTED[method] else None
    sparsity = (
        options.get("jac_sparsity") if "jac_sparsity" in _ACCEPTED[method] else None
    )
    return dict(
        rtol=np.tile(rtol, 2) if spec.complex and rtol.ndim else rtol,
        atol=np.tile(atol, 2) if spec.complex and atol.ndim else atol,
        max_step=float(max_step),
        first_step=None if first_step is None else float(first_step),
        jac=jac,
        sparsity=sparsity,
    )


def _events(events):
    """SciPy's ``prepare_events``: the functions, terminal counts, directions."""
    if events is None:
        return (), (), ()
    if callable(events):
        events = (events,)
    terminal, direction = [], []
    message = (
        "The `terminal` attribute of each event must be a boolean or positive integer."
    )
    for event in events:
        if not callable(event):
            raise TypeError(f"Each event must be callable; got {type(event).__name__}.")
        value = getattr(event, "terminal", None)
        if value is None or value == 0:
            terminal.append(0)
        else:
            try:
                ok = int(value) == value and value > 0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(message)
            terminal.append(int(value))
        sign = float(np.sign(float(getattr(event, "direction", 0))))
        direction.append(int(sign))
    return tuple(events), tuple(terminal), tuple(direction)


def _trivial(spec: Spec, y0, t0, tf, t_eval, dense_output, events) -> OdeResult:
    """No state, or an empty interval: the initial state throughout (SciPy's
    ``ConstantDenseOutput``)."""
    ts = np.array([t0, tf])
    y = np.stack([y0, y0], axis=1)
    if t_eval is not None:
        ts, y = t_eval, np.repeat(y0[:, None], t_eval.shape[0], axis=1)
    sol = OdeSolution(None, spec, np.array([t0, tf]), y0) if dense_output else None
    return _result(
        ts,
        y,
        sol,
        events and ([np.asarray([])] * len(events)),
        events and ([np.asarray([])] * len(events)),
        0,
        0,
        0,
        0,
        None,
    )


def _result(t, y, sol, t_events, y_events, nfev, njev, nlu, status, message):
    return OdeResult(
        t=t,
        y=y,
        sol=sol,
        t_events=t_events if t_events else None,
        y_events=y_events if y_events else None,
        nfev=int(nfev),
        njev=int(njev),
        nlu=int(nlu),
        status=int(status),
        message=MESSAGES.get(int(status), message),
        success=int(status) >= 0,
    )


def _functions(fun, spec: Spec, t0, y0, args, events, settings):
    """The traced or host versions of ``fun``, the events and ``jac`` (module
    ``_functions``), the slot to fill for host ones, and ``args`` to pass."""
    host = traceable(fun, spec, t0, y0, args, "fun") is not None
    host = host or any(
        traceable(e, spec, t0, y0, args, "event") is not None for e in events
    )
    jac = settings["jac"]
    if callable(jac) and not host:
        host = traceable(jac, spec, t0, y0, args, "jac") is not None
    if not host:
        field: Traced | Host = Traced(fun, spec, "fun")
        event_fns: list[Traced | Host] = [Traced(e, spec, "event") for e in events]
        if callable(jac):
            jac = Traced(jac, spec, "jac")
        elif jac is not None:
            jac = spec.real_jacobian(
                np.asarray(_dense(jac), dtype=complex if spec.complex else float), np
            )
        return field, event_fns, jac, args, None
    key = slot(spec, len(events))
    pattern = settings["sparsity"]
    sparsity = None
    if pattern is not None and not callable(jac) and jac is None:
        pattern = np.asarray(_dense(pattern)) != 0
        if spec.complex:
            pattern = np.block([[pattern, pattern], [pattern, pattern]])
        sparsity = (pattern, column_groups(pattern))
    filled = dict(
        fun=fun,
        events=tuple(events),
        args=args,
        sparsity=sparsity,
        jac=jac if callable(jac) else None,
        error=None,
    )
    field = Host(key, "fun")
    event_fns = [Host(key, "event", k) for k in range(len(events))]
    if jac is None or callable(jac):
        jac = Host(key, "jac")
    else:
        jac = spec.real_jacobian(
            np.asarray(_dense(jac), dtype=complex if spec.complex else float), np
        )
    return field, event_fns, jac, (), (key, filled)


def _dense(matrix):
    return matrix.toarray() if hasattr(matrix, "toarray") else matrix


def _solve(fun, t0, tf, y0, spec, method, t_eval, dense_output, events, args, settings):
    event_list, terminal, direction = events
    u0 = spec.to_real(y0, np).astype(float)
    field, event_fns, jac, native_args, host = _functions(
        fun, spec, t0, y0, args, event_list, settings
    )
    if host is not None:
        key, filled = host
        for name, value in filled.items():
            setattr(_SLOTS[key], name, value)
    if method != "Radau" and method != "auto":
        jac = None
    natives = [
        ode.Event(g, terminal=k, direction=d, max_events=None)
        for g, k, d in zip(event_fns, terminal, direction)
    ]
    solution = ode.solve_ivp(
        field,
        (t0, tf),
        u0,
        method=method,
        rtol=settings["rtol"],
        atol=settings["atol"],
        events=natives,
        args=native_args,
        dense_output=True,
        t_eval=t_eval,
        max_steps=None,
        max_step=settings["max_step"],
        first_step=settings["first_step"],
        jac=jac,
        throw=False,
    )
    if host is not None and _SLOTS[host[0]].error is not None:
        error, _SLOTS[host[0]].error = _SLOTS[host[0]].error, None
        raise error
    return _layout(solution, spec, y0, t0, tf, t_eval, dense_output, events, args)


def _layout(solution, spec, y0, t0, tf, t_eval, dense_output, events, args):
    """SciPy's result from calculax's ``Solution``."""
    event_list, terminal, direction = events
    status = _code(solution.status)
    dense = solution.sol
    ts = np.asarray(dense.ts)
    us = np.asarray(dense.ys)
    t_final = float(solution.t_final)
    d = 1.0 if tf >= t0 else -1.0
    t_events = [np.asarray(t, float) for t in solution.t_events]
    y_events = [spec.to_user(np.asarray(y, float), np) for y in solution.y_events]
    fired = _fired_at_t0(event_list, direction, t0, y0, ts, us, spec, args)
    stop_at_t0 = False
    for k in fired:
        t_events[k] = np.concatenate([[t0], t_events[k]])
        y_events[k] = np.concatenate([y0[None, :], y_events[k].reshape(-1, spec.n)])
        stop_at_t0 = stop_at_t0 or terminal[k] == 1
    if stop_at_t0:
        t_events = [
            te[:1] if k in fired else np.asarray([]) for k, te in enumerate(t_events)
        ]
        y_events = [
            ye[:1] if k in fired else np.asarray([]) for k, ye in enumerate(y_events)
        ]
        ts, us, status, t_final = np.array([t0, t0]), np.stack([us[0], us[0]]), 1, t0
    elif status == 1:  # a terminal event: the last time is the event's
        keep = d * ts < d * t_final
        ts = np.concatenate([ts[keep], [t_final]])
        last = _terminal_state(solution, t_events, t_final, dense)
        us = np.concatenate([us[keep], spec.to_real(last, np)[None, :]])
    y_events = [ye if len(ye) else np.asarray([]) for ye in y_events]
    t_events = [te if len(te) else np.asarray([]) for te in t_events]
    if t_eval is None:
        t, y = ts, spec.to_user(us, np).T
    else:
        keep = (d * t_eval <= d * t_final) & np.all(
            np.isfinite(np.asarray(solution.y)), axis=1
        )
        if stop_at_t0:
            keep = t_eval == t0
        t = t_eval[keep]
        y = spec.to_user(np.asarray(solution.y, float)[keep], np).T
        if not len(t):
            t, y = [], []
    sol = OdeSolution(dense, spec, ts, y0) if dense_output else None
    stats = solution.stats
    return _result(
        t,
        y,
        sol,
        t_events if event_list else None,
        y_events if event_list else None,
        stats.nfev,
        stats.njev,
        stats.nlu,
        status,
        solution.message,
    )


def _code(status) -> int:
    """SciPy's status code: 0 end reached, 1 terminal event, -1 failure."""
    from ..._core.results import RESULTS

    value = int(np.asarray(status._value))
    if value == int(RESULTS.successful._value):  # type: ignore[attr-defined]
        return 0
    if value == int(RESULTS.event_occurred._value):  # type: ignore[attr-defined]
        return 1
    return -1


def _terminal_state(solution, t_events, t_final, dense):
    for k, times in enumerate(solution.t_events):
        times = np.asarray(times)
        if len(times) and times[-1] == t_final:
            return np.asarray(solution.y_events[k])[-1]
    return np.asarray(dense(t_final))


def _fired_at_t0(events, direction, t0, y0, ts, us, spec, args) -> list[int]:
    """Events exactly 0 at ``t0`` that SciPy reports there: those whose value at
    the first step's end lies on their direction's side (or is 0 too)."""
    if not events or len(ts) < 2:
        return []
    fired = []
    y1 = spec.to_user(us[1], np)
    for k, event in enumerate(events):
        g0 = float(np.real(np.asarray(event(t0, y0, *args))))
        if g0 != 0:
            continue
        g1 = float(np.real(np.asarray(event(float(ts[1]), y1, *args))))
        up, down = g1 >= 0, g1 <= 0
        if (
            (up and direction[k] > 0)
            or (down and direction[k] < 0)
            or direction[k] == 0
        ):
            fired.append(k)
    return fired


def _traced(
    fun, t_span, y0, method, t_eval, dense_output, events, vectorized, args, options
):
    """Under ``jit``/``vmap``: calculax.ode's padded layout in SciPy's names."""
    import jax.numpy as jnp

    args = _args(args)
    event_list, terminal, direction = _events(events)
    n = int(np.shape(y0)[0])
    complex_ = jnp.iscomplexobj(y0)
    spec = Spec(n, bool(complex_), bool(vectorized))
    u0 = spec.to_real(jnp.asarray(y0))
    field = Traced(fun, spec, "fun")
    natives = [
        ode.Event(
            Traced(g, spec, "event"),
            terminal=k,
            direction=d,
            max_events=max(_TRACED_EVENTS, k),
        )
        for g, k, d in zip(event_list, terminal, direction)
    ]
    mapped = METHODS[method]
    solution = ode.solve_ivp(
        field,
        tuple(t_span),
        u0,
        method="Dopri5" if mapped == "auto" else mapped,
        rtol=options.get("rtol", 1e-3),
        atol=options.get("atol", 1e-6),
        events=natives,
        args=args,
        dense_output=True,
        t_eval=t_eval,
        max_step=options.get("max_step", np.inf),
        first_step=options.get("first_step"),
        throw=False,
    )
    from ..._core.results import RESULTS

    ok = solution.status == RESULTS.successful
    stopped = solution.status == RESULTS.event_occurred
    status = jnp.where(stopped, 1, jnp.where(ok, 0, -1))
    if t_eval is None:
        t, y = solution.sol.ts, spec.to_user(solution.sol.ys).T
    else:
        t, y = solution.t, spec.to_user(solution.y).T
    stats = solution.stats
    return OdeResult(
        t=t,
        y=y,
        sol=solution.sol if dense_output else None,
        t_events=list(solution.t_events) if event_list else None,
        y_events=[spec.to_user(v) for v in solution.y_events] if event_list else None,
        nfev=stats.nfev,
        njev=stats.njev,
        nlu=stats.nlu,
        status=status,
        message=(
            "Computed under jit: see `status` (0 end, 1 terminal event, -1 failed)."
        ),
        success=status >= 0,
    )

"""``solve_ivp``: initial value problems on diffrax's solvers and Radau IIA, with
recorded events."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from .._core.results import finish
from .._core.validate import boolean, is_traced, staging
from ._cache import function_key
from ._checks import (
    as_events,
    check_args,
    check_event_outputs,
    check_fun_output,
    check_jac,
    check_options,
    check_t_eval,
    check_t_span,
    check_tolerance,
    check_y0,
    state_dtype,
)
from ._chunks import Request, run
from ._compiled import Inputs, Options
from ._event import Event
from ._methods import explicit_method, resolve_method, stability_limit
from ._solution import Solution

__all__ = ["solve_ivp"]

_CHUNK_STEPS = 4096  # attempted steps per chunk (and the limit under jit)
_CHUNK_EVENTS = 64  # record slots per event for Event(max_events=None)


def solve_ivp(
    fun: Callable,
    t_span: Sequence,
    y0,
    *,
    method: str = "auto",
    rtol=1e-6,
    atol=1e-9,
    events: Event | Callable | Sequence = (),
    args: tuple = (),
    dense_output: bool = False,
    t_eval=None,
    max_steps: int | None = None,
    max_step=np.inf,
    first_step=None,
    jac=None,
    interior_points: int = 3,
    throw: bool = True,
) -> Solution:
    r"""Solve :math:`y' = f(t, y)`, :math:`y(t_0) = y_0`, and record events.

    Each step keeps its local error estimate below
    :math:`\text{atol} + \text{rtol}\,|y|` (RMS norm): explicit Runge--Kutta
    methods (diffrax's) under a PID controller, or Radau IIA for stiff problems.
    In every accepted step each event function :math:`g_k(t, y(t))` is evaluated
    at the step's ends and at ``interior_points`` equally spaced points of the
    step's interpolant; each sign change (or arrival at an exact zero) is booked
    with its step, in time order per event, and so are a pair of roots between
    two samples and a touch (:math:`|g|` reaching 0 within the solver's accuracy
    without a sign change, ``direction=0`` only). After the loop all booked
    occurrences are located at once on their steps' interpolants with
    Chandrupatla's bracketing method to
    :math:`|\Delta t| \le 2(2\epsilon|t| + \epsilon h)` and polished by one
    Newton step on a fresh step of the method from the step's start (the
    interpolant is less accurate than the steps), which also gives the event
    state; an event that jumps (a comparison, ``jnp.sign``) is bisected on fresh
    steps instead. In the step where a terminal event reaches its count, the
    earliest terminal occurrence stops the solve and later ones are dropped. See
    :class:`Event` for the rule at :math:`t_0` and for direction and terminal
    counts.

    Outputs: states at ``t_eval`` are computed by one step of the method from the
    enclosing step's start (as accurate as the steps); ``sol(t)`` evaluates the
    steps' interpolants (:class:`DenseSolution`).

    **Methods.** ``"auto"`` starts with ``"Tsit5"`` (``"Dopri8"`` when
    ``rtol < 1e-8``); with concrete inputs it watches the stiffness of every step
    (E. Hairer and G. Wanner's test: :math:`h\rho` beyond the method's stability
    limit for 15 steps, :math:`\rho` estimated from two stages) and continues with
    ``"Radau"`` when the problem is stiff, and explicitly again when Radau's steps
    are set by accuracy rather than stability (LSODA's idea). Under ``jit``/
    ``vmap``/differentiation it cannot switch program: it keeps the explicit
    method (pass ``method="Radau"`` for stiff problems there).

    **Limits.** With concrete inputs and ``max_steps=None`` there is no step limit:
    a solve that fills its buffers continues in a new chunk from where it
    stopped (the same compiled program). Under ``jit``/``vmap``, or with
    ``max_steps`` given, at most ``max_steps`` attempted steps (4096 by default
    under ``jit``), then ``status = RESULTS.ode_max_steps_reached``.

    **Derivatives.** ``jax.jvp``/``jax.jacfwd`` and ``jax.grad``/``jax.vjp``/
    ``jax.jacrev`` of every floating output (event times and states, ``y``,
    ``t_final``, ``sol``) in ``t_span``, ``y0``, floating ``args``, ``t_eval``,
    ``rtol``/``atol``. Event times carry the implicit-function-theorem tangent
    :math:`\dot t^* = -\dot g / (dg/dt)` at the root (the root finder is never
    differentiated; ``nan`` for a jumping event, where it does not apply). The
    loop is a ``lax.while_loop``, which JAX cannot transpose, so the solve is a
    ``custom_jvp`` whose tangent is :math:`J\,\dot x`, with :math:`J` the
    Jacobian in the :math:`m` scalar inputs whose tangent is not a symbolic
    zero, computed by forward mode: meant for small states and few parameters,
    not an adjoint method.

    **Compilation.** The compiled solver is cached per ``(fun, events, jac,
    structure and dtype of the inputs, options)`` and reused only for the same
    function *objects* reading the same values: a ``lambda`` re-created at
    every call compiles again, and so does a function whose closure cells, the
    module globals it reads, or the attributes of its object changed (see the
    ``_cache`` notes in the docs). Values that change between solves belong in
    ``args``, ``y0``, ``t_span``, the tolerances or ``t_eval``: they are traced
    and never recompile.

    Args:
        fun: ``fun(t, y, *args) -> dy/dt`` with ``y``'s structure and dtype,
            written with ``jax.numpy`` (it is traced; Python branches on ``t`` or
            ``y`` and NumPy calls are refused with the rewrite to use).
        t_span: ``(t0, t1)``; ``t1 < t0`` integrates backwards; ``t1`` may be
            infinite (stop with a terminal event).
        y0: initial state, an array or a pytree of arrays (integers are promoted).
        method: ``"auto"``, ``"Tsit5"``, ``"Dopri5"``, ``"Dopri8"``, ``"Bosh3"``,
            or ``"Radau"`` (or diffrax's ``"Kvaerno5"``) for stiff problems.
        rtol, atol: local error tolerances, ``atol + rtol * |y|``: numbers or one
            per component of the flattened state.
        events: an :class:`Event`, a callable ``g(t, y, *args)`` (SciPy's
            ``terminal``/``direction`` attributes are read) or a sequence of them.
        args: extra arguments for ``fun``, the events and ``jac`` (a tuple).
        dense_output: also return ``sol``, the continuous solution.
        t_eval: 1-D times in the direction of integration, inside ``t_span``.
        max_steps: attempted-step limit, ``None`` for none (concrete inputs).
        max_step: the largest step size allowed.
        first_step: the first step size (default: chosen from ``fun`` at
            :math:`t_0`).
        jac: for ``"Radau"``: ``jac(t, y, *args) -> df/dy``, a constant
            ``(n, n)`` array, or ``None`` (forward-mode differentiation of
            ``fun``); ``y0`` must then be one array.
        interior_points: interior samples of each step at which events are checked.
        throw: raise :class:`calculax.NumericalError` on a failure status
            (an ``equinox`` runtime error under ``jit``); ``False`` returns the
            Solution, whose ``status`` and ``message`` say what happened.

    Returns:
        A :class:`Solution`: ``t`` ``(m,)`` and ``y`` (``y0``'s structure with a
        leading ``m`` axis), ``t_events``/``y_events`` (one ``(max_events, ...)``
        ``nan``-padded array per event), ``n_events`` ``(E,)``, ``status``
        (a :data:`calculax.RESULTS` item), ``message``, ``t_final``, ``sol`` and
        ``stats``.

    Raises:
        TypeError: ``fun``, ``jac`` or an event of the wrong kind, or a construct
            JAX cannot trace in one of them; complex state; options of the wrong
            type.
        ValueError: wrong shapes, non-finite ``t0``/``y0``, tolerances not
            positive, ``t_eval`` outside ``t_span`` or unsorted, unknown
            ``method`` (traced values: an ``equinox`` runtime error with the same
            sentence).
        calculax.NumericalError: with ``throw=True``, a failure status.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.ode as ode
        >>> logistic = lambda t, y: 0.01 * y * (1 - y)
        >>> hit = ode.Event(lambda t, y: y[0] - 0.8, terminal=True)
        >>> sol = ode.solve_ivp(logistic, (0.0, 1000.0), jnp.array([0.5]), events=hit)
        >>> bool(sol.ok), round(float(sol.t_events[0][0]), 2)  # 100 ln 4
        (True, 138.63)
        >>> sol.message
        'A terminal event occurred: the solve stopped there, as asked.'
    """
    if not callable(fun):
        raise TypeError(
            f"solve_ivp: `fun` must be a callable fun(t, y, *args); got "
            f"{type(fun).__name__}."
        )
    events = as_events(events)
    args = check_args(args)
    dense_output = boolean("solve_ivp", "dense_output", dense_output)
    throw = boolean("solve_ivp", "throw", throw)
    dtype = state_dtype(y0)
    y0 = check_y0(y0, dtype)
    t_span = check_t_span(t_span, dtype)
    size = sum(int(np.size(x)) for x in jax.tree.leaves(y0))
    rtol = check_tolerance("rtol", rtol, dtype, size, positive=True)
    atol = check_tolerance("atol", atol, dtype, size, positive=False)
    max_steps, max_step, first_step, interior_points = check_options(
        max_steps, max_step, first_step, interior_points, t_span, dtype
    )
    jac_kind, jac_value = check_jac(jac, y0, dtype)
    if t_eval is not None:
        t_eval = check_t_eval(t_eval, t_span, dtype)
    traced = staging() or is_traced(
        (t_span, y0, args, rtol, atol, t_eval, max_step, first_step)
    )
    if traced and any(e.max_events is None for e in events):
        raise ValueError(
            "solve_ivp: Event(max_events=None) needs concrete inputs (outside jit, "
            "vmap and differentiation); give each event a capacity under jit."
        )
    auto = method == "auto"
    method = resolve_method(method, _concrete_tolerance(rtol, auto))
    check_fun_output(fun, t_span[0], y0, args)
    check_event_outputs([e.fn for e in events], t_span[0], y0, args)
    if jac_kind == "function":
        _check_jac_output(jac, t_span[0], y0, args, size)
    budget = max_steps or _CHUNK_STEPS
    capacity = max((e.max_events or _CHUNK_EVENTS for e in events), default=0)
    capacity = max(capacity, interior_points + 3) if events else 0
    leaves = jax.tree.leaves(y0)
    options = Options(
        method=method,
        dense=dense_output,
        has_t_eval=t_eval is not None,
        capacity=capacity,
        max_steps=budget if dense_output else 0,
        interior_points=interior_points,
        detect_stiffness=False,
        jac=jac_kind,
        stability=stability_limit(explicit_method(_concrete_tolerance(rtol, True)))
        if auto
        else 0.0,
        max_events=tuple(e.max_events for e in events),
        structure=(
            jax.tree.structure(y0),
            tuple(np.shape(x) for x in leaves),
            tuple(np.dtype(x.dtype) for x in leaves),
        ),
    )
    inputs = Inputs(
        t_span=t_span,
        y0=y0,
        args=_floats_to_arrays(args),
        rtol=rtol,
        atol=atol,
        t_eval=t_eval,
        teval_start=np.asarray(0, np.int32),
        config=_event_config(events, capacity),
        budget=np.asarray(budget, np.int32),
        first_step=first_step,
        max_step=max_step,
        jac=jac_value,
    )
    request = Request(
        fun=function_key(fun),
        fns=tuple(function_key(e.fn) for e in events),
        jac=function_key(jac) if jac_kind == "function" else None,
        inputs=inputs,
        options=options,
        explicit=method if auto else "",
        traced=traced,
        terminal=tuple(e.terminal_count for e in events),
        max_steps=max_steps if not traced else budget,
        t0=t_span[0],
        y0_flat=_flat(y0, traced),
    )
    return finish(run(request), throw, "solve_ivp")


def _event_config(events, capacity: int) -> tuple:
    """Directions, terminal counts and capacities: data, so that changing them does
    not recompile."""
    if not events:
        empty = np.zeros(0, np.int32)
        return empty, empty, empty
    return tuple(
        np.array(c, np.int32)
        for c in zip(
            *(
                (e.sign, e.terminal_count, min(e.max_events or capacity, capacity))
                for e in events
            )
        )
    )


def _check_jac_output(jac, t0, y0, args, size: int) -> None:
    from ._checks import _trace

    out = _trace("`jac`", lambda t, y: jac(t, y, *args), t0, y0)
    shape = getattr(out, "shape", None)
    if shape is None or int(np.prod(shape, dtype=int)) != size * size:
        raise ValueError(
            f"solve_ivp: jac(t, y, *args) must return the ({size}, {size}) "
            f"Jacobian df/dy; got shape {shape}."
        )


def _concrete_tolerance(rtol, needed: bool) -> float:
    if not needed:
        return 0.0
    try:
        return float(np.min(np.asarray(rtol)))
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise TypeError(
            "solve_ivp: method='auto' picks the method from rtol, which is traced "
            "here; pass method= explicitly (e.g. 'Dopri8')."
        ) from None


def _flat(y0, traced: bool):
    """The flattened state (NumPy when concrete: no eager JAX operation)."""
    if traced:
        return ravel_pytree(y0)[0]
    return np.concatenate([np.ravel(x) for x in jax.tree.leaves(y0)])


def _floats_to_arrays(tree):
    """Python floats in ``args`` become arrays, so new values do not recompile."""
    return jax.tree.map(lambda x: jnp.asarray(x) if isinstance(x, float) else x, tree)

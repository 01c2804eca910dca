"""``solve_ivp``: SciPy's interface on diffrax's solvers, with recorded events."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._cache import function_key
from ._checks import as_events, check_event_outputs, check_fun_output, state_dtype
from ._event import Event
from ._loop import Problem, integrate
from ._methods import METHODS, make_solver, resolve_method, stiffness
from ._reverse import reverse_mode_ready
from ._solution import STATUS, DenseSolution, Solution, Stats

__all__ = ["solve_ivp"]


@dataclasses.dataclass(frozen=True)
class _Options:
    method: str
    dense: bool
    has_t_eval: bool
    max_steps: int
    interior_points: int
    throw: bool


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
    max_steps: int = 4096,
    interior_points: int = 3,
    throw: bool = True,
) -> Solution:
    r"""Solve :math:`y' = f(t, y)`, :math:`y(t_0) = y_0`, and record events.

    Steps are taken by a diffrax solver under a PID step-size controller that keeps
    the local error estimate below :math:`\text{atol} + \text{rtol}\,|y|` (RMS norm).
    In every accepted step each event function :math:`g_k(t, y(t))` is evaluated at
    the step's ends and at ``interior_points`` equally spaced points of the step's
    interpolant; each sign change (or arrival at an exact zero) is booked with its
    step, in time order per event (``_crossings.py``). After the loop all booked
    occurrences are located at once (``_locate.py``) on their steps' interpolants
    with Chandrupatla's bracketing method to
    :math:`|\Delta t| \le 2(2\epsilon|t| + \epsilon h)` and polished by one Newton
    step on a fresh step of the method from the step's start (the interpolant is
    less accurate than the steps), which also gives the event state; in the step
    where a terminal event reaches its count, the earliest terminal occurrence
    stops the solve and later ones are dropped. Where :math:`|g|` dips to within
    the solver's accuracy of 0 between samples without a sign change, a *touch* is
    recorded (``direction=0`` events only; see ``_touches.py``). See
    :class:`Event` for the rule at :math:`t_0` and for direction and terminal
    counts.

    Outputs: states at ``t_eval`` are computed by one step of the method from the
    enclosing step's start (as accurate as the steps); ``sol(t)`` is diffrax's
    interpolant (for Dopri8 about ``rtol**(7/9)`` relative, 5e-10 at rtol 1e-12).

    Derivatives: ``jax.jvp``/``jax.jacfwd`` and ``jax.grad``/``jax.vjp``/
    ``jax.jacrev`` of every floating output (event times and states, ``y``,
    ``t_final``, ``sol``) in ``t_span``, ``y0``, floating ``args``, ``t_eval``,
    ``rtol``/``atol``. Event times carry the implicit-function-theorem tangent
    :math:`\dot t^* = -\dot g / (dg/dt)` at the root (the root finder is never
    differentiated). The loop is a ``lax.while_loop``, which JAX cannot transpose,
    so the solve is a ``custom_jvp`` whose tangent is :math:`J\,\dot x`, with
    :math:`J` the Jacobian in the :math:`m` scalar inputs whose tangent is not a
    symbolic zero, computed by forward mode (one loop carrying :math:`m`
    tangents; ``_reverse.py``). That product is transposable, so reverse mode
    works, at the cost of :math:`m` forward tangents (an explicit zero tangent,
    e.g. ``jnp.zeros_like(x)`` in ``jax.jvp``, still counts): meant for small
    states and few parameters, not an adjoint method.

    Compiled solvers are cached per ``(fun, events, structure and dtype of the
    inputs, options)``: calls with the same functions and shapes do not recompile,
    whatever the values of ``t_span``, ``y0``, ``args``, ``rtol``, ``atol``,
    ``t_eval``, event directions and terminal counts. Plain Python functions count
    as the same when they come from the same source with equal closures and
    defaults (a ``lambda`` re-created at every call reuses the compiled solver;
    closed-over arrays compare by identity, so pass changing values in ``args``).

    Args:
        fun: ``fun(t, y, *args) -> dy/dt`` with ``y``'s structure and dtype.
        t_span: ``(t0, t1)``; ``t1 < t0`` integrates backwards.
        y0: initial state, an array or a pytree of arrays (integers are promoted).
        method: ``"auto"``, ``"Tsit5"``, ``"Dopri5"``, ``"Dopri8"``, or
            ``"Kvaerno5"`` for stiff problems. ``"auto"`` takes ``"Kvaerno5"``
            when the Jacobian at :math:`(t_0, y_0)` has an eigenvalue with
            :math:`-\mathrm{Re}\,\lambda\,|t_1 - t_0| > 10^3` (stiff: an explicit
            method would need hundreds of steps for stability alone; checked
            only at the start and only with concrete inputs, not under
            ``jit``/``vmap``), else ``"Dopri8"`` when ``rtol < 1e-8``, else
            ``"Tsit5"``.
        rtol, atol: local error tolerances, ``atol + rtol * |y|``.
        events: an :class:`Event`, a callable ``g(t, y, *args)`` (SciPy's
            ``terminal``/``direction`` attributes are read) or a sequence of them.
        args: extra arguments for ``fun`` and the events (a tuple).
        dense_output: also return ``sol``, the continuous solution (stores every
            step: ``max_steps`` buffers).
        t_eval: 1-D times in the direction of integration, inside ``t_span``.
        max_steps: attempted-step budget (then ``status = -3``).
        interior_points: interior samples of each step at which events are checked.
        throw: raise when ``status < 0``; ``False`` returns the Solution so that
            ``status`` and ``message`` (naming the time it stopped) can be read.

    Returns:
        A :class:`Solution`: ``t`` ``(m,)`` and ``y`` (``y0``'s structure with a
        leading ``m`` axis), ``t_events``/``y_events`` (one ``(max_events, ...)``
        ``nan``-padded array per event), ``n_events`` ``(E,)``, ``status``,
        ``message``, ``t_final``, ``sol`` and ``stats``.

    Raises:
        TypeError: ``fun`` or an event not callable; complex state; ``fun``
            returning a dtype that does not cast to the state's; options of the
            wrong type.
        ValueError: ``t_span`` not of length 2; ``fun`` output of the wrong
            structure or shape; an event function not returning a scalar; unknown
            ``method``; non-positive ``max_steps``.
        equinox.EquinoxRuntimeError: non-finite ``t_span``/``y0``, non-positive
            tolerances, ``t_eval`` outside ``t_span`` or unsorted; with
            ``throw=True``, any ``status < 0``.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.ode as ode
        >>> logistic = lambda t, y: 0.01 * y * (1 - y)
        >>> hit = ode.Event(lambda t, y: y[0] - 0.8, terminal=True)
        >>> sol = ode.solve_ivp(logistic, (0.0, 1000.0), jnp.array([0.5]), events=hit)
        >>> int(sol.status), round(float(sol.t_events[0][0]), 2)  # 100 ln 4
        (1, 138.63)
    """
    if not callable(fun):
        raise TypeError(f"solve_ivp: fun must be callable, got {type(fun).__name__}.")
    events = as_events(events)
    if not isinstance(args, tuple):
        raise TypeError(
            f"solve_ivp: args must be a tuple (as in SciPy), got "
            f"{type(args).__name__}; write args=(value,)."
        )
    span_shape = np.shape(t_span)
    if span_shape != (2,):
        raise ValueError(
            f"solve_ivp: t_span must be (t0, t1), of length 2, got shape {span_shape}."
        )
    for name, value in (("max_steps", max_steps), ("interior_points", interior_points)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"solve_ivp: {name} must be an int, got {value!r}.")
    if max_steps < 1 or interior_points < 0:
        raise ValueError(
            f"solve_ivp: need max_steps >= 1 and interior_points >= 0, got "
            f"max_steps={max_steps}, interior_points={interior_points}."
        )
    dtype = state_dtype(y0)
    y0 = jax.tree.map(lambda x: jnp.asarray(x, dtype), y0)
    stiff_index = None
    if method == "auto":
        check_fun_output(fun, jnp.asarray(t_span[0], dtype), y0, args)
        stiff_index = stiffness(function_key(fun), t_span, y0, args)
    method = resolve_method(method, _concrete_tolerance(rtol, method), stiff_index)
    if t_eval is not None:
        t_eval = jnp.asarray(t_eval, dtype)
        if t_eval.ndim != 1:
            raise ValueError(f"solve_ivp: t_eval must be 1-D, got {t_eval.shape}.")
    # max_steps shapes the compiled solver only where it sizes the dense buffers.
    options = _Options(
        method,
        bool(dense_output),
        t_eval is not None,
        max_steps if dense_output else 0,
        interior_points,
        bool(throw),
    )
    # Only the event functions and capacities shape the compiled solver: directions
    # and terminal counts are data, so changing them does not recompile.
    config = tuple(
        jnp.array(c, jnp.int32)
        for c in zip(*((e.direction, e.terminal_count, e.max_events) for e in events))
    )
    dynamic = (
        jnp.asarray(t_span, dtype),
        y0,
        _floats_to_arrays(args),
        jnp.asarray(rtol, dtype),
        jnp.asarray(atol, dtype),
        t_eval,
        config,
        jnp.asarray(max_steps, jnp.int32),
    )
    fns = tuple(function_key(e.fn) for e in events)
    shapes = (fns, tuple(e.max_events for e in events))
    return _solve(function_key(fun), shapes, dynamic, options)


def _concrete_tolerance(rtol, method: str) -> float:
    if method != "auto":
        return 0.0
    try:
        return float(rtol)
    except (TypeError, jax.errors.ConcretizationTypeError):
        raise TypeError(
            "solve_ivp: method='auto' picks the method from rtol, which is traced "
            "here; pass method= explicitly (e.g. 'Dopri8')."
        ) from None


def _floats_to_arrays(tree):
    """Python floats in ``args`` become arrays, so new values do not recompile."""
    return jax.tree.map(lambda x: jnp.asarray(x) if isinstance(x, float) else x, tree)


@eqx.filter_jit
def _solve(fun, events, dynamic, options: _Options) -> Solution:
    t_span, y0, args, rtol, atol, t_eval, config, max_steps = dynamic
    fns, capacities = events
    t0 = t_span[0]
    check_fun_output(fun, t0, y0, args)
    check_event_outputs(fns, t0, y0, args)
    t_span, y0, rtol, atol, t_eval = _check_values(t_span, y0, rtol, atol, t_eval)
    # Every traced input is an explicit argument of the custom_jvp (its rule must
    # not close over tracers); Python values in args stay static.
    array_args, static_args = eqx.partition(args, eqx.is_array)

    def run(t_span, y0, array_args, rtol, atol, t_eval, config, max_steps):
        args = eqx.combine(array_args, static_args)
        static = (fun, fns, capacities, config, max_steps, options)
        return _run(static, t_span, y0, args, rtol, atol, t_eval)

    # jax.grad needs a transposable rule: J @ tangent, J by jacfwd (_reverse.py).
    solution = reverse_mode_ready(run)(
        t_span, y0, array_args, rtol, atol, t_eval, config, max_steps
    )
    if options.throw:
        solution = _raise_on_failure(solution)
    return solution


def _run(static, t_span, y0, args, rtol, atol, t_eval) -> Solution:
    """The solve proper: build the :class:`Problem`, integrate, assemble."""
    fun, fns, capacities, config, max_steps, options = static
    t0, t1 = t_span[0], t_span[1]
    flat0, unravel = ravel_pytree(y0)
    d = jnp.where(t1 >= t0, 1, -1).astype(flat0.dtype)

    def field(s, y, args):
        return d * ravel_pytree(fun(d * s, unravel(y), *args))[0].astype(y.dtype)

    g_all = None
    if fns:

        def g_all(s, y):
            values = [fn(d * s, unravel(y), *args) for fn in fns]
            return jnp.stack([jnp.asarray(v, y.dtype) for v in values])

    problem = Problem(
        term=diffrax.ODETerm(field),
        solver=make_solver(options.method, rtol, atol),
        controller=diffrax.PIDController(rtol=rtol, atol=atol),
        args=args,
        s_start=d * t0,
        s_end=d * t1,
        y0=flat0,
        g_all=g_all,
        event_config=config,
        capacity=max(capacities, default=0),
        teval_s=None if t_eval is None else d * t_eval,
        dense=options.dense,
        max_steps=options.max_steps or max_steps,
        interior_points=options.interior_points,
    )
    carry = integrate(problem)
    return _assemble(problem, carry, capacities, unravel, d, t_span, t_eval, options)


def _check_values(t_span, y0, rtol, atol, t_eval):
    """Tier 2: wrong values, checked under jit."""
    t_span = eqx.error_if(
        t_span, ~jnp.all(jnp.isfinite(t_span)), "solve_ivp: t_span must be finite."
    )
    y0 = jax.tree.map(
        lambda x: eqx.error_if(
            x, ~jnp.all(jnp.isfinite(x)), "solve_ivp: y0 contains nan or inf."
        ),
        y0,
    )
    rtol = eqx.error_if(rtol, ~(rtol > 0), "solve_ivp: rtol must be > 0.")
    atol = eqx.error_if(atol, ~(atol >= 0), "solve_ivp: atol must be >= 0.")
    if t_eval is not None:
        t0, t1 = t_span[0], t_span[1]
        d = jnp.where(t1 >= t0, 1, -1).astype(t_eval.dtype)
        s = d * t_eval
        bad = jnp.any(s < d * t0) | jnp.any(s > d * t1) | jnp.any(jnp.diff(s) < 0)
        t_eval = eqx.error_if(
            t_eval,
            bad,
            "solve_ivp: t_eval must lie within t_span and be sorted in the "
            "direction of integration.",
        )
    return t_span, y0, rtol, atol, t_eval


def _assemble(p: Problem, c, capacities, unravel, d, t_span, t_eval, options):
    stopped = jnp.asarray(False) if c.located is None else c.located.stopped
    s_final = c.s0 if c.located is None else jnp.where(stopped, c.located.s_stop, c.s0)
    y_final = c.y if c.located is None else jnp.where(stopped, c.located.y_stop, c.y)
    status = jnp.where(
        c.failed < 0, c.failed, jnp.where(stopped, 1, jnp.where(c.s0 < p.s_end, -3, 0))
    )
    t_events, y_events, n_events = (), (), jnp.zeros(0, jnp.int32)
    if capacities:
        n_events = c.located.counts
        overflow = jnp.any(n_events > p.event_config[2])
        status = jnp.where((status >= 0) & overflow, -4, status)
        t_events = tuple(d * c.located.s[k, :cap] for k, cap in enumerate(capacities))
        y_events = tuple(
            jax.vmap(unravel)(c.located.y[k, :cap]) for k, cap in enumerate(capacities)
        )
    if t_eval is None:
        t = jnp.stack([t_span[0], d * s_final])
        y = jax.vmap(unravel)(jnp.stack([p.y0, y_final]))
    else:
        t, y = t_eval, jax.vmap(unravel)(c.out_y)
    sol = None
    if options.dense:
        sol = DenseSolution(
            boundaries=c.dense_s,
            n_steps=c.n_accepted,
            infos=c.dense_info,
            direction=d,
            s_final=s_final,
            unravel=unravel,
            interpolation_cls=p.solver.interpolation_cls,
        )
    return Solution(
        t=t,
        y=y,
        t_final=d * s_final,
        t_events=t_events,
        y_events=y_events,
        n_events=n_events,
        status=status.astype(jnp.int32),
        stats=_stats(p, c, options.method),
        sol=sol,
    )


def _stats(p: Problem, c, method: str) -> Stats:
    tableau = METHODS[method][0].tableau
    if not isinstance(tableau, diffrax.ButcherTableau):  # a multi-tableau (IMEX) pair
        raise TypeError(f"solve_ivp: no stage count for method {method!r}")
    per_step = tableau.num_stages - int(tableau.fsal)
    return Stats(
        n_steps=c.n_steps,
        n_accepted=c.n_accepted,
        n_rejected=c.n_steps - c.n_accepted,
        nfev=c.n_steps * per_step + int(tableau.fsal) + 2,
    )


def _raise_on_failure(solution: Solution) -> Solution:
    hint = (
        " (solve_ivp(..., throw=False) returns the Solution; its .message names the "
        "time where it stopped)"
    )
    messages = [STATUS[code] + hint for code in (-1, -2, -3, -4)]
    messages[2] = (
        "solve_ivp: max_steps was reached before the end of t_span; raise max_steps "
        f"or loosen rtol/atol{hint}"
    )
    status = solution.status
    t_final = eqx.branched_error_if(
        solution.t_final, status < 0, jnp.clip(-status - 1, 0, 3), messages
    )
    return dataclasses.replace(solution, t_final=t_final)

"""``second_order`` and ``find_time``: the seed's questions in one call each."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS, AbstractResult, finish, format_array
from .._core.validate import boolean, callable_, is_traced
from ._event import Event
from ._methods import explicit_method
from ._solution import Solution
from ._solve_ivp import solve_ivp

__all__ = ["EventTime", "find_time", "second_order"]


class _SecondOrder:
    """``(t, (x, v), *args) -> (v, f(t, x, v, *args))``. Compiled solvers are
    keyed on ``f`` and the values it reads (``_cache.py``), so that
    ``second_order(f)`` made afresh for every solve reuses them."""

    def __init__(self, f: Callable):
        self.f = f

    def __call__(self, t, state, *args):
        x, v = state
        return v, self.f(t, x, v, *args)

    def __calculax_key__(self):
        return (self.f,)


def second_order(f: Callable) -> Callable:
    r"""The first-order system of :math:`x'' = f(t, x, x')`.

    Returns ``fun(t, (x, v), *args) = (v, f(t, x, v, *args))``: the state is the pair
    ``(x, v)`` (any matching pytrees), so ``y0 = (x0, v0)``. Solves of
    ``second_order(f)`` reuse the compiled solver for the same ``f`` reading the
    same values, whether or not ``second_order`` is called again.

    Args:
        f: ``f(t, x, v, *args) -> x''`` with ``x``'s structure.

    Returns:
        ``fun`` for :func:`solve_ivp`.

    Raises:
        TypeError: ``f`` not callable.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.ode as ode
        >>> oscillator = ode.second_order(lambda t, x, v: -x)
        >>> dx, dv = oscillator(0.0, (jnp.array(1.0), jnp.array(0.0)))
        >>> float(dx), float(dv)
        (0.0, -1.0)
    """
    if not callable(f):
        raise TypeError(
            f"second_order: f must be callable as f(t, x, v, *args), got "
            f"{type(f).__name__}."
        )
    return _SecondOrder(f)


class EventTime(AbstractResult):
    """What ``find_time`` returns.

    Attributes:
        value: the first time (a scalar), or ``(max_events,)`` times padded with
            ``nan`` (``first=False``).
        error: an estimate of ``|value - truth|``: twice the change of each
            time when the same problem is solved again at ``rtol / 16`` (the
            same compiled program), plus 8 ulp; ``inf`` where that solve
            disagrees on the number of occurrences.
        status: a :data:`calculax.RESULTS` item; ``event_not_found`` when
            ``first=True`` and the condition never reached 0 in ``t_span``.
        solution: the :class:`Solution` the times come from.
    """

    value: jax.Array
    error: jax.Array
    status: object
    solution: Solution

    def __repr__(self) -> str:
        return (
            f"EventTime(value={format_array(self.value)}, "
            f"error={format_array(self.error)}, status={format_array(self.status)})"
        )

    __str__ = __repr__

    def __float__(self) -> float:
        """The time as a Python float (``first=True``; the status was checked
        when ``throw=True``)."""
        value = np.asarray(self.value)
        if value.ndim != 0:
            raise TypeError(
                "find_time: float() needs one time (first=True); this result holds "
                f"{value.shape[0]} (first=False): use `.value`."
            )
        return float(value)


_TIGHTER = 16.0  # the second solve's rtol is rtol / 16


def find_time(
    fun: Callable,
    t_span,
    y0,
    condition: Callable,
    *,
    first: bool = True,
    direction: int = 0,
    max_events: int = 100,
    throw: bool = True,
    **options,
) -> EventTime:
    r"""Time(s) in ``t_span`` where ``condition(t, y(t), *args) = 0``, with an
    error estimate.

    Solves ``y' = fun(t, y, *args)`` with :func:`solve_ivp` and one :class:`Event`
    on ``condition`` (rules there: sign changes and touches, never at ``t0`` itself,
    each root once), stopping at the first occurrence when ``first``; then solves
    again at ``rtol / 16`` (no recompilation) and reports the change of each time
    as its ``error``.

    Args:
        fun, t_span, y0: as in :func:`solve_ivp`.
        condition: ``condition(t, y, *args) -> scalar``.
        first: return the first time (a scalar); ``False``: every time, a
            ``(max_events,)`` array padded with ``nan``.
        direction: ``+1``/``-1`` only increasing/decreasing crossings; ``0`` all.
        max_events: capacity when ``first=False``.
        throw: raise :class:`calculax.NumericalError` on a failure status (and,
            with ``first=True``, when the condition never reaches 0).
        **options: passed to :func:`solve_ivp` (``rtol``, ``atol``, ``args``, ...).

    Returns:
        An :class:`EventTime`: ``value`` (scalar time, or ``(max_events,)``
        times), ``error``, ``status``, ``message``.

    Raises:
        As :func:`solve_ivp` and :class:`Event`; calculax.NumericalError: with
        ``throw=True``, no occurrence (``first=True``) or a failed solve.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.ode as ode
        >>> hit = ode.find_time(
        ...     lambda t, y: 0.01 * y * (1 - y), (0.0, 1000.0), jnp.array([0.5]),
        ...     lambda t, y: y[0] - 0.8,
        ... )
        >>> round(float(hit), 2)  # 100 ln 4 (float(hit) is float(hit.value))
        138.63
        >>> bool(hit.error < 1e-3)
        True
    """
    callable_("find_time", "condition", condition)
    first = boolean("find_time", "first", first)
    throw = boolean("find_time", "throw", throw)
    if "events" in options:
        raise TypeError("find_time: pass the event as `condition`, not `events`.")
    event = Event(
        condition,
        terminal=bool(first),
        direction=direction,
        max_events=1 if first else max_events,
    )
    rtol = options.pop("rtol", 1e-6)
    method = options.pop("method", "auto")
    if method == "auto":  # both solves run the same method (and program)
        method = explicit_method(_concrete_min(rtol))
    solve = functools.partial(
        solve_ivp, fun, t_span, y0, events=event, method=method, throw=False, **options
    )
    solution = solve(rtol=rtol)
    xp = jnp if is_traced((solution.t_events, rtol)) else np
    check = solve(rtol=xp.asarray(rtol) / _TIGHTER)
    times, again = xp.asarray(solution.t_events[0]), xp.asarray(check.t_events[0])
    n, m = xp.asarray(solution.n_events)[0], xp.asarray(check.n_events)[0]
    agree = (n == m) & _ok(xp, check.status)
    # Twice the change: the error falls like rtol**q with q in (1/4, 1] for the
    # methods here, so the tighter solve is at least twice as accurate.
    error = xp.where(agree, 2 * xp.abs(times - again), xp.inf)
    error = error + 8 * xp.finfo(times.dtype).eps * xp.abs(times)
    status = solution.status
    if first:
        times, error = times[0], error[0]
        missing = _ok(xp, solution.status) & (n == 0)
        if xp is np:
            if bool(missing):
                status = RESULTS.event_not_found
        else:
            status = RESULTS.where(missing, RESULTS.event_not_found, status)  # type: ignore[arg-type]
    else:
        error = xp.where(xp.isnan(times), xp.nan, error)
    result = EventTime(value=times, error=error, status=status, solution=solution)
    return finish(result, throw, "find_time")


def _ok(xp, status):
    """Whether ``status`` is OK, with NumPy when it is concrete."""
    if xp is np:
        value = np.asarray(status._value)
        return (value == int(RESULTS.successful._value)) | (
            value == int(RESULTS.event_occurred._value)
        )
    return (status == RESULTS.successful) | (status == RESULTS.event_occurred)


def _concrete_min(rtol) -> float:
    try:
        return float(np.min(np.asarray(rtol)))
    except (
        TypeError,
        jax.errors.ConcretizationTypeError,
        jax.errors.TracerArrayConversionError,
    ):
        raise TypeError(
            "find_time: method='auto' picks the method from rtol, which is traced "
            "here; pass method= explicitly (e.g. 'Dopri8')."
        ) from None

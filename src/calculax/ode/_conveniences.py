"""``second_order`` and ``find_time``: the seed's questions in one call each."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from ._cache import function_key
from ._event import Event
from ._solve_ivp import solve_ivp

__all__ = ["find_time", "second_order"]


class _SecondOrder:
    """``(t, (x, v), *args) -> (v, f(t, x, v, *args))``; equal for equal ``f``
    (``f`` compared as ``solve_ivp``'s cache does, see ``_cache.py``)."""

    def __init__(self, f: Callable):
        self.f = function_key(f)

    def __call__(self, t, state, *args):
        x, v = state
        return v, self.f(t, x, v, *args)

    def __eq__(self, other):
        return isinstance(other, _SecondOrder) and other.f == self.f

    def __hash__(self):
        return hash((_SecondOrder, self.f))


def second_order(f: Callable) -> Callable:
    r"""The first-order system of :math:`x'' = f(t, x, x')`.

    Returns ``fun(t, (x, v), *args) = (v, f(t, x, v, *args))``: the state is the pair
    ``(x, v)`` (any matching pytrees), so ``y0 = (x0, v0)``. ``second_order(f)`` is
    equal (and hashes equal) for the same ``f`` (or a re-created ``f`` from the same
    source with equal closure), so repeated solves reuse the compiled solver.

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


def find_time(
    fun: Callable,
    t_span,
    y0,
    condition: Callable,
    *,
    first: bool = True,
    direction: int = 0,
    max_events: int = 100,
    **options,
) -> jax.Array:
    r"""Time(s) in ``t_span`` where ``condition(t, y(t), *args) = 0``.

    Solves ``y' = fun(t, y, *args)`` with :func:`solve_ivp` and one :class:`Event`
    on ``condition`` (rules there: sign changes and touches, never at ``t0`` itself,
    each root once), stopping at the first occurrence when ``first``.

    Args:
        fun, t_span, y0: as in :func:`solve_ivp`.
        condition: ``condition(t, y, *args) -> scalar``.
        first: return the first time (a scalar, ``nan`` if none); ``False``: every
            time, a ``(max_events,)`` array padded with ``nan``.
        direction: ``+1``/``-1`` only increasing/decreasing crossings; ``0`` all.
        max_events: capacity when ``first=False``.
        **options: passed to :func:`solve_ivp` (``rtol``, ``atol``, ``args``, ...).

    Returns:
        Scalar time, or ``(max_events,)`` times.

    Raises:
        As :func:`solve_ivp` and :class:`Event`.

    Example:
        >>> import jax.numpy as jnp
        >>> import calculax.ode as ode
        >>> t = ode.find_time(
        ...     lambda t, y: 0.01 * y * (1 - y), (0.0, 1000.0), jnp.array([0.5]),
        ...     lambda t, y: y[0] - 0.8,
        ... )
        >>> round(float(t), 2)  # 100 ln 4
        138.63
    """
    event = Event(
        condition,
        terminal=bool(first),
        direction=direction,
        max_events=1 if first else max_events,
    )
    solution = solve_ivp(fun, t_span, y0, events=event, **options)
    times = solution.t_events[0]
    return times[0] if first else jnp.asarray(times)

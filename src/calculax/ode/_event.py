"""``Event``: a scalar function of ``(t, y)`` whose zero crossings are recorded."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import numpy as np

__all__ = ["Event"]


def _python(value):
    """NumPy scalars (``np.int64(2)``, ``np.float64(1.0)``, ``np.True_``) as Python
    numbers: the fields are static, hashed into the compiled program's key."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class Event(eqx.Module):
    r"""A condition :math:`g(t, y, \ldots) = 0` to locate during ``solve_ivp``.

    An event *occurs* at :math:`t^*` when :math:`g` changes sign there, or becomes
    exactly zero coming from a nonzero value, checked at the ends of every
    step and at ``interior_points`` points of the step's interpolant, then located on
    the interpolant with Chandrupatla's bracketing method to a few ulp in :math:`t`.

    A *touch* (``g`` reaching 0 without changing sign, e.g. :math:`(t - 1/2)^2`)
    is recorded for ``direction=0`` events when :math:`|g|` dips, between samples,
    to within the solver's accuracy of 0 (its time is ill-conditioned, like
    :math:`\sqrt{\delta g}`).

    **Rule at the start.** Where :math:`g(t_0, y_0) = 0` exactly, the event is
    *armed* by the first nonzero value of :math:`g` after :math:`t_0` and does not
    fire at :math:`t_0` (SciPy fires it there; ``calculax.scipy.integrate`` does
    as SciPy does).
    The same holds after every occurrence: the sign just after the located root
    becomes the new reference, so a root is never detected twice.

    Args:
        fn: ``fn(t, y, *args) -> scalar``, with ``y`` of ``y0``'s structure.
        terminal: ``False`` or ``0`` (record only), ``True`` (stop at the first
            occurrence) or an integer ``n >= 1`` (stop at the ``n``-th occurrence).
        direction: ``0`` every crossing; ``+1`` only where :math:`g` increases
            (from negative to positive or zero); ``-1`` only where it decreases.
            Crossings in the other direction are passed over (never re-detected).
        max_events: capacity of the recorded ``t_events``/``y_events`` arrays. The
            solve stops before a step whose occurrences would exceed it, with
            ``status = RESULTS.max_events_exceeded`` (everything before
            ``t_final`` is recorded). ``None``: no limit (with concrete inputs;
            the arrays are then exactly ``n_events`` long); under ``jit`` a
            capacity is needed.

    Raises:
        TypeError: ``fn`` not callable, or ``terminal``/``direction``/``max_events``
            of the wrong type.
        ValueError: ``direction`` not in ``{-1, 0, 1}``, a negative ``terminal``,
            ``max_events < 1``, or a terminal count above ``max_events``.

    Example:
        >>> import calculax.ode as ode
        >>> hit = ode.Event(lambda t, y: y[0] - 0.8, terminal=True, direction=1)
        >>> hit.terminal_count, hit.direction
        (1, 1)
    """

    fn: Callable
    terminal: bool | int = eqx.field(default=False, static=True, converter=_python)
    direction: int = eqx.field(default=0, static=True, converter=_python)
    max_events: int | None = eqx.field(default=100, static=True, converter=_python)

    def __check_init__(self):
        if not callable(self.fn):
            raise TypeError(
                f"Event: `fn` must be callable as fn(t, y, *args) -> scalar; got "
                f"{type(self.fn).__name__}."
            )
        terminal = self.terminal
        if terminal is None or (
            not isinstance(terminal, (bool, int, np.integer))
            and not (
                isinstance(terminal, (float, np.floating))
                and float(terminal).is_integer()
            )
        ):
            raise TypeError(
                "Event: `terminal` must be True, False or a positive integer count; "
                f"got {terminal!r}."
            )
        if terminal < 0:
            raise ValueError(
                f"Event: `terminal` must be True, False or a positive integer count; "
                f"got {terminal!r} (False or 0: record only; n >= 1: stop at the "
                "n-th occurrence)."
            )
        direction = self.direction
        if (
            isinstance(direction, (bool, np.bool_))
            or not isinstance(direction, (int, np.integer, float, np.floating))
            or direction not in (-1, 0, 1)
        ):
            raise ValueError(
                f"Event: `direction` must be -1, 0 or +1; got {direction!r}."
            )
        limit = self.max_events
        if limit is not None and (
            isinstance(limit, (bool, np.bool_))
            or not isinstance(limit, (int, np.integer))
        ):
            raise TypeError(
                "Event: `max_events` must be a positive integer or None; got "
                f"{limit!r}."
            )
        if limit is not None and limit < 1:
            raise ValueError(f"Event: `max_events` must be >= 1; got {limit}.")
        if limit is not None and self.terminal_count > limit:
            raise ValueError(
                f"Event: `terminal`={terminal} exceeds `max_events`={limit}; raise "
                "max_events to at least the terminal count."
            )

    @property
    def terminal_count(self) -> int:
        """Occurrences after which the solve stops (``0``: never)."""
        return int(self.terminal)  # True -> 1, False -> 0

    @property
    def sign(self) -> int:
        """``direction`` as an ``int``."""
        return int(self.direction)

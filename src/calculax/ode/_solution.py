"""``Solution`` of ``solve_ivp``: outputs, events, status codes, dense output."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["STATUS", "DenseSolution", "Solution", "Stats"]

# SciPy's codes (0, 1, -1) and ours below -1; the texts are the user-facing messages.
STATUS = {
    0: "The solver successfully reached the end of the integration interval.",
    1: "A termination event occurred.",
    -1: "Integration step failed: the step size fell below 10 ulp of t",
    -2: "The state became non-finite (nan or inf)",
    -3: "max_steps was reached before the end of the interval",
    -4: "An event occurred more often than its max_events; later occurrences "
    "were not recorded (raise Event(max_events=...))",
}


class Stats(eqx.Module):
    """Counts: attempted steps, accepted, rejected, right-hand-side evaluations.

    ``nfev`` counts the method's stages per attempted step (first-same-as-last
    stages once) plus the evaluations of the initial step-size heuristic; for the
    implicit ``"Kvaerno5"`` it counts stage solves, not their Newton iterations.
    """

    n_steps: jax.Array
    n_accepted: jax.Array
    n_rejected: jax.Array
    nfev: jax.Array


class DenseSolution(eqx.Module):
    """Continuous solution ``sol(t)`` from the steps' own interpolants.

    Holds the step boundaries (in the internal forward time ``s = direction * t``)
    and each step's interpolation coefficients. Outside ``[t0, t_final]`` returns
    ``nan``.
    """

    boundaries: jax.Array
    n_steps: jax.Array
    infos: object
    direction: jax.Array
    s_final: jax.Array
    unravel: Callable = eqx.field(static=True)
    interpolation_cls: Callable = eqx.field(static=True)

    def __call__(self, t) -> object:
        """State at time(s) ``t`` (scalar or 1-D); leading axis as ``t``'s."""
        t = jnp.asarray(t, self.boundaries.dtype)
        flat = jax.vmap(self._one)(jnp.atleast_1d(t))
        out = jax.vmap(self.unravel)(flat)
        if t.ndim == 0:
            return jax.tree.map(lambda x: x[0], out)
        return out

    def _one(self, t):
        s = self.direction * t
        last = jnp.maximum(self.n_steps - 1, 0)
        upper = self.boundaries[1:]
        index = jnp.clip(jnp.searchsorted(upper, s, side="left"), 0, last)
        info = jax.tree.map(lambda x: x[index], self.infos)
        s0, s1 = self.boundaries[index], self.boundaries[index + 1]
        y = self.interpolation_cls(t0=s0, t1=s1, **info).evaluate(s)
        inside = (s >= self.boundaries[0]) & (s <= self.s_final) & (self.n_steps > 0)
        return jnp.where(inside, y, jnp.nan)


class Solution(eqx.Module):
    """What ``solve_ivp`` returns (fields as SciPy's ``OdeResult`` where possible).

    Attributes:
        t: ``(m,)`` output times: ``[t0, t_final]``, or ``t_eval``.
        y: ``y0``'s structure with a leading axis ``m`` (``y[i]`` is the state at
            ``t[i]``; SciPy's ``y`` is its transpose). ``t_eval`` points beyond
            ``t_final`` (after a terminal event or failure) are ``nan``.
        t_final: where the integration stopped.
        t_events: one ``(max_events,)`` array per event, ``nan``-padded after
            ``n_events[k]`` entries.
        y_events: one ``(max_events, *y0)`` pytree per event, ``nan``-padded.
        n_events: ``(E,)`` exact occurrence counts (may exceed ``max_events``: then
            ``status == -4``).
        status: 0 end reached; 1 terminal event; -1 step size collapsed; -2 state
            non-finite; -3 ``max_steps`` reached; -4 an event overflowed its
            ``max_events``.
        sol: a :class:`DenseSolution` when ``dense_output=True``, else ``None``.
        stats: :class:`Stats`.
    """

    t: jax.Array
    y: object
    t_final: jax.Array
    t_events: tuple
    y_events: tuple
    n_events: jax.Array
    status: jax.Array
    stats: Stats
    sol: DenseSolution | None

    @property
    def success(self) -> bool:
        """``status >= 0``."""
        return bool(np.all(np.asarray(self.status) >= 0))

    @property
    def message(self) -> str:
        """The status in words, naming the time where it stopped (concrete only)."""
        status = np.asarray(self.status)
        t_final = np.asarray(self.t_final)
        if status.ndim == 0:
            return _message(int(status), float(t_final))
        codes = sorted({int(c) for c in status.ravel()})
        return "; ".join(
            f"{int(np.sum(status == c))} of {status.size}: {STATUS[c]}" for c in codes
        )


def _message(status: int, t_final: float) -> str:
    if status < 0 and status != -4:
        return f"{STATUS[status]} at t = {t_final!r}."
    return STATUS[status]

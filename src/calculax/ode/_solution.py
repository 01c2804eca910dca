"""What ``solve_ivp`` returns: ``Solution`` (the one result model), its ``Stats``
and the continuous solution ``DenseSolution``."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import AbstractResult, format_array, is_ok, summarize

__all__ = ["DenseSolution", "Solution", "Stats"]


def _print(x) -> str:
    if isinstance(x, tuple):
        return (
            "("
            + ", ".join(format_array(v) for v in x)
            + ("," if len(x) == 1 else "")
            + ")"
        )
    return format_array(x)


class Stats(eqx.Module):
    """Counts: attempted, accepted and rejected steps; evaluations of the
    right-hand side (``nfev``) and of its Jacobian (``njev``); LU factorisations
    (``nlu``).

    ``nfev`` counts every evaluation of ``fun`` the solver made (for the
    implicit ``"Kvaerno5"``, one per stage solve, not per Newton iteration);
    Jacobians computed by forward-mode differentiation count in ``njev``, not in
    ``nfev``. A constant ``jac`` is not counted.
    """

    n_steps: jax.Array
    n_accepted: jax.Array
    n_rejected: jax.Array
    nfev: jax.Array
    njev: jax.Array
    nlu: jax.Array

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={format_array(getattr(self, name))}"
            for name in ("n_steps", "n_accepted", "n_rejected", "nfev", "njev", "nlu")
        )
        return f"Stats({fields})"

    __str__ = __repr__


class _Piece(eqx.Module):
    """The steps of one method: boundaries ``(m + 1,)`` in forward time (unused:
    ``+inf``), states there ``(m + 1, n)`` and each step's interpolation data."""

    boundaries: Any  # jax.Array, or a NumPy array when assembled concretely
    values: Any
    infos: object
    n_steps: Any
    interpolation_cls: type = eqx.field(static=True)

    def evaluate(self, s):
        """``(covered, y)``: whether ``s`` is in this piece's steps, and the state."""
        last = jnp.maximum(self.n_steps - 1, 0)
        index = jnp.clip(jnp.searchsorted(self.boundaries[1:], s, side="left"), 0, last)
        info = jax.tree.map(lambda x: x[index], self.infos)
        s0, s1 = self.boundaries[index], self.boundaries[index + 1]
        y = self.interpolation_cls(t0=s0, t1=s1, **info).evaluate(s)
        y = jnp.where(s == s1, self.values[index + 1], y)
        y = jnp.where(s == s0, self.values[index], y)
        end = self.boundaries[jnp.clip(self.n_steps, 0, self.boundaries.shape[0] - 1)]
        covered = (self.n_steps > 0) & (s >= self.boundaries[0]) & (s <= end)
        return covered, y


class DenseSolution(eqx.Module):
    """The continuous solution ``sol(t)``, from each accepted step's own
    interpolant (exact at the steps' ends); ``nan`` outside ``[t0, t_final]``.

    The interpolants are the methods' dense outputs: for ``"Dopri8"`` about
    ``rtol**(7/9)`` relative, for ``"Tsit5"``/``"Dopri5"`` about
    ``rtol**(4/5)``, for ``"Radau"`` its collocation polynomial (as SciPy's);
    ``"Kvaerno5"``'s is a cubic Hermite interpolant, about ``rtol**(3/4)``.

    Attributes:
        ts: the times of the accepted steps, ``t0`` first (padded with ``nan``
            under ``jit``, where their number is not known).
        ys: the states there, leading axis as ``ts``.
    """

    pieces: tuple
    direction: jax.Array
    s_start: jax.Array
    s_final: jax.Array
    y0: Any  # jax.Array or NumPy
    structure: tuple = eqx.field(static=True)  # (treedef, shapes, dtypes)

    def _unravel(self, flat):
        return unravel(self.structure, flat)

    def _one(self, t, extrapolate: bool):
        s = self.direction * t
        y = jnp.full_like(self.y0, jnp.nan)
        first: jax.Array | None = None
        last: jax.Array | None = None
        for piece in self.pieces:
            covered, value = piece.evaluate(s)
            y = jnp.where(covered, value, y)
            first = value if first is None else first
            last = value
        steps = sum(piece.n_steps for piece in self.pieces)
        if extrapolate:
            if first is not None and last is not None:
                y = jnp.where(
                    s < self.s_start, first, jnp.where(s > self.s_final, last, y)
                )
            return jnp.where(steps == 0, self.y0, y)
        inside = (s >= self.s_start) & (s <= self.s_final)
        y = jnp.where(inside, y, jnp.nan)
        return jnp.where((steps == 0) & (s == self.s_start), self.y0, y)

    def __call__(self, t, extrapolate: bool = False) -> object:
        """State at time(s) ``t`` (scalar or 1-D); leading axis as ``t``'s.

        Outside ``[t0, t_final]``: ``nan``, or with ``extrapolate=True`` the first
        or last step's interpolant continued (SciPy's ``OdeSolution``; the state
        ``y0`` for a solve that took no step).
        """
        return _evaluate(self, jnp.asarray(t, self.y0.dtype), bool(extrapolate))

    @property
    def ts(self) -> jax.Array:
        xp = _xp(self)
        times = [xp.reshape(self.s_start, (1,))]
        for piece in self.pieces:
            times.append(_valid(piece.boundaries[1:], piece.n_steps))
        return self.direction * xp.concatenate(times)

    @property
    def ys(self) -> object:
        xp = _xp(self)
        values = [xp.asarray(self.y0)[None]]
        for piece in self.pieces:
            values.append(_valid(piece.values[1:], piece.n_steps))
        return self._unravel(xp.concatenate(values))


def unravel(structure, flat):
    """The pytree of ``structure = (treedef, shapes, dtypes)`` from a flat state
    (leading axes kept)."""
    treedef, shapes, dtypes = structure
    leaves, start = [], 0
    for shape, dtype in zip(shapes, dtypes):
        size = int(np.prod(shape, dtype=int))
        piece = flat[..., start : start + size]
        leaves.append(piece.reshape(*flat.shape[:-1], *shape).astype(dtype))
        start += size
    return jax.tree.unflatten(treedef, leaves)


def _xp(tree):
    """NumPy for concrete arrays (no eager JAX operation), else ``jax.numpy``."""
    traced = any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(tree))
    return jnp if traced else np


def _valid(x, n):
    """The first ``n`` rows: sliced when ``n`` is concrete, else ``nan``-padded."""
    if not isinstance(n, jax.core.Tracer) and not isinstance(x, jax.core.Tracer):
        return np.asarray(x)[: int(n)]
    rows = jnp.arange(x.shape[0]).reshape(-1, *([1] * (x.ndim - 1)))
    return jnp.where(rows < n, x, jnp.nan)


@eqx.filter_jit
def _evaluate(sol: DenseSolution, t, extrapolate: bool):
    flat = jax.vmap(lambda t: sol._one(t, extrapolate))(jnp.atleast_1d(t))
    out = sol._unravel(flat)
    if t.ndim == 0:
        return jax.tree.map(lambda x: x[0], out)
    return out


class Solution(AbstractResult):
    """What ``solve_ivp`` returns (fields as SciPy's ``OdeResult`` where possible).

    Attributes:
        t: ``(m,)`` output times: ``[t0, t_final]``, or ``t_eval``.
        y: ``y0``'s structure with a leading axis ``m`` (``y[i]`` is the state at
            ``t[i]``; SciPy's ``y`` is its transpose). ``t_eval`` points beyond
            ``t_final`` (after a terminal event or failure) are ``nan``.
        t_final: where the integration stopped.
        t_events: one ``(max_events,)`` array per event, ``nan``-padded after
            ``n_events[k]`` entries (exactly ``n_events[k]`` long for
            ``Event(max_events=None)``).
        y_events: one ``(max_events, *y0)`` pytree per event, ``nan``-padded.
        n_events: ``(E,)`` occurrence counts.
        status: a :data:`calculax.RESULTS` item: ``successful`` (the end was
            reached), ``event_occurred`` (a terminal event), or a failure
            (``step_size_collapsed``, ``nonfinite_state``,
            ``ode_max_steps_reached``, ``max_events_exceeded``,
            ``nonfinite_event``); everything before ``t_final`` is valid then.
        sol: a :class:`DenseSolution` when ``dense_output=True``, else ``None``.
        stats: :class:`Stats`.
        value: ``y`` (the result model's name for the answer).
        error: ``None``: the solver keeps each step's *local* error below
            ``atol + rtol |y|``; it does not estimate the global error (compare
            two solves at different ``rtol``; ``find_time`` does so).
    """

    value: object
    error: None
    status: Any
    t: Any  # jax.Array or NumPy
    y: object
    t_final: jax.Array
    t_events: tuple
    y_events: tuple
    n_events: jax.Array
    stats: Stats
    sol: DenseSolution | None

    @property
    def success(self) -> bool:
        """Whether the status is OK (``successful`` or ``event_occurred``)."""
        return bool(np.all(np.asarray(is_ok(self.status))))

    @property
    def message(self) -> str:
        """The status in words; a failure names the time where it stopped."""
        text = summarize(self.status)
        try:
            codes = np.asarray(self.status._value)
            t_final = np.asarray(self.t_final)
        except (TypeError, jax.errors.ConcretizationTypeError):
            return text
        if codes.ndim == 0 and not bool(is_ok(self.status)):
            return f"{text} (stopped at t = {float(t_final)!r})"
        return text or "The solver reached the end of t_span."

    def __repr__(self) -> str:
        fields = [
            f"t={_print(self.t)}",
            f"y={_print(self.y)}",
            f"t_final={_print(self.t_final)}",
            f"t_events={_print(tuple(self.t_events))}",
            f"n_events={_print(self.n_events)}",
            f"status={format_array(self.status)}",
            f"stats={self.stats!r}",
        ]
        return f"Solution({', '.join(fields)})"

    __str__ = __repr__

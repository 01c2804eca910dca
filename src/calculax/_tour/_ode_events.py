"""Tour chapter: the seed's two ODE questions with ``calculax.ode``.

1. ``dy/dt = 0.01 y (1 - y)``, find ``t`` when ``y = 0.8`` (from ``y(0) = 0.5``: the
   answer is ``100 ln 4``), in one ``find_time`` call.
2. The 3-D spring ``x'' = (1/F - 1) 250 x - (0, 0, 10)``, ``F = |x|``, from
   ``x = (0, 0, 0.7)``, ``x' = (0.1, 1.5, 0)`` on ``0 < t < 5``: every time
   ``F = 0.85``, listed, against SciPy's ``solve_ivp`` (DOP853, same tolerances),
   which checks signs only at step ends; and a plot of ``F(t)`` with the events.

Event times need float64 (the answers are quoted to 12 digits): the chapter runs under
``jax.enable_x64(True)`` whatever the tour's dtype, and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO, cast

import jax
import jax.numpy as jnp
import numpy as np
import scipy.integrate
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import ode

__all__ = ["chapter", "FIGURE"]

FIGURE = "ode_events.png"
LEVEL, T_END, RTOL, ATOL = 0.85, 5.0, 1e-10, 1e-12
X0, V0 = (0.0, 0.0, 0.7), (0.1, 1.5, 0.0)


def _logistic(t, y):
    return 0.01 * y * (1 - y)


def _at_08(t, y):
    return y[0] - 0.8


def _spring(t, x, v):
    f = jnp.sqrt(jnp.sum(x**2))
    return (1 / f - 1) * 250 * x - jnp.array([0.0, 0.0, 10.0], x.dtype)


def _stretch(t, y):
    return jnp.sqrt(jnp.sum(y[0] ** 2)) - LEVEL


def _scipy_crossings() -> np.ndarray:
    def rhs(t, u):
        f = np.sqrt(np.sum(u[:3] ** 2))
        return np.concatenate([u[3:], (1 / f - 1) * 250 * u[:3] - [0, 0, 10]])

    def event(t, u):
        return np.sqrt(np.sum(u[:3] ** 2)) - LEVEL

    out = scipy.integrate.solve_ivp(
        rhs,
        (0, T_END),
        np.array(X0 + V0),
        method="DOP853",
        rtol=RTOL,
        atol=ATOL,
        events=event,
    )
    return out.t_events[0]


def chapter(out_dir: Path, dtype, stream: TextIO) -> dict:
    """Solve both seed problems in float64; list the crossings; plot ``F(t)``."""
    stream.write(
        "calculax.ode: the seed's ODE questions (float64 under "
        f"jax.enable_x64, whatever the tour dtype {np.dtype(dtype).name})\n"
    )
    with jax.enable_x64(True):
        t_logistic = float(
            ode.find_time(
                _logistic,
                (0.0, 1000.0),
                jnp.array([0.5]),
                _at_08,
                rtol=1e-12,
                atol=1e-14,
            ).value
        )
        sol = ode.solve_ivp(
            ode.second_order(_spring),
            (0.0, T_END),
            (jnp.array(X0), jnp.array(V0)),
            events=ode.Event(_stretch),
            rtol=RTOL,
            atol=ATOL,
            dense_output=True,
        )
        n = int(sol.n_events[0])
        times = np.asarray(sol.t_events[0])[:n]
        x, v = (np.asarray(a)[:n] for a in sol.y_events[0])
        rising = np.sum(x * v, axis=1) > 0  # dF/dt = x . v / F
        grid = np.linspace(0.0, T_END, 2001)
        if sol.sol is None:  # dense_output=True above: never
            raise RuntimeError("solve_ivp returned no dense output")
        positions = cast(tuple, sol.sol(grid))[0]  # the state is the pair (x, v)
        f_grid = np.sqrt(np.sum(np.asarray(positions) ** 2, axis=1))
    truth = 100 * np.log(4.0)
    stream.write(
        f"  1. dy/dt = 0.01 y (1 - y), y(0) = 0.5: y = 0.8 at t = {t_logistic:.12f}"
        f" (100 ln 4 = {truth:.12f}, relative error "
        f"{abs(t_logistic - truth) / truth:.1e})\n"
    )
    scipy_times = _scipy_crossings()
    stream.write(
        f"  2. spring, F = |x| = {LEVEL} on 0 < t < {T_END} (rtol {RTOL}): calculax "
        f"finds {n} crossings, SciPy DOP853 {len(scipy_times)}\n"
        f"     {'k':>3}  {'t (calculax)':>17}  {'direction':>9}\n"
    )
    for k, (t, up) in enumerate(zip(times, rising), start=1):
        direction = "up" if up else "down"
        stream.write(f"     {k:>3}  {t:>17.12f}  {direction:>9}\n")
    path = Path(out_dir) / FIGURE
    _plot(path, grid, f_grid, times)
    stream.write(f"  figure: {path}\n")
    return {
        "logistic_t": t_logistic,
        "spring_crossings": times.tolist(),
        "scipy_crossings": len(scipy_times),
    }


def _plot(path: Path, grid, f_grid, times) -> None:
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.plot(
        grid, f_grid, color="tab:blue", lw=1.2, label="F(t) = |x(t)| (dense output)"
    )
    ax.axhline(LEVEL, color="0.6", ls=":", lw=1, label=f"F = {LEVEL}")
    ax.plot(
        times,
        np.full_like(times, LEVEL),
        "o",
        color="tab:red",
        ms=4,
        label=f"{len(times)} events (calculax.ode)",
    )
    ax.set_xlabel("t")
    ax.set_ylabel("F")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Seed spring: every crossing of F = 0.85")
    figure.savefig(path, dpi=110)

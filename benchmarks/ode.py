"""``calculax.ode.solve_ivp`` with events against SciPy's ``solve_ivp`` and raw diffrax.

(a) The seed's 3-D spring, every crossing of ``F = |r| = 0.85`` on ``0 < t < 5``:
    event-time error against a reference (SciPy DOP853 at rtol 1e-13 with each root
    polished by brentq on its dense output and a fresh tight solve to the root),
    crossings found, run time after compile and compile time. SciPy DOP853 and RK45
    check signs at step ends only; raw diffrax (Dopri8, terminal ``Event``) is
    restarted from each event state, as a user would.
(b) 1,000 springs with initial velocities ``v_y`` in ``[1, 2]``: ``jit(vmap)`` of
    calculax against a SciPy DOP853 loop (rtol 1e-6, atol 1e-9 for both); goals:
    >= 100x after compilation, and compile + run faster than the loop.
(c) Stiff Van der Pol (mu = 1000) with an event at ``x = 0``: calculax Kvaerno5
    against SciPy Radau and LSODA, errors against Radau at rtol 1e-12.
(d) One-off use: three calls, each with a freshly created ``lambda`` (as in a
    script or a user function called repeatedly): seconds per call (the first
    compiles; re-created functions from the same source reuse it).

Run: ``python benchmarks/ode.py`` (``--ensemble N`` to change (b)'s size).
Writes ``benchmarks/results/ode-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import time

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx
import scipy.integrate
import scipy.optimize
from _results import write_results

jax.config.update("jax_enable_x64", True)

import calculax.ode as ode  # noqa: E402

LEVEL, T_END = 0.85, 5.0
X0 = np.array([0.0, 0.0, 0.7, 0.1, 1.5, 0.0])
RTOL, ATOL = 1e-10, 1e-12
ENS_RTOL, ENS_ATOL = 1e-6, 1e-9  # solve_ivp's defaults


def spring_np(t, u):
    x, v = u[:3], u[3:]
    f = np.sqrt(np.sum(x**2))
    a = (1 / f - 1) * 250 * x - np.array([0.0, 0.0, 10.0])
    return np.concatenate([v, a])


def spring(t, x, v):
    f = jnp.sqrt(jnp.sum(x**2))
    return (1 / f - 1) * 250 * x - jnp.array([0.0, 0.0, 10.0])


SPRING = ode.second_order(spring)


def stretch(t, y):
    return jnp.sqrt(jnp.sum(y[0] ** 2)) - LEVEL


def stretch_np(t, u):
    return np.sqrt(np.sum(u[:3] ** 2)) - LEVEL


def _timed(f, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = f()
        jax.block_until_ready(out)
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def reference_crossings(x0=X0):
    sol = scipy.integrate.solve_ivp(
        spring_np,
        (0, T_END),
        x0,
        method="DOP853",
        rtol=1e-13,
        atol=1e-15,
        dense_output=True,
    )
    grid = np.linspace(0, T_END, 50_001)
    g = np.array([stretch_np(t, sol.sol(t)) for t in grid])
    roots = []
    for i in np.nonzero(np.sign(g[:-1]) != np.sign(g[1:]))[0]:
        t = scipy.optimize.brentq(
            lambda s: stretch_np(s, sol.sol(s)), grid[i], grid[i + 1], xtol=1e-15
        )
        # Polish on a fresh tight solve to t (the dense output is the weaker link).
        near = scipy.integrate.solve_ivp(
            spring_np, (0, t), x0, method="DOP853", rtol=1e-13, atol=1e-15
        ).y[:, -1]
        slope = np.dot(near[:3], near[3:]) / np.sqrt(np.sum(near[:3] ** 2))
        roots.append(t - stretch_np(t, near) / slope)
    return np.array(roots)


def errors(found, truth):
    found = np.asarray(found)
    if len(found) == 0:
        return float("nan")
    return float(max(np.min(np.abs(truth - t)) for t in found))


def spring_problem(truth, rtol=RTOL, atol=ATOL, diffrax_too=True):
    rows = {}
    event = ode.Event(stretch)
    y0 = (jnp.array(X0[:3]), jnp.array(X0[3:]))

    def run():
        return ode.solve_ivp(
            SPRING, (0.0, T_END), y0, events=event, rtol=rtol, atol=atol
        )

    start = time.perf_counter()
    jax.block_until_ready(run())
    first = time.perf_counter() - start
    seconds, sol = _timed(run)
    n = int(sol.n_events[0])
    method = "Dopri8" if rtol < 1e-8 else "Tsit5"
    rows[f"calculax ({method})"] = dict(
        found=n,
        error=errors(np.asarray(sol.t_events[0])[:n], truth),
        run_s=seconds,
        compile_s=first - seconds,
    )
    for method in ("DOP853", "RK45"):

        def scipy_run(method=method):
            return scipy.integrate.solve_ivp(
                spring_np, (0, T_END), X0, method=method, rtol=rtol, atol=atol,
                events=stretch_np,
            )  # fmt: skip

        seconds, out = _timed(scipy_run, repeats=3)
        found = out.t_events[0]
        rows[f"scipy {method}"] = dict(
            found=len(found), error=errors(found, truth), run_s=seconds, compile_s=0.0
        )
    if diffrax_too:
        rows["diffrax Dopri8 + Event (restarts)"] = _diffrax_restarts(truth)
    return rows


def _diffrax_restarts(truth, max_restarts=40):
    term = diffrax.ODETerm(
        lambda t, u, a: jnp.concatenate([u[3:], spring(t, u[:3], u[3:])])
    )
    event = diffrax.Event(
        lambda t, y, args, **kw: jnp.sqrt(jnp.sum(y[:3] ** 2)) - LEVEL,
        root_finder=optx.Newton(rtol=1e-12, atol=1e-12),
    )

    @jax.jit
    def solve(t0, u0):
        sol = diffrax.diffeqsolve(
            term,
            diffrax.Dopri8(),
            t0,
            T_END,
            None,
            u0,
            event=event,
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            max_steps=100_000,
            throw=False,
        )
        return sol.ts[-1], sol.ys[-1]

    start = time.perf_counter()
    jax.block_until_ready(solve(0.0, jnp.asarray(X0)))
    compile_s = time.perf_counter() - start

    def loop():
        t, u, found = 0.0, jnp.asarray(X0), []
        for _ in range(max_restarts):
            t_new, u = solve(t, u)
            if float(t_new) >= T_END:
                break
            found.append(float(t_new))
            t = t_new
        return found

    run_s = time.perf_counter()
    found = loop()
    run_s = time.perf_counter() - run_s
    distinct = np.unique(np.round(found, 12))
    return dict(
        found=len(distinct),
        error=errors(distinct, truth),
        run_s=run_s,
        compile_s=compile_s - run_s / max(len(found), 1),
        note=f"{len(found)} restarts, {len(distinct)} distinct times",
    )


def ensemble(n):
    speeds = np.linspace(1.0, 2.0, n)
    event = ode.Event(stretch, max_events=40)

    @jax.jit
    @jax.vmap
    def batch(vy):
        y0 = (
            jnp.array(X0[:3]),
            jnp.array([0.1, 0.0, 0.0]) + vy * jnp.array([0.0, 1.0, 0.0]),
        )
        sol = ode.solve_ivp(
            SPRING, (0.0, T_END), y0, events=event, rtol=ENS_RTOL, atol=ENS_ATOL
        )
        return sol.n_events[0], sol.t_events[0]

    start = time.perf_counter()
    batch.lower(jnp.asarray(speeds)).compile()
    compile_s = time.perf_counter() - start
    run_s, (counts, times) = _timed(lambda: batch(jnp.asarray(speeds)), repeats=3)
    start = time.perf_counter()
    scipy_counts = []
    for vy in speeds:
        x0 = X0.copy()
        x0[4] = vy
        out = scipy.integrate.solve_ivp(
            spring_np,
            (0, T_END),
            x0,
            method="DOP853",
            rtol=ENS_RTOL,
            atol=ENS_ATOL,
            events=stretch_np,
        )
        scipy_counts.append(len(out.t_events[0]))
    scipy_s = time.perf_counter() - start
    return dict(
        n=n,
        calculax_run_s=run_s,
        calculax_compile_s=compile_s,
        scipy_loop_s=scipy_s,
        speedup_after_compile=scipy_s / run_s,
        speedup_with_compile=scipy_s / (run_s + compile_s),
        crossings_calculax=int(np.sum(counts)),
        crossings_scipy=int(np.sum(scipy_counts)),
    )


def vdp_np(t, u, mu=1000.0):
    return np.array([u[1], mu * (1 - u[0] ** 2) * u[1] - u[0]])


def vdp(t, u):
    return jnp.stack([u[1], 1000.0 * (1 - u[0] ** 2) * u[1] - u[0]])


def vdp_event(t, u):
    return u[0]


def stiff():
    t_end, u0 = 3000.0, np.array([2.0, 0.0])
    reference = scipy.integrate.solve_ivp(
        vdp_np,
        (0, t_end),
        u0,
        method="Radau",
        rtol=1e-12,
        atol=1e-12,
        events=lambda t, u: u[0],
    ).t_events[0]
    rows = {}

    def run():
        return ode.solve_ivp(
            vdp,
            (0.0, t_end),
            jnp.asarray(u0),
            method="Kvaerno5",
            rtol=1e-6,
            atol=1e-9,
            events=ode.Event(vdp_event),
            max_steps=100_000,
        )

    start = time.perf_counter()
    jax.block_until_ready(run())
    first = time.perf_counter() - start
    seconds, sol = _timed(run, repeats=3)
    n = int(sol.n_events[0])
    rows["calculax Kvaerno5"] = dict(
        found=n,
        error=errors(np.asarray(sol.t_events[0])[:n], reference),
        run_s=seconds,
        compile_s=first - seconds,
        steps=int(sol.stats.n_steps),
    )
    for method in ("Radau", "LSODA"):
        seconds, out = _timed(
            lambda m=method: scipy.integrate.solve_ivp(
                vdp_np,
                (0, t_end),
                u0,
                method=m,
                rtol=1e-6,
                atol=1e-9,
                events=lambda t, u: u[0],
            ),
            repeats=3,
        )
        rows[f"scipy {method}"] = dict(
            found=len(out.t_events[0]),
            error=errors(out.t_events[0], reference),
            run_s=seconds,
            compile_s=0.0,
            steps=int(out.t.size - 1),
        )
    return rows, len(reference)


def one_off_calls(calls=3):
    seconds = []
    for i in range(calls):
        start = time.perf_counter()
        sol = ode.solve_ivp(
            lambda t, y: 0.01 * y * (1 - y),
            (0.0, 1000.0),
            jnp.array([0.5]),
            events=ode.Event(lambda t, y: y[0] - 0.8, terminal=True),
            rtol=1e-10,
            atol=1e-12,
        )
        jax.block_until_ready(sol.t_events)
        seconds.append(time.perf_counter() - start)
    return seconds


def _table(title, rows, baseline):
    print(f"\n{title}")
    print(
        f"  {'method':<36}{'found':>6}{'max |dt|':>11}{'run':>10}{'compile':>9}"
        f"{'run ratio':>11}"
    )
    base = rows[baseline]["run_s"]
    for name, r in rows.items():
        print(
            f"  {name:<36}{r['found']:>6}{r['error']:>11.2e}{r['run_s'] * 1e3:>8.1f}ms"
            f"{r['compile_s']:>8.2f}s{r['run_s'] / base:>11.2f}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ensemble", type=int, default=1000)
    args = parser.parse_args(argv)
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, float64")
    truth = reference_crossings()
    spring_rows = spring_problem(truth)
    _table(
        f"(a) seed spring, F = {LEVEL}: {len(truth)} reference crossings, rtol {RTOL}",
        spring_rows,
        "calculax (Dopri8)",
    )
    loose_rows = spring_problem(truth, 1e-3, 1e-6, diffrax_too=False)
    _table(
        "(a') the same at SciPy's default tolerances, rtol 1e-3, atol 1e-6",
        loose_rows,
        "calculax (Tsit5)",
    )
    result = ensemble(args.ensemble)
    print(
        f"\n(b) ensemble of {result['n']} springs (rtol {ENS_RTOL}, atol {ENS_ATOL}):"
        " calculax jit(vmap) "
        f"{result['calculax_run_s']:.3f}s + compile {result['calculax_compile_s']:.2f}s"
        f"; SciPy DOP853 loop {result['scipy_loop_s']:.2f}s\n"
        f"  speed-up after compile {result['speedup_after_compile']:.0f}x (goal >= 100)"
        f", with compile {result['speedup_with_compile']:.2f}x (goal > 1); crossings "
        f"{result['crossings_calculax']} vs SciPy {result['crossings_scipy']}"
    )
    stiff_rows, n_ref = stiff()
    _table(
        f"(c) Van der Pol mu = 1000, x = 0 crossings ({n_ref} by Radau rtol 1e-12), "
        "rtol 1e-6",
        stiff_rows,
        "calculax Kvaerno5",
    )
    one_off = one_off_calls()
    print(
        "\n(d) one-off calls with a new lambda each (logistic, terminal event): "
        + ", ".join(f"{t:.3f}s" for t in one_off)
    )
    path = write_results(
        "ode",
        dict(
            spring=spring_rows,
            spring_loose=loose_rows,
            ensemble=result,
            stiff=stiff_rows,
            one_off_call_s=one_off,
            reference_crossings=truth.tolist(),
        ),
        indent=1,
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

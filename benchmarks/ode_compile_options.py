"""Compiling concrete ODE solves with XLA's established CPU emitters: cost and gain.

``calculax.ode`` compiles a solve with concrete inputs (outside ``jit``) with
``xla_cpu_use_fusion_emitters=False`` (``calculax/_core/quick_compile.py``). This
script measures, each variant in its own fresh process (median of ``--repeats``):

- the seed's ``find_time`` (``y' = 0.01 y (1 - y)``, ``y(0) = 0.2``, when is
  ``y = 0.8``, rtol 1e-10): its first call and the time found (truth
  ``100 ln 16``) with its error estimate;
- a long solve: the 3-D spring of ``benchmarks/ode.py`` on ``[0, 200]`` at rtol
  1e-10 with its stretch event (about 12,000 steps): the run time of the compiled
  program (second call) and the number of steps;
- the process's total tracing, lowering and XLA compile time (``jax.monitoring``;
  both questions' programs).

Variants: ``quick`` (what calculax does) and ``default`` (the same solves compiled
with XLA's default options: the quick program replaced by the default one).

Run: ``python benchmarks/ode_compile_options.py [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

SCRIPT = r"""
import json, math, sys, time
import jax, jax.monitoring, jax.numpy as jnp, numpy as np
jax.config.update("jax_enable_x64", True)
spans = {}
def span(name, start, end, **kw):
    spans[name] = spans.get(name, 0.0) + end - start
jax.monitoring.register_event_time_span_listener(span)
import calculax.ode as ode
import calculax.ode._chunks as chunks
if sys.argv[1] == "default":
    chunks.solve_chunk = chunks.solve_chunk.traced
def fun(t, y):
    return 0.01 * y * (1 - y)
def hit(t, y):
    return y - 0.8
start = time.perf_counter()
found = ode.find_time(fun, (0.0, 3000.0), 0.2, hit, rtol=1e-10, atol=1e-12)
first = time.perf_counter() - start
def spring(t, x, v):
    f = jnp.sqrt(jnp.sum(x**2))
    return (1 / f - 1) * 250 * x - jnp.array([0.0, 0.0, 10.0])
def stretch(t, y):
    return jnp.sqrt(jnp.sum(y[0] ** 2)) - 0.85
y0 = (jnp.array([0.0, 0.0, 0.7]), jnp.array([0.1, 1.5, 0.0]))
event = ode.Event(stretch, max_events=100000)
def long(t1):
    return ode.solve_ivp(ode.second_order(spring), (0.0, t1), y0, events=event,
                         rtol=1e-10, atol=1e-12, method="Dopri8")
long(1.0)  # compiles
runs = []
for _ in range(3):
    start = time.perf_counter()
    sol = long(200.0)
    runs.append(time.perf_counter() - start)
print(json.dumps(dict(
    first=first,
    trace=spans.get("/jax/core/compile/jaxpr_trace_duration", 0.0),
    lower=spans.get("/jax/core/compile/jaxpr_to_mlir_module_duration", 0.0),
    compile=spans.get("/jax/core/compile/backend_compile_duration", 0.0),
    time_error=abs(float(found) - 100 * math.log(16)),
    estimate=float(found.error),
    long_run=min(runs),
    long_steps=int(sol.stats.n_steps),
)))
"""


def measure(variant: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, variant],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rows: dict[str, list[dict]] = {"quick": [], "default": []}
    for _ in range(args.repeats):  # interleaved rounds
        for variant in rows:
            rows[variant].append(measure(variant))
    keys = ("first", "trace", "lower", "compile", "long_run")
    medians = {
        v: {k: statistics.median(r[k] for r in runs) for k in keys}
        for v, runs in rows.items()
    }
    print(
        "| variant | find_time first call | trace | lower | XLA compile "
        "| time error (estimate) | long solve run | its steps |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for variant, m in medians.items():
        last = rows[variant][-1]
        print(
            f"| {variant} | {m['first']:.2f} s | {m['trace']:.2f} | {m['lower']:.2f} "
            f"| {m['compile']:.2f} | {last['time_error']:.1e} ({last['estimate']:.1e}) "
            f"| {m['long_run']:.3f} s | {last['long_steps']} |"
        )
    q, d = medians["quick"], medians["default"]
    print(
        f"quick / default: first call {q['first'] / d['first']:.2f}x, XLA compile "
        f"{q['compile'] / d['compile']:.2f}x, long solve run "
        f"{q['long_run'] / d['long_run']:.2f}x"
    )


if __name__ == "__main__":
    main()

"""Runtime and compile-time overhead of ``calculax.numpy`` against ``jax.numpy``.

Three realistic losses, each written twice -- once with ``calculax.numpy`` (``cnp``),
once with ``jax.numpy`` (``jnp``) -- and differentiated the same way in the same run:

1. the seed ratio ``sum(-a / b)`` over 10**6 pairs ``(a, b)``;
2. an MLP loss: 2 hidden ``tanh`` layers of width 256, batch 512, 10 classes,
   cross-entropy through ``logsumexp``;
3. regularised least squares ``||A x - y||_2 + lam ||x||_2`` with ``A`` 4000 x 2000.

Sizes are chosen so that every call takes about a millisecond or more: at 10**4
pairs a call takes ~30 us and the run-to-run jitter of dispatch on a 2-core machine
(+-50 %) is larger than the overhead being measured.

For each: the jit-compiled gradient and the Hessian-vector product (forward over
reverse, ``jvp(grad(f))``). Runtime is the median of ``--repeats`` (>= 30) calls after
warm-up, calculax and JAX interleaved so that load on the machine hits both alike
(column ``ratio``; ``min`` is the ratio of the fastest calls, the cost without the
interference of other processes, steadier on a loaded machine);
compile time is the median over 3 fresh ``jax.jit(f).lower(...).compile()``.

Goal: runtime ratio (calculax / jax) <= 1.10 on CPU.

Run: ``python benchmarks/stable_overhead.py`` (results also written as JSON under
``benchmarks/results/``).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from _results import RESULTS, write_results

import calculax
import calculax.numpy as cnp

GOAL = 1.10


def seed_ratio(key):
    ka, kb = jax.random.split(key)
    a = 10.0 ** jax.random.uniform(ka, (1_000_000,), minval=-3.0, maxval=3.0)
    b = 10.0 ** jax.random.uniform(kb, (1_000_000,), minval=-3.0, maxval=3.0)

    def make(divide):
        return lambda p: jnp.sum(-divide(p[0], p[1]))

    return make(cnp.divide), make(jnp.divide), (a, b), {}


def mlp(key):
    sizes = (128, 256, 256, 10)
    keys = jax.random.split(key, len(sizes) + 1)
    params = [
        (jax.random.normal(k, (m, n)) / np.sqrt(m), jnp.zeros(n))
        for k, m, n in zip(keys, sizes[:-1], sizes[1:])
    ]
    x = jax.random.normal(keys[-2], (512, sizes[0]))
    labels = jax.random.randint(keys[-1], (512,), 0, sizes[-1])

    def make(tanh, logsumexp):
        def loss(p):
            h = x
            for w, b in p[:-1]:
                h = tanh(h @ w + b)
            logits = h @ p[-1][0] + p[-1][1]
            picked = jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
            return jnp.mean(logsumexp(logits, axis=1) - picked)

        return loss

    return (
        make(cnp.tanh, cnp.special.logsumexp),
        make(jnp.tanh, jax.nn.logsumexp),
        params,
        {"logsumexp": "calculax.numpy.special.logsumexp vs jax.nn.logsumexp"},
    )


def least_squares(key):
    ka, ky, kx = jax.random.split(key, 3)
    a = jax.random.normal(ka, (4000, 2000)) / np.sqrt(2000)
    y = jax.random.normal(ky, (4000,))
    x0 = jax.random.normal(kx, (2000,))
    lam = 0.1

    def make(norm):
        return lambda x: norm(a @ x - y) + lam * norm(x)

    return (
        make(cnp.linalg.norm),
        make(jnp.linalg.norm),
        x0,
        {"norm": "calculax.numpy.linalg.norm vs jax.numpy.linalg.norm"},
    )


PROBLEMS = {"seed ratio": seed_ratio, "MLP loss": mlp, "least squares": least_squares}


def derivatives(loss):
    grad = jax.grad(loss)

    def hvp(p, v):
        return jax.jvp(grad, (p,), (v,))[1]

    return {"grad": (grad, 1), "hvp": (hvp, 2)}


def compile_time(fn, args, times=3):
    """Median seconds for trace + lower + compile, each with a fresh wrapper."""
    samples = []
    for _ in range(times):
        fresh = lambda *a: fn(*a)  # noqa: E731 - a new function defeats jit's caches
        start = time.perf_counter()
        jax.jit(fresh).lower(*args).compile()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_times(compiled, args, repeats, warmup=5, statistic=statistics.median):
    """Seconds per call of each compiled function (``statistic`` of the samples,
    the median by default), calls interleaved."""
    for _ in range(warmup):
        for fn in compiled:
            jax.block_until_ready(fn(*args))
    samples = [[] for _ in compiled]
    for i in range(repeats):
        order = range(len(compiled)) if i % 2 == 0 else reversed(range(len(compiled)))
        for j in order:
            start = time.perf_counter()
            jax.block_until_ready(compiled[j](*args))
            samples[j].append(time.perf_counter() - start)
    return [statistic(s) for s in samples]


def _max_relative_difference(x, y):
    x, y = jax.tree.leaves(x), jax.tree.leaves(y)
    return max(
        float(jnp.max(jnp.abs(a - b)) / jnp.maximum(jnp.max(jnp.abs(b)), 1e-30))
        for a, b in zip(x, y)
    )


def benchmark(repeats: int, seed: int = 0):
    rows, notes = [], {}
    for name, make in PROBLEMS.items():
        stable, plain, params, note = make(jax.random.key(seed))
        notes.update(note)
        v = jax.tree.map(lambda p: jnp.ones_like(p) / np.sqrt(p.size), params)
        stable_d, plain_d = derivatives(stable), derivatives(plain)
        for kind in ("grad", "hvp"):
            (fs, nargs), (fj, _) = stable_d[kind], plain_d[kind]
            args = (params, v)[:nargs]
            compiled = [jax.jit(f).lower(*args).compile() for f in (fs, fj)]
            difference = _max_relative_difference(
                compiled[0](*args), compiled[1](*args)
            )
            samples = run_times(compiled, args, repeats, statistic=list)
            run_s, run_j = (statistics.median(s) for s in samples)
            min_s, min_j = (min(s) for s in samples)
            comp_s, comp_j = compile_time(fs, args), compile_time(fj, args)
            rows.append(
                {
                    "problem": name,
                    "derivative": kind,
                    "calculax_s": run_s,
                    "jax_s": run_j,
                    "ratio": run_s / run_j,
                    "min_ratio": min_s / min_j,
                    "compile_calculax_s": comp_s,
                    "compile_jax_s": comp_j,
                    "compile_ratio": comp_s / comp_j,
                    "max_relative_difference": difference,
                }
            )
            print(_format(rows[-1]), flush=True)
    return rows, notes


HEADER = (
    f"{'problem':<15}{'deriv':<6}{'calculax':>11}{'jax':>11}{'ratio':>7}"
    f"{'min':>7}{'compile':>9}{'max rel diff':>14}"
)


def _format(r):
    return (
        f"{r['problem']:<15}{r['derivative']:<6}"
        f"{r['calculax_s'] * 1e3:>9.3f}ms{r['jax_s'] * 1e3:>9.3f}ms"
        f"{r['ratio']:>7.3f}{r['min_ratio']:>7.3f}{r['compile_ratio']:>9.3f}"
        f"{r['max_relative_difference']:>14.1e}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=50,
        help="timed calls per function, >= 30 (default 50)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder for the JSON results"
    )
    args = parser.parse_args(argv)
    if args.repeats < 30:
        parser.error(f"--repeats must be at least 30, got {args.repeats}")
    device = jax.devices()[0]
    print(
        f"calculax {calculax.__version__}, jax {jax.__version__}, {device.platform}"
        f" ({device.device_kind}), float32, median of {args.repeats} calls; "
        f"goal: runtime ratio <= {GOAL:.2f} on CPU"
    )
    print(HEADER)
    rows, notes = benchmark(args.repeats)
    for key, value in notes.items():
        print(f"  {key}: {value}")
    worst = max(r["ratio"] for r in rows)
    verdict = "met" if worst <= GOAL else "NOT met"
    print(f"worst runtime ratio {worst:.3f}: goal <= {GOAL:.2f} {verdict}")
    record = {
        "benchmark": "stable_overhead",
        "goal_runtime_ratio": GOAL,
        "calculax": calculax.__version__,
        "jax": jax.__version__,
        "platform": device.platform,
        "device": device.device_kind,
        "machine": platform.machine(),
        "python": platform.python_version(),
        "repeats": args.repeats,
        "implementations": notes,
        "rows": rows,
    }
    path = write_results("stable_overhead", record, folder=args.out)
    print(f"results: {path}")


if __name__ == "__main__":
    main()

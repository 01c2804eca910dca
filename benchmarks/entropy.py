"""Entropy: calculax closed forms and sample estimators against SciPy, same run.

(a) Speed: the entropy of ``N = 10**5`` parameter settings each of ``gamma(a)``,
    ``beta(a, b)`` and ``t(df)`` (log-uniform parameters over 1e-3..1e3), calculax
    jitted and vectorised against a SciPy loop ``dist(params).entropy()``. The SciPy
    loop is timed on ``--loop`` settings (default 2000) and extrapolated linearly to
    ``N`` (stated in the output); SciPy's own vectorised call
    ``dist(array).entropy()`` is timed too. Goal: calculax >= 100x the SciPy loop.
(b) Accuracy: on 200 of those settings, plus extreme ones, the relative error of
    calculax and of SciPy's ``.entropy()`` against mpmath at 50 digits
    (``tests/entropy_references.py``), and the count of settings each gets within
    1e-12.
(c) Samples: ``entropy_from_samples`` against ``scipy.stats.differential_entropy``
    on N(0, 1) samples at n = 10**3 and 10**4 (vasicek, ebrahimi; k-NN for calculax
    only, SciPy has none): mean absolute error over 10 samples and time per call.

Run: ``python benchmarks/entropy.py`` (float64; writes
``benchmarks/results/entropy-<UTC time>.json``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import jax
from _results import write_results

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402
import scipy.stats  # noqa: E402

from calculax.information import entropy_from_samples, family_entropy  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests import entropy_references as refs  # noqa: E402

FAMILIES = {"gamma": 1, "beta": 2, "t": 1}
EXTREME = {
    "gamma": [(1e-10,), (1e8,), (1e15,)],
    "beta": [(2.0, 1e20), (1e-8, 1e-8), (1e10, 1e10)],
    "t": [(1e-3,), (1e15,), (1e20,)],
}


def _params(n, arity, rng):
    return [10 ** rng.uniform(-3, 3, n) for _ in range(arity)]


def _median_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def speed(n, loop, rng):
    out = {}
    for name, arity in FAMILIES.items():
        params = _params(n, arity, rng)
        fn = jax.jit(lambda *p, name=name: family_entropy(name, *p))
        args = [jnp.asarray(p) for p in params]
        start = time.perf_counter()
        fn(*args).block_until_ready()
        compile_s = time.perf_counter() - start
        ours = _median_time(lambda: fn(*args).block_until_ready())
        dist = getattr(scipy.stats, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            for i in range(loop):
                dist(*(p[i] for p in params)).entropy()
            loop_s = (time.perf_counter() - start) * n / loop
            vector_s = _median_time(lambda: dist(*params).entropy(), repeats=3)
        out[name] = {
            "calculax_s": ours,
            "calculax_compile_s": compile_s,
            "scipy_loop_s_extrapolated": loop_s,
            "scipy_vectorised_s": vector_s,
            "ratio_vs_loop": loop_s / ours,
            "ratio_vs_vectorised": vector_s / ours,
        }
        print(
            f"(a) {name:6s} N={n}: calculax {ours * 1e3:8.2f} ms (compile "
            f"{compile_s:.1f} s) | SciPy loop {loop_s:8.2f} s (from {loop}, "
            f"extrapolated) -> {loop_s / ours:9.0f}x | SciPy vectorised "
            f"{vector_s * 1e3:8.2f} ms -> {vector_s / ours:6.1f}x"
        )
    return out


def _relative(value, truth):
    if not np.isfinite(value):
        return float("inf")
    return float(abs(mp.mpf(float(value)) - truth) / max(1, abs(truth)))


def accuracy(rng, count=200):
    out = {}
    for name, arity in FAMILIES.items():
        points = [tuple(float(v) for v in p) for p in zip(*_params(count, arity, rng))]
        points += EXTREME[name]
        columns = [jnp.asarray(np.array(c)) for c in zip(*points)]
        ours = np.asarray(family_entropy(name, *columns))
        dist = getattr(scipy.stats, name)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            theirs = [dist(*p).entropy() for p in points]
        truths = [refs.truth(name, p) for p in points]
        e_ours = [_relative(v, t) for v, t in zip(ours, truths)]
        e_theirs = [_relative(v, t) for v, t in zip(theirs, truths)]
        worst = int(np.argmax(e_theirs))
        out[name] = {
            "settings": len(points),
            "calculax_max_rel_error": max(e_ours),
            "scipy_max_rel_error": max(e_theirs),
            "calculax_within_1e-12": sum(e <= 1e-12 for e in e_ours),
            "scipy_within_1e-12": sum(e <= 1e-12 for e in e_theirs),
            "scipy_worst_setting": points[worst],
            "extreme": {
                str(p): {"truth": float(t), "calculax": float(a), "scipy": float(b)}
                for p, t, a, b in zip(points[-3:], truths[-3:], ours[-3:], theirs[-3:])
            },
        }
        print(
            f"(b) {name:6s} {len(points)} settings: within 1e-12 calculax "
            f"{out[name]['calculax_within_1e-12']}, SciPy "
            f"{out[name]['scipy_within_1e-12']}; max rel error calculax "
            f"{max(e_ours):.1e}, SciPy {max(e_theirs):.1e} (at {points[worst]})"
        )
        for p, t, a, b in zip(points[-3:], truths[-3:], ours[-3:], theirs[-3:]):
            print(
                f"      {name}{p}: truth {float(t):.15g}  calculax {a:.15g}  "
                f"SciPy {b:.15g}"
            )
    return out


def samples(repeats=10):
    truth = 0.5 * np.log(2 * np.pi * np.e)
    out = {}
    for n in (1000, 10000):
        data = [np.random.default_rng(s).standard_normal(n) for s in range(repeats)]
        for method in ("vasicek", "ebrahimi", "knn"):
            entropy_from_samples(data[0], method).block_until_ready()  # compile
            start = time.perf_counter()
            ours = [float(entropy_from_samples(x, method)) for x in data]
            t_ours = (time.perf_counter() - start) / repeats
            row = {
                "calculax_mae": float(np.mean(np.abs(np.array(ours) - truth))),
                "calculax_s": t_ours,
            }
            if method != "knn":
                start = time.perf_counter()
                theirs = [
                    scipy.stats.differential_entropy(x, method=method) for x in data
                ]
                t_theirs = (time.perf_counter() - start) / repeats
                row |= {
                    "scipy_mae": float(np.mean(np.abs(np.array(theirs) - truth))),
                    "scipy_s": t_theirs,
                    "time_ratio_scipy_over_calculax": t_theirs / t_ours,
                }
            out[f"{method}@{n}"] = row
            extra = (
                f" | SciPy mae {row['scipy_mae']:.4f}, {row['scipy_s'] * 1e3:.2f} ms"
                f" -> {row['time_ratio_scipy_over_calculax']:.2f}x"
                if "scipy_s" in row
                else " | SciPy: no k-NN estimator"
            )
            print(
                f"(c) {method:8s} n={n:6d}: calculax mae {row['calculax_mae']:.4f}, "
                f"{t_ours * 1e3:.2f} ms{extra}"
            )
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--loop", type=int, default=2000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = {
        "device": jax.devices()[0].device_kind,
        "platform": platform.platform(),
        "speed": speed(args.n, args.loop, rng),
        "accuracy": accuracy(rng),
        "samples": samples(),
    }
    path = write_results("entropy", results)
    print(f"written {path}")


if __name__ == "__main__":
    main()

"""``calculax.derivative`` against the plain-JAX ways of getting the same tensors.

(a) The ``k``-th derivative of ``sin(x) * exp(x)`` for ``k = 1..12`` at a scalar
    point: ``calculax.derivative(f, order=k)`` (Taylor mode, ``~k**2``: for a
    function of JAX primitives, the unrolled sparse recurrences of
    ``_series_unrolled``) against ``k`` nested ``jax.grad`` (``~2**k``). Compile
    time is trace + lower + compile with a fresh wrapper (median of
    ``--compiles``; one compile for nested ``jax.grad`` above ``k = 8``); run time
    is the median of ``--repeats`` calls of the compiled function, the two
    interleaved. Goal: at ``k = 8`` calculax's compile + run time at least 20x
    smaller. Nested ``jax.grad``
    compile time roughly triples per order (72 s at ``k = 11`` on a 2-core CPU), so
    orders above ``--max-nested-order`` (default 12) are skipped for it.
(b) Jacobians of ``f(x) = sin(B tanh(A x))`` from ``R^n`` to ``R^m`` for
    ``(n, m) = (1000, 10)`` and ``(10, 1000)`` (hidden width 200): calculax's
    automatic mode against the wrong choice (``jax.jacfwd`` when ``n > m``,
    ``jax.jacrev`` when ``n < m``) and the right one, run time of the compiled
    functions, interleaved.

Run: ``python benchmarks/derivatives.py [--max-nested-order 10]``; prints ratios and
writes JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from _results import write_results

from calculax.derivatives import derivative

GOAL_ORDER, GOAL_RATIO = 8, 20.0


def sin_exp(x):
    return jnp.sin(x) * jnp.exp(x)


def nested_grad(f, order):
    for _ in range(order):
        f = jax.grad(f)
    return f


def compile_time(make, args, times):
    """Median seconds of trace + lower + compile of ``jax.jit(make())``.

    As ``timeit`` does, the garbage collector is run before and disabled during
    each sample, so that the heap left by the other contender's (large) traces
    does not bill its collection to this one.
    """
    samples = []
    for _ in range(times):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            compiled = jax.jit(make()).lower(*args).compile()
            samples.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(samples), compiled


def run_times(compiled: dict, args, repeats, blocks=5):
    """Median seconds per call of each compiled function, measured in ``blocks``
    interleaved blocks of consecutive calls (a call right after a cache-thrashing
    one, such as the wrong Jacobian mode, is slower; the median skips it)."""
    samples = {name: [] for name in compiled}
    for fn in compiled.values():
        jax.block_until_ready(fn(*args))
    for _ in range(blocks):
        for name, fn in compiled.items():
            for _ in range(max(1, repeats // blocks)):
                start = time.perf_counter()
                jax.block_until_ready(fn(*args))
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def high_orders(max_order, max_nested, compiles, repeats):
    rows, x = [], (jnp.float32(0.5),)
    print("(a) d^k/dx^k sin(x) exp(x): calculax.derivative vs nested jax.grad")
    print(
        f"{'k':>3} {'compile cx':>11} {'compile jax':>12} {'run cx':>9} "
        f"{'run jax':>9} {'(c+r) ratio':>12}"
    )
    for k in range(1, max_order + 1):
        c_cx, fn_cx = compile_time(lambda: derivative(sin_exp, order=k), x, compiles)
        row = {"k": k, "compile_calculax_s": c_cx}
        fns = {"calculax": fn_cx}
        if k <= max_nested:
            c_jax, fn_jax = compile_time(
                lambda: nested_grad(sin_exp, k), x, 1 if k > 8 else compiles
            )
            row["compile_nested_grad_s"] = c_jax
            fns["nested_grad"] = fn_jax
            agree = np.allclose(fn_cx(*x), fn_jax(*x), rtol=1e-3, atol=1e-3 * 2**k)
            row["values_agree"] = bool(agree)
        runs = run_times(fns, x, repeats)
        row["run_calculax_s"] = runs["calculax"]
        line = f"{k:>3} {c_cx:>11.4f} "
        if "nested_grad" in runs:
            row["run_nested_grad_s"] = runs["nested_grad"]
            total_cx = c_cx + runs["calculax"]
            total_jax = row["compile_nested_grad_s"] + runs["nested_grad"]
            row["compile_plus_run_ratio"] = total_jax / total_cx
            c_jax, ratio = row["compile_nested_grad_s"], row["compile_plus_run_ratio"]
            line += (
                f"{c_jax:>12.4f} {runs['calculax'] * 1e6:>7.1f}us "
                f"{runs['nested_grad'] * 1e6:>7.1f}us {ratio:>11.1f}x"
            )
        else:
            line += f"{'skipped':>12} {runs['calculax'] * 1e6:>7.1f}us"
        print(line, flush=True)
        rows.append(row)
    goal = next((r for r in rows if r["k"] == GOAL_ORDER), None)
    if goal and "compile_plus_run_ratio" in goal:
        ratio = goal["compile_plus_run_ratio"]
        verdict = "met" if ratio >= GOAL_RATIO else "NOT met"
        print(
            f"goal at k = {GOAL_ORDER}: >= {GOAL_RATIO:.0f}x faster compile + run: "
            f"{ratio:.1f}x, {verdict}"
        )
    return rows


def mlp(n, m, hidden=200, seed=0):
    ka, kb = jax.random.split(jax.random.key(seed))
    a = jax.random.normal(ka, (hidden, n)) / np.sqrt(n)
    b = jax.random.normal(kb, (m, hidden)) / np.sqrt(hidden)
    return lambda x: jnp.sin(b @ jnp.tanh(a @ x))


def jacobians(repeats):
    rows = []
    print("\n(b) Jacobians of sin(B tanh(A x)), R^n -> R^m: run time per call")
    for n, m in ((1000, 10), (10, 1000)):
        f, x = mlp(n, m), (jnp.linspace(-1.0, 1.0, n),)
        right, wrong = ("jacrev", "jacfwd") if n > m else ("jacfwd", "jacrev")
        fns = {
            "calculax auto": jax.jit(derivative(f)),
            f"jax.{right} (right)": jax.jit(getattr(jax, right)(f)),
            f"jax.{wrong} (wrong)": jax.jit(getattr(jax, wrong)(f)),
        }
        runs = run_times(fns, x, repeats)
        auto = runs["calculax auto"]
        row = {"n": n, "m": m, "run_s": runs}
        row["wrong_over_auto"] = runs[f"jax.{wrong} (wrong)"] / auto
        row["right_over_auto"] = runs[f"jax.{right} (right)"] / auto
        cells = ", ".join(f"{name} {t * 1e6:.0f}us" for name, t in runs.items())
        print(f"  (n, m) = ({n}, {m}): {cells}")
        print(
            f"    wrong choice / auto = {row['wrong_over_auto']:.1f}x, "
            f"right choice / auto = {row['right_over_auto']:.2f}x"
        )
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-order", type=int, default=12)
    parser.add_argument("--max-nested-order", type=int, default=12)
    parser.add_argument("--compiles", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args(argv)
    results = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": platform.platform(),
        "jax": jax.__version__,
        "device": str(jax.devices()[0]),
        "options": vars(args),
        "high_orders": high_orders(
            args.max_order, args.max_nested_order, args.compiles, args.repeats
        ),
        "jacobians": jacobians(args.repeats),
    }
    path = write_results("derivatives", results)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()

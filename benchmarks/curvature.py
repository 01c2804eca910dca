"""Curvature estimators: accuracy per matvec, HVP cost, and PyHessian, in one run.

(a) Relative error of the trace at 10, 30, 100, 300 matvecs, median over 20 keys:
    Hutchinson, Hutch++, XTrace and ``auto`` on a 1000 x 1000 matrix with decaying
    spectrum (``lambda_i = i**-2``, random eigenbasis) and on the Hessian of an MLP
    loss (float64; truth from ``n`` exact Hessian-vector products).
(b) Time of one Hessian-vector product / time of one gradient (jit, float32, median
    of repeats). Goal <= 3 on CPU.
(c) PyHessian 0.1 (``pip install torch==2.13.0 pyhessian``; skipped if missing) on the
    same MLP, weights and data in float32: its trace (Hutchinson with its stopping
    rule) and top eigenvalue (power iteration), time and relative error; calculax's
    time at the smallest budget whose median error over 20 keys is at most
    PyHessian's. Goal: PyHessian time / calculax time >= 3.

Run: ``python benchmarks/curvature.py`` (``--quick`` for a smoke run); results also
written as JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from _results import write_results

jax.config.update("jax_enable_x64", True)

from calculax.curvature import eigenvalues, hessian_operator, trace  # noqa: E402

METHODS = ("hutchinson", "hutch++", "xtrace", "auto")
SIZES = (64, 96, 64, 10)  # MLP widths: 13,098 parameters
BATCH = 256


def decaying_matrix(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.arange(1, n + 1) ** -2.0
    return jnp.asarray((q * lam) @ q.T), float(lam.sum())


def mlp(dtype, seed=0):
    keys = jax.random.split(jax.random.key(seed), len(SIZES) + 2)
    params = [
        {
            "w": (jax.random.normal(k, (m, n)) / np.sqrt(m)).astype(dtype),
            "b": jnp.zeros(n, dtype),
        }
        for k, m, n in zip(keys, SIZES[:-1], SIZES[1:])
    ]
    x = jax.random.normal(keys[-2], (BATCH, SIZES[0])).astype(dtype)
    y = jax.random.randint(keys[-1], (BATCH,), 0, SIZES[-1])
    return params, x, y


def mlp_loss(params, x, y):
    h = x
    for layer in params[:-1]:
        h = jnp.tanh(h @ layer["w"] + layer["b"][None])
    logits = h @ params[-1]["w"] + params[-1]["b"][None]
    picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)


def exact_trace(op, chunk=256):
    """``sum_i e_i^T H e_i`` from ``n`` exact products, in chunks."""
    n = op.size
    block = jax.jit(
        lambda start: jnp.sum(
            jax.vmap(lambda i: op.flat_matvec(jax.nn.one_hot(i, n, dtype=op.dtype))[i])(
                start + jnp.arange(chunk)
            )
        )
    )
    total = sum(float(block(s)) for s in range(0, n - chunk + 1, chunk))
    for i in range(n - n % chunk, n):
        total += float(op.flat_matvec(jax.nn.one_hot(i, n, dtype=op.dtype))[i])
    return total


def errors(operator, truth, budgets, seeds):
    keys = jax.random.split(jax.random.key(1), seeds)
    table = {}
    for method in METHODS:
        for m in budgets:
            run = jax.jit(
                lambda ks, m=m, method=method: jax.lax.map(
                    lambda k: (
                        trace(operator, num_matvecs=m, key=k, method=method).value
                    ),
                    ks,
                )
            )
            values = np.asarray(run(keys))
            table[method, m] = float(np.median(np.abs(values - truth) / abs(truth)))
    return table


def print_errors(name, table, budgets):
    print(f"\n(a) {name}: median relative error of the trace over the keys")
    print(
        f"  {'matvecs':>8}"
        + "".join(f"{m:>12}" for m in METHODS)
        + f"{'auto/best':>11}"
    )
    for m in budgets:
        row = [table[method, m] for method in METHODS]
        best = min(row[:3])
        print(
            f"  {m:>8}"
            + "".join(f"{e:>12.2e}" for e in row)
            + f"{row[3] / best:>11.2f}"
        )


def timed(fn, *args, repeats=30):
    jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def hvp_over_grad(repeats):
    params, x, y = mlp(jnp.float32)
    grad = jax.jit(jax.grad(mlp_loss))
    hvp = jax.jit(lambda p, x, y, v: hessian_operator(mlp_loss, p, x, y).matvec(v))
    v = jax.tree_util.tree_map(jnp.ones_like, params)
    t_grad, t_hvp = [], []
    for _ in range(3):  # interleaved, so load on the machine hits both alike
        t_grad.append(timed(grad, params, x, y, repeats=repeats))
        t_hvp.append(timed(hvp, params, x, y, v, repeats=repeats))
    return statistics.median(t_grad), statistics.median(t_hvp)


def pyhessian_comparison(seeds):
    try:
        import torch
        from pyhessian import hessian as pyhessian
    except ImportError as error:
        print(
            f"\n(c) PyHessian: skipped ({error}); pip install torch==2.13.0 pyhessian"
        )
        return None
    torch.set_num_threads(2)
    params, x, y = mlp(jnp.float32)
    layers = []
    for i, layer in enumerate(params):
        linear = torch.nn.Linear(*layer["w"].shape)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(np.asarray(layer["w"]).T))
            linear.bias.copy_(torch.tensor(np.asarray(layer["b"])))
        layers += [linear] if i == len(params) - 1 else [linear, torch.nn.Tanh()]
    model = torch.nn.Sequential(*layers)
    data = (torch.tensor(np.asarray(x)), torch.tensor(np.asarray(y), dtype=torch.long))
    computer = pyhessian(model, torch.nn.CrossEntropyLoss(), data=data, cuda=False)

    params64, x64, y64 = mlp(jnp.float64)
    op64 = hessian_operator(mlp_loss, params64, x64, y64)
    true_trace = exact_trace(op64)
    true_top = float(
        eigenvalues(
            op64, 1, num_matvecs=200, key=jax.random.key(0), rtol=1e-10, throw=False
        ).value[0]
    )

    torch.manual_seed(0)
    start = time.perf_counter()
    estimates = computer.trace(maxIter=100, tol=1e-3)
    t_trace = time.perf_counter() - start
    e_trace = abs(float(np.mean(estimates)) - true_trace) / abs(true_trace)
    start = time.perf_counter()
    top, _ = computer.eigenvalues(maxIter=100, tol=1e-3, top_n=1)
    t_top = time.perf_counter() - start
    e_top = abs(top[0] - true_top) / abs(true_top)

    op = hessian_operator(mlp_loss, params, x, y)
    keys = jax.random.split(jax.random.key(2), seeds)
    out = {
        "pyhessian": {
            "trace": [t_trace, e_trace, len(estimates)],
            "top": [t_top, e_top],
        },
        "truth": {"trace": true_trace, "top": true_top},
    }
    for name, make, budgets, truth, target in (
        (
            "trace",
            lambda m: lambda k: trace(op, num_matvecs=m, key=k).value,
            (10, 20, 30, 50, 100, 200, 300),
            true_trace,
            e_trace,
        ),
        (
            "top",
            lambda m: (
                lambda k: eigenvalues(op, 1, num_matvecs=m, key=k, throw=False).value[0]
            ),
            (5, 8, 10, 15, 20, 30, 50, 100),
            true_top,
            e_top,
        ),
    ):
        for m in budgets:
            one = jax.jit(make(m))
            err = np.median([abs(float(one(k)) - truth) / abs(truth) for k in keys])
            if err <= target or m == budgets[-1]:
                out[name] = {
                    "matvecs": m,
                    "median_error": float(err),
                    "seconds": timed(one, keys[0], repeats=10),
                }
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 keys, 2 budgets")
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = 3 if args.quick else args.seeds
    budgets = (10, 30) if args.quick else (10, 30, 100, 300)
    record = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": platform.platform(),
        "jax": jax.__version__,
        "seeds": seeds,
    }

    a, true_a = decaying_matrix()
    dec = errors(a, true_a, budgets, seeds)
    print_errors("1000 x 1000, eigenvalues i**-2", dec, budgets)
    params, x, y = mlp(jnp.float64)
    op = hessian_operator(mlp_loss, params, x, y)
    true_h = exact_trace(op)
    hes = errors(op, true_h, budgets, seeds)
    print_errors(f"MLP Hessian, n = {op.size}, trace {true_h:.4g}", hes, budgets)
    record["a"] = {
        name: {f"{k[0]}@{k[1]}": v for k, v in t.items()}
        for name, t in (("decaying", dec), ("mlp", hes))
    }

    t_grad, t_hvp = hvp_over_grad(10 if args.quick else 30)
    print(
        f"\n(b) one HVP / one gradient (MLP, float32): {t_hvp * 1e3:.3f} ms / "
        f"{t_grad * 1e3:.3f} ms = {t_hvp / t_grad:.2f} (goal <= 3)"
    )
    record["b"] = {"grad_s": t_grad, "hvp_s": t_hvp, "ratio": t_hvp / t_grad}

    c = pyhessian_comparison(seeds)
    if c is not None:
        record["c"] = c
        print("\n(c) PyHessian vs calculax on the same MLP (float32), same accuracy")
        for name in ("trace", "top"):
            t_p, e_p = c["pyhessian"][name][:2]
            ours = c[name]
            print(
                f"  {name:>5}: PyHessian {t_p:.3f} s at error {e_p:.2e}; calculax "
                f"{ours['seconds']:.4f} s at {ours['matvecs']} matvecs, median "
                f"error {ours['median_error']:.2e}: {t_p / ours['seconds']:.1f}x "
                "faster (goal >= 3)"
            )

    path = write_results("curvature", record, indent=1)
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()

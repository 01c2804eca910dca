"""Curvature estimators: accuracy, interval coverage and cost per matvec, in one run.

(a) Error of ``auto`` against Hutchinson, Hutch++ and XTrace (XDiag for the
    diagonal) at budgets from 10 to 1,000 products, for the trace, the diagonal and
    the Frobenius norm, on ``n x n`` matrices ``Q diag(lambda) Q^T`` (random ``Q``)
    with decaying (``i**-2``), flat (``[1, 2]``), indefinite (three large negative
    eigenvalues over a decaying positive part) and alternating (``(-1)**i / i``)
    spectra, and on the Hessian and Gauss-Newton matrix of a 2,121-parameter
    equinox MLP (truth: their dense matrices in float64). Median relative error
    over the keys (the diagonal: relative 2-norm error), and ``auto`` over the best
    of the others (bar: <= 1.1).
(b) Coverage of the 95% intervals over the keys, same cases (bar: 0.93-0.97).
(c) The held-out check: median relative trace error of ``auto`` and of matfree's
    XTrace at 100 products over 20 seeds, with ``auto``'s coverage out of 20.
(d) Time per call at 100 products on the MLP Hessian (float32, after compilation,
    median of repeats; first call with compilation in a note), ``auto`` against
    XTrace (ours and matfree's), Hutch++ and Hutchinson. Bar: auto <= 1.3x XTrace.
(e) One Hessian-vector product against one gradient (MLP, float32).

Run: ``python benchmarks/curvature.py`` (``--quick``: fewer keys and budgets);
results also written as JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from _results import write_results

jax.config.update("jax_enable_x64", True)

from calculax.curvature import (  # noqa: E402
    diagonal,
    frobenius_norm,
    gauss_newton_operator,
    hessian_operator,
    trace,
)
from calculax.curvature._estimate import t_quantile  # noqa: E402

METHODS = {
    "trace": ("hutchinson", "hutch++", "xtrace", "auto"),
    "diagonal": ("hutchinson", "hutch++", "xdiag", "auto"),
    "frobenius": ("hutchinson", "hutch++", "auto"),
}
ESTIMATORS = {"trace": trace, "diagonal": diagonal, "frobenius": frobenius_norm}


def spectra(n):
    i = np.arange(1, n + 1)
    rng = np.random.default_rng(0)
    tail = np.abs(rng.standard_normal(n - 3)) / np.arange(4, n + 1)
    return {
        "decaying": i**-2.0,
        "flat": np.linspace(1.0, 2.0, n),
        "indefinite": np.concatenate([[-50.0, -30.0, -20.0], tail]),
        "alternating": np.where(i % 2, 1.0, -1.0) / i,
    }


def mlp_problem():
    """A 2,121-parameter equinox MLP (10 -> 40 -> 40 -> 1, tanh), 256 samples."""
    model = eqx.nn.MLP(10, 1, 40, 2, activation=jnp.tanh, key=jax.random.key(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    x = jax.random.normal(jax.random.key(1), (256, 10))
    y = jnp.sin(x[:, 0]) + 0.1 * jax.random.normal(jax.random.key(2), (256,))

    def predict(p, x):
        return jax.vmap(eqx.combine(p, static))(x)[:, 0]

    def loss(p, x, y):
        return jnp.mean((predict(p, x) - y) ** 2)

    def squared(z, y):
        return jnp.mean((z - y) ** 2)

    return params, x, y, loss, predict, squared


def dense(op):
    return np.asarray(eqx.filter_jit(lambda op: op.as_dense())(op), np.float64)


def cases(n):
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    out = {name: (q * lam) @ q.T for name, lam in spectra(n).items()}
    params, x, y, loss, predict, squared = mlp_problem()
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), params)
    x, y = x.astype(jnp.float64), y.astype(jnp.float64)
    out["MLP Hessian"] = dense(hessian_operator(loss, params, x, y))
    out["MLP Gauss-Newton"] = dense(
        gauss_newton_operator(predict, squared, params, x, y)
    )
    return out


def truths(a):
    return {
        "trace": np.trace(a),
        "diagonal": np.diag(a),
        "frobenius": np.linalg.norm(a),
    }


_RUNS = {}


def run(quantity, method, m, a, keys):
    """Values, errors and dofs over ``keys`` (one compilation per case shape)."""
    tag = (quantity, method, m, a.shape)
    if tag not in _RUNS:
        estimator = ESTIMATORS[quantity]

        def one(a, k):
            e = estimator(a, num_matvecs=m, key=k, method=method)
            return e.value, e.error, e.dof

        _RUNS[tag] = jax.jit(lambda a, ks: jax.lax.map(lambda k: one(a, k), ks))
    return [np.asarray(v) for v in _RUNS[tag](jnp.asarray(a), keys)]


def relative_error(values, truth):
    if np.ndim(truth) == 0:
        return np.abs(values - truth) / abs(truth)
    return np.linalg.norm(values - truth, axis=-1) / np.linalg.norm(truth)


def coverage(values, errors, dofs, truth):
    q = t_quantile(0.95, dofs)
    q = np.reshape(q, q.shape + (1,) * (values.ndim - q.ndim))
    return float(np.mean(np.abs(values - truth) <= q * errors))


def accuracy(matrices, budgets, seeds, quantities):
    keys = jax.random.split(jax.random.key(1), seeds)
    table = {}
    for name, a in matrices.items():
        truth = truths(a)
        for quantity in quantities:
            for m in budgets:
                if m >= a.shape[0]:
                    continue
                for method in METHODS[quantity]:
                    values, errors, dofs = run(quantity, method, m, a, keys)
                    table[name, quantity, m, method] = (
                        float(np.median(relative_error(values, truth[quantity]))),
                        coverage(values, errors, dofs, truth[quantity]),
                    )
                row = [table[name, quantity, m, me][0] for me in METHODS[quantity]]
                best = min(row[:-1])
                print(
                    f"  {name:>16} {quantity:>9} {m:>5}"
                    + "".join(f"{e:>11.2e}" for e in row)
                    + f"{row[-1] / best:>8.2f}"
                    + "".join(
                        f"{table[name, quantity, m, me][1]:>7.2f}"
                        for me in METHODS[quantity]
                    ),
                    flush=True,
                )
    return table


def held_out(matrices):
    """auto vs matfree's XTrace at 100 products, 20 seeds (the issue's check)."""
    from matfree import stochtrace

    keys = jax.random.split(jax.random.key(2026), 20)
    out = {}
    for name in ("decaying", "indefinite", "alternating"):
        a = jnp.asarray(matrices[name])
        truth = float(np.trace(matrices[name]))
        values, errors, dofs = run("trace", "auto", 100, matrices[name], keys)
        auto = np.median(np.abs(values - truth) / abs(truth))
        covered = int(np.sum(np.abs(values - truth) <= t_quantile(0.95, dofs) * errors))

        def xtrace(k, a=a):
            s = jax.random.normal(k, (50, a.shape[0]), a.dtype)
            with jax.numpy_rank_promotion("allow"):
                return jnp.mean(stochtrace.leave_one_out_xtrace()(lambda v: a @ v, s))

        matfree = np.asarray(jax.jit(lambda ks: jax.lax.map(xtrace, ks))(keys))
        reference = np.median(np.abs(matfree - truth) / abs(truth))
        out[name] = {
            "auto": float(auto),
            "matfree_xtrace": float(reference),
            "coverage_of_20": covered,
        }
        print(
            f"  {name:>12}: auto {auto:.2e}, matfree XTrace {reference:.2e}, "
            f"auto's 95% intervals cover {covered}/20"
        )
    return out


def timed(fn, *args, repeats=7):
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - start
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), first


def timing(repeats):
    from matfree import stochtrace

    params, x, y, loss, _, _ = mlp_problem()
    op = hessian_operator(loss, params, x, y)
    key = jax.random.key(0)
    out = {}
    for method in ("hutchinson", "hutch++", "xtrace", "auto"):
        out[method] = timed(
            lambda k, method=method: (
                trace(op, num_matvecs=100, key=k, method=method).value
            ),
            key,
            repeats=repeats,
        )

    def matfree_xtrace(k):
        s = jax.random.normal(k, (50, op.size), op.dtype)
        with jax.numpy_rank_promotion("allow"):
            return jnp.mean(stochtrace.leave_one_out_xtrace()(op.flat_matvec, s))

    out["matfree xtrace"] = timed(jax.jit(matfree_xtrace), key, repeats=repeats)
    for name, (t, first) in out.items():
        print(f"  {name:>15}: {t * 1e3:8.1f} ms   (first call {first:.2f} s)")
    print(
        f"  auto / XTrace (ours): {out['auto'][0] / out['xtrace'][0]:.2f}; auto / "
        f"matfree XTrace: {out['auto'][0] / out['matfree xtrace'][0]:.2f} (bar 1.3)"
    )
    return out


def hvp_over_grad(repeats):
    params, x, y, loss, _, _ = mlp_problem()
    grad = jax.jit(jax.grad(loss))
    hvp = jax.jit(lambda p, x, y, v: hessian_operator(loss, p, x, y).matvec(v))
    v = jax.tree_util.tree_map(jnp.ones_like, params)
    t_grad = timed(grad, params, x, y, repeats=repeats)[0]
    t_hvp = timed(hvp, params, x, y, v, repeats=repeats)[0]
    print(f"  {t_hvp * 1e3:.3f} ms / {t_grad * 1e3:.3f} ms = {t_hvp / t_grad:.2f}")
    return {"grad_s": t_grad, "hvp_s": t_hvp}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n", type=int, default=1200)
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--budgets", default="10,30,100,300,1000")
    parser.add_argument("--quantities", default="trace,diagonal,frobenius")
    parser.add_argument("--cases", default=None, help="comma-separated subset")
    parser.add_argument(
        "--only-time", action="store_true", help="sections (d) and (e) only"
    )
    args = parser.parse_args()
    budgets = (
        (10, 30, 100) if args.quick else tuple(int(b) for b in args.budgets.split(","))
    )
    seeds = 10 if args.quick else args.seeds
    n = 400 if args.quick else args.n
    record = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": platform.platform(),
        "jax": jax.__version__,
        "seeds": seeds,
        "n": n,
    }
    if args.only_time:
        timed_sections(record, args)
        return
    matrices = cases(n)
    if args.cases:
        matrices = {k: matrices[k] for k in args.cases.split(",")}
    print(
        "(a, b) median relative error per method, auto / best of the others, then "
        "coverage of the 95% intervals per method"
    )
    quantities = args.quantities.split(",")
    table = accuracy(matrices, budgets, seeds, quantities)
    record["accuracy"] = {"/".join(map(str, k)): v for k, v in table.items()}
    if {"decaying", "indefinite", "alternating"} <= set(matrices):
        print("\n(c) held-out style check, 100 products, 20 seeds")
        record["held_out"] = held_out(matrices)
    timed_sections(record, args)


def timed_sections(record, args) -> None:
    print("\n(d) time per call at 100 products, MLP Hessian (2,121 parameters)")
    jax.config.update("jax_enable_x64", False)
    record["time"] = timing(3 if args.quick else 7)
    print("\n(e) one HVP / one gradient (MLP, float32)")
    record["hvp"] = hvp_over_grad(10 if args.quick else 30)
    path = write_results("curvature", record, indent=1)
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()

"""Curvature of a transformer language model: trace, top eigenvalues and density.

A decoder-only transformer in equinox (pre-norm blocks, causal attention, GELU MLP)
on synthetic token data made here, with a softmax cross-entropy (next-token) loss.
Its size is set by ``--width``/``--layers``/``--vocab``: the default (~0.9 M
parameters) runs in a few minutes on 2 CPU cores; ``--width 256 --layers 12
--vocab 2048`` has 10.5 M parameters. Measured, in one run:

(a) one Hessian-vector product against one gradient: time (jit, median of repeats)
    and peak memory (XLA's buffer assignment of the compiled program: temporaries
    plus outputs, ``memory_analysis()``). Goal: memory <= 3x the gradient's.
(b) trace (``auto``) with its 95% interval, the top eigenvalues with their bounds,
    and the spectral density (SLQ), with their products and times;
(c) the Gauss-Newton matrix and the empirical Fisher of the same loss (trace with
    ``auto`` and with ``xnystrace``, which suits these positive semi-definite
    operators, and the top eigenvalue);
(d) the sharded run: the same trace with ``mesh=probe_mesh()`` over 4 forced CPU
    devices (``XLA_FLAGS=--xla_force_host_platform_device_count=4``, a subprocess)
    and over 2 ``jax.distributed`` processes on localhost (gloo collectives), each
    compared with the single-device numbers.

Run: ``python benchmarks/curvature_scale.py [--width W --layers L --vocab V]``
(``--skip-sharded`` to leave out (d)); results also in ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from calculax.curvature import (
    eigenvalues,
    fisher_operator,
    gauss_newton_operator,
    hessian_operator,
    probe_mesh,  # noqa: F401 -- used by the worker processes (cs.probe_mesh)
    spectral_density,
    trace,
)


class Block(eqx.Module):
    norm1: eqx.nn.LayerNorm
    attention: eqx.nn.MultiheadAttention
    norm2: eqx.nn.LayerNorm
    up: eqx.nn.Linear
    down: eqx.nn.Linear

    def __init__(self, width, heads, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.norm1 = eqx.nn.LayerNorm(width)
        self.attention = eqx.nn.MultiheadAttention(heads, width, key=k1)
        self.norm2 = eqx.nn.LayerNorm(width)
        self.up = eqx.nn.Linear(width, 4 * width, key=k2)
        self.down = eqx.nn.Linear(4 * width, width, key=k3)

    def __call__(self, x, mask):
        h = jax.vmap(self.norm1)(x)
        x = x + self.attention(h, h, h, mask=mask)
        h = jax.vmap(self.norm2)(x)
        return x + jax.vmap(lambda v: self.down(jax.nn.gelu(self.up(v))))(h)


class Transformer(eqx.Module):
    embed: eqx.nn.Embedding
    position: jax.Array
    blocks: list
    norm: eqx.nn.LayerNorm
    unembed: eqx.nn.Linear

    def __init__(self, vocab, width, layers, length, key):
        keys = jax.random.split(key, layers + 3)
        self.embed = eqx.nn.Embedding(vocab, width, key=keys[0])
        self.position = 0.02 * jax.random.normal(keys[1], (length, width))
        self.blocks = [Block(width, 4, k) for k in keys[3:]]
        self.norm = eqx.nn.LayerNorm(width)
        self.unembed = eqx.nn.Linear(width, vocab, key=keys[2])

    def __call__(self, tokens):
        x = jax.vmap(self.embed)(tokens) + self.position[: tokens.shape[0]]
        n = tokens.shape[0]
        mask = jnp.tril(jnp.ones((n, n), bool))
        for block in self.blocks:
            x = block(x, mask)
        return jax.vmap(lambda v: self.unembed(v))(jax.vmap(self.norm)(x))


def problem(args):
    key = jax.random.key(0)
    model = Transformer(args.vocab, args.width, args.layers, args.length, key)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    # Synthetic data with structure to learn: a noisy periodic sequence.
    rng = np.random.default_rng(0)
    base = np.arange(args.length + 1)[None] * rng.integers(1, 7, (args.batch, 1))
    noise = rng.integers(0, 3, (args.batch, args.length + 1))
    tokens = jnp.asarray((base + noise) % args.vocab)
    return params, static, tokens[:, :-1], tokens[:, 1:]


def make_losses(static):
    def logits(params, x):
        return jax.vmap(eqx.combine(params, static))(x)

    def per_token(z, y):
        picked = jnp.take_along_axis(z, y[..., None], axis=-1)[..., 0]
        return jax.nn.logsumexp(z, axis=-1) - picked

    def loss(params, x, y):
        return jnp.mean(per_token(logits(params, x), y))

    def per_example(params, x, y):
        return jnp.mean(per_token(logits(params, x), y), axis=-1)

    def ce(z, y):
        return jnp.mean(per_token(z, y))

    return logits, loss, per_example, ce


def timed(fn, *args, repeats=5):
    jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def peak_bytes(fn, *args):
    """Temporaries + outputs of the compiled program (XLA buffer assignment)."""
    stats = jax.jit(fn).lower(*args).compile().memory_analysis()
    return int(stats.temp_size_in_bytes + stats.output_size_in_bytes)


def hvp_against_gradient(loss, params, x, y, repeats):
    op = hessian_operator(loss, params, x, y)
    v = jax.tree_util.tree_map(jnp.ones_like, params)
    grad = jax.jit(jax.grad(loss))
    hvp = jax.jit(lambda p, x, y, v: hessian_operator(loss, p, x, y).matvec(v))
    out = {
        "grad_s": timed(grad, params, x, y, repeats=repeats),
        "hvp_s": timed(hvp, params, x, y, v, repeats=repeats),
        "grad_bytes": peak_bytes(jax.grad(loss), params, x, y),
        "hvp_bytes": peak_bytes(
            lambda p, x, y, v: hessian_operator(loss, p, x, y).matvec(v),
            params,
            x,
            y,
            v,
        ),
        "params_bytes": int(sum(a.nbytes for a in jax.tree_util.tree_leaves(params))),
    }
    del op
    return out


def estimates(op, args, key, methods=("auto",)):
    out = {}
    for method in methods:
        start = time.perf_counter()
        est = trace(op, num_matvecs=args.trace_matvecs, key=key, method=method)
        first = time.perf_counter() - start
        start = time.perf_counter()
        est = trace(op, num_matvecs=args.trace_matvecs, key=key, method=method)
        float(est.value)
        low, high = est.interval(0.95)
        out[f"trace_{method}"] = {
            "value": float(est.value),
            "error": float(est.error),
            "interval": [float(low), float(high)],
            "products": est.num_matvecs,
            "seconds": time.perf_counter() - start,
            "first_call_seconds": first,
            "choice": None if est.choice is None else int(est.choice),
        }
    start = time.perf_counter()
    top = eigenvalues(
        op, 2, num_matvecs=args.lanczos_matvecs, key=key, rtol=1e-2, throw=False
    )
    first = time.perf_counter() - start
    start = time.perf_counter()
    top = eigenvalues(
        op, 2, num_matvecs=args.lanczos_matvecs, key=key, rtol=1e-2, throw=False
    )
    float(top.value[0])
    out["top"] = {
        "value": np.asarray(top.value).tolist(),
        "error": np.asarray(top.error).tolist(),
        "status": top.message or "successful",
        "products": top.num_matvecs,
        "seconds": time.perf_counter() - start,
        "first_call_seconds": first,
    }
    return out


def density(op, args, key):
    start = time.perf_counter()
    d = spectral_density(
        op,
        num_matvecs=2 * args.density_steps,
        key=key,
        lanczos_steps=args.density_steps,
        throw=False,
    )
    grid, value, error = map(np.asarray, (d.grid, d.value, d.error))
    return {
        "range": [float(grid[0]), float(grid[-1])],
        "peak_at": float(grid[np.argmax(value)]),
        "max_relative_error": float(np.max(error / np.maximum(value, 1e-300))),
        "products": d.num_matvecs,
        "seconds": time.perf_counter() - start,
        "status": d.message or "successful",
    }


WORKER = """
import json, sys, time
import jax
if sys.argv[1] == "processes":
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=f"localhost:{sys.argv[3]}",
                               num_processes=2, process_id=int(sys.argv[2]))
sys.path.insert(0, sys.argv[-1])
import curvature_scale as cs
args = cs.parser().parse_args(json.loads(sys.argv[-2]))
params, static, x, y = cs.problem(args)
_, loss, _, _ = cs.make_losses(static)
op = cs.hessian_operator(loss, params, x, y)
mesh = cs.probe_mesh()
key = jax.random.key(1)
out = {"devices": len(jax.devices()), "processes": jax.process_count()}
for name, m in (("single", None), ("sharded", mesh)):
    est = cs.trace(op, num_matvecs=args.trace_matvecs, key=key, mesh=m)
    float(est.value)
    start = time.perf_counter()
    est = cs.trace(op, num_matvecs=args.trace_matvecs, key=key, mesh=m)
    out[name] = [float(est.value), float(est.error), time.perf_counter() - start]
print("RESULT " + json.dumps(out))
"""


def sharded(args, argv):
    here = os.path.dirname(os.path.abspath(__file__))
    forwarded = json.dumps(argv)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    results = {}
    env4 = dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    run = subprocess.run(
        [sys.executable, "-c", WORKER, "devices", forwarded, here],
        env=env4,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    results["4 devices"] = _parse(run.stdout, run.stderr)
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = str(s.getsockname()[1])
    env2 = dict(env, XLA_FLAGS="--xla_force_host_platform_device_count=1")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, "processes", str(i), port, forwarded, here],
            env=env2,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=3600) for p in procs]
    results["2 processes"] = [_parse(o, e) for o, e in outs]
    return results


def _parse(stdout, stderr):
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"failed": stderr[-2000:]}


def parser():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=96)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--vocab", type=int, default=512)
    p.add_argument("--length", type=int, default=32)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--trace-matvecs", type=int, default=20)
    p.add_argument("--lanczos-matvecs", type=int, default=12)
    p.add_argument("--density-steps", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--skip-sharded", action="store_true")
    p.add_argument("--skip-gn", action="store_true")
    return p


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parser().parse_args(argv)
    params, static, x, y = problem(args)
    logits, loss, per_example, ce = make_losses(static)
    n = sum(a.size for a in jax.tree_util.tree_leaves(params))
    record = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(),
        "machine": platform.platform(),
        "device": str(jax.devices()[0]),
        "jax": jax.__version__,
        "parameters": int(n),
        "args": vars(args),
    }
    print(f"transformer: {n:,} parameters, tokens {x.shape}, {jax.devices()[0]}")

    a = hvp_against_gradient(loss, params, x, y, args.repeats)
    record["a"] = a
    print(
        f"(a) one HVP {a['hvp_s']:.3f} s vs one gradient {a['grad_s']:.3f} s "
        f"({a['hvp_s'] / a['grad_s']:.2f}x); peak memory {a['hvp_bytes'] / 2**20:.1f}"
        f" MiB vs {a['grad_bytes'] / 2**20:.1f} MiB "
        f"({a['hvp_bytes'] / a['grad_bytes']:.2f}x, goal <= 3); parameters "
        f"{a['params_bytes'] / 2**20:.1f} MiB"
    )

    key = jax.random.key(1)
    op = hessian_operator(loss, params, x, y)
    b = estimates(op, args, key)
    b["density"] = density(op, args, key)
    record["b"] = b
    t = b["trace_auto"]
    print(
        f"(b) Hessian trace {t['value']:.5g} +- {t['error']:.2g} (95%: "
        f"[{t['interval'][0]:.5g}, {t['interval'][1]:.5g}]), {t['products']} "
        f"products, {t['seconds']:.1f} s (first call, with compilation: "
        f"{t['first_call_seconds']:.1f} s)"
    )
    print(
        f"    top eigenvalues {np.round(b['top']['value'], 5).tolist()} +- "
        f"{np.asarray(b['top']['error']).round(6).tolist()} ({b['top']['status']}),"
        f" {b['top']['products']} products, {b['top']['seconds']:.1f} s (first "
        f"call {b['top']['first_call_seconds']:.1f} s)"
    )
    dd = b["density"]
    print(
        f"    density on [{dd['range'][0]:.3g}, {dd['range'][1]:.3g}], peak at "
        f"{dd['peak_at']:.3g}, {dd['products']} products, {dd['seconds']:.1f} s"
    )

    if not args.skip_gn:
        c = {}
        for name, operator in (
            ("gauss-newton", gauss_newton_operator(logits, ce, params, x, y)),
            ("fisher", fisher_operator(per_example, params, x, y)),
        ):
            c[name] = estimates(operator, args, key, methods=("auto", "xnystrace"))
            r = c[name]
            print(
                f"(c) {name}: trace auto {r['trace_auto']['value']:.5g} +- "
                f"{r['trace_auto']['error']:.2g}, xnystrace "
                f"{r['trace_xnystrace']['value']:.5g} +- "
                f"{r['trace_xnystrace']['error']:.2g}; top "
                f"{np.round(r['top']['value'], 5).tolist()} "
                f"({r['top']['seconds']:.1f} s)"
            )
        record["c"] = c

    if not args.skip_sharded:
        d = sharded(args, argv)
        record["d"] = d
        four = d["4 devices"]
        if "failed" in four:
            print(f"(d) 4 devices failed: {four['failed'][-500:]}")
        else:
            print(
                f"(d) 4 devices: single {four['single'][0]:.6g} in "
                f"{four['single'][2]:.1f} s, sharded {four['sharded'][0]:.6g} in "
                f"{four['sharded'][2]:.1f} s"
            )
        for i, proc in enumerate(d["2 processes"]):
            if "failed" in proc:
                print(f"    process {i} failed: {proc['failed'][-500:]}")
            else:
                print(
                    f"    2 processes (process {i}, {proc['devices']} devices): "
                    f"single {proc['single'][0]:.6g}, sharded "
                    f"{proc['sharded'][0]:.6g} in {proc['sharded'][2]:.1f} s"
                )

    from _results import write_results

    path = write_results("curvature_scale", record, indent=1)
    print(f"written {path}")


if __name__ == "__main__":
    main()

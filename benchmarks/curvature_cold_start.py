"""The first ``curvature.trace(method="auto")`` of a fresh process, and where it goes.

Each run is a new Python process that imports JAX and calculax, builds the Hessian
operator of a small MLP loss and calls ``trace`` twice (the second call reuses the
compiled program). Runs are interleaved across the source trees given with
``--src`` (e.g. an older checkout), median of ``--repeats``. A profile of the first
call splits it into tracing, lowering and XLA compilation per method.

Run: ``python benchmarks/curvature_cold_start.py [--src PATH ...] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import jax, jax.numpy as jnp
    t1 = time.perf_counter()
    import calculax.curvature as cc
    t2 = time.perf_counter()
    w = jnp.linspace(-1.0, 1.0, 160).reshape(40, 4) / 4
    x = jnp.linspace(-1.0, 1.0, 256).reshape(64, 4)
    op = cc.hessian_operator(lambda w, x: jnp.mean(jnp.tanh(x @ w.T) ** 2), w, x)
    t3 = time.perf_counter()
    float(cc.trace(op, num_matvecs=30, key=jax.random.key(0), method="auto").value)
    t4 = time.perf_counter()
    float(cc.trace(op, num_matvecs=30, key=jax.random.key(1), method="auto").value)
    t5 = time.perf_counter()
    print("RESULT " + json.dumps({"import jax": t1 - t0, "import curvature": t2 - t1,
        "first trace": t4 - t3, "second trace": t5 - t4}))
    """
)

PROFILE = textwrap.dedent(
    """
    import json, time
    import jax, jax.numpy as jnp
    import calculax.curvature as cc
    from calculax.curvature._estimators import METHODS
    from calculax.curvature._functional import Trace
    w = jnp.linspace(-1.0, 1.0, 160).reshape(40, 4) / 4
    x = jnp.linspace(-1.0, 1.0, 256).reshape(64, 4)
    op = cc.hessian_operator(lambda w, x: jnp.mean(jnp.tanh(x @ w.T) ** 2), w, x)
    out = {}
    for name in ("hutchinson", "xtrace", "auto"):
        method = METHODS[name]
        f = jax.jit(lambda key: method.estimate(Trace(), op, 30, key, None))
        t0 = time.perf_counter(); traced = f.trace(jax.random.key(0))
        t1 = time.perf_counter(); lowered = traced.lower()
        t2 = time.perf_counter(); lowered.compile()
        t3 = time.perf_counter()
        out[name] = {"trace": t1 - t0, "lower": t2 - t1, "compile": t3 - t2}
    print("RESULT " + json.dumps(out))
    """
)


def run(script: str, src: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src, JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(done.stderr[-2000:])


def main() -> None:
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", nargs="*", default=[os.path.normpath(here)])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {src: [] for src in args.src}
    for _ in range(args.repeats):  # interleaved: load on the machine hits all alike
        for src in args.src:
            runs[src].append(run(SCRIPT, src))
    for src, results in runs.items():
        medians = {k: statistics.median(r[k] for r in results) for k in results[0]}
        print(f"{src}: " + ", ".join(f"{k} {v:.2f} s" for k, v in medians.items()))
        try:
            profile = run(PROFILE, src)
        except RuntimeError as error:
            print(f"  profile failed: {str(error)[-300:]}")
            continue
        for name, parts in profile.items():
            print(
                f"  {name:>10}: "
                + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items())
            )


if __name__ == "__main__":
    main()

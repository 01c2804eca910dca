"""Sharded probes give the single-device numbers (4 forced host devices, subprocess).

``XLA_FLAGS=--xla_force_host_platform_device_count=4`` must be set before JAX starts,
so the comparison runs in a fresh interpreter and reports JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import json
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    from calculax.curvature import (hessian_operator,
        probe_mesh, spectral_density, trace)

    mesh = probe_mesh()
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((96, 96)))
    a = jnp.asarray((q * np.arange(1, 97) ** -1.5) @ q.T)
    w = jnp.asarray(rng.standard_normal((6, 5)))
    x = jnp.asarray(rng.standard_normal((8, 6)))
    mlp = hessian_operator(lambda w, x: jnp.sum(jnp.tanh(x @ w) ** 2), w, x)
    key = jax.random.key(3)
    cases = {
        "trace-auto": lambda m: trace(a, num_matvecs=30, key=key, mesh=m),
        "trace-xtrace": lambda m: trace(
            a, num_matvecs=32, key=key, method="xtrace", mesh=m),
        "mlp-trace": lambda m: trace(mlp, num_matvecs=12, key=key, mesh=m),
        "density": lambda m: spectral_density(
            a, num_matvecs=96, key=key, lanczos_steps=24, mesh=m),
    }
    out = {"devices": len(jax.devices())}
    for name, run in cases.items():
        single, sharded = run(None), run(mesh)
        out[name] = [
            float(np.max(np.abs(np.asarray(s) - np.asarray(t)) / (1 + np.abs(s))))
            for s, t in ((single.value, sharded.value),
                         (single.stderr, sharded.stderr))
        ]
    text = jax.jit(lambda k: trace(a, num_matvecs=30, key=k, mesh=mesh).value)
    out["partitioned"] = '[{}, {"probes"}]' in text.lower(key).as_text()
    print(json.dumps(out))
    """
)


def test_sharded_probes_equal_single_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4")
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out.pop("devices") == 4
    assert out.pop("partitioned")
    # Per-probe products are identical; only the order of later sums may differ.
    tol = 2.0**10 * np.finfo(np.float64).eps
    for name, (value, stderr) in out.items():
        assert value <= tol and stderr <= tol, name

"""Sharded probes give the single-device numbers, over 2 processes x 2 devices.

One launch checks both scales at once: two ``jax.distributed`` processes on
localhost (CPU collectives via gloo), each with 2 forced host devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=2``, which must be set before
JAX starts), so ``probe_mesh()`` spans 4 devices in 2 processes. Each process
compares every estimator with and without the mesh and reports JSON.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.config.update("jax_enable_x64", True)
    jax.distributed.initialize(
        coordinator_address=f"localhost:{sys.argv[2]}",
        num_processes=2,
        process_id=int(sys.argv[1]),
    )
    import jax.numpy as jnp, numpy as np
    from calculax.curvature import (diagonal, hessian_operator,
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
        "diagonal-xdiag": lambda m: diagonal(
            a, num_matvecs=30, key=key, method="xdiag", mesh=m),
        "mlp-trace": lambda m: trace(mlp, num_matvecs=12, key=key, mesh=m),
        "density": lambda m: spectral_density(
            a, num_matvecs=96, key=key, lanczos_steps=24, mesh=m),
    }
    out = {"devices": len(jax.devices()), "processes": jax.process_count()}
    for name, run in cases.items():
        single, sharded = run(None), run(mesh)
        out[name] = [
            float(np.max(np.abs(np.asarray(s) - np.asarray(t)) / (1 + np.abs(s))))
            for s, t in ((single.value, sharded.value),
                         (single.error, sharded.error))
        ]
    text = jax.jit(lambda k: trace(a, num_matvecs=30, key=k, mesh=mesh).value)
    out["partitioned"] = '[{}, {"probes"}]' in text.lower(key).as_text()
    print(json.dumps(out))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_sharded_probes_equal_single_device_over_two_processes():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env["JAX_PLATFORMS"] = "cpu"
    port = str(_free_port())
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(i), port],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    done = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, done):
        assert p.returncode == 0, err[-3000:]
    # Per-probe products are identical; only the order of later sums may differ.
    tol = 2.0**10 * np.finfo(np.float64).eps
    for stdout, _ in done:
        out = json.loads(stdout.strip().splitlines()[-1])
        assert (out.pop("devices"), out.pop("processes")) == (4, 2)
        assert out.pop("partitioned")
        for name, (value, stderr) in out.items():
            assert value <= tol and stderr <= tol, name

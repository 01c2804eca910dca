"""Sharded ensembles equal single solves (two host devices, in a fresh process: the
device count is fixed when JAX starts). Slow: ``test_ode.py``'s vmap test covers
the batched claim on one device."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
    import calculax.ode as ode

    def logistic(t, y, rate):
        return rate * y * (1 - y)

    def level(t, y, rate):
        return y[0] - 0.8

    event = ode.Event(level, terminal=True, max_events=1)

    def first(y0, rate):
        sol = ode.solve_ivp(logistic, (0.0, 2000.0), y0[None], events=event,
                            args=(rate,), rtol=1e-12, atol=1e-14)
        return sol.t_events[0][0]

    mesh = Mesh(np.array(jax.devices()), ("batch",))
    sharding = NamedSharding(mesh, PartitionSpec("batch"))
    y0s = jax.device_put(jnp.linspace(0.1, 0.6, 8), sharding)
    rates = jax.device_put(jnp.linspace(0.01, 1.0, 8), sharding)
    out = jax.jit(jax.vmap(first))(y0s, rates)
    assert len(out.sharding.device_set) == 2, out.sharding
    single = [float(first(y0s[i], rates[i])) for i in range(8)]
    np.testing.assert_array_equal(np.asarray(out), single)
    print("ok")
    """
)


@pytest.mark.slow
def test_sharded_ensemble_equals_single_solves():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr

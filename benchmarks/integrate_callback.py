"""What the ``jax.pure_callback`` design of ``calculax.integrate`` costs and gives.

Times, in one process on this machine, against :func:`quadax.quadgk` (the JAX-native
adaptive Gauss-Kronrod quadrature, one XLA program):

* first call under ``jit`` (trace + lower + compile + run) and a warm call;
* ``vmap`` over a batch of 16 parameters (calculax: ``vmap_method="sequential"``,
  one host solve per element; quadax: one batched program);
* ``grad`` in a parameter and in a limit (first call and warm);
* a ``jit`` nested inside a ``jit``.

Each number is checked against a closed form. Run
``PYTHONPATH=src python benchmarks/integrate_callback.py`` (float64, CPU).
"""

from __future__ import annotations

import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import quadax  # noqa: E402

import calculax  # noqa: E402

INF = float(np.inf)


def timed(fn, *args):
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - start


# f(x; s) = exp(-x^2 / (2 s^2)) on the line: integral s sqrt(2 pi).
def f(x, s):
    return jnp.exp(-0.5 * (x / s) ** 2)


def truth(s):
    return s * np.sqrt(2 * np.pi)


def ours(s, b=INF):
    return calculax.integrate.quad(f, -INF, b, args=(s,)).value


def theirs(s, b=INF):
    return quadax.quadgk(
        f, jnp.array([-INF, b]), args=(s,), epsabs=1e-12, epsrel=1e-12
    )[0]


def row(name, ours_fn, theirs_fn, args, want):
    v1, t1 = timed(ours_fn, *args)
    v1b, t1b = timed(ours_fn, *args)
    v2, t2 = timed(theirs_fn, *args)
    v2b, t2b = timed(theirs_fn, *args)
    e1 = float(np.max(np.abs(np.asarray(v1) - want)))
    e2 = float(np.max(np.abs(np.asarray(v2) - want)))
    print(
        f"{name:34s} calculax first {t1:6.2f}s warm {t1b * 1e3:8.1f}ms err {e1:8.1e} | "
        f"quadax first {t2:6.2f}s warm {t2b * 1e3:8.1f}ms err {e2:8.1e} | "
        f"first-call ratio {t1 / t2:5.2f}"
    )


def main() -> None:
    s = jnp.asarray(1.3)
    batch = jnp.linspace(0.5, 2.0, 16)
    print(f"backend: {jax.default_backend()}, devices: {jax.devices()}")
    row("jit(quad)", jax.jit(ours), jax.jit(theirs), (s,), truth(1.3))
    row(
        "vmap over 16 parameters (jit)",
        jax.jit(jax.vmap(ours)),
        jax.jit(jax.vmap(theirs)),
        (batch,),
        truth(np.asarray(batch)),
    )
    row(
        "grad in the parameter (jit)",
        jax.jit(jax.grad(ours)),
        jax.jit(jax.grad(theirs)),
        (s,),
        np.sqrt(2 * np.pi),
    )
    # d/db int_-inf^b f = f(b).
    b = jnp.asarray(0.4)
    row(
        "grad in the upper limit (jit)",
        jax.jit(jax.grad(ours, argnums=1)),
        jax.jit(jax.grad(theirs, argnums=1)),
        (s, b),
        float(np.exp(-0.5 * (0.4 / 1.3) ** 2)),
    )
    row(
        "jvp in the parameter (jit)",
        jax.jit(lambda s: jax.jvp(ours, (s,), (jnp.ones(()),))[1]),
        jax.jit(lambda s: jax.jvp(theirs, (s,), (jnp.ones(()),))[1]),
        (s,),
        np.sqrt(2 * np.pi),
    )
    inner_ours, inner_theirs = jax.jit(ours), jax.jit(theirs)
    row(
        "jit(2 * jit(quad)) nested",
        jax.jit(lambda s: 2 * inner_ours(s)),
        jax.jit(lambda s: 2 * inner_theirs(s)),
        (s,),
        2 * truth(1.3),
    )
    # Second derivative in the parameter: d2/ds2 (s sqrt(2 pi)) = 0.
    row(
        "grad(grad) in the parameter (jit)",
        jax.jit(jax.grad(jax.grad(ours))),
        jax.jit(jax.grad(jax.grad(theirs))),
        (s,),
        0.0,
    )


if __name__ == "__main__":
    main()

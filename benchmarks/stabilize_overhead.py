"""Runtime and compile-time overhead of ``calculax.stabilize`` on unmodified JAX code.

``jit(grad(stabilize(f)))`` against ``jit(grad(f))`` in the same run, for the three
``jax.numpy`` losses of ``stable_overhead.py`` (seed ratio, MLP with
``jax.nn.logsumexp``, least squares with ``jnp.linalg.norm``) and a recurrence
written with ``lax.scan`` (``c <- c / (1 + x_t) + sqrt(x_t)``, 10**3 steps over
vectors of 10**4). Runtime: median of ``--repeats`` (>= 30) interleaved calls after
warm-up; compile time: median of 3 fresh ``lower().compile()`` (for ``stabilize``
this includes re-tracing ``f``).

Goal: runtime ratio <= 1.10 and compile-time ratio <= 1.5 on CPU.

Run: ``python benchmarks/stabilize_overhead.py``.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import stable_overhead as shared

import calculax

RUNTIME_GOAL, COMPILE_GOAL = 1.10, 1.5


def scan_recurrence(key):
    xs = jax.random.uniform(key, (1000, 10_000))

    def loss(c0):
        def step(c, x):
            return c / (1.0 + x) + jnp.sqrt(x), None

        return jnp.sum(jax.lax.scan(step, c0, xs)[0])

    return loss, jnp.ones(10_000)


def problems(key):
    """(name, plain jax loss, parameters) for each benchmark problem."""
    out = []
    for name, make in shared.PROBLEMS.items():
        _, plain, params, _ = make(key)
        out.append((name, plain, params))
    out.append(("scan recurrence", *scan_recurrence(key)))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help=">= 30 (default 50)")
    args = parser.parse_args(argv)
    if args.repeats < 30:
        parser.error(f"--repeats must be at least 30, got {args.repeats}")
    print(
        f"calculax {calculax.__version__}, jax {jax.__version__}, "
        f"{jax.devices()[0].platform}, float32, median of {args.repeats} calls; goals: "
        f"runtime ratio <= {RUNTIME_GOAL}, compile ratio <= {COMPILE_GOAL}"
    )
    print(f"{'problem':<17}{'stabilized':>12}{'jax':>11}{'ratio':>7}{'compile':>9}")
    worst_run = worst_compile = 0.0
    for name, plain, params in problems(jax.random.key(0)):
        stable_grad = jax.grad(calculax.stabilize(plain))
        plain_grad = jax.grad(plain)
        pair = (stable_grad, plain_grad)
        compiled = [jax.jit(g).lower(params).compile() for g in pair]
        run_s, run_j = shared.run_times(compiled, (params,), args.repeats)
        comp_s = shared.compile_time(stable_grad, (params,))
        comp_j = shared.compile_time(plain_grad, (params,))
        worst_run = max(worst_run, run_s / run_j)
        worst_compile = max(worst_compile, comp_s / comp_j)
        print(
            f"{name:<17}{run_s * 1e3:>10.3f}ms{run_j * 1e3:>9.3f}ms"
            f"{run_s / run_j:>7.3f}{comp_s / comp_j:>9.3f}",
            flush=True,
        )
    print(
        f"worst runtime ratio {worst_run:.3f} (goal <= {RUNTIME_GOAL}), "
        f"worst compile ratio {worst_compile:.3f} (goal <= {COMPILE_GOAL})"
    )


if __name__ == "__main__":
    main()

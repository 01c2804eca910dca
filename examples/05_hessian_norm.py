"""Seed question 5: "How to use tensorflow to approximate hessian matrix's norm".

    "for estimating hessian norm, we need to compute delta ~ N(0, I),
    hessian_norm = 1/M sum gradient(f(x+delta)) - gradient(f(x-delta))/(2*delta)"

That recipe is one Hessian-vector product rescaled entry by entry, not a norm.
Run ``python examples/05_hessian_norm.py [OUT_DIR]``: prints the Frobenius and
spectral norms of a small least-squares Hessian estimated from exact
Hessian-vector products (with standard errors) against the dense Hessian, then
chapter 5 of ``calculax tour`` (an MLP, two budgets, the question's recipe for
contrast), writing ``curvature_density.png`` into OUT_DIR.
"""

import sys

import jax
import jax.numpy as jnp

from calculax._tour import run
from calculax.curvature import frobenius_norm, hessian_operator, spectral_norm

CHAPTERS = (5,)


def answer() -> dict[str, float]:
    """Estimates from a few Hessian-vector products against the dense Hessian."""
    a = jax.random.normal(jax.random.key(0), (60, 40)) / 4
    b = jax.random.normal(jax.random.key(1), (60,))

    def loss(w):
        return jnp.sum(jnp.tanh(a @ w - b) ** 2)

    w = jnp.zeros(40)
    op = hessian_operator(loss, w)
    key = jax.random.key(2)
    estimates = {
        "frobenius": frobenius_norm(op, num_matvecs=10, key=key),
        "spectral": spectral_norm(op, num_matvecs=21, key=key),
    }
    dense = jax.hessian(loss)(w)
    exact = {
        "frobenius": jnp.linalg.norm(dense),
        "spectral": jnp.max(jnp.abs(jnp.linalg.eigvalsh(dense))),
    }
    result = {}
    for name, estimate in estimates.items():
        result[name] = float(estimate.value)
        result[f"{name}_exact"] = float(exact[name])
        result[f"{name}_stderr"] = float(estimate.error)
        print(
            f"{name:<10} {float(estimate.value):10.4f} +- "
            f"{float(estimate.error):.2g}   exact {float(exact[name]):10.4f}"
        )
    return result


def main(out_dir: str = ".") -> dict[str, float]:
    result = answer()
    print()
    run(out_dir, only=CHAPTERS)
    return result


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Tour chapter: a Hessian-norm question, answered matrix-free with error bars.

A TensorFlow user wanted the norm of a loss's Hessian and tried
``(gradient(x + delta) - gradient(x - delta)) / (2 * delta)`` element-wise. For a
small MLP (where the dense Hessian is still affordable, so the truth is known) this
chapter prints the exact trace, Frobenius and spectral norms, then
``calculax.curvature``'s estimates at several matvec budgets with their standard
errors, the question's recipe for contrast, and writes the spectral density (SLQ).
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ..curvature import (
    frobenius_norm,
    hessian_operator,
    spectral_density,
    spectral_norm,
    trace,
)

__all__ = ["chapter", "FIGURE", "BUDGETS"]

FIGURE = "curvature_density.png"
BUDGETS = (10, 40)
SIZES = (6, 12, 4)  # 6*12 + 12 + 12*4 + 4 = 136 parameters


def _problem(dtype):
    keys = jax.random.split(jax.random.key(0), 4)
    params = [
        {
            "w": (jax.random.normal(k, (m, n)) / np.sqrt(m)).astype(dtype),
            "b": jnp.zeros(n, dtype),
        }
        for k, m, n in zip(keys, SIZES[:-1], SIZES[1:])
    ]
    x = jax.random.normal(keys[2], (64, SIZES[0])).astype(dtype)
    y = jax.random.randint(keys[3], (64,), 0, SIZES[-1])
    return params, x, y


def _loss(params, x, y):
    hidden = jnp.tanh(x @ params[0]["w"] + params[0]["b"][None])
    logits = hidden @ params[1]["w"] + params[1]["b"][None]
    picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)


@jax.jit
def _estimates(params, x, y, key):
    """Every estimator at every budget in one compilation."""
    op = hessian_operator(_loss, params, x, y)
    out = {}
    for m in BUDGETS:
        out["trace", m] = trace(op, num_matvecs=m, key=key)
        out["Frobenius norm", m] = frobenius_norm(op, num_matvecs=m, key=key)
        out["spectral norm", m] = spectral_norm(op, num_matvecs=m, key=key, throw=False)
    return out


def _seed_recipe(params, x, y, step, key):
    """The question's vector ``(g(x + d) - g(x - d)) / (2 d)``, ``d = step * signs``."""
    flat, unravel = ravel_pytree(params)
    delta = step * jax.random.rademacher(key, flat.shape, flat.dtype)

    def gradient(z):
        return ravel_pytree(jax.grad(_loss)(unravel(z), x, y))[0]

    return (gradient(flat + delta) - gradient(flat - delta)) / (2 * delta)


def chapter(out_dir: Path, dtype, stream: TextIO) -> dict:
    """Exact norms vs estimates at several budgets, the question's recipe, SLQ."""
    dtype = np.dtype(dtype)
    params, x, y = _problem(dtype)
    flat, unravel = ravel_pytree(params)
    dense_hessian = jax.jit(jax.hessian(lambda z: _loss(unravel(z), x, y)))
    dense = np.asarray(dense_hessian(flat), dtype=np.float64)
    n = dense.shape[0]
    exact = {
        "trace": float(np.trace(dense)),
        "Frobenius norm": float(np.linalg.norm(dense)),
        "spectral norm": float(np.linalg.norm(dense, 2)),
    }
    stream.write(
        f"A Hessian-norm question, done right: an MLP loss with "
        f"n = {n} parameters ({dtype.name}).\n  Exact values from the dense "
        "Hessian; estimates from Hessian-vector products (jvp of grad), +- one "
        "standard error\n  (spectral norm: Lanczos residual bound).\n\n"
        f"  {'quantity':<16}{'exact':>11}"
        + "".join(f"{f'{m} matvecs':>26}" for m in BUDGETS)
        + "\n"
    )
    found = _estimates(params, x, y, jax.random.key(1))
    results = {"n": n, "exact": exact, "estimates": {}}
    for name, truth in exact.items():
        cells = ""
        for m in BUDGETS:
            est = found[name, m]
            value, error = float(est.value), float(est.error)
            results["estimates"][name, m] = (value, error)
            cells += (
                f"{f'{value:.4g} +- {error:.2g}':>20}{abs(value / truth - 1):>5.0%} "
            )
        stream.write(f"  {name:<16}{truth:>11.4g}{cells}\n")
    stream.write("  (percentages: relative error against the exact value)\n\n")
    recipe = {}
    for step in (1e-2, 1e-3, 1e-4):
        d = np.asarray(_seed_recipe(params, x, y, step, jax.random.key(2)))
        recipe[step] = float(np.sqrt(np.mean(d.astype(np.float64) ** 2)))
    stream.write(
        "  The question's recipe (g(x+d) - g(x-d)) / (2d), element-wise, d = step * "
        "random signs, is one Hessian-vector\n  product rescaled entry by entry, "
        "not a matrix: its root-mean-square entry estimates ||H||_F / sqrt(n):\n"
    )
    for step, rms in recipe.items():
        stream.write(
            f"    step {step:.0e}: rms = {rms:.4g}   (||H||_F / sqrt(n) = "
            f"{exact['Frobenius norm'] / np.sqrt(n):.4g}; ||H||_F = "
            f"{exact['Frobenius norm']:.4g}, ||H||_2 = {exact['spectral norm']:.4g})\n"
        )
    results["seed_recipe_rms"] = recipe
    density = spectral_density(
        hessian_operator(_loss, params, x, y),
        num_matvecs=8 * 30,
        key=jax.random.key(3),
        lanczos_steps=30,
    )
    path = density.plot(
        Path(out_dir) / FIGURE, title=f"Hessian of an MLP loss, n = {n}"
    )
    stream.write(f"  figure: {path}\n")
    results["figure"] = path
    return results

"""Accuracy at the edge of the range: plain JAX, PyTorch, TFP and numpyro vs calculax.

(1) d^n(-a/b)/db^n at a = b = float32(10**k), k = -45..38, n = 1, 2, 3 (truth
    n! (-1)^(n+1) / b^n): nested ``jax.grad`` of ``a / b``, nested
    ``torch.autograd.grad(create_graph=True)`` and nested ``jax.grad`` of
    ``calculax.numpy.divide``.
(2) d hypot(x, y)/dx at x = y = float32(10**k) (truth x / hypot(x, y)):
    ``jnp.hypot``, ``torch.hypot``, ``calculax.numpy.hypot``.
(3) Entropy of Beta(2, 1e20) and Gamma(1e10, rate 2) in float64: TFP-on-JAX's and
    numpyro's own ``.entropy()`` against ``calculax.entropy`` of the same object.

Truths are mpmath (60 digits) at the inputs each framework sees: XLA on CPU flushes
subnormal inputs to 0, PyTorch keeps them. A point counts (right / representable)
where the truth is a normal float32; it is right within ``ULPS[n]`` ulp of the truth
(32, 64, 128 for n = 1, 2, 3, the project's tolerances, ``tests/helpers.py``).
PyTorch rows are skipped with a message when torch (``pip install ".[bench]"``) is
absent; numpyro and tfp-nightly come with the ``test`` extra. Run:
``python benchmarks/frameworks.py``; JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import math
import platform

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
from _results import write_results
from calculax.entropy import entropy

import calculax.numpy as cnp

jax.config.update("jax_enable_x64", True)
mp.mp.dps = 60
ULPS = {1: 32, 2: 64, 3: 128}
F32 = np.finfo(np.float32)
TINY, MAX, EPS = float(F32.tiny), float(F32.max), float(F32.eps)
POINTS = np.array([10.0**k for k in range(-45, 39)], np.float32)
FLUSHED = np.where(np.abs(POINTS) < TINY, np.float32(0), POINTS)


def count(values, truths, ulps) -> tuple[int, int]:
    """(right, representable): truths that are normal float32, and values within."""
    right = total = 0
    for y, t in zip(np.asarray(values, np.float64), truths):
        if t is None or not TINY <= abs(t) <= MAX:
            continue
        total += 1
        right += bool(abs(y - t) <= ulps * EPS * abs(t))
    return right, total


def div_truth(b: float, n: int):
    return (
        None if b == 0 else float(math.factorial(n) * (-1) ** (n + 1) / mp.mpf(b) ** n)
    )


def hypot_truth(x: float):
    return None if x == 0 else float(mp.mpf(x) / mp.sqrt(2 * mp.mpf(x) ** 2))


def jax_nested(f, n: int, argnum: int = 1) -> np.ndarray:
    """n-th derivative of f(a, b) in argument ``argnum``, at a = b = each point."""
    g = f
    for _ in range(n):
        g = jax.grad(g, argnums=argnum)
    return np.asarray(jax.jit(jax.vmap(g))(POINTS, POINTS))


def torch_nested(f, n: int) -> np.ndarray:
    """n-th derivative of f(a, b) in b, at a = b = each point (a a constant)."""
    import torch

    x = torch.tensor(POINTS, requires_grad=True)
    g = f(torch.tensor(POINTS), x)
    for _ in range(n):
        (g,) = torch.autograd.grad(g.sum(), x, create_graph=True)
    return g.detach().numpy()


def accuracy() -> dict:
    """Sections (1) and (2): {problem: {framework: [right, representable]}}."""
    try:
        import torch  # noqa: F401
    except ImportError as error:
        print(f"PyTorch rows skipped ({error}); pip install '.[bench]'")
        torch = None
    out = {}
    for n in (1, 2, 3):
        jt = [div_truth(float(b), n) for b in FLUSHED]
        row = {
            "JAX": count(jax_nested(lambda a, b: -a / b, n), jt, ULPS[n]),
            "calculax": count(
                jax_nested(lambda a, b: -cnp.divide(a, b), n), jt, ULPS[n]
            ),
        }
        if torch is not None:
            tt = [div_truth(float(b), n) for b in POINTS]
            row["PyTorch"] = count(torch_nested(lambda a, b: -a / b, n), tt, ULPS[n])
        out[f"d^{n}(-a/b)/db^{n}"] = row
    jt = [hypot_truth(float(x)) for x in FLUSHED]
    row = {
        "JAX": count(jax_nested(jnp.hypot, 1, 0), jt, ULPS[1]),
        "calculax": count(jax_nested(cnp.hypot, 1, 0), jt, ULPS[1]),
    }
    if torch is not None:
        tt = [hypot_truth(float(x)) for x in POINTS]
        row["PyTorch"] = count(torch_nested(torch.hypot, 1), tt, ULPS[1])
    out["d hypot(x, y)/dx"] = row
    return out


def entropies() -> dict:
    """Section (3): {case: {truth, framework: value}} (float64)."""
    import numpyro.distributions as npd
    import tensorflow_probability.substrates.jax.distributions as tfd

    a, b, k, rate = (mp.mpf(v) for v in (2, 10**20, 10**10, 2))
    beta = mp.log(mp.beta(a, b)) - (a - 1) * mp.digamma(a) - (b - 1) * mp.digamma(b)
    beta += (a + b - 2) * mp.digamma(a + b)
    gamma = k - mp.log(rate) + mp.loggamma(k) + (1 - k) * mp.digamma(k)
    f64 = lambda *v: [jnp.asarray(x, jnp.float64) for x in v]  # noqa: E731
    cases = {
        "Beta(2, 1e20)": (float(beta), f64(2.0, 1e20), npd.Beta, tfd.Beta),
        "Gamma(1e10, rate 2)": (float(gamma), f64(1e10, 2.0), npd.Gamma, tfd.Gamma),
    }
    out = {}
    for name, (truth, args, numpyro_cls, tfp_cls) in cases.items():
        row = {"truth": truth}
        for lib, cls in (("numpyro", numpyro_cls), ("TFP", tfp_cls)):
            dist = cls(*args)
            row[lib] = float(dist.entropy())
            row[f"calculax ({lib} object)"] = float(entropy(dist))
        out[name] = row
    return out


def main() -> None:
    acc, ent = accuracy(), entropies()
    print("right / representable (float32; truth a normal float32)")
    names = ["JAX", "PyTorch", "calculax"]
    print(f"{'problem':<22}" + "".join(f"{n:>12}" for n in names))
    for problem, row in acc.items():
        cells = [f"{row[n][0]}/{row[n][1]}" if n in row else "skipped" for n in names]
        print(f"{problem:<22}" + "".join(f"{c:>12}" for c in cells))
    print("\nentropy (float64): value (relative error)")
    for case, row in ent.items():
        t = row["truth"]
        print(f"{case}: truth {t:.17g}")
        for lib, v in row.items():
            if lib != "truth":
                print(f"  {lib:<26}{v:>24.17g}  ({abs(v - t) / abs(t):.1e})")
    record = {
        "platform": platform.platform(),
        "jax": jax.__version__,
        "accuracy": acc,
        "entropy": ent,
    }
    print("wrote", write_results("frameworks", record))


if __name__ == "__main__":
    main()

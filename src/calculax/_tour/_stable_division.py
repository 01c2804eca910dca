"""Chapter 1: ``d(-a/b)/db`` for tiny and huge ``a = b``.

``jax.grad`` of ``-a / b`` forms ``a / b**2``, whose denominator underflows (``inf``)
or overflows (``0``) long before the true derivative :math:`1/b` leaves the dtype's
range; the second derivative :math:`-2/b^2` fails the same way. ``cnp.divide``
differentiates as ``(a/b)/b`` at every order. The sweep: ``a = b = dtype(10**k)`` for
every decade ``k`` from the smallest subnormal to the largest finite number (84 points
in float32), truth from the closed forms in ``mpmath`` at 50 digits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import jax
import jax.numpy as jnp
import mpmath
import numpy as np

import calculax.numpy as cnp

from .._core.plot import Panel, save_panels
from .._core.tolerance import ULPS, Counts, tally

__all__ = ["chapter"]

FIGURE = "stable_division.png"
METHODS = {"jax": "jax.grad of -a / b", "calculax": "jax.grad of -cnp.divide(a, b)"}
ORDERS = {1: ("first", "d/db", "1/b"), 2: ("second", "d2/db2", "-2/b**2")}


def _naive(a, b):
    return -a / b


def _stable(a, b):
    return -cnp.divide(a, b)


def _derivatives() -> dict[tuple[str, int], Callable[..., jax.Array]]:
    """``jit(vmap(d^k f / db^k))`` for each method and order, built once."""
    functions: dict[tuple[str, int], Callable[..., jax.Array]] = {}
    for method, f in (("jax", _naive), ("calculax", _stable)):
        g = f
        for order in ORDERS:
            g = jax.grad(g, argnums=1)
            functions[method, order] = jax.jit(jax.vmap(g))
    return functions


def sweep_points(dtype) -> tuple[np.ndarray, np.ndarray]:
    """Exponents ``k`` and points ``dtype(10**k)`` over the whole range of ``dtype``."""
    info = np.finfo(dtype)
    smallest = float(info.smallest_subnormal)
    exponents = np.arange(
        math.floor(math.log10(smallest)), math.floor(math.log10(float(info.max))) + 1
    )
    with np.errstate(under="ignore"):
        points = np.array([10.0 ** int(k) for k in exponents]).astype(dtype)
    keep = points > 0
    return exponents[keep], points[keep]


def _truths(points: np.ndarray, order: int) -> list:
    """Closed-form truth at each point, ``None`` where undefined (``b = 0``).

    Subnormal inputs are replaced by zero first: XLA on CPU flushes them on entry,
    so the function really is evaluated at ``a = b = 0``, where ``-a/b`` is undefined.
    """
    tiny = float(np.finfo(points.dtype).tiny)
    truths: list[mpmath.mpf | None] = []
    with mpmath.workdps(50):
        for value in points.tolist():
            b = mpmath.mpf(value if abs(value) >= tiny else 0.0)
            if b == 0:
                truths.append(None)
            else:
                truths.append(1 / b if order == 1 else -2 / b**2)
    return truths


def _slope(truths: list, order: int) -> Callable[[int], object]:
    r"""The backward-error term of the definition of right at each point: for
    :math:`f_k = \partial_b^k(-a/b) \propto a / b^{k+1}`,
    :math:`|a\,\partial_a f_k| + |b\,\partial_b f_k| = (k + 2)\,|f_k|`."""
    return lambda index: (order + 2) * abs(truths[index])


def chapter(out_dir: Path, dtype, stream: TextIO) -> dict[tuple[str, int], Counts]:
    """Run the sweep, print the table, write the figure; return the counts."""
    dtype = np.dtype(dtype)
    exponents, points = sweep_points(dtype)
    x = jnp.asarray(points)
    if x.dtype != dtype:
        raise ValueError(
            f"dtype {dtype} needs jax_enable_x64 (arrays came out {x.dtype})"
        )
    functions = _derivatives()
    results, panels, truth_lines = {}, {}, []
    for order in ORDERS:
        truths = _truths(points, order)
        truth_lines.append(
            np.array([abs(float(t)) if t is not None else np.nan for t in truths])
        )
        for method in METHODS:
            computed = np.asarray(functions[method, order](x, x))
            counts, labels = tally(
                computed, truths, dtype, order, _slope(truths, order)
            )
            results[method, order] = counts
            panels[method, order] = Panel(
                f"{method}, {ORDERS[order][0]} derivative", computed, labels, counts
            )
    _print_table(stream, results, dtype, exponents)
    path = Path(out_dir) / FIGURE
    save_panels(
        path,
        points.astype(np.float64),
        truth_lines,
        [[panels[m, order] for m in METHODS] for order in ORDERS],
        xlabel="a = b",
        ylabels=[f"|{ORDERS[o][1]} (-a/b)|" for o in ORDERS],
        dtype=dtype,
        title=f"d(-a/b)/db and d2(-a/b)/db2 at a = b, {dtype.name}: "
        "naive JAX (left) vs calculax (right)",
    )
    stream.write(f"  figure: {path}\n")
    return results


def _print_table(stream, results, dtype, exponents) -> None:
    name = dtype.name
    lines = [
        "Stable division: d(-a/b)/db and d2(-a/b)/db2 at a = b",
        f"  {name}, a = b = {name}(10**k), k = {exponents[0]}..{exponents[-1]} "
        f"({len(exponents)} points); truth 1/b and -2/b**2",
        f"  from mpmath at 50 digits. right: within {ULPS[1]} ulp (first) / "
        f"{ULPS[2]} ulp (second) of the",
        "  truth, or of the truth at inputs moved as much; n: points where the truth "
        "is a",
        f"  normal {name} (XLA on CPU flushes subnormal inputs to zero, where -a/b is "
        "0/0).",
        *(f"  {m:<8} = {description}" for m, description in METHODS.items()),
        "",
        f"  {'order':<7}{'method':<10}{'right/n':>9}{'inaccurate':>12}{'inf':>6}"
        f"{'zero':>6}{'nan':>6}",
    ]
    for order in ORDERS:
        for method in METHODS:
            c = results[method, order]
            fraction = f"{c.right}/{c.representable}"
            lines.append(
                f"  {ORDERS[order][0]:<7}{method:<10}{fraction:>9}{c.inaccurate:>12}"
                f"{c.inf:>6}{c.zero:>6}{c.nan:>6}"
            )
    stream.write("\n".join(lines) + "\n")

"""Tour chapter: differential entropy, SciPy's generic quadrature against calculax.

The seed's third question: ``scipy.stats.beta(0.5, 0.5).entropy()``. SciPy's
``rv_continuous.entropy`` falls back on ``integrate.quad`` of ``entr(pdf)`` for any
family without its own formula; this chapter runs that generic path
(``rv_continuous._entropy``, the base-class method) on families and parameters where
it fails, next to SciPy's own ``.entropy()`` and calculax's closed form, all against
mpmath at 50 digits. A figure plots the relative error of each.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, TextIO

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import scipy.stats
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..information import family_entropy

__all__ = ["chapter", "CASES", "FIGURE"]

FIGURE = "entropy.png"


def _mp_gamma(a):
    return a + mp.loggamma(a) + (1 - a) * mp.digamma(a)


def _mp_beta(a, b):
    return (
        mp.log(mp.beta(a, b))
        - (a - 1) * mp.digamma(a)
        - (b - 1) * mp.digamma(b)
        + (a + b - 2) * mp.digamma(a + b)
    )


def _mp_t(v):
    half = (v + 1) / 2
    return half * (mp.digamma(half) - mp.digamma(v / 2)) + mp.log(
        mp.sqrt(v) * mp.beta(v / 2, mp.mpf(1) / 2)
    )


def _mp_vonmises(k):
    i0, i1 = mp.besseli(0, k), mp.besseli(1, k)
    return mp.log(2 * mp.pi * i0) - k * i1 / i0


def _mp_truncnorm(a, b):
    root2 = mp.sqrt(2)
    z = (mp.erfc(a / root2) - mp.erfc(b / root2)) / 2
    return mp.log(mp.sqrt(2 * mp.pi * mp.e) * z) + (a * mp.npdf(a) - b * mp.npdf(b)) / (
        2 * z
    )


# (family, shapes, scale, mpmath entropy at scale 1: the textbook closed form)
CASES = (
    ("beta", (0.5, 0.5), 1.0, _mp_beta),
    ("gamma", (1e4,), 1.0, _mp_gamma),
    ("chi2", (1e4,), 1.0, lambda k: _mp_gamma(k / 2) + mp.log(2)),
    ("beta", (2.0, 1e20), 1.0, _mp_beta),
    ("vonmises", (1.0,), 1.0, _mp_vonmises),
    ("t", (1e-3,), 1.0, _mp_t),
    ("gamma", (1e-3,), 1.0, _mp_gamma),
    ("norm", (), 1e-6, lambda: mp.log(2 * mp.pi * mp.e) / 2),
    ("truncnorm", (20.0, 21.0), 1.0, _mp_truncnorm),
)
WRONG = 1e-6  # relative error above which a value counts as wrong (float64)


def _wrong(dtype) -> float:
    """The threshold in ``dtype``: 1e-6, or 256 ulp where that is coarser."""
    return max(WRONG, 256 * float(np.finfo(dtype).eps))


def _truth(shapes, scale, closed):
    with mp.workdps(80):
        value = closed(*(mp.mpf(s) for s in shapes)) + mp.log(mp.mpf(scale))
    return value


def _scipy(dist, generic: bool) -> float:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            if generic:
                shapes, _, scale = dist.dist._parse_args(*dist.args, **dist.kwds)
                base = scipy.stats.rv_continuous._entropy(dist.dist, *shapes)
                return float(base + np.log(scale))
            return float(dist.entropy())
        except Exception:  # a failure is a result here, shown as nan
            return float("nan")


def _error(value: float, truth) -> float:
    if not np.isfinite(value):
        return float("inf")
    return float(abs(mp.mpf(value) - truth) / max(1, abs(truth)))


def chapter(out_dir: Path, dtype, stream: TextIO) -> dict:
    """Print the table of entropies and write the error figure; return the rows."""
    dtype = np.dtype(dtype)
    stream.write(
        "Differential entropy: SciPy's generic quad path, SciPy's "
        ".entropy() and calculax's closed form\n"
        f"  relative error against mpmath (50 digits); calculax in {dtype.name}, "
        f"SciPy in float64; 'wrong' = error > {_wrong(dtype):.2g}\n\n"
        f"  {'distribution':<24}{'truth':>14}{'generic quad':>18}"
        f"{'.entropy()':>18}{'calculax':>18}\n"
    )
    rows: dict[str, dict[str, Any]] = {}
    for name, shapes, scale, closed in CASES:
        dist = getattr(scipy.stats, name)(*shapes, scale=scale)
        truth = _truth(shapes, scale, closed)
        params = [jnp.asarray(s, dtype) for s in shapes]
        ours = float(family_entropy(name, *params, scale=jnp.asarray(scale, dtype)))
        values = {
            "generic quad": _scipy(dist, generic=True),
            ".entropy()": _scipy(dist, generic=False),
            "calculax": ours,
        }
        errors = {k: _error(v, truth) for k, v in values.items()}
        label = f"{name}{shapes}" + (f" scale={scale:g}" if scale != 1 else "")
        rows[label] = {"truth": float(truth), "values": values, "errors": errors}
        cells = "".join(
            f"{v:>18.6g}"
            if errors[k] <= _wrong(dtype)
            else f"{'WRONG ' + f'{v:.4g}':>18}"
            for k, v in values.items()
        )
        stream.write(f"  {label:<24}{float(truth):>14.6g}{cells}\n")
    failed = sum(r["errors"]["generic quad"] > WRONG for r in rows.values())
    limit = _wrong(dtype)
    ours_failed = sum(r["errors"]["calculax"] > limit for r in rows.values())
    stream.write(
        f"\n  generic quad wrong on {failed}/{len(rows)}, calculax on "
        f"{ours_failed}/{len(rows)}\n"
    )
    path = _plot(rows, Path(out_dir) / FIGURE, dtype)
    stream.write(f"  figure: {path}\n")
    return rows


def _plot(rows: dict, path: Path, dtype) -> Path:
    figure = Figure(figsize=(9, 4.5))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    labels = list(rows)
    x = np.arange(len(labels))
    floor = float(np.finfo(np.float64).eps) / 10
    for offset, method, colour in (
        (-0.25, "generic quad", "tab:red"),
        (0.0, ".entropy()", "tab:orange"),
        (0.25, "calculax", "tab:blue"),
    ):
        errors = [min(max(rows[k]["errors"][method], floor), 1e3) for k in labels]
        ax.bar(x + offset, errors, width=0.25, color=colour, label=method)
    ax.set_yscale("log")
    ax.axhline(float(np.finfo(dtype).eps), color="grey", linestyle=":")
    ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("relative error (capped at 1e3; nan/inf at the cap)")
    ax.set_title("Differential entropy against mpmath")
    ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path

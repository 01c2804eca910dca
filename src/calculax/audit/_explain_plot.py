"""The V-shaped error curve of central finite differences, against autodiff.

Drawn with the Agg canvas directly (no ``pyplot`` state), as the tour's figures.
Errors of ``0`` cannot sit on a log axis: they are drawn at the bottom edge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["save_v_curve"]


def save_v_curve(report, path: Path) -> None:
    """Write ``report``'s finite-difference errors against their steps to ``path``."""
    eps = float(np.finfo(report.dtype).eps)
    steps = np.array([r.step for r in report.finite_differences], dtype=np.float64)
    errors = np.array([r.error for r in report.finite_differences], dtype=np.float64)
    finite = np.isfinite(errors)
    shown = errors[finite & (errors > 0)]
    low = min([eps / 100, *(shown / 10)]) if shown.size else eps / 100
    high = max([10.0, *(shown * 10)]) if shown.size else 10.0
    figure = Figure(figsize=(6.0, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.invert_xaxis()
    pinned = np.where(finite, np.clip(errors, low, high), high)
    ax.plot(
        steps,
        pinned,
        marker="o",
        color="tab:blue",
        label="central finite difference",
    )
    autodiff = report.error
    if np.isfinite(autodiff):
        level = min(max(autodiff, low), high)
        ax.axhline(
            level,
            color="tab:green",
            label=f"autodiff (error {autodiff:.2g})",
        )
    ax.axhline(eps, color="0.6", ls=":", label=f"eps({report.dtype.name})")
    ax.set_xlabel("relative step s (h = s |x|)")
    ax.set_ylabel("relative error against the truth")
    ax.set_title(f"{report.name}: derivative of order {report.order}")
    ax.legend(loc="best", fontsize="small")
    figure.savefig(path, dpi=110)

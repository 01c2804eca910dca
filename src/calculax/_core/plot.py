"""calculax's figures: one place for matplotlib, imported only when a figure is drawn.

:func:`figure` and :func:`save` are the canvas every figure is drawn on (the Agg
canvas directly: no global ``pyplot`` state, no interactive backend), so that
``import calculax`` never loads matplotlib. Two kinds of figure are drawn here:

- :func:`save_panels`: a derivative against its input, by class. Each panel shows
  ``|derivative|`` against the input on log-log axes: the truth as a grey line,
  every counted point as a marker coloured by its class (right = blue, inf = orange,
  wrongly zero = green, nan = red, inaccurate = purple). Values that a log axis
  cannot show are pinned to its edge: ``inf`` and ``nan`` at the top, ``0`` at the
  bottom. Dotted lines mark the dtype's normal range.
- :func:`save_v_curve`: the V-shaped error of finite differences against their step,
  with the error of automatic differentiation as a horizontal line.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> fig = figure((3, 2))
    >>> _ = fig.subplots().plot([1, 2], [3, 4])
    >>> path = save(fig, pathlib.Path(tempfile.mkdtemp()) / "line.png")
    >>> path.stat().st_size > 0
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["COLOURS", "Panel", "figure", "save", "save_panels", "save_v_curve"]

COLOURS = {
    "right": "tab:blue",
    "inaccurate": "tab:purple",
    "inf": "tab:orange",
    "zero": "tab:green",
    "nan": "tab:red",
}
_LEGEND = {
    "right": "right",
    "inaccurate": "inaccurate",
    "inf": "inf (pinned to top)",
    "zero": "wrongly 0 (pinned to bottom)",
    "nan": "nan (pinned to top)",
}
_MARKERS = {"inf": "^", "zero": "v", "nan": "X"}


def figure(
    figsize: tuple[float, float],
    *,
    layout: Literal["constrained", "compressed", "tight"] | None = "constrained",
):
    """A ``matplotlib.figure.Figure`` on the Agg canvas (matplotlib imported here)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (the format from its suffix); return the path."""
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    return path


class Panel:
    """One panel: computed values and their labels (``None``: not counted)."""

    def __init__(self, title: str, computed, labels: Sequence[str | None], counts):
        self.title = title
        self.computed = np.asarray(computed, dtype=np.float64)
        self.labels = list(labels)
        self.counts = counts


def save_panels(
    path: Path,
    x: np.ndarray,
    truths: Sequence[np.ndarray],
    grid: Sequence[Sequence[Panel]],
    *,
    xlabel: str,
    ylabels: Sequence[str],
    dtype,
    title: str,
) -> None:
    """Write a ``len(grid) x len(grid[0])`` figure; row ``i`` shares ``truths[i]``."""
    # Log axes spanning float64's whole range overflow inside matplotlib's transforms
    # (harmlessly: the points are drawn at the edges); keep NumPy quiet about it.
    with np.errstate(over="ignore", under="ignore"):
        _save(path, x, truths, grid, xlabel, ylabels, dtype, title)


def _save(path, x, truths, grid, xlabel, ylabels, dtype, title) -> None:
    rows, columns = len(grid), len(grid[0])
    fig = figure((5.5 * columns, 4.2 * rows))
    info = np.finfo(dtype)
    # Two decades beyond the normal range, capped where float64 itself ends.
    low = max(float(info.tiny) / 100, 1e-307)
    high = min(float(info.max) * 100, 1e308)
    axes = fig.subplots(rows, columns, squeeze=False, sharex=True)
    for row, (panels, truth, ylabel) in enumerate(zip(grid, truths, ylabels)):
        for column, panel in enumerate(panels):
            ax = axes[row][column]
            _draw(ax, x, truth, panel, low, high, info)
            ax.set_ylabel(ylabel if column == 0 else "")
            if row == rows - 1:
                ax.set_xlabel(xlabel)
    handles = [
        axes[0][0].plot([], [], ls="", marker=_MARKERS.get(k, "o"), color=c, label=v)[0]
        for k, c, v in ((k, COLOURS[k], _LEGEND[k]) for k in COLOURS)
    ]
    handles.append(axes[0][0].plot([], [], color="0.6", label="truth (mpmath)")[0])
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    fig.suptitle(title)
    save(fig, path)


def _draw(ax, x, truth, panel: Panel, low, high, info) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    xlow, xhigh = max(float(x.min()) / 4, 1e-307), min(float(x.max()) * 4, 1e308)
    ax.set_xlim(xlow, xhigh)
    # Explicit decade ticks: matplotlib's locator overflows on float64's full range.
    for axis, (start, stop) in ((ax.xaxis, (xlow, xhigh)), (ax.yaxis, (low, high))):
        axis.set_major_locator(FixedLocator(_decades(start, stop)))
        axis.set_minor_locator(NullLocator())
    finite = np.isfinite(truth) & (truth > 0)
    ax.plot(x[finite], truth[finite], color="0.6", lw=1.5, zorder=1)
    for bound in (float(info.tiny), float(info.max)):
        ax.axhline(bound, color="0.8", ls=":", lw=1, zorder=0)
    edge = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    for label, colour in COLOURS.items():
        chosen = np.array([lab == label for lab in panel.labels], dtype=bool)
        if not chosen.any():
            continue
        if label in ("right", "inaccurate"):
            ax.scatter(
                x[chosen], np.abs(panel.computed[chosen]), s=14, color=colour, zorder=3
            )
        else:
            y = 0.0 if label == "zero" else 1.0
            ax.scatter(
                x[chosen],
                np.full(chosen.sum(), y),
                s=30,
                color=colour,
                marker=_MARKERS[label],
                transform=edge,
                clip_on=False,
                zorder=3,
            )
    counts = panel.counts
    ax.set_title(
        f"{panel.title}: {counts.right}/{counts.representable} right", fontsize=10
    )


def _decades(low: float, high: float) -> list[float]:
    """At most ~9 round powers of ten in ``[low, high]``."""
    first, last = math.ceil(math.log10(low)), math.floor(math.log10(high))
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200) if (last - first) / s <= 9)
    start = math.ceil(first / step) * step
    return [10.0**e for e in range(start, last + 1, step)]


def save_v_curve(
    path: Path,
    steps: np.ndarray,
    errors: np.ndarray,
    *,
    reference_error: float,
    reference_label: str,
    eps: float,
    eps_label: str,
    title: str,
) -> None:
    """Finite-difference ``errors`` against their relative ``steps``, log-log, with
    ``reference_error`` (e.g. autodiff's) as a horizontal line. Errors of ``0``
    cannot sit on a log axis: they are drawn at the bottom edge."""
    steps = np.asarray(steps, dtype=np.float64)
    errors = np.asarray(errors, dtype=np.float64)
    finite = np.isfinite(errors)
    shown = errors[finite & (errors > 0)]
    low = min([eps / 100, *(shown / 10)]) if shown.size else eps / 100
    high = max([10.0, *(shown * 10)]) if shown.size else 10.0
    fig = figure((6.0, 4.2))
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.invert_xaxis()
    pinned = np.where(finite, np.clip(errors, low, high), high)
    ax.plot(
        steps, pinned, marker="o", color="tab:blue", label="central finite difference"
    )
    if np.isfinite(reference_error):
        level = min(max(reference_error, low), high)
        ax.axhline(
            level,
            color="tab:green",
            label=f"{reference_label} (error {reference_error:.2g})",
        )
    ax.axhline(eps, color="0.6", ls=":", label=eps_label)
    ax.set_xlabel("relative step s (h = s |x|)")
    ax.set_ylabel("relative error against the truth")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    save(fig, path)

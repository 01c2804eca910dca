"""``audit(f, ...)``: where in the input range is a derivative of ``f`` wrong?

The argument ``wrt`` (and every argument tied to it) is swept over ``sign * 10**k``
for the integer ``k`` in ``exponents`` (default: the whole range of ``dtype``, from
its smallest subnormal to its largest number); the other arguments stay at
``at``. At each point the derivative of order ``order`` in ``wrt`` is computed twice
-- on ``f`` itself and on ``calculax.stabilize(f)``, both under ``jit(vmap(...))``;
with ``rewrite=True`` a third time, on ``calculax.stabilize(f, rewrite=True)`` -- in
the AD mode ``mode`` (``"reverse"``: ``jax.grad`` nested, the default;
``"forward"``: ``jax.jvp`` nested), and compared with the truth from
``true_derivative`` (``f``'s jaxpr evaluated with mpmath). Each point is *right*
(within ``ULPS[order]`` ulp of the truth, or of the truth at inputs perturbed by as
much: the one definition of ``calculax._core.tolerance``), *inaccurate*, *inf*,
wrongly *zero* or *nan*; points
whose truth is not a normal number of ``dtype`` (or zero) are not counted. Subnormal
inputs are flushed to zero first, as XLA on CPU does.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable, Sequence
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._core.plot import Panel, save_panels
from .._core.tolerance import LABELS, Counts, tally
from .._core.truth import true_derivative
from .._core.validate import boolean, callable_, choice
from ..derivatives import stabilize
from ._audit_checks import MODES, arguments, dtype_of, exponents_of, sign_of, swept

__all__ = ["audit", "AuditReport"]

METHODS = ("jax", "stabilized", "rewritten")


@dataclasses.dataclass
class AuditReport:
    """The outcome of :func:`audit`: per-point values, truths, labels and counts."""

    points: np.ndarray
    order: int
    dtype: np.dtype
    truths: list
    computed: dict[str, np.ndarray]
    labels: dict[str, list]
    counts: dict[str, Counts]
    mode: str = "reverse"

    def worst(self, method: str, count: int = 5) -> list[tuple[float, float, float]]:
        """``(point, computed, truth)`` of the ``count`` worst points of ``method``
        (non-finite first, then by relative error)."""
        rows = []
        for point, value, truth, label in zip(
            self.points, self.computed[method], self.truths, self.labels[method]
        ):
            if label is None or label == "right":
                continue
            error = (
                math.inf
                if not math.isfinite(value)
                else abs(value - float(truth)) / max(abs(float(truth)), 1e-300)
            )
            rows.append((error, float(point), float(value), float(truth)))
        rows.sort(key=lambda row: -row[0])
        return [row[1:] for row in rows[:count]]

    def to_markdown(self) -> str:
        """The AD mode, and the counts as a Markdown table (one row per method)."""
        nested = "jax.grad" if self.mode == "reverse" else "jax.jvp"
        lines = [
            f"{self.mode.capitalize()} mode (`{nested}` nested {self.order}x), "
            f"{self.dtype.name}.",
            "",
            "| method | right/n | " + " | ".join(LABELS[1:]) + " |",
            "|---|---|" + "---|" * (len(LABELS) - 1),
        ]
        for method in self.counts:
            c = self.counts[method]
            cells = " | ".join(str(getattr(c, label)) for label in LABELS[1:])
            lines.append(f"| {method} | {c.right}/{c.representable} | {cells} |")
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """The sweep as a figure: each method's panel, points coloured by class."""
        truth_line = np.array(
            [abs(float(t)) if t is not None else np.nan for t in self.truths]
        )
        panels = [
            Panel(
                method, self.computed[method], self.labels[method], self.counts[method]
            )
            for method in self.counts
        ]
        path = Path(path)
        save_panels(
            path,
            np.abs(self.points.astype(np.float64)),
            [truth_line],
            [panels],
            xlabel="|x|",
            ylabels=[f"|derivative of order {self.order}|"],
            dtype=self.dtype,
            title=f"audit, order {self.order}, {self.dtype.name}",
        )
        return path


def audit(
    f: Callable,
    *,
    wrt: int = 0,
    tie: Sequence[int] = (),
    at: Sequence[float] | None = None,
    order: int = 1,
    dtype=np.float32,
    exponents: Sequence[int] | None = None,
    sign: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
    rewrite: bool = False,
    mode: str = "reverse",
) -> AuditReport:
    """Sweep argument ``wrt`` of ``f`` and classify its derivatives (module doc).

    Args:
        f: a scalar function of scalar arguments, written with ``jax.numpy``.
        wrt: the argument to differentiate and sweep.
        tie: other arguments set equal to ``wrt`` at each point (``a = b``).
        at: values of all arguments (the swept ones are overwritten), finite;
            default 1 for each of ``f``'s positional parameters.
        order: derivative order, >= 1.
        dtype: ``float16``, ``bfloat16``, ``float32`` or ``float64`` (``float64``
            needs ``jax_enable_x64``).
        exponents: the integers ``k`` of the points ``sign * 10**k``.
        sign: ``+1`` or ``-1``.
        progress: called as ``progress(done, total)`` after the truth at each point
            (the slow part of the sweep), e.g. to draw a progress bar.
        rewrite: also audit ``stabilize(f, rewrite=True)`` (method ``"rewritten"``).
        mode: ``"reverse"`` (``jax.grad`` nested ``order`` times) or ``"forward"``
            (``jax.jvp`` nested): the AD mode of every method, named in the report.

    Returns:
        An :class:`AuditReport` (``counts``, ``labels``, ``computed`` per method).

    Raises:
        TypeError: ``f`` or ``progress`` not callable; a non-integer ``wrt``,
            ``tie``, ``order`` or exponent; a non-bool ``rewrite``.
        ValueError: arguments out of range or tied twice; ``order < 1``; an
            unsupported ``dtype`` (or float64 without x64); ``sign`` not +-1; no
            exponent; a non-finite ``at``; an unknown ``mode``.

    Example:
        >>> from calculax.audit import audit
        >>> report = audit(
        ...     lambda a, b: -a / b, wrt=1, tie=[0], exponents=range(-20, 21, 10)
        ... )
        >>> report.mode, report.counts["jax"].right, report.counts["stabilized"].right
        ('reverse', 3, 5)
    """
    where = "audit"
    callable_(where, "f", f)
    order = _order(order)
    dtype = dtype_of(dtype)
    values = arguments(f, at)
    swept_ = swept(wrt, tie, len(values))
    sign = sign_of(sign)
    if progress is not None:
        callable_(where, "progress", progress)
    boolean(where, "rewrite", rewrite)
    choice(where, "mode", mode, MODES)
    exponents = exponents_of(exponents, dtype)
    with np.errstate(under="ignore", over="ignore"):
        points = (sign * 10.0 ** np.asarray(exponents, float)).astype(dtype)
    points = points[np.isfinite(points) & (points != 0)]
    tiny = np.finfo(dtype).tiny
    flushed = np.where(np.abs(points) < tiny, 0 * points, points)
    columns = [
        jnp.asarray(flushed) if i in swept_ else jnp.full(len(points), v, dtype)
        for i, v in enumerate(values)
    ]
    # Outside the domain as evaluated (e.g. 0/0 at a flushed input): not counted.
    primal = np.asarray(jax.jit(jax.vmap(f))(*columns), dtype=np.float64)
    truths: list = []
    for x, value in zip(flushed.tolist(), primal.tolist()):
        if not math.isfinite(value):
            truths.append(None)
        else:
            args = [dtype.type(x if i in swept_ else v) for i, v in enumerate(values)]
            truths.append(true_derivative(f, *args, argnums=wrt, order=order))
        if progress is not None:
            progress(len(truths), len(points))
    slope = _slopes(f, flushed, values, swept_, wrt, order, dtype)
    computed, labels, counts = {}, {}, {}
    methods = {"jax": f, "stabilized": stabilize(f)}
    if rewrite:
        methods["rewritten"] = stabilize(f, rewrite=True)
    for method, function in methods.items():
        g = _nested(function, wrt, len(values), order, mode)
        computed[method] = np.asarray(jax.jit(jax.vmap(g))(*columns), np.float64)
        counts[method], labels[method] = tally(
            computed[method], truths, dtype, order, slope
        )
    return AuditReport(points, order, dtype, truths, computed, labels, counts, mode)


def _order(order) -> int:
    if isinstance(order, bool) or not isinstance(order, numbers.Integral):
        raise TypeError(f"audit: order must be an integer >= 1; got {order!r}.")
    if order < 1:
        raise ValueError(f"audit: order must be >= 1 (an integer); got {order!r}.")
    return int(order)


def _nested(g: Callable, wrt: int, arity: int, order: int, mode: str) -> Callable:
    """The derivative of order ``order`` in argument ``wrt``, in ``mode``."""
    for _ in range(order):
        if mode == "reverse":
            g = jax.grad(g, argnums=wrt)
        else:
            g = _forward(g, wrt, arity)
    return g


def _forward(g: Callable, wrt: int, arity: int) -> Callable:
    def derivative(*args):
        tangents = [jnp.zeros_like(a) for a in args]
        tangents[wrt] = jnp.ones_like(args[wrt])
        return jax.jvp(g, args, tuple(tangents))[1]

    return derivative


def _slopes(f, points, values, swept, wrt: int, order: int, dtype) -> Callable:
    r"""``slope(i)``: :math:`\sum_j |x_j|\,|\partial f_k / \partial x_j|` at point
    ``i``, the backward-error term of the definition of right (computed only for
    the points that need it, and once per point)."""
    cache: dict[int, float] = {}

    def slope(index: int):
        if index not in cache:
            x = points[index]
            args = [dtype.type(x if i in swept else v) for i, v in enumerate(values)]
            total = 0.0
            for i, a in enumerate(args):
                if a == 0:
                    continue
                if i == wrt:
                    partial = true_derivative(f, *args, argnums=wrt, order=order + 1)
                else:
                    partial = true_derivative(
                        f, *args, argnums=(wrt, i), order=(order, 1)
                    )
                total += abs(float(a)) * abs(float(partial))
            cache[index] = total if math.isfinite(total) else 0.0
        return cache[index]

    return slope

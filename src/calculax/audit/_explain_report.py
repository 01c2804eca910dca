"""The report of :func:`calculax.audit.explain`: rule-by-rule rows, finite differences.

Numbers are printed with the fewest digits that identify them in the report's dtype
(NumPy's ``unique`` formatting), so a float32 ``0.1`` prints as ``0.1``.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._core.plot import save_v_curve
from .._core.tolerance import representable

__all__ = ["Step", "FiniteDifference", "ExplainReport", "format_number"]


def format_number(value, dtype=np.float64) -> str:
    """``value`` in the fewest digits that identify it in ``dtype``; arrays in brackets
    (at most six elements); ``-`` for ``None``."""
    if value is None:
        return "-"
    array = np.asarray(value)
    if array.ndim > 0:
        items = [format_number(v, dtype) for v in array.reshape(-1)[:6]]
        more = ", ..." if array.size > 6 else ""
        return f"[{', '.join(items)}{more}] (shape {array.shape})"
    if array.dtype == bool:
        return str(bool(array))
    if np.issubdtype(array.dtype, np.integer):
        return str(int(array))
    import mpmath

    if isinstance(value, mpmath.mpf):
        return mpmath.nstr(value, 17) if mpmath.isfinite(value) else str(float(value))
    number = np.asarray(value, dtype=dtype)[()]
    if not isinstance(number, np.floating | np.integer):
        raise TypeError(f"format_number: cannot format a {type(number).__name__}")
    if not np.isfinite(number) or number == 0:
        return str(float(number))
    if 1e-4 <= abs(number) < 1e6:
        return np.format_float_positional(number, unique=True, trim="-")
    return np.format_float_scientific(number, unique=True, trim="-")


@dataclasses.dataclass
class Step:
    """One primitive of ``f`` as evaluated: ``outputs = primitive(inputs)``.

    ``values[i]`` is output ``i``'s primal value; ``derivatives[i][j - 1]`` its
    derivative of order ``j`` in the chosen argument (``None`` for integer and
    boolean outputs, which have no tangent). ``source`` is ``"jax"`` (JAX's rule),
    ``"calculax"`` (the rule ``stabilize`` binds) or ``"custom"`` (the function's own
    ``custom_jvp`` rule).
    """

    index: int
    primitive: str
    equation: str
    rule: str
    source: str
    values: list
    derivatives: list


@dataclasses.dataclass
class FiniteDifference:
    """A central finite difference with step ``h = step * |x|`` (``step`` at ``x = 0``),
    and its relative error against the truth (absolute where the truth is 0)."""

    step: float
    estimate: float
    error: float


@dataclasses.dataclass
class ExplainReport:
    """How the derivative of order ``order`` of ``f`` in argument ``argnums`` at
    ``args`` is computed (returned by :func:`calculax.audit.explain`).

    ``mode`` is the AD mode of the rows and of ``autodiff``: ``"forward"`` or
    ``"reverse"``. ``derivative`` is the last row's derivative (the chain of rules);
    ``autodiff`` is ``jax.jvp`` (forward) or ``jax.grad`` (reverse) nested ``order``
    times on ``f`` (on ``stabilize(f)`` when ``stabilized``); ``truth`` comes from
    :func:`calculax.audit.true_derivative` (``None`` where the truth interpreter
    does not support a primitive of ``f``).
    """

    name: str
    args: tuple
    argnames: tuple
    argnums: int
    order: int
    dtype: np.dtype
    stabilized: bool
    steps: list[Step]
    derivative: float
    autodiff: float
    truth: Any
    finite_differences: list[FiniteDifference]
    mode: str = "forward"

    @property
    def error(self) -> float:
        """Relative error of ``derivative`` against ``truth`` (absolute at truth 0)."""
        return relative_error(self.derivative, self.truth)

    def best_finite_difference(self) -> FiniteDifference | None:
        """The finite difference closest to the truth (``None`` without a truth)."""
        rows = [r for r in self.finite_differences if not math.isnan(r.error)]
        return min(rows, key=lambda r: r.error) if rows else None

    def to_markdown(self) -> str:
        """The report as Markdown: rows, the derivative, the truth, the V curve."""
        wrt = self.argnames[self.argnums]
        label = (
            "d/d" + wrt if self.order == 1 else f"d^{self.order}/d{wrt}^{self.order}"
        )
        rules = "calculax's rules (stabilize)" if self.stabilized else "JAX's rules"
        rules += f", {self.mode} mode"
        point = ", ".join(
            f"{n} = {format_number(a, self.dtype)}"
            for n, a in zip(self.argnames, self.args)
        )
        lines = [
            f"## {label} of `{self.name}` at {point} ({self.dtype.name}, {rules})",
            "",
            *self._rows_markdown(wrt),
            "",
            *self._summary_markdown(),
            "",
            *self._finite_differences_markdown(),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_markdown()

    def _rows_markdown(self, wrt: str) -> list[str]:
        orders = [
            f"d/d{wrt}" if j == 1 else f"d^{j}/d{wrt}^{j}"
            for j in range(1, 1 + self.order)
        ]
        seed = ["1", *["0"] * (self.order - 1)]
        lines = [
            "| # | equation | rule applied | value | " + " | ".join(orders) + " |",
            "|---|---|---|---|" + "---|" * self.order,
            f"| 0 | `{wrt}` (argument) | seed: d{wrt}/d{wrt} = 1 | "
            f"{format_number(self.args[self.argnums], self.dtype)} | "
            + " | ".join(seed)
            + " |",
        ]
        for step in self.steps:
            outputs = step.equation.split(" = ")[0].split(", ")
            for i, (value, derivatives) in enumerate(
                zip(step.values, step.derivatives)
            ):
                cells = [format_number(d, self.dtype) for d in derivatives]
                # A primitive with several results: one line each, the rule once.
                head = (
                    f"| {step.index} | `{step.equation}` | {step.rule} | "
                    if i == 0
                    else f"| | output `{outputs[i]}` | | "
                )
                lines.append(
                    head + f"{format_number(value, self.dtype)} | {' | '.join(cells)} |"
                )
        return lines

    def _summary_markdown(self) -> list[str]:
        target = "stabilize(f)" if self.stabilized else "f"
        chain = format_number(self.derivative, self.dtype)
        lines = [
            f"- chain of rules (last row): {chain}",
            f"- autodiff ({_MODE_WORDS[self.mode]} nested {self.order}x on {target}): "
            f"{format_number(self.autodiff, self.dtype)} -- "
            + _agreement(self.derivative, self.autodiff, self.dtype),
        ]
        if self.truth is None:
            lines.append("- truth: not available (see `calculax.audit.SUPPORTED`)")
            return lines
        lines.append(
            f"- truth (mpmath, `true_derivative`): {format_number(self.truth)}; "
            f"relative error of autodiff: {self.error:.2g}"
        )
        if not representable(self.truth, self.dtype):
            lines.append(
                f"- the truth is not a normal {self.dtype.name} number: no method "
                f"can return it in {self.dtype.name}"
            )
        return lines

    def _finite_differences_markdown(self) -> list[str]:
        lines = [
            f"Central finite differences of order {self.order}, step h = s*|x|:",
            "",
            "| s | estimate | relative error |",
            "|---|---|---|",
        ]
        for row in self.finite_differences:
            error = "-" if math.isnan(row.error) else f"{row.error:.2g}"
            lines.append(f"| {row.step:.0e} | {row.estimate:.8g} | {error} |")
        best = self.best_finite_difference()
        if best is None:
            return lines
        lines.append("")
        if not representable(self.truth, self.dtype):
            verdict = "the truth is outside the normal range: neither can return it"
        elif self.error < best.error:
            verdict = "no finite-difference step gets as close as autodiff"
        elif self.error == best.error:
            verdict = "autodiff and the best finite difference are equally far off"
        else:
            verdict = (
                "here a finite difference is closer than these rules: a rule above "
                "loses the value (see the rows)"
            )
        lines.append(
            f"Best step s = {best.step:.0e}: error {best.error:.2g} (truncation "
            f"error falls with h, rounding error grows as h shrinks); autodiff: "
            f"{self.error:.2g} -- {verdict}."
        )
        return lines

    def plot(self, path: str | Path) -> Path:
        """The V curve: finite-difference error against the step, log-log, with the
        autodiff error as a horizontal line (errors of 0 drawn at the bottom edge)."""
        path = Path(path)
        save_v_curve(
            path,
            np.array([r.step for r in self.finite_differences]),
            np.array([r.error for r in self.finite_differences]),
            reference_error=self.error,
            reference_label="autodiff",
            eps=float(np.finfo(self.dtype).eps),
            eps_label=f"eps({self.dtype.name})",
            title=f"{self.name}: derivative of order {self.order}",
        )
        return path


_MODE_WORDS = {
    "forward": "forward mode, `jax.jvp`",
    "reverse": "reverse mode, `jax.grad`",
}


def relative_error(value: float, truth) -> float:
    """``|value - truth| / |truth|`` (``|value|`` at a 0 truth; nan without a truth)."""
    import mpmath

    if truth is None or not mpmath.isfinite(truth):
        return math.nan
    if math.isnan(value):
        return math.inf
    if math.isinf(value):
        return math.inf
    difference = abs(mpmath.mpf(value) - truth)
    return float(difference / abs(truth)) if truth != 0 else float(difference)


def ulp_distance(a: float, b: float, dtype) -> float:
    """How many ``dtype`` numbers lie between ``a`` and ``b`` (0: the same number)."""
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    if not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    info = np.finfo(dtype)
    integers: dict[int, type[np.signedinteger]] = {
        2: np.int16,
        4: np.int32,
        8: np.int64,
    }
    integer = integers[info.dtype.itemsize]

    def ordinal(value: float) -> int:
        bits = int(np.asarray(value, dtype=info.dtype).view(integer))
        return bits if bits >= 0 else np.iinfo(integer).min - bits

    return float(abs(ordinal(a) - ordinal(b)))


def _agreement(chain: float, autodiff: float, dtype) -> str:
    distance = ulp_distance(chain, autodiff, dtype)
    if distance == 0:
        return (
            "the same number: autodiff *is* the chain of exact rules above, "
            "evaluated in floating point; it takes no step h"
        )
    return (
        f"{distance:.0f} ulp from the chain: the same rules, but f's jit-wrapped "
        "parts are compiled as a whole by XLA, which may round differently"
    )

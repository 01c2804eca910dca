"""Expected outcomes of a bad-input case and the classifier of actual outcomes.

A case states one of: ``Raises(kind, match)`` (a specific error: its type and our
own message), ``Right(truth, tol)`` (a value within ``tol`` of the truth, status OK)
or ``Flagged(truth)`` (a non-OK status, raised as ``calculax.NumericalError`` with
``throw=True``, whose error bound covers the actual error; ``truth=None`` when any
covering bound must be infinite). ``classify`` sorts what a call actually did into
the classes of the tally: right, specific error, flagged, silent wrong,
crash/internal error, generic error. It works with the code before this session
too (statuses were integers there, and ``throw`` did not exist everywhere).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import re
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

OUR_PREFIXES = (
    "quad",
    "expectation",
    "entropy",
    "kl_divergence",
    "cross_entropy",
    "entropy_from_samples",
    "family_entropy",
)


@dataclasses.dataclass(frozen=True)
class Raises:
    kind: type | tuple
    match: str


@dataclasses.dataclass(frozen=True)
class Right:
    truth: Any
    tol: float = 1e-9


@dataclasses.dataclass(frozen=True)
class Flagged:
    truth: Any = None


@dataclasses.dataclass(frozen=True)
class Limited:
    """Right within ``tol``, or flagged with a covering error: a case that float64
    itself may not resolve to the default tolerance (a feature of width ``w`` at
    ``x`` is located to ``eps |x| / w``)."""

    truth: Any
    tol: float = 1e-9


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    entry: str
    call: Callable[[], Any]
    expect: Raises | Right | Flagged | Limited


def _status_ok(result) -> bool:
    status = getattr(result, "status", 0)
    ok = getattr(result, "ok", None)
    if ok is not None:
        return bool(np.all(np.asarray(ok)))
    return bool(np.all(np.asarray(status) == 0))


def _numbers(result):
    value = getattr(result, "value", result)
    error = getattr(result, "error", None)
    return np.asarray(value), (None if error is None else np.asarray(error))


def _close(value, truth, tol) -> bool:
    value = np.asarray(value)
    truth = np.asarray(truth)
    if value.shape != truth.shape and truth.shape != ():
        return False
    both_inf = np.isinf(truth) & (value == truth)
    with np.errstate(invalid="ignore"):
        near = np.abs(value - truth) <= tol * np.maximum(1.0, np.abs(truth))
    return bool(np.all(both_inf | near))


def _covers(value, error, truth) -> bool:
    if error is None:
        return False
    error = np.asarray(error, float)
    if truth is None:
        return bool(np.all(np.isinf(error) | np.isnan(np.asarray(value, float))))
    value = np.asarray(value)
    with np.errstate(invalid="ignore"):
        diff = np.abs(value - np.asarray(truth))
    diff = np.where(np.isnan(diff), np.inf, diff)
    return bool(np.all(error >= diff))


def _ours(error: BaseException) -> bool:
    text = str(error).strip()
    return any(text.startswith(f"{p}:") or f"\n{p}:" in text for p in OUR_PREFIXES) or (
        re.search(
            r"(^|\s)(quad|entropy|kl_divergence|cross_entropy|"
            r"entropy_from_samples|expectation)( \(q\))?: ",
            text,
        )
        is not None
    )


def classify(case: Case) -> str:
    """The outcome class of running ``case`` (see module)."""
    try:
        result = case.call()
    except Exception as error:  # the case's outcome, whatever it is
        name = type(error).__name__
        if name == "NumericalError":
            inner = getattr(error, "result", None)
            if inner is None:
                return "flagged"
            value, err = _numbers(inner)
            truth = getattr(case.expect, "truth", None)
            if truth is None or _covers(value, err, truth):
                return "flagged"
            return "silent wrong"
        if isinstance(case.expect, Raises) and isinstance(error, case.expect.kind):
            if re.search(case.expect.match, str(error)):
                return "specific error"
        if name == "EquinoxRuntimeError" and _ours(error):
            return "flagged" if "status" in str(error).lower() else "specific error"
        if isinstance(error, TypeError | ValueError) and _ours(error):
            return "specific error"
        if isinstance(
            error,
            AssertionError
            | AttributeError
            | IndexError
            | KeyError
            | NameError
            | UnboundLocalError
            | RecursionError,
        ):
            return "crash/internal error"
        return "generic error"
    value, err = _numbers(result)
    ok = _status_ok(result)
    expect = case.expect
    truth = getattr(expect, "truth", None)
    if truth is None:
        # Nothing is right here; a flag with an infinite bound (or nan value) is.
        return "flagged" if not ok and _covers(value, err, None) else "silent wrong"
    tol = getattr(expect, "tol", 1e-9)
    if ok and _close(value, truth, tol):
        return "right"
    if not ok and _covers(value, err, truth):
        return "flagged"
    return "silent wrong"


def expected(case: Case) -> str:
    """The class the case's stated outcome corresponds to."""
    if isinstance(case.expect, Raises):
        return "specific error"
    if isinstance(case.expect, Right | Limited):
        return "right"
    return "flagged"


def check(case: Case) -> None:
    """Assert the case meets its stated outcome (pytest body)."""
    got = classify(case)
    if isinstance(case.expect, Raises):
        try:
            case.call()
        except case.expect.kind as error:
            assert re.search(case.expect.match, str(error)), str(error)
            return
        raise AssertionError(f"{case.id}: expected {case.expect}, got {got}")
    if isinstance(case.expect, Limited):
        assert got in ("right", "flagged"), (case.id, got)
        return
    assert got == expected(case), (case.id, got)


def tally(cases, title: str) -> str:
    """Counts per entry point and class (the notes' table)."""
    classes = (
        "right",
        "specific error",
        "flagged",
        "silent wrong",
        "crash/internal error",
        "generic error",
    )
    counts: dict[str, collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    for case in cases:
        try:
            got = classify(case)
        except Exception:  # noqa: BLE001 (the tally must finish)
            traceback.print_exc()
            got = "crash/internal error"
        counts[case.entry][got] += 1
    lines = [
        f"{title}",
        "| entry point | " + " | ".join(classes) + " | total |",
        "|---" * (len(classes) + 2) + "|",
    ]
    total = collections.Counter()
    for entry, counter in sorted(counts.items()):
        total.update(counter)
        row = [str(counter[c]) for c in classes]
        lines.append(
            f"| {entry} | " + " | ".join(row) + f" | {sum(counter.values())} |"
        )
    row = [str(total[c]) for c in classes]
    lines.append("| all | " + " | ".join(row) + f" | {sum(total.values())} |")
    return "\n".join(lines)


__all__ = [
    "Case",
    "Raises",
    "Right",
    "Flagged",
    "Limited",
    "classify",
    "check",
    "tally",
    "math",
]

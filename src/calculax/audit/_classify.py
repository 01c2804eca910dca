"""Classify computed derivatives against a high-precision truth.

A computed value ``y`` of a derivative of order ``k`` in dtype ``d`` is compared with
the truth ``t`` (an ``mpmath`` number) only where ``t`` is *representable*: finite and
either ``0`` or a normal number of ``d`` (``tiny(d) <= |t| <= max(d)``; XLA on CPU
flushes subnormals to zero, so nothing can be asked of a subnormal result). It is then

* ``right`` when :math:`|y - t| \\le \\mathrm{atol} + \\mathrm{rtol}\\,|t|` with
  ``atol = 0`` and ``rtol = ULPS[k] * eps(d)``,
* ``nan``, ``inf`` or ``zero`` when ``y`` is such a value (and is not right),
* ``inaccurate`` otherwise.

``ULPS`` is the per-order budget of the test suite (``tests/helpers.py``).
"""

from __future__ import annotations

import dataclasses
import math

import mpmath
import numpy as np

__all__ = ["ULPS", "LABELS", "Counts", "representable", "classify", "tally"]

ULPS = {0: 4, 1: 32, 2: 64, 3: 128, 4: 256}
LABELS = ("right", "inaccurate", "inf", "zero", "nan")


def representable(truth, dtype) -> bool:
    """Whether ``truth`` is finite and ``0`` or a normal number of ``dtype``."""
    if truth is None or not mpmath.isfinite(truth):
        return False
    info = np.finfo(dtype)
    return truth == 0 or float(info.tiny) <= abs(truth) <= float(info.max)


def classify(computed: float, truth, dtype, order: int) -> str:
    """One of :data:`LABELS` for ``computed`` against a representable ``truth``."""
    if math.isnan(computed):
        return "nan"
    if math.isinf(computed):
        return "inf"
    rtol = ULPS[order] * float(np.finfo(dtype).eps)
    if abs(mpmath.mpf(computed) - truth) <= rtol * abs(truth):
        return "right"
    return "zero" if computed == 0 else "inaccurate"


@dataclasses.dataclass
class Counts:
    """How many representable points fell in each class."""

    right: int = 0
    inaccurate: int = 0
    inf: int = 0
    zero: int = 0
    nan: int = 0

    @property
    def representable(self) -> int:
        return sum(getattr(self, label) for label in LABELS)


def tally(computed, truths, dtype, order: int) -> tuple[Counts, list[str | None]]:
    """Counts over all points, and each point's label (``None``: not representable)."""
    counts = Counts()
    labels: list[str | None] = []
    for value, truth in zip(np.asarray(computed).tolist(), truths):
        if not representable(truth, dtype):
            labels.append(None)
            continue
        label = classify(float(value), truth, dtype, order)
        setattr(counts, label, getattr(counts, label) + 1)
        labels.append(label)
    return counts, labels

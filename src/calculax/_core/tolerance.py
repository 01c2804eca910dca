r"""What "right" means for a computed derivative: one definition, used everywhere.

A computed derivative ``y`` of order ``k`` in dtype ``d``, at the inputs
:math:`x_1, \dots, x_n`, is compared with the truth :math:`t = f_k(x)` (an ``mpmath``
number) only where the truth is *representable*: finite and either ``0`` or a normal
number of ``d`` (``tiny(d) <= |t| <= max(d)``; XLA on CPU flushes subnormals to zero,
so nothing can be asked of a subnormal result). It is **right** when

.. math:: |y - t| \le u_k \Big(|t| + \sum_i |x_i|\,
          \Big|\frac{\partial f_k}{\partial x_i}(x)\Big|\Big),
          \qquad u_k = \mathrm{ULPS}[k]\cdot\mathrm{eps}(d),

with :math:`\mathrm{ULPS}[k] = 2^{4+k}` for ``k >= 1`` (32 ulp at order 1, 64 at
order 2, ...) and 4 ulp for a value (order 0). That is: within :math:`u_k` of the
truth, or of the truth at inputs perturbed by :math:`u_k` relative (the mixed
forward-backward error of numerical analysis). The second term, the *slope*, matters
only near a zero of :math:`f_k`, where no floating-point evaluation can meet a purely
relative bound (the rounding of the inputs alone moves the truth by more); a caller
that cannot compute it passes ``slope=0``, the stricter forward check.
``calculax.audit``, the tour and the test suite all classify with :func:`classify`.

A value that is not right is labelled ``nan``, ``inf`` or ``zero`` when it is such a
value, ``inaccurate`` otherwise.

Example:
    >>> import mpmath, numpy as np
    >>> classify(1.0000001, mpmath.mpf(1), np.float32, 1)
    'right'
    >>> classify(1.001, mpmath.mpf(1), np.float32, 1)
    'inaccurate'
    >>> classify(0.0, mpmath.mpf(1), np.float32, 1)
    'zero'
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "LABELS",
    "ULPS",
    "Counts",
    "classify",
    "is_right",
    "representable",
    "rtol",
    "tally",
    "ulps",
]

#: The budget in ulp per derivative order (``ulps(k)`` for any ``k``).
ULPS = {0: 4, 1: 32, 2: 64, 3: 128, 4: 256}
LABELS = ("right", "inaccurate", "inf", "zero", "nan")


def ulps(order: int) -> int:
    """The budget in ulp for a derivative of ``order``: 4 for a value, ``2**(4+k)``."""
    return ULPS[0] if order == 0 else 2 ** (4 + order)


def rtol(order: int, dtype) -> float:
    """:math:`u_k = \\mathrm{ulps}(k)\\cdot\\mathrm{eps}(d)`, the relative budget."""
    return ulps(order) * float(np.finfo(dtype).eps)


def representable(truth: Any, dtype, margin: float = 1.0) -> bool:
    """Whether ``truth`` is finite and ``0`` or a normal number of ``dtype``, at least
    ``margin`` from the edges of the normal range."""
    import mpmath

    if truth is None or not mpmath.isfinite(truth):
        return False
    info = np.finfo(dtype)
    return truth == 0 or (
        float(info.tiny) * margin <= abs(truth) <= float(info.max) / margin
    )


def is_right(computed: float, truth: Any, dtype, order: int, slope: Any = 0.0) -> bool:
    """Whether ``computed`` is right against a representable ``truth`` (module doc).

    ``slope`` is :math:`\\sum_i |x_i|\\,|\\partial f_k/\\partial x_i|` (``0``: the
    forward check alone).
    """
    import mpmath

    if not math.isfinite(computed):
        return False
    error = abs(mpmath.mpf(computed) - truth)
    return bool(error <= rtol(order, dtype) * (abs(truth) + slope))


def classify(computed: float, truth: Any, dtype, order: int, slope: Any = 0.0) -> str:
    """One of :data:`LABELS` for ``computed`` against a representable ``truth``."""
    computed = float(computed)
    if math.isnan(computed):
        return "nan"
    if math.isinf(computed):
        return "inf"
    if is_right(computed, truth, dtype, order, slope):
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


def tally(
    computed,
    truths: Sequence,
    dtype,
    order: int,
    slope: Callable[[int], Any] | None = None,
) -> tuple[Counts, list[str | None]]:
    """Counts over all points, and each point's label (``None``: not representable).

    ``slope(i)``, if given, is the slope term at point ``i``; it is asked only for a
    finite value that fails the forward check (it usually needs derivatives of one
    order more, the expensive part).
    """
    counts = Counts()
    labels: list[str | None] = []
    for index, (value, truth) in enumerate(zip(np.asarray(computed).tolist(), truths)):
        if not representable(truth, dtype):
            labels.append(None)
            continue
        label = classify(float(value), truth, dtype, order)
        if label in ("inaccurate", "zero") and slope is not None:
            label = classify(float(value), truth, dtype, order, slope(index))
        setattr(counts, label, getattr(counts, label) + 1)
        labels.append(label)
    return counts, labels

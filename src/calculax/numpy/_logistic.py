"""The logistic sigmoid, whose rule never forms ``1 - sigmoid(x)``.

:math:`\\sigma'(x) = \\sigma(x)\\,\\sigma(-x)`: both factors are computed directly, so
the derivative in the saturated tail (``sigmoid'(40)`` in float32 is ``4.2e-18``)
is not lost to the rounding of :math:`1 - \\sigma(x)` to ``0``. The same product,
differentiated again, gives every higher derivative without cancellation to ``0``.
"""

from __future__ import annotations

import jax

from ._rule import stable_rule
from ._strong import strong_mul

__all__ = ["sigmoid_core"]


# sigma'(x) = sigma(x) * sigma(-x): no 1 - sigma(x).
sigmoid_core = stable_rule(
    jax.nn.sigmoid,
    lambda p, out, t: strong_mul(t[0], out * sigmoid_core(-p[0])),
)

"""The logistic sigmoid, whose rules never form ``1 - sigmoid(x)`` nor cancel near 0.

:math:`\\sigma'(x) = \\sigma(x)\\,\\sigma(-x)`: both factors are computed directly, so
the derivative in the saturated tail (``sigmoid'(40)`` in float32 is ``4.2e-18``)
is not lost to the rounding of :math:`1 - \\sigma(x)` to ``0``. That slope is itself a
function with the rule :math:`\\sigma'' = -\\sigma'(x) \\tanh(x/2)`: differentiating
the product instead gives :math:`\\sigma'\\,(\\sigma(-x) - \\sigma(x))`, a difference
that cancels near ``x = 0``, where :math:`\\sigma'' \\approx -x/8` (only 48 of 112
float32 points right at order 2 that way). Used by ``logaddexp``,
``special.expit``, ``nn.sigmoid``, ``nn.softplus`` and ``nn.log_sigmoid``.
"""

from __future__ import annotations

import jax

from .._core.strong import strong_mul
from ._hyperbolic import tanh_core
from ._rule import constant, stable_rule

__all__ = ["sigmoid_core", "sigmoid_slope_core"]

# sigma'(x) = sigma(x) sigma(-x), with d sigma' = -sigma' tanh(x/2) dx: tanh(x/2) is
# accurate near 0, where sigma(-x) - sigma(x) cancels.
sigmoid_slope_core = stable_rule(
    lambda x: jax.nn.sigmoid(x) * jax.nn.sigmoid(-x),
    lambda p, out, t: (
        -strong_mul(t[0], strong_mul(out, tanh_core(constant(0.5, out) * p[0])))
    ),
)

# d sigma(x) = sigma'(x) dx.
sigmoid_core = stable_rule(
    jax.nn.sigmoid, lambda p, out, t: strong_mul(t[0], sigmoid_slope_core(p[0]))
)

"""Exponentials and logarithms whose rules reuse the output and divide, never square.

Tails: ``expm1'(x)`` is computed as ``exp(x)``, not ``expm1(x) + 1`` (which is ``0``
for ``x < -17`` in float32); ``log2``/``log10`` divide by ``x`` before scaling by
``1/log(base)``, so ``x * log(base)`` never underflows.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from .._core.dtypes import prepare
from .._core.strong import strong_div, strong_mul
from ._logistic import sigmoid_core
from ._rule import constant, stable_rule

__all__ = [
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "logaddexp",
    "logaddexp2",
]

# d exp(x) = exp(x) dx, reusing the output.
exp_core = stable_rule(jnp.exp, lambda p, out, t: strong_mul(t[0], out))

# d 2**x = (2**x dx) log 2.
exp2_core = stable_rule(
    jnp.exp2,
    lambda p, out, t: strong_mul(strong_mul(t[0], out), constant(np.log(2.0), out)),
)

# d expm1(x) = exp(x) dx: exp(x) keeps the tail, expm1(x) + 1 rounds it to 0.
expm1_core = stable_rule(jnp.expm1, lambda p, out, t: strong_mul(t[0], exp_core(p[0])))

# d log x = dx / x.
log_core = stable_rule(jnp.log, lambda p, out, t: strong_div(t[0], p[0]))


def _log_base_rule(base):
    # d log_b x = (dx / x) / log b: divide by x first so x*log(b) cannot underflow.
    return lambda p, out, t: strong_mul(
        strong_div(t[0], p[0]), constant(1.0 / np.log(base), out)
    )


log2_core = stable_rule(jnp.log2, _log_base_rule(2.0))
log10_core = stable_rule(jnp.log10, _log_base_rule(10.0))

# d log1p(x) = dx / (1 + x); 1 + x is exact near x = -1 (Sterbenz).
log1p_core = stable_rule(
    jnp.log1p, lambda p, out, t: strong_div(t[0], constant(1.0, out) + p[0])
)


def _difference_or_zero(x, y):
    # x - y, but 0 where x == y == +-inf (weights 1/2, not nan); differentiable at
    # finite ties.
    both_infinite = (x == y) & jnp.isinf(x)
    safe_y = jnp.where(both_infinite, x, y)
    return jnp.where(both_infinite, jnp.zeros_like(x), x - safe_y)


# d logaddexp(x, y) = sigma(x - y) dx + sigma(y - x) dy: weights in [0, 1].
logaddexp_core = stable_rule(
    jnp.logaddexp,
    lambda p, out, t: (
        strong_mul(t[0], sigmoid_core(_difference_or_zero(p[0], p[1])))
        + strong_mul(t[1], sigmoid_core(_difference_or_zero(p[1], p[0])))
    ),
)

_LOG_2 = float(np.log(2.0))


def _logaddexp2_rule(p, out, t):
    # d log2(2^x + 2^y) = sigma((x - y) log 2) dx + sigma((y - x) log 2) dy.
    log_2 = constant(_LOG_2, out)
    return strong_mul(
        t[0], sigmoid_core(log_2 * _difference_or_zero(p[0], p[1]))
    ) + strong_mul(t[1], sigmoid_core(log_2 * _difference_or_zero(p[1], p[0])))


logaddexp2_core = stable_rule(jnp.logaddexp2, _logaddexp2_rule)


def exp(x: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`e^x`; derivative :math:`e^x\\,dx` (reuses the output).

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.exp)(0.0)
        Array(1., dtype=float32, weak_type=True)
    """
    return exp_core(*prepare("exp", jnp.exp, x))


def exp2(x: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`2^x`; derivative :math:`(2^x\\,dx)\\log 2`.

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.exp2(3.0)
        Array(8., dtype=float32, weak_type=True)
    """
    return exp2_core(*prepare("exp2", jnp.exp2, x))


def expm1(x: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`e^x - 1`; derivative computed as :math:`e^x\\,dx`.

    ``jax.grad(jnp.expm1)(-40.0)`` is ``0`` in float32; here it is ``4.2e-18``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.expm1)(jnp.float32(-40.0))
        Array(4.248354e-18, dtype=float32)
    """
    return expm1_core(*prepare("expm1", jnp.expm1, x))


def log(x: ArrayLike, /) -> jax.Array:
    """Element-wise natural logarithm; derivative :math:`dx/x`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.log)(4.0)
        Array(0.25, dtype=float32, weak_type=True)
    """
    return log_core(*prepare("log", jnp.log, x))


def log2(x: ArrayLike, /) -> jax.Array:
    """Element-wise base-2 logarithm; derivative :math:`(dx/x)/\\log 2`.

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.log2(8.0)
        Array(3., dtype=float32)
    """
    return log2_core(*prepare("log2", jnp.log2, x))


def log10(x: ArrayLike, /) -> jax.Array:
    """Element-wise base-10 logarithm; derivative :math:`(dx/x)/\\log 10`.

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.log10(100.0)
        Array(2., dtype=float32)
    """
    return log10_core(*prepare("log10", jnp.log10, x))


def log1p(x: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`\\log(1 + x)`; derivative :math:`dx/(1 + x)`.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.log1p)(1.0)
        Array(0.5, dtype=float32, weak_type=True)
    """
    return log1p_core(*prepare("log1p", jnp.log1p, x))


def logaddexp(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`\\log(e^{x_1} + e^{x_2})`.

    Derivatives :math:`\\sigma(x_1 - x_2)` and :math:`\\sigma(x_2 - x_1)`, computed
    with the stable sigmoid, at every order; ``logaddexp(-inf, -inf)`` has weights
    ``1/2``.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.logaddexp)(0.0, 0.0)
        Array(0.5, dtype=float32, weak_type=True)
    """
    return logaddexp_core(*prepare("logaddexp", jnp.logaddexp, x1, x2))


def logaddexp2(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`\\log_2(2^{x_1} + 2^{x_2})`, as ``jax.numpy.logaddexp2``.

    Derivatives :math:`\\sigma((x_1 - x_2)\\log 2)` and
    :math:`\\sigma((x_2 - x_1)\\log 2)` with the stable sigmoid, at every order.

    Example:
        >>> import jax
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.logaddexp2)(1.0, 1.0)
        Array(0.5, dtype=float32, weak_type=True)
    """
    return logaddexp2_core(*prepare("logaddexp2", jnp.logaddexp2, x1, x2))

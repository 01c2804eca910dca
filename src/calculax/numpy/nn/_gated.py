"""Gated activations ``x * g(x)``: SiLU, GELU, Mish and GLU on stable gates.

Each is the product of the input with a gate whose own rules are stable at every
order (the sigmoid of :mod:`calculax.numpy._logistic`, ``tanh`` of
``sech(x)**2``, ``softplus``): the product rule of ``x * g`` then forms
``x * g^{(k)}(x)``, and every factor is as representable as the derivative itself.
In the saturated tails the gate's slope underflows to an exact ``0`` while ``x``
(or the gate argument's slope, ``~x**2`` for GELU) may overflow: the gates' rules
multiply with strong products, so these meet as ``0``, the true (unrepresentably
small) value, never ``0 * inf = nan``.

The tanh-approximation GELU is evaluated as :math:`x\\,\\sigma(2u)`,
:math:`u = \\sqrt{2/\\pi}(x + 0.044715 x^3)`, which equals JAX's
:math:`\\tfrac{x}{2}(1 + \\tanh u)` in exact arithmetic and keeps the left tail
(``jax.nn.gelu(-10.0)`` is ``0`` in float32; the truth ``-1.6e-37`` is a normal
float32).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._hyperbolic import tanh_core
from .._logistic import sigmoid_core
from .._rule import constant, stable_rule
from ._activations import softplus_core

__all__ = ["silu", "swish", "gelu", "mish", "glu"]

_GELU_CUBIC = 0.044715


def silu(x: ArrayLike) -> jax.Array:
    """SiLU (swish) :math:`x\\,\\sigma(x)`, as ``jax.nn.silu``.

    Derivatives by the product rule on the stable sigmoid:
    :math:`\\sigma(x) + x\\,\\sigma(x)\\sigma(-x)`, and so on.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.silu(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(jax.grad(nn.silu))(jnp.float32(20.0))  # jax: 0
        Array(-3.710077e-08, dtype=float32)
    """
    (x,) = prepare("nn.silu", jax.nn.silu, x)
    return x * sigmoid_core(x)


def swish(x: ArrayLike) -> jax.Array:
    """``jax.nn``'s other name for :func:`silu` (same function).

    Example:
        >>> from calculax.numpy import nn
        >>> nn.swish(0.0)
        Array(0., dtype=float32, weak_type=True)
    """
    return silu(x)


def gelu(x: ArrayLike, approximate: bool = True) -> jax.Array:
    """Gaussian error linear unit, as ``jax.nn.gelu``.

    ``approximate=True``: :math:`x\\,\\sigma(2u)`, :math:`u = \\sqrt{2/\\pi}\\,(x +
    0.044715\\,x^3)` (JAX's :math:`\\tfrac x2(1+\\tanh u)` rewritten so that the left
    tail does not cancel). ``approximate=False``: :math:`x\\,\\Phi(x) = \\tfrac x2
    \\operatorname{erfc}(-x/\\sqrt2)`, JAX's own formula.

    Args:
        x: real array.
        approximate: the tanh approximation (default, as JAX) or the exact form.

    Returns:
        Array of the shape and dtype of ``jax.nn.gelu(x)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> nn.gelu(jnp.float32(-10.0))  # jax.nn.gelu: -0.0
        Array(-1.2040922e-37, dtype=float32)
    """
    (x,) = prepare("nn.gelu", lambda v: jax.nn.gelu(v, approximate=approximate), x)
    if not approximate:
        half = constant(0.5, x)
        return half * x * jax.lax.erfc(-x * constant(np.sqrt(0.5), x))
    return gelu_tanh_core(x)


# z(x) = a x + b x**3 = 2u: gelu = x sigma(z).
_A = 2.0 * np.sqrt(2.0 / np.pi)
_B = _A * _GELU_CUBIC

# A polynomial in (x, t), t = tanh(z/2): {(i, j): c} for sum c x**i t**j.
Poly = tuple[tuple[tuple[int, int], float], ...]


def _poly(terms: dict) -> Poly:
    return tuple(sorted((k, c) for k, c in terms.items() if c != 0))


def _add_term(terms: dict, key: tuple[int, int], c: float) -> None:
    terms[key] = terms.get(key, 0.0) + c


def _derivative_bracket(poly: Poly) -> Poly:
    """``Q`` with ``d/dx [sigma'(z) P] = sigma'(z) Q``: ``Q = P_x + P_t (1 - t**2) z'/2
    - z' t P`` (``sigma'' = -sigma' t``, ``t' = (1 - t**2) z' / 2``)."""
    z_prime = {0: _A, 2: 3 * _B}
    out: dict = {}
    for (i, j), c in poly:
        if i:
            _add_term(out, (i - 1, j), i * c)
        for k, zc in z_prime.items():
            if j:
                _add_term(out, (i + k, j - 1), j * c * zc / 2)
                _add_term(out, (i + k, j + 1), -j * c * zc / 2)
            _add_term(out, (i + k, j + 1), -c * zc)
    return _poly(out)


def _evaluate(poly: Poly, x, t):
    total = jnp.zeros_like(x)
    for (i, j), c in poly:
        total = total + constant(c, x) * x**i * t**j
    return total


def _z(x):
    # x**3 overflows for |x| > 1e12 (float32), where sigma(z) is 0 or 1 anyway.
    x = jnp.clip(x, constant(-1e4, x), constant(1e4, x))
    # 2 sqrt(2/pi) (x + 0.044715 x**3): twice JAX's argument of tanh, exactly.
    return constant(_A, x) * (x + constant(_GELU_CUBIC, x) * (x * x * x))


_SLOPES: dict[Poly, object] = {}


def _slope_times(poly: Poly):
    """The core :math:`\\sigma'(z(x))\\,P(x, \\tanh(z/2))`: the bracket first, the
    exponentially small :math:`\\sigma'` last (a strong product), so no partial
    product is subnormal where the result is not."""
    if poly not in _SLOPES:

        def primal(x):
            z = _z(x)
            bracket = _evaluate(poly, x, jnp.tanh(z / 2))
            return strong_mul(jax.nn.sigmoid(z) * jax.nn.sigmoid(-z), bracket)

        _SLOPES[poly] = stable_rule(
            primal,
            lambda p, out, t: strong_mul(
                t[0], _slope_times(_derivative_bracket(poly))(p[0])
            ),
        )
    return _SLOPES[poly]


# gelu' = sigma(z) + sigma'(z) x z'; its derivative sigma'(z) (2z' + x z'' - x z'**2 t).
_FIRST = _poly({(1, 0): _A, (3, 0): 3 * _B})
_gelu_slope_core = stable_rule(
    lambda x: jax.nn.sigmoid(_z(x)) + _slope_times(_FIRST)(x),
    lambda p, out, t: strong_mul(
        t[0],
        _slope_times(
            _poly({(0, 0): _A, (2, 0): 3 * _B})  # sigma'(z) z' from sigma(z)
        )(p[0])
        + _slope_times(_derivative_bracket(_FIRST))(p[0]),
    ),
)

# d gelu = (sigma(z) + x z' sigma'(z)) dx.
gelu_tanh_core = stable_rule(
    lambda x: x * jax.nn.sigmoid(_z(x)),
    lambda p, out, t: strong_mul(t[0], _gelu_slope_core(p[0])),
)


def mish(x: ArrayLike) -> jax.Array:
    """Mish :math:`x \\tanh(\\operatorname{softplus}(x))`, as ``jax.nn.mish``, with the
    stable ``tanh`` and ``softplus`` rules.

    Args:
        x: real array.

    Returns:
        Array of the shape and dtype of ``jax.nn.mish(x)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> jax.grad(jax.grad(nn.mish))(jnp.float32(20.0))  # jax: 0
        Array(-6.4574986e-16, dtype=float32)
    """
    (x,) = prepare("nn.mish", jax.nn.mish, x)
    return x * tanh_core(softplus_core(x))


def glu(x: ArrayLike, axis: int = -1) -> jax.Array:
    """Gated linear unit: ``x`` split in halves ``a, b`` along ``axis``,
    :math:`a\\,\\sigma(b)`, as ``jax.nn.glu``, with the stable sigmoid.

    Args:
        x: real array whose size along ``axis`` is even.
        axis: the axis to split.

    Returns:
        Array of the shape and dtype of ``jax.nn.glu(x, axis)``.

    Raises:
        ValueError: the size along ``axis`` is odd or ``axis`` is out of bounds
            (``jax.nn.glu`` fails an ``assert``).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.numpy import nn
        >>> nn.glu(jnp.array([2.0, 0.0], dtype=jnp.float32))
        Array([1.], dtype=float32)
    """
    x = jnp.asarray(x)
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim or x.shape[axis] % 2:
        # jax.nn.glu checks this with an assert.
        raise ValueError(
            "calculax.numpy.nn.glu: the size of `x` along `axis` must be even (it is "
            f"split into the value and its gate); got shape {x.shape} and axis {axis}."
        )
    jax.eval_shape(lambda v: jax.nn.glu(v, axis), x)  # JAX's other checks
    (x,) = prepare("nn.glu", lambda v: v, x)
    a, b = jnp.split(x, 2, axis)
    return a * sigmoid_core(b)

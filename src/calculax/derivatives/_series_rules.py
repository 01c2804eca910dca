r"""Taylor-series rules of JAX's primitives, for ``_series_interpreter``.

Each rule maps the operands of one equation -- :class:`Series` (coefficient arrays of
shape ``(n, *shape)``) or plain arrays (``t``-independent constants) -- to its
results. Linear primitives act coefficient by coefficient (``jax.vmap`` over the
leading axis); products are Cauchy products; the elementary functions are the fixed
points of their differential equations (:math:`\sin' = \cos\,x'`,
:math:`\tanh' = (1 - \tanh^2)\,x'`, ...), written with ``_series``. Piecewise
constant primitives (comparisons, ``sign``, ``floor``, integer arithmetic) see the
order-0 values only; ``abs``/``max``/``min`` follow the branch the order-0 values
select, as JAX's own derivatives do (``max`` of a tie: the average).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from .._core.jaxpr import bind
from .._core.strong import strong_div_p, strong_mul_p
from . import _series as S

__all__ = ["Series", "UnsupportedPrimitive", "apply_rule", "is_float"]


class UnsupportedPrimitive(NotImplementedError):
    """A primitive (named by ``.primitive``) has no series rule."""

    def __init__(self, primitive: str):
        super().__init__(f"no Taylor-series rule for the primitive {primitive!r}")
        self.primitive = primitive


class Series:
    """A ``t``-dependent value: coefficients ``c`` of shape ``(n, *shape)``."""

    __slots__ = ("c",)

    def __init__(self, c):
        self.c = c


def is_float(aval) -> bool:
    return jnp.issubdtype(aval.dtype, jnp.inexact)


def coefficients(value, n: int):
    return value.c if isinstance(value, Series) else S.lift(value, n)


def order0(value):
    return value.c[0] if isinstance(value, Series) else value


# Linear in all their floating operands together: constants are lifted to series.
_LINEAR = frozenset(
    "add sub add_any neg convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose reduce_sum slice dynamic_slice dynamic_update_slice "
    "concatenate pad select_n gather copy copy_p rev cumsum real stack split "
    "optimization_barrier".split()
)
# Linear in each operand separately: the product of two series is a Cauchy product.
_BILINEAR = {"mul": False, "dot_general": False, strong_mul_p.name: True}
_QUOTIENTS = {"div": False, strong_div_p.name: True}
# Derivative zero: evaluated at the order-0 values.
_PIECEWISE_CONSTANT = frozenset(
    "sign floor ceil round is_finite stop_gradient nextafter argmax argmin".split()
)


def _linear(eqn, values, n):
    floats = [is_float(v.aval) for v in eqn.invars]
    values = [
        S.lift(v, n) if f and not isinstance(v, Series) else v
        for v, f in zip(values, floats)
    ]
    axes = [0 if isinstance(v, Series) or f else None for v, f in zip(values, floats)]
    arrays = [v.c if isinstance(v, Series) else v for v in values]
    out = jax.vmap(lambda *a: bind(eqn, a), in_axes=axes)(*arrays)
    if eqn.primitive.multiple_results:
        return [Series(o) for o in out]
    return Series(out)


def _scaled(eqn, values):
    # Linear in the one series operand: the others are constants.
    axes = [0 if isinstance(v, Series) else None for v in values]
    arrays = [v.c if isinstance(v, Series) else v for v in values]
    return Series(jax.vmap(lambda *a: bind(eqn, a), in_axes=axes)(*arrays))


def _bilinear(eqn, values, n, strong: bool):
    a, b = values
    if not (isinstance(a, Series) and isinstance(b, Series)):
        return _scaled(eqn, values)
    if eqn.primitive.name != "dot_general":
        return Series(S.cmul(a.c, b.c, strong))
    one = lambda u, v: bind(eqn, (u, v))  # noqa: E731
    pairs = jax.vmap(jax.vmap(one, (None, 0)), (0, None))(a.c, b.c)  # P[i, j]
    i, j, k = jnp.indices((n, n, n))
    mask = (i + j == k).astype(pairs.dtype)
    return Series(jnp.einsum("ijk,ij...->k...", mask, pairs))


def _quotient(store, eqn, values, n, strong: bool):
    a, b = values
    if not isinstance(b, Series):
        return _scaled(eqn, values)
    return Series(S.divide(store, coefficients(a, n), b.c, strong))


def _pair(store, x, signs, f0, g0):
    """``(f, g)``: :math:`f' = g x'`, :math:`g' = \\pm f x'` (sin/cos, sinh/cosh)."""
    n = x.shape[0]
    (i, f_old), (j, g_old) = store.state(S.lift(f0, n)), store.state(S.lift(g0, n))
    dx = S.deriv(x)
    f = S.integral(f0, S.cmul(g_old[:-1], dx))
    g = S.integral(g0, signs * S.cmul(f_old[:-1], dx))
    store.put(i, f)
    store.put(j, g)
    return f, g


def _riccati(store, x, y0, a: float, b: float, c: float):
    """:math:`y' = (a + b y + c y^2)\\,x'` (tanh, tan, logistic), by its fixed point."""
    n = x.shape[0]
    index, old = store.state(S.lift(y0, n))
    y = old[:-1]
    rate = S.lift(jnp.asarray(a, x.dtype), n - 1) + b * y + c * S.cmul(y, y)
    new = S.integral(y0, S.cmul(rate, S.deriv(x)))
    store.put(index, new)
    return new


def _by_derivative(x, y0, rate):
    """:math:`y = y_0 + \\int \\text{rate}\\,x'`, ``rate`` of length ``n - 1``."""
    return S.integral(y0, S.cmul(rate, S.deriv(x)))


def _one(x, n):
    return S.lift(jnp.ones((), x.dtype), n)


def _inverse_sqrt_rate(store, x, sign_x2: float, const: float):
    # rate = 1 / sqrt(const + sign_x2 * x**2), on the first n - 1 orders.
    head = x[:-1]
    radicand = const * _one(x, len(head)) + sign_x2 * S.cmul(head, head)
    return S.divide(store, _one(x, len(head)), S.sqrt(store, radicand))


def _unary(store, name: str, x):
    n = x.shape[0]
    x0 = x[0]
    if name == "exp":
        return S.exp(store, x)
    if name == "exp2":
        return S.exp(store, x * jnp.asarray(math.log(2.0), x.dtype))
    if name == "expm1":
        return S.exp(store, x) - S.lift(jnp.ones((), x.dtype), n)
    if name == "log":
        return S.log(store, x)
    if name == "log1p":
        return S.log(store, x, 1.0)
    if name in ("sin", "cos"):
        s, c = _pair(store, x, -1.0, jnp.sin(x0), jnp.cos(x0))
        return s if name == "sin" else c
    if name in ("sinh", "cosh"):
        s, c = _pair(store, x, 1.0, jnp.sinh(x0), jnp.cosh(x0))
        return s if name == "sinh" else c
    if name == "tanh":
        return _riccati(store, x, jnp.tanh(x0), 1.0, 0.0, -1.0)
    if name == "tan":
        return _riccati(store, x, jnp.tan(x0), 1.0, 0.0, 1.0)
    if name == "logistic":
        return _riccati(store, x, jax.nn.sigmoid(x0), 0.0, 1.0, -1.0)
    if name == "sqrt":
        return S.sqrt(store, x)
    if name == "rsqrt":
        return S.divide(store, _one(x, n), S.sqrt(store, x))
    if name == "atan":
        head = x[:-1]
        base = _one(x, n - 1) + S.cmul(head, head)
        return S.integral(jnp.arctan(x0), S.divide(store, S.deriv(x), base))
    if name in ("asin", "acos"):
        rate = _inverse_sqrt_rate(store, x, -1.0, 1.0)
        y = _by_derivative(x, jnp.arcsin(x0), rate)
        return y if name == "asin" else S.lift(jnp.arccos(x0), n) - y + S.lift(y[0], n)
    if name == "asinh":
        return _by_derivative(
            x, jnp.arcsinh(x0), _inverse_sqrt_rate(store, x, 1.0, 1.0)
        )
    if name == "acosh":
        rate = _inverse_sqrt_rate(store, x, 1.0, -1.0)
        return _by_derivative(x, jnp.arccosh(x0), rate)
    if name == "atanh":
        head = x[:-1]
        base = _one(x, n - 1) - S.cmul(head, head)
        return S.integral(jnp.arctanh(x0), S.divide(store, S.deriv(x), base))
    if name in ("erf", "erfc"):
        head = x[:-1]
        gauss = S.exp(store, -S.cmul(head, head)) * (2 / math.sqrt(math.pi))
        y = _by_derivative(x, lax.erf(x0), gauss)
        return y if name == "erf" else S.lift(lax.erfc(x0), n) - y + S.lift(y[0], n)
    if name == "cbrt":
        return _power(store, x, jnp.asarray(1.0 / 3.0, x.dtype), jnp.cbrt(x0))
    if name == "abs":
        return x * jnp.sign(x0)
    if name == "square":
        return S.cmul(x, x)
    raise UnsupportedPrimitive(name)


def _power(store, x, p, y0):
    """:math:`y = x^p` for constant ``p``: :math:`y' = p\\,y\\,x'/x`, fixed point."""
    n = x.shape[0]
    index, old = store.state(S.lift(y0, n))
    rate = S.divide(store, p * S.cmul(old[:-1], S.deriv(x)), x[:-1])
    new = S.integral(y0, rate)
    store.put(index, new)
    return new


def _integer_power(store, x, m: int):
    n = x.shape[0]
    if m == 0:
        return S.lift(jnp.ones_like(x[0]), n)
    result, base, k = None, x, abs(m)
    while k:  # binary powering: O(log m) products
        if k & 1:
            result = base if result is None else S.cmul(result, base)
        k >>= 1
        if k:
            base = S.cmul(base, base)
    return result if m > 0 else S.divide(store, _one(x, n), result)


def _pow(store, values, n):
    base, exponent = values
    if not isinstance(exponent, Series):
        x = base.c
        return _power(store, x, exponent, lax.pow(x[0], exponent))
    log_base = (
        S.log(store, base.c) if isinstance(base, Series) else S.lift(jnp.log(base), n)
    )
    return S.exp(store, S.cmul(exponent.c, log_base))


def _atan2(store, values, n):
    a, b = (coefficients(v, n)[:-1] for v in values)
    full_a, full_b = (coefficients(v, n) for v in values)
    numerator = S.cmul(b, S.deriv(full_a)) - S.cmul(a, S.deriv(full_b))
    rate = S.divide(store, numerator, S.cmul(a, a) + S.cmul(b, b))
    return S.integral(jnp.arctan2(full_a[0], full_b[0]), rate)


def _extremum(name, values, n):
    a, b = (coefficients(v, n) for v in values)
    above, below = (
        (a[0] > b[0], a[0] < b[0]) if name == "max" else (a[0] < b[0], a[0] > b[0])
    )
    return jnp.where(above, a, jnp.where(below, b, (a + b) / 2))


def apply_rule(store, eqn, values: list, n: int):
    """The results of ``eqn`` on ``values`` (at least one of them a :class:`Series`)."""
    name = eqn.primitive.name
    if name in _PIECEWISE_CONSTANT or not any(is_float(v.aval) for v in eqn.outvars):
        return bind(eqn, [order0(v) for v in values])
    if name in _LINEAR:
        return _linear(eqn, values, n)
    if name in _BILINEAR:
        return _bilinear(eqn, values, n, _BILINEAR[name])
    if name in _QUOTIENTS:
        return _quotient(store, eqn, values, n, _QUOTIENTS[name])
    rule: Callable | None = {"pow": _pow, "atan2": _atan2}.get(name)
    if rule is not None:
        return Series(rule(store, values, n))
    if name in ("max", "min"):
        return Series(_extremum(name, values, n))
    if name == "integer_pow":
        return Series(_integer_power(store, values[0].c, eqn.params["y"]))
    if len(values) == 1:
        return Series(_unary(store, name, values[0].c))
    raise UnsupportedPrimitive(name)

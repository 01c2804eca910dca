r"""Taylor-series rules of JAX's primitives: one table for both series engines.

Each rule maps the operands of one equation -- series (of the engine ``ops``: arrays
in ``_series``, coefficient nodes in ``_series_terms``) or plain arrays
(``t``-independent constants) -- to its results, written only with the engine's
operations (``mul``, ``integral``, ``deriv``, ``fixed_point``, ...). Series hold
derivatives along the path, :math:`c_j = y^{(j)}(0)`. Linear primitives act
coefficient by coefficient; products are Leibniz sums; the elementary functions are
the fixed points of their differential equations (:math:`\exp' = \exp\,x'`,
:math:`\sin' = \cos\,x'`, :math:`\tanh' = (1 - \tanh^2)\,x'`, ...; a quotient
:math:`q = a/b` is the fixed point of :math:`q = (a - (b - b_0) q) / b_0`). Piecewise
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
from .._core.strong import strong_div, strong_div_p, strong_mul_p
from ._series import is_float

__all__ = ["UnsupportedPrimitive", "apply_rule", "divide"]


class UnsupportedPrimitive(NotImplementedError):
    """A primitive (named by ``.primitive``) has no series rule."""

    def __init__(self, primitive: str):
        super().__init__(f"no Taylor-series rule for the primitive {primitive!r}")
        self.primitive = primitive


# Linear in all their floating operands together: constants are lifted to series.
_LINEAR = frozenset(
    "add sub add_any neg convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose reduce_sum slice dynamic_slice dynamic_update_slice "
    "concatenate pad select_n gather copy copy_p rev cumsum real stack split "
    "optimization_barrier".split()
)
# Linear in each operand separately: the product of two series is a Leibniz sum.
_BILINEAR = {"mul": False, "dot_general": False, strong_mul_p.name: True}
_QUOTIENTS = {"div": False, strong_div_p.name: True}
# Derivative zero: evaluated at the order-0 values.
_PIECEWISE_CONSTANT = frozenset(
    "sign floor ceil round is_finite stop_gradient nextafter argmax argmin".split()
)


def _order0(ops, value):
    return ops.order0(ops.raw(value)) if ops.is_series(value) else value


def _series(ops, value, like):
    """``value`` as a series of ``like``'s length (constants lifted)."""
    if ops.is_series(value):
        return ops.raw(value)
    return ops.const(value, like)


def divide(ops, a, b, strong: bool = False):
    """The quotient series ``a / b``: the fixed point of
    :math:`q = (a - (b - b_0)\\,q) / b_0`.

    Stable where the quotient is representable: each order is one division by
    :math:`b_0` of a difference of representable terms, never a power of ``b``.
    """
    n = ops.length(b)
    b0 = ops.order0(b)
    q0 = (strong_div if strong else jnp.divide)(ops.order0(a), b0)
    rest = ops.tail(b)

    def step(qs):
        return (ops.div_const(ops.sub(a, ops.mul(rest, qs[0], strong)), b0, strong),)

    return ops.fixed_point((q0,), step, n)[0]


def _ode(ops, x, y0, rate: Callable):
    """:math:`y = y_0 + \\int \\text{rate}(y)\\,x'` (``rate`` of ``y``'s head)."""

    def step(ys):
        return (ops.integral(y0, ops.mul(rate(ops.head(ys[0])), ops.deriv(x))),)

    return ops.fixed_point((y0,), step, ops.length(x))[0]


def _by_derivative(ops, x, y0, rate):
    """:math:`y = y_0 + \\int \\text{rate}\\,x'`, ``rate`` one order shorter."""
    return ops.integral(y0, ops.mul(rate, ops.deriv(x)))


def _pair(ops, x, sign: float, f0, g0):
    """``(f, g)``: :math:`f' = g x'`, :math:`g' = \\pm f x'` (sin/cos, sinh/cosh)."""
    dx = ops.deriv(x)

    def step(fg):
        f, g = (ops.head(y) for y in fg)
        return (
            ops.integral(f0, ops.mul(g, dx)),
            ops.integral(g0, ops.scale(ops.mul(f, dx), sign)),
        )

    return ops.fixed_point((f0, g0), step, ops.length(x))


def _riccati(ops, x, y0, a: float, b: float, c: float):
    """:math:`y' = (a + b y + c y^2)\\,x'` (tanh, tan, logistic)."""

    def rate(y):
        out = ops.add(ops.scale(y, b), ops.scale(ops.mul(y, y), c))
        return ops.add(ops.const(jnp.asarray(a, y0.dtype), y), out) if a else out

    return _ode(ops, x, y0, rate)


def _sqrt(ops, x):
    """:math:`y = \\sqrt{x} = y_0 + d` with :math:`d = (x - x_0 - d^2)/(2y_0)`."""
    x0 = ops.order0(x)
    y0 = jnp.sqrt(x0)
    shifted = ops.tail(x)

    def step(ds):
        return (ops.div_const(ops.sub(shifted, ops.mul(ds[0], ds[0])), 2 * y0),)

    (d,) = ops.fixed_point((ops.zero(y0),), step, ops.length(x))
    return ops.add(d, ops.const(y0, x))


def _one(ops, like):
    return ops.const(jnp.ones((), ops.order0(like).dtype), like)


def _inverse_sqrt_rate(ops, x, sign_x2: float, const: float):
    # rate = 1 / sqrt(const + sign_x2 * x**2), one order shorter than x.
    head = ops.head(x)
    radicand = ops.add(
        ops.scale(_one(ops, head), const), ops.scale(ops.mul(head, head), sign_x2)
    )
    return divide(ops, _one(ops, head), _sqrt(ops, radicand))


def _log(ops, x, shift: float = 0.0):
    """:math:`\\log(x + \\text{shift})` as :math:`\\int x' / (x + \\text{shift})`."""
    head = ops.head(x)
    base = ops.add(head, ops.scale(_one(ops, head), shift)) if shift else head
    x0 = ops.order0(x)
    y0 = jnp.log1p(x0) if shift == 1.0 else jnp.log(x0)
    return ops.integral(y0, divide(ops, ops.deriv(x), base))


def _power(ops, x, p, y0):
    """:math:`y = x^p` for constant ``p``: :math:`y' = p\\,y\\,x'/x`, fixed point."""

    def rate_times_dx(y):
        return ops.scale(ops.mul(y, ops.deriv(x)), p)

    def step(ys):
        quotient = divide(ops, rate_times_dx(ops.head(ys[0])), ops.head(x))
        return (ops.integral(y0, quotient),)

    return ops.fixed_point((y0,), step, ops.length(x))[0]


def _unary(ops, name: str, x):
    x0 = ops.order0(x)
    if name == "exp":
        return _ode(ops, x, jnp.exp(x0), lambda y: y)
    if name == "exp2":
        return _unary(ops, "exp", ops.scale(x, math.log(2.0)))
    if name == "expm1":  # y' = (y + 1) x', order 0 exact for small x
        return _ode(ops, x, jnp.expm1(x0), lambda y: ops.add(y, _one(ops, y)))
    if name == "log":
        return _log(ops, x)
    if name == "log1p":
        return _log(ops, x, 1.0)
    if name in ("sin", "cos"):
        s, c = _pair(ops, x, -1.0, jnp.sin(x0), jnp.cos(x0))
        return s if name == "sin" else c
    if name in ("sinh", "cosh"):
        s, c = _pair(ops, x, 1.0, jnp.sinh(x0), jnp.cosh(x0))
        return s if name == "sinh" else c
    if name == "tanh":
        return _riccati(ops, x, jnp.tanh(x0), 1.0, 0.0, -1.0)
    if name == "tan":
        return _riccati(ops, x, jnp.tan(x0), 1.0, 0.0, 1.0)
    if name == "logistic":
        return _riccati(ops, x, jax.nn.sigmoid(x0), 0.0, 1.0, -1.0)
    if name == "sqrt":
        return _sqrt(ops, x)
    if name == "rsqrt":
        return divide(ops, _one(ops, x), _sqrt(ops, x))
    if name == "cbrt":
        return _power(ops, x, 1.0 / 3.0, jnp.cbrt(x0))
    if name == "square":
        return ops.mul(x, x)
    if name == "abs":
        return ops.scale(x, jnp.sign(x0))
    return _inverse(ops, name, x)


def _inverse(ops, name: str, x):
    """The inverse trigonometric and hyperbolic functions and ``erf``, by their
    derivatives."""
    x0 = ops.order0(x)
    head = ops.head(x)
    if name == "atan":
        base = ops.add(_one(ops, head), ops.mul(head, head))
        return ops.integral(jnp.arctan(x0), divide(ops, ops.deriv(x), base))
    if name == "atanh":
        base = ops.sub(_one(ops, head), ops.mul(head, head))
        return ops.integral(jnp.arctanh(x0), divide(ops, ops.deriv(x), base))
    if name == "asin":
        return _by_derivative(
            ops, x, jnp.arcsin(x0), _inverse_sqrt_rate(ops, x, -1.0, 1.0)
        )
    if name == "acos":
        rate = ops.neg(_inverse_sqrt_rate(ops, x, -1.0, 1.0))
        return _by_derivative(ops, x, jnp.arccos(x0), rate)
    if name == "asinh":
        return _by_derivative(
            ops, x, jnp.arcsinh(x0), _inverse_sqrt_rate(ops, x, 1.0, 1.0)
        )
    if name == "acosh":
        return _by_derivative(
            ops, x, jnp.arccosh(x0), _inverse_sqrt_rate(ops, x, 1.0, -1.0)
        )
    if name in ("erf", "erfc"):
        gauss = _unary(ops, "exp", ops.neg(ops.mul(head, head)))
        sign = 1.0 if name == "erf" else -1.0
        rate = ops.scale(gauss, sign * 2 / math.sqrt(math.pi))
        y0 = lax.erf(x0) if name == "erf" else lax.erfc(x0)
        return _by_derivative(ops, x, y0, rate)
    raise UnsupportedPrimitive(name)


def _integer_power(ops, x, m: int):
    if m == 0:
        return _one(ops, x)
    result, base, k = None, x, abs(m)
    while k:  # binary powering: O(log m) products, exact at x0 = 0
        if k & 1:
            result = base if result is None else ops.mul(result, base)
        k >>= 1
        if k:
            base = ops.mul(base, base)
    return result if m > 0 else divide(ops, _one(ops, x), result)


def _pow(ops, base, exponent):
    if not ops.is_series(exponent):
        x = ops.raw(base)
        return _power(ops, x, exponent, lax.pow(ops.order0(x), exponent))
    e = ops.raw(exponent)
    if ops.is_series(base):
        log_base = _log(ops, ops.raw(base))
    else:
        log_base = ops.const(jnp.log(base), e)
    return _unary(ops, "exp", ops.mul(e, log_base))


def _atan2(ops, a, b):
    like = ops.raw(a) if ops.is_series(a) else ops.raw(b)
    a, b = _series(ops, a, like), _series(ops, b, like)
    ha, hb = ops.head(a), ops.head(b)
    numerator = ops.sub(ops.mul(hb, ops.deriv(a)), ops.mul(ha, ops.deriv(b)))
    rate = divide(ops, numerator, ops.add(ops.mul(ha, ha), ops.mul(hb, hb)))
    return ops.integral(jnp.arctan2(ops.order0(a), ops.order0(b)), rate)


def _extremum(ops, name, a, b):
    like = ops.raw(a) if ops.is_series(a) else ops.raw(b)
    a, b = _series(ops, a, like), _series(ops, b, like)
    a0, b0 = ops.order0(a), ops.order0(b)
    above, below = (a0 > b0, a0 < b0) if name == "max" else (a0 < b0, a0 > b0)
    tie = ops.scale(ops.add(a, b), 0.5)
    return ops.where(above, a, ops.where(below, b, tie))


def apply_rule(ops, eqn, values: list):
    """The results of ``eqn`` on ``values`` (at least one of them a series)."""
    name = eqn.primitive.name
    if name in _PIECEWISE_CONSTANT or not any(is_float(v.aval) for v in eqn.outvars):
        return bind(eqn, [_order0(ops, v) for v in values])
    if name in _LINEAR:
        return ops.linear(eqn, values)
    if name in _BILINEAR or name in _QUOTIENTS:
        return _product(ops, eqn, values)
    if name == "pow":
        return ops.wrap(_pow(ops, *values))
    if name == "atan2":
        return ops.wrap(_atan2(ops, *values))
    if name in ("max", "min"):
        return ops.wrap(_extremum(ops, name, *values))
    if name == "integer_pow":
        return ops.wrap(_integer_power(ops, ops.raw(values[0]), eqn.params["y"]))
    if len(values) == 1:
        return ops.wrap(_unary(ops, name, ops.raw(values[0])))
    raise UnsupportedPrimitive(name)


def _product(ops, eqn, values):
    name = eqn.primitive.name
    a, b = values
    if name in _QUOTIENTS:
        if not ops.is_series(b):
            return ops.scaled(eqn, values)
        a = _series(ops, a, ops.raw(b))
        return ops.wrap(divide(ops, a, ops.raw(b), _QUOTIENTS[name]))
    if not (ops.is_series(a) and ops.is_series(b)):
        return ops.scaled(eqn, values)
    if name == "dot_general":
        return ops.wrap(ops.bilinear(eqn, ops.raw(a), ops.raw(b)))
    return ops.wrap(ops.mul(ops.raw(a), ops.raw(b), _BILINEAR[name]))

r"""Taylor mode for functions of JAX primitives only: unrolled, sparse recurrences.

The fast path of ``_taylor``. A series is a Python list of its ``order + 1``
normalised coefficients (``c_j = y^{(j)}(0) / j!``), each an array of the value's
shape or the static ``0`` of a coefficient known to vanish -- the input path
:math:`x_0 + t` has two non-zero coefficients, so most of the products of a Leibniz
sum are never traced. The elementary functions use the classical recurrences, one
order at a time (:math:`y' = y\,x'` for ``exp``: :math:`k y_k = \sum_{j=1}^k j x_j
y_{k-j}`; the quotient :math:`q_k = (a_k - \sum_{j\ge1} b_j q_{k-j})/b_0`; the power
:math:`y_k = \sum_{j=1}^k (pj - k + j) x_j y_{k-j} / (k x_0)`; ...). Everything is
scalar-shaped arithmetic, which XLA fuses into few kernels: for ``sin(x) exp(x)`` at
order 8 about 100 equations, a fifth of ``jax.experimental.jet``'s, and a compile
time close to that of the function itself (``benchmarks/derivatives.py``).

The traced size grows as ``order**2``; ``custom_jvp`` functions (calculax's stable
functions) are not followed here: :class:`UnsupportedPrimitive` sends them to the
fixed-point interpreter (``_series_interpreter``), whose graph does not grow with
the order and which evaluates their rules.

References:
    Griewank and Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, ch. 13.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .._core.jaxpr import bind, callee, evaluate, is_call, trace_leaves
from ._series_rules import UnsupportedPrimitive, is_float

__all__ = ["unrolled_coefficients"]


class Terms:
    """A ``t``-dependent value: its coefficients, each an array or the static 0."""

    __slots__ = ("c",)

    def __init__(self, c: list):
        self.c = c


def _static(v) -> bool:
    return isinstance(v, int | float)


def _zero(v) -> bool:
    return _static(v) and v == 0


def _mul(a, b):
    if _zero(a) or _zero(b):
        return 0
    if _static(a) and a == 1:
        return b
    if _static(b) and b == 1:
        return a
    return a * b


def _add(a, b):
    if _zero(a):
        return b
    if _zero(b):
        return a
    return a + b


def _neg(a):
    return 0 if _zero(a) else -a


def _array(term, aval):
    """A coefficient as an array of the variable's shape and dtype."""
    if _static(term):
        return jnp.full(aval.shape, term, aval.dtype)
    return term


def _dot(us, vs, mul=_mul):
    out = 0
    for u, v in zip(us, vs):
        out = _add(out, mul(u, v))
    return out


def _terms(value, n: int) -> list:
    return value.c if isinstance(value, Terms) else [value] + [0] * (n - 1)


def _dx(x: list) -> list:
    """Coefficients of :math:`x'`: ``(j + 1) x_{j+1}``."""
    return [_mul(x[j], float(j)) for j in range(1, len(x))]


def _ode(x: list, y0, rate) -> list:
    """:math:`y' = u\\,x'` order by order; ``rate(m, y)`` is :math:`u_m` from
    :math:`y_0..y_m`."""
    d, y, u = _dx(x), [y0], []
    for k in range(1, len(x)):
        u.append(rate(k - 1, y))
        y.append(_mul(_dot(d[:k], u[::-1]), 1.0 / k))
    return y


def _square_term(y: list, m: int):
    return _dot(y[: m + 1], y[m::-1])


def _delta(m: int, value: float):
    return value if m == 0 else 0


def _quotient(a: list, b: list) -> list:
    q: list = []
    for k in range(len(a)):
        rest = _add(a[k], _neg(_dot(b[1 : k + 1], q[::-1])) if k else 0)
        q.append(0 if _zero(rest) else rest / b[0])
    return q


def _pair(x: list, f0, g0, sign: float):
    d, f, g = _dx(x), [f0], [g0]
    for k in range(1, len(x)):
        fk = _mul(_dot(d[:k], g[::-1]), 1.0 / k)
        gk = _mul(_dot(d[:k], f[::-1]), sign / k)
        f.append(fk)
        g.append(gk)
    return f, g


def _power(x: list, p: float, y0) -> list:
    y = [y0]
    for k in range(1, len(x)):
        terms = [_mul(x[j], (p * j - (k - j)) / k) for j in range(1, k + 1)]
        total = _dot(terms, y[::-1])
        y.append(0 if _zero(total) else total / x[0])
    return y


def _sqrt(x: list, y0) -> list:
    y = [y0]
    for k in range(1, len(x)):
        rest = _add(x[k], _neg(_dot(y[1:k], y[k - 1 : 0 : -1])) if k > 1 else 0)
        y.append(0 if _zero(rest) else rest / (2 * y0))
    return y


def _unary(name: str, x: list) -> list:
    x0 = x[0]
    if name == "exp":
        return _ode(x, jnp.exp(x0), lambda m, y: y[m])
    if name == "expm1":
        return _ode(x, jnp.expm1(x0), lambda m, y: _add(y[m], _delta(m, 1.0)))
    if name in ("sin", "cos"):
        s, c = _pair(x, jnp.sin(x0), jnp.cos(x0), -1.0)
        return s if name == "sin" else c
    if name in ("sinh", "cosh"):
        s, c = _pair(x, jnp.sinh(x0), jnp.cosh(x0), 1.0)
        return s if name == "sinh" else c
    if name == "tanh":
        rate = lambda m, y: _add(_delta(m, 1.0), _neg(_square_term(y, m)))  # noqa: E731
        return _ode(x, jnp.tanh(x0), rate)
    if name == "logistic":
        rate = lambda m, y: _add(y[m], _neg(_square_term(y, m)))  # noqa: E731
        return _ode(x, jax.nn.sigmoid(x0), rate)
    if name in ("log", "log1p"):
        base = x if name == "log" else [x0 + 1.0] + x[1:]
        q = _quotient(_dx(x), base[:-1])
        return [jnp.log(x0) if name == "log" else jnp.log1p(x0)] + [
            _mul(q[k - 1], 1.0 / k) for k in range(1, len(x))
        ]
    if name == "sqrt":
        return _sqrt(x, jnp.sqrt(x0))
    if name == "rsqrt":
        return _power(x, -0.5, jax.lax.rsqrt(x0))
    if name == "square":
        return _cauchy(x, x)
    if name == "abs":
        return [_mul(c, jnp.sign(x0)) for c in x]
    raise UnsupportedPrimitive(name)


_LINEAR = frozenset(
    "add sub add_any neg convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose reduce_sum slice dynamic_slice dynamic_update_slice "
    "concatenate pad select_n gather copy copy_p rev cumsum real stack".split()
)
_CONSTANT = frozenset(
    "sign floor ceil round is_finite stop_gradient nextafter argmax argmin".split()
)


def _linear(eqn, values, n: int) -> Terms:
    out = []
    for k in range(n):
        parts = []
        for var, value in zip(eqn.invars, values):
            if not is_float(var.aval):
                parts.append(value)
                continue
            parts.append(_array(_terms(value, n)[k], var.aval))
        floats = [
            _terms(v, n)[k] for v, var in zip(values, eqn.invars) if is_float(var.aval)
        ]
        out.append(0 if all(_zero(t) for t in floats) else bind(eqn, parts))
    return Terms(out)


def _bilinear(eqn, values, n: int) -> Terms:
    a, b = (_terms(v, n) for v in values)
    avals = [v.aval for v in eqn.invars]

    def product(u, v):
        if _zero(u) or _zero(v):
            return 0
        return bind(eqn, (_array(u, avals[0]), _array(v, avals[1])))

    return Terms([_dot(a[: k + 1], b[k::-1], product) for k in range(n)])


def _apply(eqn, values, n: int):
    name = eqn.primitive.name
    if is_call(eqn):  # jit and checkpoint bodies: evaluated in place
        return _evaluate(*callee(eqn), values, n)
    order0 = [v.c[0] if isinstance(v, Terms) else v for v in values]
    if name in _CONSTANT or not any(is_float(v.aval) for v in eqn.outvars):
        return bind(eqn, order0)
    if name in _LINEAR:
        return _linear(eqn, values, n)
    if name in ("mul", "dot_general"):
        return _bilinear(eqn, values, n)
    if name == "div":
        return _divide(eqn, values, n)
    if name == "integer_pow":
        return _integer_power(values[0].c, eqn.params["y"], eqn.outvars[0].aval)
    if name == "pow" and not isinstance(values[1], Terms):
        return Terms(_power(values[0].c, values[1], jax.lax.pow(*order0)))
    if name == "atan2":
        a, b = (_terms(v, n) for v in values)
        return Terms(_atan2(a, b, jnp.arctan2(*order0)))
    if name in ("max", "min"):
        a, b = (_terms(v, n) for v in values)
        pick = order0[0] > order0[1] if name == "max" else order0[0] < order0[1]
        tie = order0[0] == order0[1]
        return Terms([_select(pick, tie, u, w, eqn) for u, w in zip(a, b)])
    if len(values) == 1:
        return Terms(_unary(name, values[0].c))
    raise UnsupportedPrimitive(name)


def _atan2(a: list, b: list, y0) -> list:
    """:math:`y' = (b a' - a b') / (a^2 + b^2)`, then integrated."""
    da, db, a, b = _dx(a), _dx(b), a[:-1], b[:-1]
    numerator = [_add(u, _neg(v)) for u, v in zip(_cauchy(b, da), _cauchy(a, db))]
    denominator = [_add(u, v) for u, v in zip(_cauchy(a, a), _cauchy(b, b))]
    rate = _quotient(numerator, denominator)
    return [y0] + [_mul(rate[k - 1], 1.0 / k) for k in range(1, len(rate) + 1)]


def _cauchy(a: list, b: list) -> list:
    return [_dot(a[: k + 1], b[k::-1]) for k in range(len(a))]


def _integer_power(x: list, m: int, aval):
    if m == 0:
        return jnp.ones(aval.shape, aval.dtype)
    result: list | None = None
    base, k = x, abs(m)
    while k:  # binary powering: exact at x0 = 0, unlike the power recurrence
        if k & 1:
            result = base if result is None else _cauchy(result, base)
        k >>= 1
        if k:
            base = _cauchy(base, base)
    assert result is not None  # m != 0: some bit of |m| is set
    if m < 0:
        result = _quotient(
            [jnp.ones(aval.shape, aval.dtype)] + [0] * (len(x) - 1), result
        )
    return Terms(result)


def _select(pick, tie, u, w, eqn):
    if _zero(u) and _zero(w):
        return 0
    aval = eqn.outvars[0].aval
    u, w = _array(u, aval), _array(w, aval)
    return jnp.where(tie, (u + w) / 2, jnp.where(pick, u, w))


def _divide(eqn, values, n: int):
    a, b = values
    if not isinstance(b, Terms):
        return Terms([0 if _zero(c) else c / b for c in a.c])
    aval = eqn.outvars[0].aval
    a_terms = _terms(a, n)
    if not isinstance(a, Terms):
        a_terms = [jnp.broadcast_to(a, aval.shape)] + a_terms[1:]
    return Terms(_quotient(a_terms, b.c))


def _evaluate(jaxpr, consts, args, n: int) -> list:
    def rule(eqn, values):
        if not any(isinstance(v, Terms) for v in values):
            return bind(eqn, values)
        return _apply(eqn, values, n)

    return evaluate(jaxpr, consts, args, rule)


def unrolled_coefficients(f, args, argnum: int, order: int):
    """``f``'s output pytree along :math:`x_{argnum} = x_0 + t`, each leaf replaced by
    its coefficient of order ``order`` (:math:`f^{(k)}/k!`).

    Raises :class:`UnsupportedPrimitive` for ``custom_jvp`` functions and primitives
    without a rule here.

    Example:
        >>> import jax.numpy as jnp
        >>> unrolled_coefficients(jnp.exp, (0.0,), 0, 3)  # 1/3!
        Array(0.16666667, dtype=float32)
    """
    n = order + 1
    flat, closed, shapes, start = trace_leaves(f, args, argnum)
    inputs = list(flat)
    x = jnp.asarray(flat[start])
    inputs[start] = Terms([x, 1.0] + [0] * (order - 1))
    outs = _evaluate(closed.jaxpr, closed.consts, inputs, n)
    leaves = []
    for out, shape in zip(outs, jax.tree.leaves(shapes)):
        last = out.c[order] if isinstance(out, Terms) else 0
        leaves.append(jnp.broadcast_to(jnp.asarray(last, shape.dtype), shape.shape))
    return jax.tree.unflatten(jax.tree.structure(shapes), leaves)

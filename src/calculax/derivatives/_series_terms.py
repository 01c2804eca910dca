r"""Truncated Taylor series coefficient by coefficient: the engine for plain JAX code.

The fast path of Taylor mode. A series is a :class:`Terms` node whose coefficient
``j`` (the derivative :math:`y^{(j)}(0)` along the path, as in ``_series``) is
computed on demand and kept: an array of the value's shape, or the static ``0`` of a
coefficient known to vanish -- the input path :math:`x_0 + t` has two non-zero
coefficients, so most products of a Leibniz sum are never traced. The rule table
(``_series_rules``) is the array engine's; a fixed point here is resolved order by
order (coefficient ``k`` of :math:`y = y_0 + \int y\,x'` reads ``y`` below ``k``),
which gives the classical recurrences (:math:`y_k = \sum_j \binom{k-1}{j}
y_j x_{k-j}` for ``exp``). Everything is scalar-shaped arithmetic, which XLA fuses
into few kernels: for ``sin(x) exp(x)`` at order 8 about a fifth of
``jax.experimental.jet``'s equations, and a compile time close to that of the
function itself (``benchmarks/derivatives.py``).

The traced size grows as ``order**2``; ``custom_jvp`` functions (calculax's stable
functions) are left to the array engine, whose graph does not grow with the order.

References:
    Griewank and Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, ch. 13.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import jax.numpy as jnp

from .._core.jaxpr import bind
from .._core.strong import strong_div, strong_mul
from ._series import is_float

__all__ = ["Terms", "Unrolled"]


def _static(v) -> bool:
    return isinstance(v, int | float)


def _zero(v) -> bool:
    return _static(v) and v == 0


def _mul(a, b, strong: bool = False):
    if _zero(a) or _zero(b):
        return 0
    if _static(a) and a == 1:
        return b
    if _static(b) and b == 1:
        return a
    if strong and not (_static(a) or _static(b)):
        return strong_mul(*jnp.broadcast_arrays(a, b))
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


def _pair(a, i: int, b, j: int):
    """``(a[i], b[j])``, or ``(None, None)`` when either is the static zero; the
    lower order is read first, and the other not at all when it is zero: a fixed
    point's order ``k`` is paired with an order-0 factor that vanishes, and must not
    be asked for while it is being computed."""
    if i <= j:
        u = a[i]
        if _zero(u):
            return None, None
        w = b[j]
    else:
        w = b[j]
        if _zero(w):
            return None, None
        u = a[i]
    return (None, None) if _zero(u) or _zero(w) else (u, w)


def _leibniz(a, b, product: Callable) -> Callable[[int], object]:
    """Coefficient ``k`` of the Leibniz sum
    :math:`\\sum_i \\binom{k}{i}\\,\\text{product}(a_i, b_{k-i})`, skipping the
    static zeros."""

    def coefficient(k: int):
        total = 0
        for i in range(k + 1):
            u, w = _pair(a, i, b, k - i)
            if u is not None:
                total = _add(total, _mul(product(u, w), float(math.comb(k, i))))
        return total

    return coefficient


class Terms:
    """A ``t``-dependent value: ``n`` coefficients, each computed once on demand."""

    __slots__ = ("n", "rule", "memo")

    def __init__(self, n: int, rule: Callable[[int], object]):
        self.n = n
        self.rule = rule
        self.memo: dict[int, object] = {}

    def __getitem__(self, j: int):
        if j not in self.memo:
            self.memo[j] = self.rule(j)
        return self.memo[j]


class Unrolled:
    """The operations of the rule table on :class:`Terms`.

    ``nodes`` lists every series made, in order: :meth:`force` computes their
    coefficients order by order, so that the recursion of one coefficient never
    runs through the whole function.
    """

    def __init__(self) -> None:
        self.nodes: list[Terms] = []

    def _node(self, n: int, rule: Callable[[int], object]) -> Terms:
        node = Terms(n, rule)
        self.nodes.append(node)
        return node

    def force(self, order: int) -> None:
        for j in range(order + 1):
            for node in list(self.nodes):
                if j < node.n:
                    node[j]

    # -- values of the jaxpr environment ---------------------------------------
    def is_series(self, value) -> bool:
        return isinstance(value, Terms)

    def raw(self, value):
        return value

    def wrap(self, x):
        return x

    def length(self, x) -> int:
        return x.n

    def order0(self, x):
        return x[0]

    def const(self, value, like, n: int | None = None):
        n = self.length(like) if n is None else n
        return self.lift(value, n)

    def cast(self, x, dtype):
        return self._node(x.n, lambda j: x[j] if _static(x[j]) else x[j].astype(dtype))

    def lift(self, value, n: int) -> Terms:
        return self._node(n, lambda j: value if j == 0 else 0)

    def path(self, x0, step, n: int) -> Terms:
        """The input :math:`x_0 + h t`."""
        return self._node(n, lambda j: x0 if j == 0 else (step if j == 1 else 0))

    # -- arithmetic ---------------------------------------------------------------
    def add(self, a, b):
        return self._node(a.n, lambda j: _add(a[j], b[j]))

    def sub(self, a, b):
        return self._node(a.n, lambda j: _add(a[j], _neg(b[j])))

    def neg(self, a):
        return self._node(a.n, lambda j: _neg(a[j]))

    def scale(self, x, factor):
        return self._node(x.n, lambda j: _mul(x[j], factor))

    def div_const(self, x, divisor, strong: bool = False):
        divide = strong_div if strong else jnp.divide

        def rule(j):
            term = x[j]
            if _zero(term):
                return 0
            if _static(term):
                term = jnp.asarray(term, jnp.result_type(divisor))
            return divide(*jnp.broadcast_arrays(term, divisor))

        return self._node(x.n, rule)

    def tail(self, x):
        return self._node(x.n, lambda j: 0 if j == 0 else x[j])

    def zero(self, like):
        return 0

    def head(self, x):
        return self._node(x.n - 1, lambda j: x[j])

    def deriv(self, x):
        return self._node(x.n - 1, lambda j: x[j + 1])

    def integral(self, y0, dy):
        return self._node(dy.n + 1, lambda j: y0 if j == 0 else dy[j - 1])

    def mul(self, a, b, strong: bool = False):
        return self._node(a.n, _leibniz(a, b, lambda u, w: _mul(u, w, strong)))

    def where(self, pred, a, b):
        def rule(j):
            u, w = a[j], b[j]
            if _zero(u) and _zero(w):
                return 0
            return jnp.where(pred, u, w)

        return self._node(a.n, rule)

    # -- fixed points ---------------------------------------------------------------
    def fixed_point(self, inits: Sequence, step: Callable, n: int) -> tuple:
        """The series ``y`` with ``y[i][0] = inits[i]`` and ``y = step(y)`` above
        order 0, resolved order by order (``step``'s order ``k`` reads ``y`` below
        ``k``)."""
        result: list = []

        def placeholder(i: int, y0) -> Terms:
            return self._node(n, lambda j: y0 if j == 0 else result[i][j])

        placeholders = tuple(placeholder(i, y0) for i, y0 in enumerate(inits))
        result.extend(step(placeholders))
        return placeholders

    # -- primitives applied coefficient by coefficient ----------------------------
    def linear(self, eqn, values):
        n = next(v.n for v in values if isinstance(v, Terms))
        floats = [is_float(var.aval) for var in eqn.invars]

        def coefficient(k):
            parts, terms = [], []
            for var, value, is_f in zip(eqn.invars, values, floats):
                if not is_f:
                    parts.append(value)
                    continue
                if isinstance(value, Terms):
                    term = value[k]
                else:
                    term = value if k == 0 else 0
                terms.append(term)
                parts.append(_array(term, var.aval))
            return 0 if all(_zero(t) for t in terms) else bind(eqn, parts)

        if eqn.primitive.multiple_results:
            whole = self._node(n, coefficient)
            count = len(eqn.outvars)
            return [
                self._node(n, lambda k, i=i: 0 if _zero(whole[k]) else whole[k][i])
                for i in range(count)
            ]
        return self._node(n, coefficient)

    def scaled(self, eqn, values):
        n = next(v.n for v in values if isinstance(v, Terms))
        avals = [var.aval for var in eqn.invars]

        def coefficient(k):
            parts = []
            for value, aval in zip(values, avals):
                if not isinstance(value, Terms):
                    parts.append(value)
                    continue
                if _zero(value[k]):
                    return 0
                parts.append(_array(value[k], aval))
            return bind(eqn, parts)

        return self._node(n, coefficient)

    def bilinear(self, eqn, a, b):
        avals = [var.aval for var in eqn.invars]

        def product(u, w):
            return bind(eqn, (_array(u, avals[0]), _array(w, avals[1])))

        return self._node(a.n, _leibniz(a, b, product))

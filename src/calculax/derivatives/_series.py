r"""Truncated Taylor series arithmetic whose traced size does not grow with the order.

A series of length ``n`` is an array ``c`` of shape ``(n, *shape)``: the normalised
coefficients of :math:`y(t) = \sum_{j<n} c_j t^j` (``c_j = y^{(j)}(0) / j!``).
Products are Cauchy products :math:`(ab)_k = \sum_{j \le k} a_{k-j} b_j`, evaluated
as one masked Toeplitz contraction (``O(n**2)`` work, one equation whatever ``n``).

Every operation that is not a polynomial in its operands is the fixed point of a
causal map: a quotient :math:`q = a / b` satisfies
:math:`q_k = (a_k - \sum_{j \ge 1} b_j q_{k-j}) / b_0`, and :math:`y = \exp(x)`
satisfies :math:`y = y_0 + \int y\,x'\,dt`, whose order ``k`` needs ``y`` only to order
``k - 1``. Such an operation reads its previous iterate from a :class:`Store` and
writes the next one; the whole function is evaluated ``n - 1`` times in a
``lax.fori_loop`` (each pass makes one more order exact everywhere, because every
state's order ``k`` depends on previous iterates of order ``< k`` only), so the traced
graph is one evaluation of the function, independent of ``n``, and the arithmetic is
``O(n**3)`` per nonlinear operation (``n <= 13`` in practice: microseconds).

Written by hand: ``jax.experimental.jet`` unrolls the Faa di Bruno recurrences per
order (its graph, hence its compile time, grows with the order) and cannot follow
``custom_jvp`` rules, which ``_series_interpreter`` evaluates in this arithmetic.

References:
    Griewank and Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, ch. 13
    (Taylor arithmetic and the recurrences for the elementary functions).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from .._core.strong import strong_div, strong_mul

__all__ = [
    "Store",
    "cmul",
    "deriv",
    "divide",
    "exp",
    "integral",
    "lift",
    "log",
    "sqrt",
]


@dataclasses.dataclass
class Store:
    """The iterates of every fixed point of one evaluation, in evaluation order.

    ``old is None``: a pass that creates each state from its ``init``. Otherwise
    ``old`` holds the previous pass's iterates, read in the same order (the
    evaluation is deterministic), with their order-0 term replaced by the exact one
    the caller passes in ``init`` (so a first pass from zeros is the same as one
    from ``init``, and no state is ever divided by a zero placeholder).
    """

    old: list | None = None
    new: dict = dataclasses.field(default_factory=dict)
    count: int = 0

    def state(self, init):
        index, self.count = self.count, self.count + 1
        if self.old is None:
            return index, init
        return index, self.old[index].at[0].set(init[0])

    def put(self, index: int, value) -> None:
        self.new[index] = value

    def iterates(self) -> list:
        return [self.new[i] for i in range(self.count)]


def lift(value, n: int):
    """A ``t``-independent value as a series of length ``n`` (zeros above order 0)."""
    value = jnp.asarray(value)
    return jnp.concatenate([value[None], jnp.zeros((n - 1, *value.shape), value.dtype)])


def _pad(c0, n: int):
    return lift(c0, n)


def _orders(n: int, like):
    shape = (n,) + (1,) * (jnp.ndim(like) - 1)
    return jnp.arange(1, n + 1, dtype=jnp.result_type(like)).reshape(shape)


def cmul(a, b, strong: bool = False):
    """Cauchy product of two series of the same length (shapes broadcast).

    ``strong``: products that are exactly zero where either factor is (``strong_mul``,
    so that a zero tangent times an infinite factor stays zero).
    """
    n = a.shape[0]
    k, j = np.indices((n, n))
    mask = (k >= j).reshape((n, n) + (1,) * (max(a.ndim, b.ndim) - 1))
    toeplitz = a[np.clip(k - j, 0, n - 1)]  # T[k, j] = a[k - j]
    factor = b[None]
    if strong:
        toeplitz, factor = jnp.broadcast_arrays(toeplitz, factor)
        terms = strong_mul(toeplitz, factor)
    else:
        terms = toeplitz * factor
    return jnp.sum(jnp.where(mask, terms, 0), axis=1)


def deriv(x):
    """The series of :math:`x'(t)`, one term shorter: ``(j + 1) x_{j+1}``."""
    return x[1:] * _orders(x.shape[0] - 1, x)


def integral(y0, dy):
    """:math:`y_0 + \\int_0^t dy`: the series one term longer than ``dy``."""
    return jnp.concatenate([jnp.asarray(y0, dy.dtype)[None], dy / _orders(len(dy), dy)])


def divide(store: Store, a, b, strong: bool = False):
    """The quotient series ``a / b`` by its fixed point (see the module docstring).

    Stable where the quotient is representable: each order is one division by
    :math:`b_0` of a difference of representable terms, never a power of ``b``.
    """
    n = a.shape[0]
    div = strong_div if strong else jnp.divide
    a, b = jnp.broadcast_arrays(a, b)
    q0 = div(a[0], b[0])
    index, old = store.state(_pad(q0, n))
    if n == 1:
        store.put(index, old)
        return old
    rest = a[1:] - cmul(b - lift(b[0], n), old, strong)[1:]
    new = jnp.concatenate([q0[None], div(rest, b[0])])
    store.put(index, new)
    return new


def exp(store: Store, x):
    """:math:`y = e^x`: :math:`y = e^{x_0} + \\int y\\,x'`."""
    n = x.shape[0]
    y0 = jnp.exp(x[0])
    index, old = store.state(_pad(y0, n))
    new = integral(y0, cmul(old[:-1], deriv(x)))
    store.put(index, new)
    return new


def log(store: Store, x, shift: float = 0.0):
    """:math:`\\log(x + \\text{shift})` as :math:`\\int x' / (x + \\text{shift})`."""
    base = x[:-1] + lift(jnp.asarray(shift, x.dtype), x.shape[0] - 1)
    y0 = jnp.log1p(x[0]) if shift == 1.0 else jnp.log(x[0])
    return integral(y0, divide(store, deriv(x), base))


def sqrt(store: Store, x):
    """:math:`y = \\sqrt{x} = y_0 + d` with :math:`d = (x - x_0 - d^2)/(2y_0)`."""
    n = x.shape[0]
    y0 = jnp.sqrt(x[0])
    index, old = store.state(jnp.zeros_like(x))
    new = (x - lift(x[0], n) - cmul(old, old)) / (2 * y0)
    new = new.at[0].set(0)
    store.put(index, new)
    return new + lift(y0, n)

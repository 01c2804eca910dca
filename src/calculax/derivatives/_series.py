r"""Truncated Taylor series as arrays: the engine whose traced size does not grow with
the order.

A series of length ``n`` along the path :math:`x(t) = x_0 + h t` is an array ``c`` of
shape ``(n, *shape)`` holding the *derivatives* :math:`c_j = y^{(j)}(0)` (not the
normalised :math:`y^{(j)}(0)/j!`: those under- and overflow through the factorial,
:math:`1/35! < \mathrm{tiny}` in float32, where the derivative itself is
representable). Products are Leibniz sums
:math:`(ab)_k = \sum_{j \le k} \binom{k}{j} a_{k-j} b_j`, evaluated as one masked
Toeplitz contraction (``O(n**2)`` work, one equation whatever ``n``); the binomial
weights are exact integers up to :math:`2^{53}` and representable in float32 up to
order 128.

Every operation that is not a polynomial in its operands is the fixed point of a
causal map (``_series_rules``): :math:`y = \exp(x)` satisfies
:math:`y = y_0 + \int y\,x'\,dt`, whose order ``k`` needs ``y`` only to order
``k - 1``. :meth:`Arrays.fixed_point` reads the previous iterate from a
:class:`Store` and writes the next one; the whole function is evaluated ``n - 1``
times in a ``lax.fori_loop`` (each pass makes one more order exact everywhere), so the
traced graph is one evaluation of the function, independent of ``n``, and the
arithmetic is ``O(n**3)`` per nonlinear operation.

Written by hand: ``jax.experimental.jet`` unrolls its recurrences per order (its
graph, hence its compile time, grows with the order), scales by factorials, and cannot
follow ``custom_jvp`` rules, which ``_series_interpreter`` evaluates in this
arithmetic.

References:
    Griewank and Walther, *Evaluating Derivatives*, 2nd ed., SIAM 2008, ch. 13
    (Taylor arithmetic and the recurrences for the elementary functions).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._core.jaxpr import bind
from .._core.strong import strong_div, strong_mul

__all__ = ["Arrays", "Series", "Store", "binomial", "is_float", "lift"]


class Series:
    """A ``t``-dependent value of the array engine: derivatives ``c`` of shape
    ``(n, *shape)``."""

    __slots__ = ("c",)

    def __init__(self, c):
        self.c = c


def is_float(aval) -> bool:
    return jnp.issubdtype(aval.dtype, jnp.inexact)


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


@functools.cache
def binomial(n: int) -> np.ndarray:
    """``B[k, j] = C(k, j)`` for ``j <= k < n`` (``0`` above the diagonal), float64."""
    table = np.zeros((n, n))
    for k in range(n):
        for j in range(k + 1):
            table[k, j] = float(math.comb(k, j))
    return table


def _weights(n: int, dtype, ndim: int):
    # Cast by JAX (XLA rounds to inf beyond the dtype's range, without a warning).
    table = jnp.asarray(binomial(n), dtype)
    return table.reshape((n, n) + (1,) * ndim)


@dataclasses.dataclass
class Arrays:
    """The operations of the rule table (``_series_rules``) on array series."""

    store: Store

    # -- values of the jaxpr environment ---------------------------------------
    def is_series(self, value) -> bool:
        return isinstance(value, Series)

    def raw(self, value):
        return value.c if isinstance(value, Series) else value

    def wrap(self, c) -> Series:
        return Series(c)

    def length(self, x) -> int:
        return x.shape[0]

    def order0(self, x):
        return x[0]

    def lift(self, value, n: int):
        return lift(value, n)

    def cast(self, x, dtype):
        return x.astype(dtype)

    def const(self, value, like, n: int | None = None):
        """``value`` (broadcast to ``like``'s element shape) as a constant series."""
        n = self.length(like) if n is None else n
        element = jnp.broadcast_to(jnp.asarray(value, like.dtype), like.shape[1:])
        return lift(element, n)

    # -- arithmetic ---------------------------------------------------------------
    def add(self, a, b):
        return a + b

    def sub(self, a, b):
        return a - b

    def neg(self, a):
        return -a

    def scale(self, x, factor):
        """Each coefficient times the constant ``factor`` (element-shaped)."""
        return x * jnp.asarray(factor, x.dtype)[None]

    def div_const(self, x, divisor, strong: bool = False):
        divide = strong_div if strong else jnp.divide
        x, divisor = jnp.broadcast_arrays(x, jnp.asarray(divisor)[None])
        return divide(x, divisor)

    def tail(self, x):
        """``x - x_0``: the order-0 term set to zero."""
        return x.at[0].set(0)

    def zero(self, like):
        """An exactly-zero order-0 value (a fixed point's start)."""
        return jnp.zeros_like(like)

    def head(self, x):
        """The series one order shorter."""
        return x[:-1]

    def deriv(self, x):
        """The series of :math:`x'(t)`, one order shorter."""
        return x[1:]

    def integral(self, y0, dy):
        """:math:`y_0 + \\int_0^t dy`: one order longer than ``dy``."""
        y0 = jnp.broadcast_to(jnp.asarray(y0, dy.dtype), dy.shape[1:])
        return jnp.concatenate([y0[None], dy])

    def mul(self, a, b, strong: bool = False):
        """Leibniz product of two series of the same length (shapes broadcast).

        ``strong``: products that are exactly zero where either factor is
        (``strong_mul``: a zero tangent times an infinite factor stays zero).
        """
        n = a.shape[0]
        k, j = np.indices((n, n))
        ndim = max(a.ndim, b.ndim) - 1
        mask = (k >= j).reshape((n, n) + (1,) * ndim)
        toeplitz = a[np.clip(k - j, 0, n - 1)]  # T[k, j] = a[k - j]
        factor = b[None]
        if strong:
            toeplitz, factor = jnp.broadcast_arrays(toeplitz, factor)
            terms = strong_mul(toeplitz, factor)
        else:
            terms = toeplitz * factor
        terms = terms * _weights(n, terms.dtype, ndim)
        return jnp.sum(jnp.where(mask, terms, 0), axis=1)

    def where(self, pred, a, b):
        return jnp.where(pred[None], a, b)

    # -- fixed points ---------------------------------------------------------------
    def fixed_point(self, inits: Sequence, step: Callable, n: int) -> tuple:
        """The series ``y`` (a tuple) with ``y[i][0] = inits[i]`` and
        ``y = step(y)`` above order 0; ``step``'s order ``k`` must read ``y`` below
        order ``k`` only. One iteration per evaluation of the function."""
        slots = [self.store.state(lift(y0, n)) for y0 in inits]
        new = step(tuple(old for _, old in slots))
        out = []
        for (index, old), value, y0 in zip(slots, new, inits):
            value = value.astype(old.dtype).at[0].set(jnp.asarray(y0, old.dtype))
            self.store.put(index, value)
            out.append(value)
        return tuple(out)

    # -- primitives applied coefficient by coefficient ----------------------------
    def linear(self, eqn, values):
        """A primitive linear in all its floating operands together (constants are
        lifted): applied to each coefficient."""
        n = next(v.c.shape[0] for v in values if isinstance(v, Series))
        floats = [is_float(v.aval) for v in eqn.invars]
        arrays = [
            v.c if isinstance(v, Series) else (lift(v, n) if f else v)
            for v, f in zip(values, floats)
        ]
        axes = [
            0 if isinstance(v, Series) or f else None for v, f in zip(values, floats)
        ]
        out = jax.vmap(lambda *a: bind(eqn, a), in_axes=axes)(*arrays)
        if eqn.primitive.multiple_results:
            return [Series(o) for o in out]
        return Series(out)

    def scaled(self, eqn, values):
        """A primitive linear in its one series operand, the others constants."""
        axes = [0 if isinstance(v, Series) else None for v in values]
        arrays = [v.c if isinstance(v, Series) else v for v in values]
        return Series(jax.vmap(lambda *a: bind(eqn, a), in_axes=axes)(*arrays))

    def bilinear(self, eqn, a, b):
        """A primitive linear in each of two series operands (``dot_general``)."""
        n = a.shape[0]
        one = lambda u, v: bind(eqn, (u, v))  # noqa: E731
        pairs = jax.vmap(jax.vmap(one, (None, 0)), (0, None))(a, b)  # P[i, j]
        i, j, k = np.indices((n, n, n))
        weights = np.where(i + j == k, binomial(n)[k, np.minimum(i, k)], 0.0)
        mask = jnp.asarray(weights, pairs.dtype)
        return jnp.einsum("ijk,ij...->k...", mask, pairs)

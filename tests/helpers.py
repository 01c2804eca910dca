"""Reference machinery shared by every test: mpmath truth, sweeps and tolerances.

Truth. ``truth_partial(mp_fn, point, orders)`` is the mixed partial derivative
:math:`\\partial^{k_1}_{x_1}\\cdots\\partial^{k_n}_{x_n} f` at ``point`` (exact binary
floats), computed with mpmath by central differences whose step is ``2**-40`` times
the local length scale (``min(1, |x_i|, |x_i - s|)`` over the singular points ``s``),
in a working precision that grows with the order and with the exponent gap between
``x_i`` and the step, so that ~50 significant digits survive. ``tests/test_helpers.py``
checks it against closed forms at extreme arguments.

Tolerance, set once. A computed derivative ``y`` of order ``k`` in dtype ``d`` is
*right* when

    |y - f_k(x)| <= ULPS[k] * eps(d) * (|f_k(x)| + sum_i |x_i| |d f_k / d x_i (x)|)

i.e. within ``ULPS[k]`` ulp of the truth, or of the truth at an input perturbed by
that many ulp (the mixed forward/backward error, which only matters near zeros of
``f_k``). ``ULPS = {0: 4, 1: 32, 2: 64, 3: 128, 4: 256}``.

Representable. A truth is *representable* in ``d`` when it is ``0`` or its magnitude is
in ``[tiny(d), max(d)]`` (normal numbers: XLA on CPU flushes subnormals to zero).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import mpmath
import numpy as np

ULPS = {0: 4, 1: 32, 2: 64, 3: 128, 4: 256}
DTYPES = (np.float32, np.float64)
STEP_BITS = 40
DIGITS = 50


def eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


def _length_scale(x: mpmath.mpf, singular: Sequence[float]) -> mpmath.mpf:
    scale = mpmath.mpf(1)
    for s in (0.0, *singular):
        distance = abs(x - s)
        if distance != 0:
            scale = min(scale, distance)
    return scale


def _partial(f, point, orders, singular, variable):
    """Partial derivative of ``f`` in variables ``variable..`` at ``point`` (mp values)."""
    if variable == len(point):
        return f(*point)
    k = orders[variable]
    if k == 0:
        return _partial(f, point, orders, singular, variable + 1)
    x = point[variable]
    h = _length_scale(x, singular) * mpmath.mpf(2) ** (-STEP_BITS)
    gap = max(0, int(mpmath.mag(x)) - int(mpmath.mag(h))) if x != 0 else 0
    extra = (k + 1) * (STEP_BITS + gap + 8)
    with mpmath.workprec(mpmath.mp.prec + extra):
        total = mpmath.mpf(0)
        for j in range(k + 1):
            shifted = list(point)
            shifted[variable] = x + (k - 2 * j) * h
            coefficient = (-1) ** j * mpmath.binomial(k, j)
            total += coefficient * _partial(f, shifted, orders, singular, variable + 1)
        return total / (2 * h) ** k


def truth_partial(
    mp_fn: Callable, point: Sequence[float], orders: Sequence[int], singular=()
) -> mpmath.mpf:
    """High-precision mixed partial of ``mp_fn`` at ``point`` (see module docstring)."""
    with mpmath.workdps(DIGITS + 10):
        mp_point = [mpmath.mpf(float(x)) for x in point]
        value = _partial(mp_fn, mp_point, list(orders), singular, 0)
        if isinstance(value, mpmath.mpc):
            if abs(value.imag) > abs(value) * mpmath.mpf(10) ** (-DIGITS // 2):
                return mpmath.nan
            value = value.real
        return +value


def representable(value: mpmath.mpf, dtype) -> bool:
    info = np.finfo(dtype)
    if not mpmath.isfinite(value):
        return False
    return value == 0 or float(info.tiny) <= abs(value) <= float(info.max)


@dataclasses.dataclass
class Classified:
    """Outcome of one sweep: counts per class and the failing points."""

    right: int = 0
    representable: int = 0
    failures: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.right == self.representable


def classify(computed: float, truth, slope: float, point, dtype, order: int) -> str:
    """``right``, ``inaccurate``, ``inf``, ``zero``, ``nan`` (truth representable)."""
    if np.isnan(computed):
        return "nan"
    if np.isinf(computed):
        return "inf"
    error = abs(mpmath.mpf(float(computed)) - truth)
    scale = abs(truth) + slope
    if error <= ULPS[order] * eps(dtype) * scale:
        return "right"
    return "zero" if computed == 0 else "inaccurate"


def derivative_function(fn: Callable, orders: Sequence[int], mode: str = "rev"):
    """``jit(vmap(d^k f / dx^orders))`` for an element-wise ``fn`` of ``len(orders)`` args.

    ``mode='rev'`` nests ``jax.grad``; ``mode='fwd'`` nests forward-mode ``jax.jvp``.
    """
    arity = len(orders)
    g = fn
    for variable, k in enumerate(orders):
        for _ in range(k):
            g = _differentiate(g, variable, arity, mode)
    return jax.jit(jax.vmap(g))


def _differentiate(g, variable, arity, mode):
    if mode == "rev":
        return jax.grad(g, argnums=variable)

    def forward(*args):
        tangents = [jnp.zeros_like(a) for a in args]
        tangents[variable] = jnp.ones_like(args[variable])
        return jax.jvp(g, args, tangents)[1]

    return forward


@functools.cache
def magnitudes(dtype, per_decade: float = 1.0) -> np.ndarray:
    """Log-spaced positive magnitudes from below ``tiny`` to ``max`` of ``dtype``."""
    info = np.finfo(dtype)
    low = np.floor(np.log10(float(info.tiny))) - 1
    high = np.floor(np.log10(float(info.max)))
    count = int((high - low) * per_decade) + 1
    with np.errstate(over="ignore", under="ignore"):
        values = np.logspace(low, high, count).astype(dtype)
    return values[np.isfinite(values)]


def sweep(
    jax_fn: Callable,
    mp_fn: Callable,
    points: np.ndarray,
    orders: Sequence[int],
    dtype,
    *,
    singular=(),
    mode: str = "rev",
) -> Classified:
    """Compare ``d^orders jax_fn`` with the mpmath truth at each row of ``points``."""
    points = np.asarray(points, dtype=dtype).reshape(len(points), len(orders))
    computed = np.asarray(
        derivative_function(jax_fn, orders, mode)(*[jnp.asarray(c) for c in points.T])
    )
    order = int(sum(orders))
    result = Classified()
    for row, value in zip(points, computed):
        truth = truth_partial(mp_fn, row, orders, singular)
        if not representable(truth, dtype):
            continue
        slope = sum(
            abs(row[i]) * abs(truth_partial(mp_fn, row, _bump(orders, i), singular))
            for i in range(len(orders))
            if row[i] != 0
        )
        result.representable += 1
        label = classify(float(value), truth, slope, row, dtype, order)
        if label == "right":
            result.right += 1
        else:
            result.failures.append((tuple(float(x) for x in row), float(value),
                                    float(truth), label))
    return result


def _bump(orders, i):
    bumped = list(orders)
    bumped[i] += 1
    return bumped


def partial_orders(arity: int, order: int) -> list[tuple[int, ...]]:
    """Every multi-index of total ``order`` over ``arity`` variables."""
    return [
        combo
        for combo in itertools.product(range(order + 1), repeat=arity)
        if sum(combo) == order
    ]

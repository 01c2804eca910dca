"""Reference machinery shared by every test: mpmath truth, sweeps and tolerances.

Truth. ``truth_partial(mp_fn, point, orders)`` is the mixed partial derivative
:math:`\\partial^{k_1}_{x_1}\\cdots\\partial^{k_n}_{x_n} f` at ``point`` (exact binary
floats), computed with mpmath by central differences whose step is ``2**-40`` times
the local length scale (``min(1, |x_i|, |x_i - s|)`` over the function's singular
points ``s``),
in a working precision that grows with the order and with the exponent gap between
``x_i`` and the step, so that rounding costs nothing; the truncation error is
``~2**-80`` relative to the neighbouring derivatives. A point that fails is judged
again against the refined truth (Richardson extrapolation over two steps, ``0`` when
below the resolution of the differences), so true zeros of a derivative are exact.
Where differencing ``mp_fn`` cannot resolve a derivative, a test passes a closed form
instead (``sweep(partial=...)``).

Tolerance, set once. A computed derivative ``y`` of order ``k`` in dtype ``d`` is
*right* when

    |y - f_k(x)| <= ULPS[k] * eps(d) * (|f_k(x)| + sum_i |x_i| |d f_k / d x_i (x)|)

i.e. within ``ULPS[k]`` ulp of the truth, or of the truth at an input perturbed by
that many ulp (the mixed forward/backward error, which only matters near zeros of
``f_k``). ``ULPS = {0: 4, 1: 32, 2: 64, 3: 128, 4: 256}``. Functions of differences
(``logaddexp``, ``logsumexp``, ``softmax``) use ``|x_i| + 1`` (see ``sweep``).

Inputs. Subnormal inputs are replaced by zero before the truth is computed: XLA on CPU
flushes them on entry, so the function really is evaluated at ``0``.

Representable. A truth is *representable* in ``d`` when it is ``0`` or its magnitude is
in ``[tiny(d), max(d)]`` (normal numbers: XLA on CPU flushes subnormals to zero).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import mpmath
import numpy as np

from calculax._core import tolerance

ULPS = tolerance.ULPS
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


def _partial(f, point, orders, singular, variable, refine=False):
    """Partial derivative of ``f`` in variables ``variable..`` at ``point`` (mpf).

    ``refine``: Richardson-extrapolate two steps (``2**-STEP_BITS`` and ``2**-8`` of
    it), removing the ``O(h**2)`` truncation error, and return ``0`` when the result
    is below the resolution of the differences (a true zero of the derivative, which
    the plain central difference reports as ``~2**-80`` times the neighbouring
    derivatives).
    """
    if variable == len(point):
        return f(*point)
    if orders[variable] == 0:
        return _partial(f, point, orders, singular, variable + 1, refine)
    coarse = _difference(f, point, orders, singular, variable, STEP_BITS, refine)
    if not refine or not mpmath.isfinite(coarse):
        return coarse
    fine = _difference(f, point, orders, singular, variable, STEP_BITS + 8, refine)
    extrapolated = fine + (fine - coarse) / (2**16 - 1)
    if abs(extrapolated) < max(abs(coarse), abs(fine)) * mpmath.mpf(2) ** -60:
        return mpmath.mpf(0)
    return extrapolated


def _difference(f, point, orders, singular, variable, step_bits, refine):
    k = orders[variable]
    x = point[variable]
    h = _length_scale(x, singular) * mpmath.mpf(2) ** (-step_bits)
    gap = max(0, int(mpmath.mag(x)) - int(mpmath.mag(h))) if x != 0 else 0
    # Bits lost: k differences at relative step 2**-step_bits, plus the scale ratio
    # when the step is set by a nearby singular point, plus |x| against the step.
    scale_bits = max(0, -int(mpmath.mag(h))) - step_bits
    extra = (k + 1) * (step_bits + 8 + scale_bits + gap)
    for attempt in range(4):
        # Cancellation below the working precision: retry with twice the extra bits.
        with mpmath.workprec(mpmath.mp.prec + extra * 2**attempt):
            terms = []
            for j in range(k + 1):
                shifted = list(point)
                shifted[variable] = x + (k - 2 * j) * h
                coefficient = (-1) ** j * math.comb(k, j)
                value = _partial(f, shifted, orders, singular, variable + 1, refine)
                terms.append(coefficient * value)
            total = mpmath.fsum(terms)
            if not mpmath.isfinite(total):
                return total  # outside the domain (nan) or infinite: no retry
            largest = max(abs(t) for t in terms)
            if abs(total) > largest * mpmath.mpf(2) ** (64 - mpmath.mp.prec):
                return total / (2 * h) ** k
    # Still cancelling at 8x the precision: the derivative is 0 (to ~1e-1000 relative).
    return mpmath.mpf(0)


def truth_partial(
    mp_fn: Callable,
    point: Sequence[float],
    orders: Sequence[int],
    singular=(),
    refine: bool = False,
) -> mpmath.mpf:
    """High-precision mixed partial of ``mp_fn`` at ``point`` (see module docstring).

    Memoised: a sweep of order ``k`` needs the partials of order ``k + 1`` for its
    backward-error term, which are the truths of the next order's sweep.
    """
    return _cached_truth(
        mp_fn,
        tuple(float(x) for x in point),
        tuple(int(k) for k in orders),
        tuple(singular),
        refine,
    )


@functools.lru_cache(maxsize=1 << 16)
def _cached_truth(mp_fn, point, orders, singular, refine) -> mpmath.mpf:
    with mpmath.workdps(DIGITS + 10):
        mp_point = [mpmath.mpf(x) for x in point]
        value = _partial(mp_fn, mp_point, list(orders), singular, 0, refine)
        if isinstance(value, mpmath.mpc):
            if abs(value.imag) > abs(value) * mpmath.mpf(10) ** (-DIGITS // 2):
                return mpmath.nan
            value = value.real
        return +value


EDGE = 2.0**10


def representable(value: mpmath.mpf, dtype, margin: float = 1.0) -> bool:
    """``value`` is 0 or a normal ``dtype`` number, ``margin`` from the edges."""
    return tolerance.representable(value, dtype, margin)


@dataclasses.dataclass
class Classified:
    """Outcome of one sweep: counts per class and the failing points."""

    right: int = 0
    representable: int = 0
    failures: list = dataclasses.field(default_factory=list)
    edge: int = 0
    edge_nan: int = 0

    @property
    def ok(self) -> bool:
        return self.right == self.representable and self.edge_nan == 0


def classify(computed: float, truth, slope: float, point, dtype, order: int) -> str:
    """``right``, ``inaccurate``, ``inf``, ``zero``, ``nan`` (truth representable):
    the library's one definition, ``calculax._core.tolerance.classify``."""
    return tolerance.classify(float(computed), truth, dtype, order, slope)


def derivative_function(fn: Callable, orders: Sequence[int], mode: str = "rev"):
    """``jit(vmap(d^k f / dx^orders))`` for element-wise ``fn`` of ``len(orders)`` args.

    ``mode='rev'`` nests ``jax.grad``; ``mode='fwd'`` nests forward-mode ``jax.jvp``.
    Built once per ``(fn, orders, mode)``, so sweeps and hypothesis examples reuse
    the compiled function.
    """
    return _derivative_function(fn, tuple(int(k) for k in orders), mode)


@functools.cache
def _derivative_function(fn: Callable, orders: tuple[int, ...], mode: str):
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
        return jax.jvp(g, tuple(args), tuple(tangents))[1]

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
    reference: Callable | None = None,
    skip: Callable | None = None,
    offset: float = 0.0,
    partial: Callable | None = None,
) -> Classified:
    """Compare ``d^orders jax_fn`` with the mpmath truth at each row of ``points``.

    Rows where ``reference`` (the ``jax.numpy`` function) is ``nan`` (outside the
    domain), or where ``skip(row)`` is true (points of non-differentiability, whose
    conventions are tested separately), are left out. A truth within a factor
    ``EDGE = 2**10`` of the underflow or overflow threshold counts as an *edge* point:
    there, a derivative of order ``k`` is a sum of terms that may each be subnormal
    (flushed to zero by XLA on CPU) or overflow; edge points must not be ``nan`` and
    are reported separately, not counted as right or wrong.

    ``offset`` adds an absolute input perturbation of ``offset`` to the backward-error
    term (``|x_i| + offset``): for functions of differences such as ``logaddexp``,
    whose derivatives are evaluated at ``O(1)`` scale whatever ``|x|`` is.

    ``partial(row, orders)``, if given, replaces ``truth_partial(mp_fn, row, orders,
    singular)``: a closed-form truth where differencing ``mp_fn`` cannot resolve the
    derivative (e.g. ``logaddexp`` of arguments ``1e100`` apart).
    """
    if partial is None:

        def partial(row, index, refine=False):
            return truth_partial(mp_fn, row, index, singular, refine)

    else:
        closed_form = partial

        def partial(row, index, refine=False):
            return closed_form(row, index)

    points = flush_subnormals(np.asarray(points, dtype=dtype)).reshape(
        len(points), len(orders)
    )
    computed = np.asarray(
        derivative_function(jax_fn, orders, mode)(*[jnp.asarray(c) for c in points.T])
    )
    result = Classified()
    if reference is not None:
        primal = np.asarray(_vectorized(reference)(*[jnp.asarray(c) for c in points.T]))
    for index, (row, value) in enumerate(zip(points, computed)):
        if reference is not None and np.isnan(primal[index]):
            continue
        if skip is not None and skip(row):
            continue
        truth = partial(row, orders)
        label = _judge(value, truth, row, orders, partial, dtype, offset)
        if label not in ("right", "skip", "edge"):
            # A failure is judged again against the refined (extrapolated) truth.
            truth = partial(row, orders, refine=True)
            label = _judge(value, truth, row, orders, partial, dtype, offset)
        if label == "skip":
            continue
        if label == "edge":
            result.edge += 1
            result.edge_nan += bool(np.isnan(value))
            continue
        result.representable += 1
        if label == "right":
            result.right += 1
        else:
            result.failures.append(
                (tuple(float(x) for x in row), float(value), float(truth), label)
            )
    return result


def _judge(value, truth, row, orders, partial, dtype, offset) -> str:
    """``classify`` or ``skip`` (truth not representable) or ``edge``."""
    if not representable(truth, dtype):
        return "skip"
    if not representable(truth, dtype, EDGE):
        return "edge"
    order = int(sum(orders))
    label = classify(float(value), truth, 0.0, row, dtype, order)
    if label in ("inaccurate", "zero"):
        # Only then is the backward-error term (partials of order k + 1) needed.
        slope = sum(
            (abs(row[i]) + offset) * abs(partial(row, _bump(orders, i)))
            for i in range(len(orders))
            if row[i] != 0 or offset
        )
        label = classify(float(value), truth, slope, row, dtype, order)
    return label


@functools.cache
def _stirling2(n: int, k: int) -> int:
    return int(mpmath.stirling2(n, k))


def sigmoid_derivative(d: float | mpmath.mpf, n: int) -> mpmath.mpf:
    """:math:`\\sigma^{(n)}(d)` in closed form, :math:`\\sigma(d) = 1/(1+e^{-d})`.

    :math:`\\sigma^{(n)} = \\sum_{k=0}^{n} (-1)^k k!\\, S(n+1, k+1)\\, \\sigma^{k+1}`
    (Stirling numbers of the second kind), evaluated at :math:`-|d|` (where
    :math:`\\sigma \\le 1/2`, so the sum does not cancel) and mapped back by
    :math:`\\sigma^{(n)}(d) = (-1)^{n+1} \\sigma^{(n)}(-d)` for :math:`n \\ge 1`.
    """
    if not isinstance(d, mpmath.mpf):
        d = mpmath.mpf(float(d))
    with mpmath.workdps(DIGITS + 10):
        if n == 0:
            return 1 / (1 + mpmath.exp(-d))
        s = 1 / (1 + mpmath.exp(abs(d)))
        total = mpmath.fsum(
            (-1) ** k * math.factorial(k) * _stirling2(n + 1, k + 1) * s ** (k + 1)
            for k in range(n + 1)
        )
        return total if d <= 0 else (-1) ** (n + 1) * total


@functools.cache
def _vectorized(fn: Callable):
    return jax.jit(jax.vmap(fn))


def flush_subnormals(points: np.ndarray) -> np.ndarray:
    """Replace subnormal inputs by (signed) zero, as XLA on CPU does on entry."""
    tiny = np.finfo(points.dtype).tiny
    return np.where(np.abs(points) < tiny, points * 0, points).astype(points.dtype)


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


@contextlib.contextmanager
def default_precision():
    """Run the body in JAX's default 32-bit mode, as a user's script runs.

    On leaving, JAX's caches are cleared: a quadax integral traced in 32-bit mode
    leaves a cached trace that later 64-bit calls in the same process reuse (they
    come out with float32 accuracy and status ``roundoff``; README, Known
    limitations), so a 64-bit test running after this one on the same worker would
    see it.
    """
    try:
        with jax.enable_x64(False):
            yield
    finally:
        jax.clear_caches()

"""``calculax.numpy.special``: values, derivatives of orders 1-4, conventions.

Values agree with ``jax.scipy.special`` to 2 ulp or are closer to the mpmath truth.
Element-wise functions are swept with ``helpers.sweep`` over the whole exponent range
of float32 and float64 (both signs, plus domain points), forward and reverse mode.
``xlogy``/``xlog1py`` and the reductions are checked through their full derivative
tensors (every mixed partial of orders 1-4, ``jacrev`` and ``jacfwd`` nests) against
the mpmath truth on small grids and vectors, including saturated and ``-inf`` entries.
Tolerances are ``helpers.ULPS`` throughout.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy.special as jss
import mpmath
import numpy as np
import pytest

from calculax.numpy import special
from tests import helpers

ORDERS = (1, 2, 3, 4)
MODES = ("rev", "fwd")
PER_DECADE = {np.float32: 1.0, np.float64: 0.5}
NEG_INF = float("-inf")


# --- mpmath truths ------------------------------------------------------------------


def memo(function: Callable) -> Callable:
    """Cache an mpmath function per (arguments, precision).

    The forward and reverse sweeps, both dtypes (at exactly representable points) and
    successive orders (order ``k``'s slope is order ``k + 1``) share their
    finite-difference evaluations.
    """
    cache = {}

    @functools.wraps(function)
    def cached(*args):
        key = (args, mpmath.mp.prec)
        if key not in cache:
            cache[key] = function(*args)
        return cache[key]

    return cached


def mp_exp(x):
    """``exp``; below ``-64`` to a fixed 600 bits (relative).

    A tail term's finite differences need ~400 bits relative to itself, not the
    thousands of bits ``truth_partial`` carries for ``|x| ~ 1e300``, at which
    argument reduction makes ``exp`` slow.
    """
    if x < -64:
        with mpmath.workprec(600):
            return +mpmath.exp(x)
    return mpmath.exp(x)


# Beyond |x| = 800, terms of relative size exp(-800) < 2**-1154 are dropped: they
# change no derivative by more than the smallest float64 subnormal, and keeping them
# makes truth_partial retry at 8x its precision to resolve them.
FAR = 800


@memo
def mp_expit(x):
    if x > FAR:
        return mpmath.mpf(1)
    if x >= 0:
        return 1 / (1 + mp_exp(-x))
    e = mp_exp(x)
    return e / (1 + e)


@memo
def mp_logit(p):
    if not 0 < p < 1:
        return mpmath.nan
    return mpmath.log(p) - mpmath.log1p(-p)


@memo
def mp_entr(x):
    return -x * mp_log(x)  # x > 0; x <= 0 is tested apart (conventions)


_BASE_LOGS: dict = {}


def mp_log(y):
    """``log y`` for ``y > 0``: a cached log of ``y``'s mantissa rounded to 32 bits,
    plus a ``log1p`` series for the rest (the points of one finite-difference stencil
    share the cached log, which mpmath would otherwise recompute by AGM at thousands
    of bits)."""
    mantissa, exponent = mpmath.frexp(y)
    base = mpmath.ldexp(mpmath.floor(mantissa * 2**32), -32)
    cached = _BASE_LOGS.get(base)
    if cached is None or cached[0] < mpmath.mp.prec:
        with mpmath.workprec(2 * mpmath.mp.prec):
            _BASE_LOGS[base] = cached = (2 * mpmath.mp.prec, mpmath.log(base))
    d = (mantissa - base) / base  # in [0, 2**-31)
    series, power, n = mpmath.mpf(0), d, 1
    while power > mpmath.eps * (abs(series) + mpmath.eps):
        series += power / n if n % 2 else -power / n
        power *= d
        n += 1
    return cached[1] + exponent * mpmath.ln2 + series


def _erfcx_series(z):
    """Asymptotic series; used where its smallest term is below the precision."""
    w = 1 / (2 * z * z)
    term, total, k = mpmath.mpf(1), mpmath.mpf(1), 0
    while abs(term) > mpmath.eps * abs(total):
        k += 1
        term *= -(2 * k - 1) * w
        total += term
    return total / (z * mpmath.sqrt(mpmath.pi))


def _series_converges(z) -> bool:
    return z > 0 and z * z > 0.7 * mpmath.mp.prec + 64


@memo
def mp_erfcx(z):
    if z < -40:
        return mpmath.nan  # erfcx(z) > exp(1600): beyond every float dtype
    if _series_converges(z):
        return _erfcx_series(z)  # also: mpmath.erfc fails for |z| > ~1e154
    return mpmath.erfc(z) * mpmath.exp(z * z)


@memo
def mp_log_ndtr(x):
    if x > 40:
        return mpmath.nan  # every derivative < exp(-800): below every float dtype
    z = -x / mpmath.sqrt(2)
    if x >= 0:
        return mpmath.log1p(-mp_erfcx(-z) * mpmath.exp(-x * x / 2) / 2)
    if x < -(2.0**350):
        # -log(-x) - log(2 pi)/2 + O(1/x**2) is dropped: it changes the first two
        # derivatives by < 2**-690 relative, and the others are < 2**-1049 (below
        # float64's normal range, where they round to 0).
        return -x * x / 2
    if _series_converges(z):
        log_erfcx = mp_log(_erfcx_series(z) * z * mpmath.sqrt(mpmath.pi)) - mp_log(z)
        return log_erfcx - mpmath.log(2 * mpmath.sqrt(mpmath.pi)) - x * x / 2
    return mp_log(mpmath.erfc(z)) - mpmath.ln2


mp_log1p = memo(mpmath.log1p)  # shared by the points of an x-stencil


@memo
def mp_xlogy(x, y):
    return x * mp_log(y) if y > 0 else mpmath.nan


@memo
def mp_xlog1py(x, y):
    return x * mp_log1p(y) if y > -1 else mpmath.nan


def _mp_lse(*x):
    return mpmath.log(mpmath.fsum(mp_exp(v) for v in x))


@memo
def mp_logsumexp(*x):
    return _mp_lse(*x)


@functools.cache
def mp_softmax(i: int) -> Callable:
    return memo(lambda *x: mpmath.exp(x[i] - _mp_lse(*x)))


@functools.cache
def mp_log_softmax(i: int) -> Callable:
    return memo(lambda *x: x[i] - _mp_lse(*x))


# --- element-wise cases -------------------------------------------------------------


TAIL = (0.5, 1, 2, 5, 9, 17, 20, 30, 40, 60, 88, 100, 300, 700)


@dataclasses.dataclass(frozen=True)
class Unary:
    name: str
    function: Callable
    reference: Callable  # jax.scipy.special
    truth: Callable  # mpmath
    extra: tuple = ()  # domain points, both signs
    singular: tuple = ()
    domain: Callable | None = None  # points replacing the log-spaced line

    def points(self, dtype) -> np.ndarray:
        """Log-spaced line, both signs, plus ``extra``; the float64 points include the
        float32 ones (so the two sweeps share their mpmath evaluations)."""
        line = self.domain or _line
        if np.dtype(dtype) == np.float32:
            return line(np.float32, self.extra)
        both = np.concatenate(
            [line(np.float64, self.extra), line(np.float32, self.extra)]
        )
        return np.unique(both.astype(np.float64))


def _line(dtype, extra) -> np.ndarray:
    m = np.concatenate([helpers.magnitudes(dtype, PER_DECADE[dtype]), extra])
    return np.unique(np.concatenate([-m, [0.0], m]).astype(dtype))


def _normal_magnitudes(dtype) -> np.ndarray:
    m = helpers.magnitudes(dtype, PER_DECADE[dtype]).astype(dtype)
    return m[m >= np.finfo(dtype).tiny]  # subnormals would be flushed to 0


def _positive_line(dtype, extra=()) -> np.ndarray:
    """``entr``: x > 0 (0 and x < 0 are conventions), with points around 1/e."""
    around = np.array([0.3, 0.36787944, 0.37, 0.5, 1, 2, 3], dtype)
    return np.unique(np.concatenate([_normal_magnitudes(dtype), around]))


def _probabilities(dtype, extra=()) -> np.ndarray:
    """Log-spaced ``p`` up to 1/2, ``1 - p`` down to 1/2, points around 1/2."""
    m = _normal_magnitudes(dtype)
    m = m[m < 0.5]
    half = dtype(0.5) + np.array([-3, -2, -1, 1, 2, 3], dtype) * np.finfo(dtype).eps
    extra = np.array([0.2, 0.25, 0.3, 0.45, 0.5, 0.55, 0.7, 0.75, 0.8], dtype)
    points = np.concatenate([m, dtype(1) - m, half, extra]).astype(dtype)
    return np.unique(points[(points > 0) & (points < 1)])


UNARY = [
    Unary("expit", special.expit, jss.expit, mp_expit, extra=TAIL),
    Unary(
        "logit",
        special.logit,
        jss.logit,
        mp_logit,
        singular=(1.0,),
        domain=_probabilities,
    ),
    Unary("entr", special.entr, jss.entr, mp_entr, domain=_positive_line),
    Unary(
        "erfcx",
        special.erfcx,
        jss.erfcx,
        mp_erfcx,
        extra=(0.74, 0.75, 0.76, 0.99, 1, 1.01, 1.5, 2, 3, 5, 9.35, 9.42, 20, 26.6),
    ),
    Unary(
        "log_ndtr",
        special.log_ndtr,
        jss.log_ndtr,
        mp_log_ndtr,
        extra=(0.5, 1, 2, 3.7, 5, 7.57, 8, 20, 37, 40),
    ),
]
UNARY_IDS = [case.name for case in UNARY]


def assert_sweep(result: helpers.Classified, label: str) -> None:
    print(f"{label}: {result.right}/{result.representable} right")
    assert result.ok, f"{label}: {result.right}/{result.representable} right; " + (
        "failures (point, computed, truth, class): "
        + "; ".join(str(f) for f in result.failures[:12])
    )


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", UNARY, ids=UNARY_IDS)
def test_derivative_sweep(case: Unary, dtype, mode: str, order: int):
    points = case.points(dtype)[:, None]
    result = helpers.sweep(
        case.function,
        case.truth,
        points,
        (order,),
        dtype,
        singular=case.singular,
        mode=mode,
    )
    assert_sweep(result, f"{case.name} {np.dtype(dtype)} {mode} order {order}")


def primal_ok(ours: float, jax_value: float, truth, dtype) -> bool:
    """Within 2 ulp of JAX, or at least as close to the truth (nan/inf must match)."""
    if ours == jax_value or (np.isnan(ours) and np.isnan(jax_value)):
        return True
    if abs(ours - jax_value) <= 2 * np.spacing(np.abs(dtype(jax_value))):
        return True
    if not mpmath.isfinite(truth) or not np.isfinite(ours):
        return False
    return abs(mpmath.mpf(ours) - truth) <= abs(mpmath.mpf(float(jax_value)) - truth)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", UNARY, ids=UNARY_IDS)
def test_primal_matches_jax_or_is_closer(case: Unary, dtype):
    points = helpers.flush_subnormals(case.points(dtype))
    ours = np.asarray(jax.jit(case.function)(points))
    theirs = np.asarray(jax.jit(case.reference)(points))
    assert ours.dtype == theirs.dtype == np.dtype(dtype)
    bad = []
    with mpmath.workdps(helpers.DIGITS):
        for x, a, b in zip(points, ours, theirs):
            truth = case.truth(mpmath.mpf(float(x)))
            if not primal_ok(float(a), float(b), truth, dtype):
                bad.append((float(x), float(a), float(b), mpmath.nstr(truth, 10)))
    assert not bad, f"(x, ours, jax, truth): {bad[:10]}"


# --- derivative tensors: xlogy, xlog1py and the reductions ---------------------------


@functools.cache
def tensor_function(function: Callable, max_order: int = 4):
    """``jit(vmap(v -> {(mode, k): D^k function(v)}))``, ``jacrev``/``jacfwd`` nests."""

    def tensors(v):
        out = {}
        for mode, jacobian in (("rev", jax.jacrev), ("fwd", jax.jacfwd)):
            g = function
            for k in range(1, max_order + 1):
                g = jacobian(g)
                out[(mode, k)] = g(v)
        return out

    return jax.jit(jax.vmap(tensors))


def truth_row(row: np.ndarray) -> np.ndarray:
    """Points for mpmath: ``-inf`` entries become ``-2**20`` (``exp`` of it is 0 to
    far beyond 50 digits)."""
    return np.where(np.isneginf(row), -(2.0**20), row)


def check_tensors(
    function: Callable,
    truths: list[Callable],
    points: np.ndarray,
    dtype,
    *,
    offset: float = 0.0,
    orders=ORDERS,
    singular=(),
) -> dict:
    """Every mixed partial of ``function`` (``R^n -> R^m``) against mpmath.

    ``truths[i]`` is the mpmath function of output ``i``. Classified as
    ``helpers.sweep`` does (same tolerance, representability, edge rule and
    ``offset``); also asserts that no entry is ``nan`` where the point is finite.
    Returns ``{(mode, order): helpers.Classified}``.
    """
    with np.errstate(invalid="ignore"):  # -inf * 0 inside flush_subnormals
        points = helpers.flush_subnormals(np.asarray(points, dtype=dtype))
    computed = jax.tree.map(np.asarray, tensor_function(function)(points))
    n = points.shape[1]
    results = {}
    for mode in MODES:
        for order in orders:
            result = helpers.Classified()
            values = computed[(mode, order)].reshape(
                len(points), len(truths), *(n,) * order
            )
            for row, value in zip(points, values):
                mp_row = truth_row(row)
                for out, truth in enumerate(truths):
                    for index in helpers.partial_orders(n, order):
                        entry = tuple(i for i in range(n) for _ in range(index[i]))
                        _classify_entry(
                            result,
                            float(value[(out, *entry)]),
                            truth,
                            mp_row,
                            index,
                            dtype,
                            offset,
                            singular,
                        )
            results[(mode, order)] = result
    return results


def _classify_entry(result, value, truth_fn, row, index, dtype, offset, singular):
    truth = helpers.truth_partial(truth_fn, row, index, singular)
    if not helpers.representable(truth, dtype):
        return
    if not helpers.representable(truth, dtype, helpers.EDGE):
        result.edge += 1
        result.edge_nan += bool(np.isnan(value))
        return
    slope = sum(
        (abs(row[i]) + offset)
        * abs(helpers.truth_partial(truth_fn, row, helpers._bump(index, i), singular))
        for i in range(len(index))
        if row[i] != 0 or offset
    )
    result.representable += 1
    label = helpers.classify(value, truth, slope, row, dtype, sum(index))
    if label == "right":
        result.right += 1
    else:
        result.failures.append(
            (tuple(float(x) for x in row), index, value, float(truth), label)
        )


def assert_tensors(results: dict, label: str) -> None:
    for (mode, order), result in results.items():
        assert_sweep(result, f"{label} {mode} order {order}")


def _grid(xs, ys) -> np.ndarray:
    return np.array([(x, y) for x in xs for y in ys], dtype=np.float64)


# Powers of two: the same points in float32 and float64 (shared mpmath evaluations).
TINY, HUGE = 2.0**-100, 2.0**100
XS = (0.0, TINY, -0.75, 1.0, 7.0, -HUGE)
XLOGY_GRID = _grid(XS, (TINY, 2.0**-10, 0.5, 2.0, HUGE))
XLOG1PY_GRID = _grid(XS, (-1.0 + 2.0**-20, -0.5, -TINY, 0.0, 2.0**-10, 1.0, HUGE))


def _xlogy_vector(v):
    return special.xlogy(v[0], v[1])


def _xlog1py_vector(v):
    return special.xlog1py(v[0], v[1])


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize(
    "name, function, truth, grid",
    [
        ("xlogy", _xlogy_vector, mp_xlogy, XLOGY_GRID),
        ("xlog1py", _xlog1py_vector, mp_xlog1py, XLOG1PY_GRID),
    ],
)
def test_two_argument_mixed_partials(name, function, truth, grid, dtype):
    # Mixed partials helpers.partial_orders(2, k), k = 1..4, forward and reverse.
    results = check_tensors(function, [truth], grid, dtype, singular=(-1.0,))
    assert_tensors(results, f"{name} {np.dtype(dtype)}")


VECTORS = np.array(
    [
        [0.25, -1.25, 2.0],  # moderate
        [0.0, 20.0, -5.0],  # one weight 1 - 2e-9: saturated in float32
        [0.0, 40.0, -30.0],  # saturated in float64 too
        [1e4, 0.0, -1e4],  # extreme spread: weights 1, e**-1e4, e**-2e4
        [2.0**100, 2.0**100, -(2.0**100)],  # tie at a large magnitude
        [0.0, NEG_INF, 1.0],  # a masked (-inf) entry
        [NEG_INF, 5.0, 5.0],  # -inf entry and a tie
    ]
)


def _reduction_cases():
    n = VECTORS.shape[1]
    return [
        ("logsumexp", special.logsumexp, [mp_logsumexp]),
        ("softmax", special.softmax, [mp_softmax(i) for i in range(n)]),
        ("log_softmax", special.log_softmax, [mp_log_softmax(i) for i in range(n)]),
    ]


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize(
    "name, function, truths",
    _reduction_cases(),
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_reduction_derivative_tensors(name, function, truths, dtype):
    # Functions of differences: backward error |x_i| + 1 (helpers.sweep's offset).
    results = check_tensors(function, truths, VECTORS, dtype, offset=1.0)
    assert_tensors(results, f"{name} {np.dtype(dtype)}")
    tensors = tensor_function(function)(jnp.asarray(VECTORS, dtype))
    for key, value in tensors.items():
        assert not np.any(np.isnan(np.asarray(value))), f"nan in {name} {key}"

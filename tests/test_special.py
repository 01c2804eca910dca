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
    return mp_log(p) - mp_log(1 - p)  # 1 - p is exact at the working precision


@memo
def mp_entr(x):
    return -x * mp_log(x)  # x > 0; x <= 0 is tested apart (conventions)


_BASE_LOGS: dict = {}


def mp_log(y):
    """``log y`` for ``y > 0``, fast at thousands of bits.

    ``y = m 2**e``, ``m`` in ``[0.75, 1.5)``; ``log m`` is a cached log of ``m``
    rounded to 32 bits (the points of a finite-difference stencil share it; mpmath
    would recompute each by AGM) plus ``log1p`` of the rest, ``|d| <= 2**-32``,
    summed in fixed point.
    """
    mantissa, exponent = mpmath.frexp(y)
    if mantissa < 0.75:  # m in [0.75, 1.5): no cancellation of log m + e log 2
        mantissa, exponent = 2 * mantissa, exponent - 1
    base = mpmath.ldexp(mpmath.nint(mantissa * 2**32), -32)
    cached = _BASE_LOGS.get(base)
    if cached is None or cached[0] < mpmath.mp.prec:
        with mpmath.workprec(2 * mpmath.mp.prec):
            _BASE_LOGS[base] = cached = (2 * mpmath.mp.prec, mpmath.log(base))
    return cached[1] + exponent * mpmath.ln2 + _log1p_fixed((mantissa - base) / base)


def _log1p_fixed(d):
    """``log1p(d) = 2 atanh(d / (2 + d))`` for ``|d| <= 2**-32``, in integers."""
    bits = mpmath.mp.prec + 32
    v = int(mpmath.ldexp(d / (2 + d), bits))
    v2 = (v * v) >> bits
    total, term, n = 0, v, 1
    while term:
        total += term // n if term > 0 else -(-term // n)
        term = (term * v2) >> bits if term > 0 else -((-term * v2) >> bits)
        n += 2
    return mpmath.ldexp(2 * total, -bits)


def _constants(prec: int) -> tuple:
    """``(1/sqrt 2, sqrt pi, log(2 sqrt pi))`` to at least ``prec`` bits."""
    return _constants_at(1 << max(8, (prec - 1).bit_length()))


@functools.cache
def _constants_at(prec: int) -> tuple:
    with mpmath.workprec(prec):
        root_pi = mpmath.sqrt(mpmath.pi)
        return 1 / mpmath.sqrt(2), root_pi, mpmath.log(2 * root_pi)


def _erfcx_series(z):
    """Asymptotic series; used where its smallest term is below the precision."""
    w = 1 / (2 * z * z)
    term, total, k = mpmath.mpf(1), mpmath.mpf(1), 0
    while abs(term) > mpmath.eps * abs(total):
        k += 1
        term *= -(2 * k - 1) * w
        total += term
    return total / (z * _constants(mpmath.mp.prec)[1])


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
    inv_root2, root_pi, log_norm = _constants(mpmath.mp.prec)
    z = -x * inv_root2
    if x >= 0:
        tail = mp_erfcx(-z) * mp_exp(-x * x / 2) / 2  # Phi(-x)
        return mpmath.log1p(-tail) if tail < 2.0**-8 else mp_log(1 - tail)
    if x < -(2.0**350):
        # -log(-x) - log(2 pi)/2 + O(1/x**2) is dropped: it changes the first two
        # derivatives by < 2**-690 relative, and the others are < 2**-1049 (below
        # float64's normal range, where they round to 0).
        return -x * x / 2
    if _series_converges(z):
        log_erfcx = mp_log(_erfcx_series(z) * z * root_pi) - mp_log(z)
        return log_erfcx - log_norm - x * x / 2
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


ALL_TENSORS = tuple((mode, k) for mode in MODES for k in ORDERS)


@functools.cache
def tensor_function(function: Callable, which: tuple = ALL_TENSORS):
    """``jit(vmap(v -> {(mode, k): D^k function(v)}))`` for the ``(mode, k)`` in
    ``which``: ``jacrev`` nests for ``"rev"``, ``jacfwd`` nests for ``"fwd"``."""

    def tensors(v):
        out = {}
        for mode, jacobian in (("rev", jax.jacrev), ("fwd", jax.jacfwd)):
            g = function
            for k in range(1, max(k for m, k in which if m == mode) + 1):
                g = jacobian(g)
                if (mode, k) in which:
                    out[(mode, k)] = g(v)
        return out

    return jax.jit(jax.vmap(tensors))


def check_tensors(
    function: Callable,
    truths: list[Callable],
    points: np.ndarray,
    dtype,
    *,
    which: tuple = ALL_TENSORS,
    **options,
) -> dict:
    """Derivative tensors of ``function`` at ``points``, then ``classify_tensors``."""
    points = np.asarray(points, dtype=dtype)
    computed = jax.tree.map(np.asarray, tensor_function(function, which)(points))
    return classify_tensors(computed, truths, points, dtype, **options)


def classify_tensors(
    computed: dict,
    truths: list[Callable],
    points: np.ndarray,
    dtype,
    *,
    offset: float = 0.0,
    singular=(),
    known_zero: Callable = lambda index: False,
) -> dict:
    """Every mixed partial in ``computed[(mode, order)]`` against mpmath.

    ``truths[i]`` is the mpmath function of output ``i`` of a function ``R^n ->
    R^m``; partials for which ``known_zero(index)`` holds (e.g. second derivatives of
    a function linear in a variable) have the exact truth 0, without finite
    differences. Classified as ``helpers.sweep`` does (same tolerance,
    representability, edge rule and ``offset``). Returns ``{(mode, order):
    helpers.Classified}``.
    """
    points = np.asarray(points, dtype=dtype)
    n = points.shape[1]
    results = {}
    for (mode, order), values in computed.items():
        result = helpers.Classified()
        shape = (len(points), len(truths), *(n,) * order)
        for row, value in zip(points, values.reshape(shape)):
            for out, truth in enumerate(truths):
                for index in helpers.partial_orders(n, order):
                    entry = (out, *(i for i in range(n) for _ in range(index[i])))
                    _classify_entry(
                        result,
                        float(value[entry]),
                        truth,
                        row,
                        index,
                        dtype,
                        offset,
                        singular,
                        known_zero,
                    )
        results[(mode, order)] = result
    return results


_TRUTHS: dict = {}


def _truth(truth_fn, row, index, singular, known_zero):
    # Cached per point: the float32 and float64 checks share exactly representable
    # points, and the slope of order k is the truth of order k + 1.
    if known_zero(index):
        return mpmath.mpf(0)
    key = (truth_fn, tuple(float(x) for x in row), tuple(index), tuple(singular))
    if key not in _TRUTHS:
        _TRUTHS[key] = helpers.truth_partial(truth_fn, row, index, singular)
    return _TRUTHS[key]


def _classify_entry(
    result, value, truth_fn, row, index, dtype, offset, singular, known_zero
):
    truth = _truth(truth_fn, row, index, singular, known_zero)
    if not helpers.representable(truth, dtype):
        return
    if not helpers.representable(truth, dtype, helpers.EDGE):
        result.edge += 1
        result.edge_nan += bool(np.isnan(value))
        return
    slope = sum(
        (abs(row[i]) + offset)
        * abs(_truth(truth_fn, row, helpers._bump(index, i), singular, known_zero))
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
    ids=["xlogy", "xlog1py"],
)
def test_two_argument_mixed_partials(name, function, truth, grid, dtype):
    # Every multi-index of helpers.partial_orders(2, k), k = 1..4, jacfwd and jacrev
    # nests; both functions are linear in x, so d^2/dx^2 (and beyond) is exactly 0.
    results = check_tensors(
        function,
        [truth],
        grid,
        dtype,
        singular=(-1.0,),
        known_zero=lambda index: index[0] >= 2,
    )
    assert_tensors(results, f"{name} {np.dtype(dtype)}")


# Exactly representable in float32 (shared mpmath evaluations across dtypes).
VECTORS = np.array(
    [
        [0.25, -1.25, 2.0],  # moderate
        [0.0, 20.0, -5.0],  # one weight 1 - 2e-9: saturated in float32
        [0.0, 40.0, -30.0],  # saturated in float64 too
        [0.0, 80.0, -80.0],  # weights e**-80 and e**-160 beside 1
        [1000.5, 1000.5, 1001.0],  # a tie, far from 0
    ]
)
# Extremes, checked apart: a spread of 1e4 (weights 1, e**-1e4, e**-2e4: 0 in every
# dtype) and -inf entries, each beside the same vector with -1e4 for -inf.
EXTREME = np.array(
    [
        [1e4, 0.0, -1e4],
        [0.0, NEG_INF, 1.0],
        [0.0, -1e4, 1.0],
        [NEG_INF, 5.0, 5.0],
        [-1e4, 5.0, 5.0],
    ]
)
# Pure jacrev nests to orders 3-4 are compiled for logsumexp only (its derivatives of
# order k + 1 are those of order k of the softmax rule, in reverse mode); softmax and
# log_softmax take orders 1-2 in reverse and 1-4 in forward mode (jacrev**3 and
# jacrev**4 of a vector function take ~2 s and ~6 s to compile per dtype).
REDUCTION_TENSORS = tuple((m, k) for m, k in ALL_TENSORS if m == "fwd" or k <= 2)
REDUCTIONS = {
    "logsumexp": (special.logsumexp, [mp_logsumexp], ALL_TENSORS),
    "softmax": (special.softmax, [mp_softmax(i) for i in range(3)], REDUCTION_TENSORS),
    "log_softmax": (
        special.log_softmax,
        [mp_log_softmax(i) for i in range(3)],
        REDUCTION_TENSORS,
    ),
}


@functools.cache
def reduction_tensors(name: str, dtype) -> dict:
    """Derivative tensors at ``VECTORS`` then ``EXTREME`` (one compilation)."""
    function, _, which = REDUCTIONS[name]
    rows = jnp.asarray(np.concatenate([VECTORS, EXTREME]), dtype)
    return jax.tree.map(np.asarray, tensor_function(function, which)(rows))


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_derivative_tensors(name, dtype):
    # Functions of differences: backward error |x_i| + 1 (helpers.sweep's offset).
    function, truths, which = REDUCTIONS[name]
    computed = {k: v[: len(VECTORS)] for k, v in reduction_tensors(name, dtype).items()}
    results = classify_tensors(computed, truths, VECTORS, dtype, offset=1.0)
    assert_tensors(results, f"{name} {np.dtype(dtype)}")


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_extremes(name, dtype):
    """No ``nan`` at any order; ``-inf`` acts as an entry of weight 0; exact limits.

    A ``-inf`` entry gives the same derivative tensors as ``-1e4`` (whose weight is 0
    in every dtype); at the spread ``(1e4, 0, -1e4)`` the weights are exactly
    ``(1, 0, 0)``, so the gradient of logsumexp and the Jacobian rows of log_softmax
    for the small entries are exact.
    """
    tensors = {k: v[len(VECTORS) :] for k, v in reduction_tensors(name, dtype).items()}
    for key, value in tensors.items():
        assert not np.any(np.isnan(value)), f"nan in {name} {key}"
        np.testing.assert_array_equal(value[1], value[2])
        np.testing.assert_array_equal(value[3], value[4])
    for mode in MODES:
        first = tensors[(mode, 1)][0]
        if name == "logsumexp":
            np.testing.assert_array_equal(first, [1.0, 0.0, 0.0])
        if name == "log_softmax":
            np.testing.assert_array_equal(first[1:], [[-1, 1, 0], [-1, 0, 1]])


# --- logsumexp with b, signs, axes and masks ------------------------------------------


def _mp_weighted_lse(a0, a1, a2, b0, b1, b2):
    return mpmath.log(abs(b0 * mp_exp(a0) + b1 * mp_exp(a1) + b2 * mp_exp(a2)))


def _weighted_lse_vector(v):
    return special.logsumexp(v[:3], b=v[3:], return_sign=True)[0]


WEIGHTED = np.array(
    [
        [0.25, -1.25, 2.0, 1.5, 0.5, 2.0],  # positive weights
        [0.25, -1.25, 2.0, 1.5, -0.5, -2.0],  # negative sum: sign -1
        [0.0, 20.0, -5.0, 1.0, 1.0, 0.0],  # a dominant term and a zero weight
    ]
)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
def test_logsumexp_weights_derivatives(dtype):
    # d log|S| in a and b. Order 2 only where no term dominates: with b, the
    # diagonal u_k (1 - b_k u_k) of a dominant term is a difference (documented
    # limitation of the b-rule; without b the softmax rule is exact there).
    which = tuple((m, k) for m in MODES for k in (1, 2))
    computed = jax.tree.map(
        np.asarray,
        tensor_function(_weighted_lse_vector, which)(jnp.asarray(WEIGHTED, dtype)),
    )
    first = {k: v for k, v in computed.items() if k[1] == 1}
    second = {k: v[:2] for k, v in computed.items() if k[1] == 2}
    truth = [memo(_mp_weighted_lse)]
    for points, tensors in ((WEIGHTED, first), (WEIGHTED[:2], second)):
        results = classify_tensors(tensors, truth, points, dtype, offset=1.0)
        assert_tensors(results, f"logsumexp(b) {np.dtype(dtype)}")


LSE_OPTIONS = [
    {"axis": None},
    {"axis": -1, "keepdims": True, "b": "positive"},
    {"axis": (0, 1), "b": "mixed", "return_sign": True},
    {"axis": 1, "b": "mixed"},  # nan where the sum is negative, as JAX
    {"axis": 1, "where": "mask"},
    {"axis": 0, "where": "mask", "b": "mixed", "return_sign": True},
]


def _lse_arguments(options, dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4)).astype(dtype)
    kwargs = dict(options)
    if kwargs.get("b") == "positive":
        kwargs["b"] = rng.uniform(0.5, 2.0, size=(3, 4)).astype(dtype)
    elif kwargs.get("b") == "mixed":
        kwargs["b"] = rng.uniform(-2.0, 2.0, size=(3, 4)).astype(dtype)
    if kwargs.get("where") == "mask":
        kwargs["where"] = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 0, 1]], bool)
    return a, kwargs


@pytest.mark.parametrize("options", LSE_OPTIONS, ids=str)
def test_logsumexp_matches_jax(options):
    a, kwargs = _lse_arguments(options, np.float64)

    def value_and_gradient(function, a):
        def total(a):
            out = function(a, **kwargs)
            out = out[0] if kwargs.get("return_sign") else out
            return jnp.sum(jnp.where(jnp.isfinite(out), out, 0.0))

        return function(a, **kwargs), jax.grad(total)(a)

    ours, grad = jax.jit(functools.partial(value_and_gradient, special.logsumexp))(a)
    theirs, ref = jax.jit(functools.partial(value_and_gradient, jss.logsumexp))(a)
    jax.tree.map(np.testing.assert_array_equal, ours, theirs)
    np.testing.assert_allclose(grad, ref, rtol=1e-13, atol=1e-15)


@jax.jit
def _empty_slices(a, mask):
    """Derivatives of orders 1-3 (reverse) and 1 (forward) of all-masked slices."""
    out = {}
    for name, function in (
        ("-inf", lambda a: special.logsumexp(a, axis=1)[0]),
        ("masked", lambda a: special.logsumexp(a, axis=1, where=mask)[1]),
    ):
        g = function
        out[name] = [function(a)]
        for _ in range(3):
            g = jax.grad(lambda v, g=g: jnp.sum(g(v)))
            out[name].append(g(a))
        out[name].append(jax.jvp(function, (a,), (jnp.ones_like(a),))[1])
    return out


def test_logsumexp_empty_and_masked_slices_have_zero_gradient():
    # All -inf (or all masked): value -inf, weights 0 at every order, never nan.
    a = jnp.array([[NEG_INF, NEG_INF], [0.5, 1.5]])
    mask = jnp.array([[True, True], [False, False]])
    for name, (value, *derivatives) in _empty_slices(a, mask).items():
        assert value == NEG_INF, name
        for d in derivatives:
            np.testing.assert_array_equal(d, 0.0)


@pytest.mark.parametrize("axis", [None, -1, (0, 1)], ids=str)
def test_softmax_family_matches_jax(axis):
    x = np.random.default_rng(1).normal(size=(3, 4))

    @jax.jit
    def both(x):
        out = []
        for function in (special.softmax, special.log_softmax):
            function = functools.partial(function, axis=axis)
            out.append((function(x), jax.jacrev(function)(x)))
        for function in (jss.softmax, jss.log_softmax):
            function = functools.partial(function, axis=axis)
            out.append((function(x), jax.jacrev(function)(x)))
        return out

    soft, log_soft, ref_soft, ref_log_soft = both(x)
    for (value, jac), (ref, ref_jac) in ((soft, ref_soft), (log_soft, ref_log_soft)):
        np.testing.assert_array_equal(value, ref)
        np.testing.assert_allclose(jac, ref_jac, rtol=1e-12, atol=1e-15)


# --- transforms, strong zeros, conventions, dtypes -----------------------------------


@pytest.mark.parametrize("case", UNARY, ids=UNARY_IDS)
def test_transforms_agree(case: Unary):
    f = case.function

    @jax.jit
    def transforms(x):
        return {
            "value": (f(x), jax.vmap(f)(x)),
            "first": (
                jax.vmap(jax.grad(f))(x),
                jnp.diag(jax.jacfwd(f)(x)),
                jnp.diag(jax.jacrev(f)(x)),
                jax.linearize(f, x)[1](jnp.ones_like(x)),
            ),
            "second": (
                jax.vmap(jax.grad(jax.grad(f)))(x),
                jnp.diag(jax.hessian(lambda v: jnp.sum(f(v)))(x)),
            ),
        }

    x = jnp.array([0.125, 0.375, 0.75])
    out = transforms(x)
    np.testing.assert_array_equal(out["value"][0], f(x))
    for group in out.values():
        for value in group[1:]:
            np.testing.assert_allclose(value, group[0], rtol=1e-14)


def _derivatives(f, x, orders=ORDERS):
    """``d^k f(x)``, ``k`` in ``orders``, by nested ``grad`` and nested ``jvp``."""

    @jax.jit
    def all_orders(x):
        out = []
        rev = fwd = f
        for k in range(1, max(orders) + 1):
            rev = jax.grad(rev)
            fwd = functools.partial(
                lambda g, v: jax.jvp(g, (v,), (jnp.ones_like(v),))[1], fwd
            )
            if k in orders:
                out += [rev(x), fwd(x)]
        return jnp.stack(out)

    return np.asarray(all_orders(x))


STRONG_ZERO = [
    ("entr at 0", lambda x: jnp.where(x > 0, special.entr(x), 0.0), 0.0),
    ("logit at 0", lambda x: jnp.where((x > 0) & (x < 1), special.logit(x), 0.0), 0.0),
    ("logit at 1", lambda x: jnp.where((x > 0) & (x < 1), special.logit(x), 0.0), 1.0),
    (
        "log_ndtr",
        lambda x: jnp.where(jnp.isfinite(x), special.log_ndtr(x), 0.0),
        -1e400,
    ),
    ("erfcx", lambda x: jnp.where(jnp.isfinite(x), special.erfcx(x), 0.0), -1e400),
    ("xlogy(2, y)", lambda y: jnp.where(y > 0, special.xlogy(2.0, y), 0.0), 0.0),
    ("xlogy(0, y)", lambda y: special.xlogy(0.0, y), 0.0),  # no mask needed
    ("xlog1py(0, y)", lambda y: special.xlog1py(0.0, y), -1.0),
    ("xlog1py(3, y)", lambda y: jnp.where(y > -1, special.xlog1py(3.0, y), 0.0), -1.0),
]


@jax.jit
def _strong_zero_derivatives():
    out = {}
    for name, masked, point in STRONG_ZERO:
        rev = fwd = masked
        values = []
        # log_ndtr and erfcx at -inf: orders 1-2 (their rules nest continued
        # fractions; orders 3-4 are swept above).
        for _ in ORDERS[:2] if point < -1e300 else ORDERS:
            rev = jax.grad(rev)
            fwd = functools.partial(
                lambda g, v: jax.jvp(g, (v,), (jnp.ones_like(v),))[1], fwd
            )
            values += [rev(jnp.float64(point)), fwd(jnp.float64(point))]
        out[name] = jnp.stack(values)
    return out


def test_strong_zero():
    # The branch not taken (or the factor x = 0) contributes exactly 0, not nan, to
    # derivatives of orders 1-4, reverse and forward.
    for name, values in _strong_zero_derivatives().items():
        np.testing.assert_array_equal(values, 0.0, err_msg=name)


def test_conventions():
    @jax.jit
    def conventions():
        f64 = jnp.float64
        mixed = jax.grad(jax.grad(special.xlogy, argnums=1), argnums=0)
        return {
            # entr: +inf slope and -inf curvature at 0; -inf (constant) below 0.
            "entr'(0)": (jax.grad(special.entr)(f64(0.0)), np.inf),
            "entr''(0)": (jax.grad(jax.grad(special.entr))(f64(0.0)), -np.inf),
            "entr(-1)": (special.entr(f64(-1.0)), -np.inf),
            "entr'(-1)": (jax.grad(special.entr)(f64(-1.0)), 0.0),
            # logit: +inf slope at both ends.
            "logit'(0)": (jax.grad(special.logit)(f64(0.0)), np.inf),
            "logit'(1)": (jax.grad(special.logit)(f64(1.0)), np.inf),
            # xlogy: d/dx d/dy at x = 0 is 1/y, finite or +inf.
            "xlogy_xy(0, 2)": (mixed(f64(0.0), f64(2.0)), 0.5),
            "xlogy_xy(0, 0)": (mixed(f64(0.0), f64(0.0)), np.inf),
            # log_ndtr: slope -x + ... = +inf at -inf, 0 at +inf; erfcx' = 0 at inf.
            "log_ndtr'(-inf)": (jax.grad(special.log_ndtr)(f64(NEG_INF)), np.inf),
            "log_ndtr'(inf)": (jax.grad(special.log_ndtr)(f64(np.inf)), 0.0),
            "erfcx'(inf)": (jax.grad(special.erfcx)(f64(np.inf)), 0.0),
        }

    for name, (value, expected) in conventions().items():
        assert value == expected, name
    np.testing.assert_array_equal(_derivatives(special.entr, jnp.float64(-1.0)), 0.0)


def _dtype_cases():
    x = np.array([0.25, 0.5, 0.75])
    cases = [(c.name, c.function, c.reference, (x,)) for c in UNARY]
    cases += [
        ("xlogy", special.xlogy, jss.xlogy, (x, x[::-1])),
        ("xlog1py", special.xlog1py, jss.xlog1py, (x, x[::-1])),
        ("logsumexp", special.logsumexp, jss.logsumexp, (x,)),
        ("softmax", special.softmax, jss.softmax, (x,)),
        ("log_softmax", special.log_softmax, jss.log_softmax, (x,)),
    ]
    return cases


DTYPE_CASES = _dtype_cases()


def check_dtypes(cases, dtype) -> None:
    """Each ``function(*args)`` has the dtype and shape of ``reference(*args)`` and
    its value to 4 ulp, or raises the reference's ``TypeError`` (one compilation)."""
    supported = []
    for name, function, reference, args in cases:
        args = tuple(
            jnp.asarray(a * 4 if dtype == jnp.int32 else a).astype(dtype) for a in args
        )
        if dtype == jnp.int32 and "softmax" in name:
            continue  # jax's softmax casts its -inf initial value to the integer dtype
        try:
            expected = reference(*args)
        except TypeError:  # e.g. log_ndtr(float16), nn.sigmoid(int32): as JAX
            with pytest.raises(TypeError):
                function(*args)
            continue
        supported.append((name, function, args, expected))

    @jax.jit
    def evaluate(all_args):
        return [f(*a) for (_, f, _, _), a in zip(supported, all_args)]

    for (name, _, _, expected), out in zip(
        supported, evaluate([a for _, _, a, _ in supported])
    ):
        assert out.dtype == expected.dtype and out.shape == expected.shape, name
        tolerance = 4 * float(jnp.finfo(out.dtype).eps)
        np.testing.assert_allclose(
            np.asarray(out, np.float64),
            np.asarray(expected, np.float64),
            rtol=tolerance,
            atol=tolerance,
            err_msg=name,
        )


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16, jnp.int32], ids=str)
def test_dtype_and_shape_follow_jax(dtype):
    # float32 and float64 are covered by every other test; integers are promoted by
    # the shared dtype logic, checked on a few functions.
    cases = DTYPE_CASES
    if dtype == jnp.int32:
        cases = [c for c in cases if c[0] in ("expit", "xlogy", "logsumexp")]
    check_dtypes(cases, dtype)


def test_unsupported_dtype_is_named():
    x = jnp.ones(2, jnp.float8_e4m3fn)
    with pytest.raises(TypeError, match="float8_e4m3fn"):
        special.expit(x)

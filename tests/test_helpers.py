"""The reference harness itself: mpmath truths against closed forms, and the judge."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from tests import helpers

RELATIVE = mpmath.mpf(2) ** -70  # the truth must be far better than float64


@pytest.fixture(autouse=True)
def _high_precision():
    # the closed forms below are evaluated at the harness's working precision
    with mpmath.workdps(helpers.DIGITS + 10):
        yield


def _close(value, exact, relative=RELATIVE):
    return abs(value - exact) <= relative * abs(exact)


@pytest.mark.parametrize("x", [1e-300, -3e-20, 0.75, 1e20, 1e300])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_truth_of_reciprocal_at_extreme_arguments(x, k):
    # d^k/dx^k 1/x = (-1)^k k! / x^(k+1)
    exact = (-1) ** k * math.factorial(k) / mpmath.mpf(x) ** (k + 1)
    assert _close(helpers.truth_partial(lambda v: 1 / v, [x], [k], (0.0,)), exact)


@pytest.mark.parametrize("x", [-700.0, -20.0, 0.5, 88.0, 700.0])
@pytest.mark.parametrize("k", [1, 4])
def test_truth_of_exp_in_the_tails(x, k):
    exact = mpmath.exp(mpmath.mpf(x))
    assert _close(helpers.truth_partial(mpmath.exp, [x], [k]), exact)


@pytest.mark.parametrize(
    "point", [(3.0, 4.0), (1e-150, 2e-100), (-2e100, 1e-50), (1e-30, 1e-30)]
)
def test_truth_of_a_mixed_partial_of_arctan2(point):
    # d2 atan2(y, x) / dy dx = (y^2 - x^2) / (x^2 + y^2)^2
    y, x = (mpmath.mpf(v) for v in point)
    exact = (y**2 - x**2) / (x**2 + y**2) ** 2
    value = helpers.truth_partial(mpmath.atan2, point, [1, 1], refine=True)
    if exact == 0:
        assert value == 0
    else:
        assert _close(value, exact)


def test_refined_truth_resolves_a_true_zero():
    # d/dx d3/dy3 x^y = x^(y-1) (y log^3 x + 3 log^2 x) is exactly 0 at x = 1; the
    # plain central difference reports its O(h^2) truncation error instead.
    plain = helpers.truth_partial(lambda x, y: x**y, [1.0, 0.5], [1, 3])
    refined = helpers.truth_partial(lambda x, y: x**y, [1.0, 0.5], [1, 3], refine=True)
    assert plain != 0 and abs(plain) < 1e-20
    assert refined == 0


@pytest.mark.parametrize("d", [-800.0, -30.0, -1.5, 0.0, 2.0, 40.0, 1e5])
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_sigmoid_derivative_closed_form(d, n):
    if abs(d) > 100:
        # far tails: sigma^(n)(d) ~ e^d for d << 0; (-1)^(n+1) e^-d for d >> 0, n >= 1
        tail = mpmath.exp(-abs(mpmath.mpf(d)))
        if d < 0:
            exact = tail
        else:
            exact = 1 - tail if n == 0 else (-1) ** (n + 1) * tail
        assert _close(helpers.sigmoid_derivative(d, n), exact, mpmath.mpf(2) ** -20)
        return

    def sigmoid(v):
        return 1 / (1 + mpmath.exp(-v))

    exact = (
        helpers.truth_partial(sigmoid, [d], [n], refine=True)
        if n
        else sigmoid(mpmath.mpf(d))
    )
    value = helpers.sigmoid_derivative(d, n)
    if exact == 0 or abs(exact) < 1e-40:
        assert abs(value) < 1e-40
    else:
        assert _close(value, exact)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
def test_judge_accepts_the_truth_and_rejects_a_wrong_value(dtype):
    eps = helpers.eps(dtype)
    truth = mpmath.mpf(3)
    order = 2
    ulps = helpers.ULPS[order]
    row = np.zeros(1)
    assert helpers.classify(3 * (1 + ulps * eps / 2), truth, 0.0, row, dtype, 2) == (
        "right"
    )
    assert helpers.classify(3 * (1 + 4 * ulps * eps), truth, 0.0, row, dtype, 2) == (
        "inaccurate"
    )
    assert helpers.classify(0.0, truth, 0.0, row, dtype, 2) == "zero"
    assert helpers.classify(float("inf"), truth, 0.0, row, dtype, 2) == "inf"
    assert helpers.classify(float("nan"), truth, 0.0, row, dtype, 2) == "nan"


def test_representable_excludes_subnormal_and_overflowing_truths():
    assert helpers.representable(mpmath.mpf(0), np.float32)
    assert helpers.representable(mpmath.mpf("1e-37"), np.float32)
    assert not helpers.representable(mpmath.mpf("1e-39"), np.float32)  # subnormal
    assert not helpers.representable(mpmath.mpf("1e39"), np.float32)
    assert not helpers.representable(mpmath.mpf("1e-37"), np.float32, helpers.EDGE)

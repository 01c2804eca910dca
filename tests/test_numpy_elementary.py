"""Every elementary function of ``calculax.numpy``: primal and derivatives, orders 1-4.

Each function is swept over the whole exponent range of float32 and float64 (both
signs, subnormals, the edges of overflow, plus domain-specific points) and every
derivative whose true value is representable must be right to ``helpers.ULPS``.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calculax.numpy as cnp
from tests import helpers


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    function: object
    reference: object  # the jax.numpy function
    truth: object  # mpmath function of the same arguments
    extra: tuple = ()  # domain-specific points (magnitudes, any sign)
    singular: tuple = ()
    signs: tuple = (1, -1)
    skip: object = None  # points of non-differentiability (conventions tested apart)
    offset: float = 0.0  # absolute input scale of the backward error (helpers.sweep)
    partial: object = None  # closed-form truth (row, orders) -> mpf (helpers.sweep)


def _near(values):
    return tuple(values)


_NEAR_ONE = _near(
    [1 - 10.0**-k for k in range(1, 16)] + [1 + 10.0**-k for k in range(1, 16)]
)
_TAIL = tuple(
    float(v)
    for v in (0.5, 1, 2, 5, 9, 12, 17, 20, 30, 40, 45, 60, 80, 88, 100, 300, 700)
)


_AT_0 = (0.0,)


def _any_zero(row):
    return bool(np.any(row == 0))


def _all_zero(row):
    return bool(np.all(row == 0))


def _real_cbrt(x):
    return mpmath.sign(x) * mpmath.cbrt(abs(x))


UNARY = [
    Case("reciprocal", cnp.reciprocal, jnp.reciprocal, lambda x: 1 / x, singular=_AT_0),
    Case("square", cnp.square, jnp.square, lambda x: x**2),
    Case("sqrt", cnp.sqrt, jnp.sqrt, mpmath.sqrt, singular=_AT_0, signs=(1,)),
    Case("cbrt", cnp.cbrt, jnp.cbrt, _real_cbrt, singular=_AT_0),
    Case("abs", cnp.abs, jnp.abs, abs, singular=_AT_0),
    Case("exp", cnp.exp, jnp.exp, mpmath.exp, _TAIL),
    Case("exp2", cnp.exp2, jnp.exp2, lambda x: mpmath.mpf(2) ** x, _TAIL),
    Case("expm1", cnp.expm1, jnp.expm1, mpmath.expm1, _TAIL),
    Case("log", cnp.log, jnp.log, mpmath.log, singular=_AT_0, signs=(1,)),
    Case(
        "log2",
        cnp.log2,
        jnp.log2,
        lambda x: mpmath.log(x, 2),
        singular=_AT_0,
        signs=(1,),
    ),
    Case("log10", cnp.log10, jnp.log10, mpmath.log10, singular=_AT_0, signs=(1,)),
    Case(
        "log1p",
        cnp.log1p,
        jnp.log1p,
        mpmath.log1p,
        tuple(-1 + 10.0**-k for k in range(1, 16)),
        singular=(-1.0,),
    ),
    Case("sinh", cnp.sinh, jnp.sinh, mpmath.sinh, _TAIL),
    Case("cosh", cnp.cosh, jnp.cosh, mpmath.cosh, _TAIL),
    Case("tanh", cnp.tanh, jnp.tanh, mpmath.tanh, _TAIL),
    Case("arcsinh", cnp.arcsinh, jnp.arcsinh, mpmath.asinh),
    Case(
        "arccosh",
        cnp.arccosh,
        jnp.arccosh,
        mpmath.acosh,
        _NEAR_ONE,
        singular=(1.0,),
        signs=(1,),
    ),
    Case("arctanh", cnp.arctanh, jnp.arctanh, mpmath.atanh, _NEAR_ONE, (-1.0, 1.0)),
    Case("arcsin", cnp.arcsin, jnp.arcsin, mpmath.asin, _NEAR_ONE, (-1.0, 1.0)),
    Case("arccos", cnp.arccos, jnp.arccos, mpmath.acos, _NEAR_ONE, (-1.0, 1.0)),
    Case("arctan", cnp.arctan, jnp.arctan, mpmath.atan, _TAIL),
    Case(
        "sinc",
        cnp.sinc,
        jnp.sinc,
        mpmath.sincpi,
        (0.1, 0.2, 0.24, 0.26, 0.3, 0.5, 0.9, 1.5, 2.25, 7.3, 100.1, 12345.678),
    ),
]


def _logaddexp_partial(row, orders):
    # f(a, b) = b + g(a - b), g(d) = log(1 + e^d), g' = sigmoid: the partial of
    # orders (i, j) is (-1)^j sigmoid^(i+j-1)(a - b) (and 1 - sigmoid for (0, 1)),
    # with a - b exact in mpmath.
    a, b = (mpmath.mpf(float(v)) for v in row)
    i, j = orders
    if i + j == 0:
        top = max(a, b)
        return top + mpmath.log1p(mpmath.exp(-abs(a - b)))
    with mpmath.workprec(4 * 2100):  # a - b exact for any two float64
        d = a - b
    if (i, j) == (0, 1):
        return helpers.sigmoid_derivative(-d, 0)  # 1 - sigmoid(d), without cancelling
    return (-1) ** j * helpers.sigmoid_derivative(d, i + j - 1)


def _arctan2_partial(row, orders):
    # arctan2(a, b) = Im log(b + i a): with z = b + i a, d/db = d/dz and d/da = i d/dz
    # on log (either side of its cut), so the partial of orders (i, j) is
    # Im(i**i (-1)**(n-1) (n-1)! / z**n), n = i + j >= 1; exact enough at 5 x 2100
    # bits for any two float64 (z**5 of 53-bit parts 2**+-1100 apart).
    a, b = (mpmath.mpf(float(v)) for v in row)
    i, j = orders
    n = i + j
    if n == 0:
        return mpmath.atan2(a, b)
    with mpmath.workprec(5 * 2100):
        z = mpmath.mpc(b, a)
        value = mpmath.j**i * (-1) ** (n - 1) * mpmath.factorial(n - 1) / z**n
    return +mpmath.im(value)


BINARY = [
    Case("divide", cnp.divide, jnp.divide, lambda a, b: a / b, skip=_any_zero),
    Case("hypot", cnp.hypot, jnp.hypot, mpmath.hypot, skip=_all_zero),
    Case(
        "arctan2",
        cnp.arctan2,
        jnp.arctan2,
        mpmath.atan2,
        skip=_all_zero,
        partial=_arctan2_partial,
    ),
    Case(
        "logaddexp",
        cnp.logaddexp,
        jnp.logaddexp,
        lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
        offset=1.0,
        partial=_logaddexp_partial,
    ),
    Case("power", cnp.power, jnp.power, lambda a, b: a**b, signs=(1,), skip=_any_zero),
]

PER_DECADE = {np.float32: 0.5, np.float64: 0.125}


def unary_points(case: Case, dtype) -> np.ndarray:
    magnitudes = helpers.magnitudes(dtype, PER_DECADE[dtype])
    values = [s * magnitudes for s in case.signs]
    extras = np.asarray(case.extra, dtype=np.float64)
    values += [s * extras for s in case.signs] + [np.zeros(1)]
    with np.errstate(over="ignore"):
        points = np.concatenate(values).astype(dtype)
    return points[np.isfinite(points)]


def binary_points(case: Case, dtype) -> np.ndarray:
    """Pairs on a grid over the square root of the exponent range, plus ties over all
    of it. Known limitation (issue 2 note): for pairs further apart, a derivative of
    order >= 4 can lose terms whose intermediate products leave the range."""
    info = np.finfo(dtype)
    half = np.log10(float(info.max)) / 2
    exponents = np.linspace(-half, half, 7)
    grid = [s * 10.0**e for e in exponents for s in case.signs]
    if case.name == "power":
        grid = [0.5, 2.0, 10.0**-3, 10.0**3, 1.0, 3.0]  # exponents stay moderate
        bases = [s * 10.0**e for e in exponents for s in case.signs]
        pairs = [(a, b) for a in bases for b in grid + [-g for g in grid]]
    else:
        pairs = [(a, b) for a in grid for b in grid]
        ties = helpers.magnitudes(dtype, 0.25)
        pairs += [(t, t) for t in ties] + [(-t, t) for t in ties]
    with np.errstate(over="ignore"):
        points = np.asarray(pairs, dtype=np.float64).astype(dtype)
    return points[np.all(np.isfinite(points), axis=1)]


def _report(case, dtype, orders, result):
    shown = "\n".join(str(f) for f in result.failures[:10])
    return (
        f"{case.name} {np.dtype(dtype).name} orders {orders}: "
        f"{result.right}/{result.representable} right; first failures "
        f"(point, computed, truth, class):\n{shown}"
    )


def sweep_unary(case: Case, dtype, order: int, points=None) -> helpers.Classified:
    """The sweep of ``case`` at ``order`` (reverse mode at odd orders, forward at even
    ones) over ``points`` (default: ``unary_points``)."""
    if points is None:
        points = unary_points(case, dtype)
    return helpers.sweep(
        case.function,
        case.truth,
        points,
        [order],
        dtype,
        singular=case.singular,
        mode="rev" if order % 2 else "fwd",
        reference=case.reference,
        skip=(lambda row: bool(row[0] in case.singular)),
    )


def sweep_binary(case: Case, dtype, orders, points=None) -> helpers.Classified:
    """The sweep of the mixed partial ``orders`` of ``case`` over ``points`` (default:
    ``binary_points``)."""
    if points is None:
        points = binary_points(case, dtype)
    return helpers.sweep(
        case.function,
        case.truth,
        points,
        orders,
        dtype,
        reference=case.reference,
        skip=case.skip,
        offset=case.offset,
        partial=case.partial,
    )


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", UNARY, ids=lambda c: c.name)
def test_unary_derivatives_orders_1_to_4(case, dtype):
    for order in range(1, 5):
        result = sweep_unary(case, dtype, order)
        assert result.ok, _report(case, dtype, order, result)


RANDOM_BATCH = 16  # one compiled shape per (function, order, dtype)


def random_magnitudes(dtype, fraction: float = 1.0, size: int = RANDOM_BATCH):
    """Hypothesis batches of ``size`` floats log-uniform over ``fraction`` of the
    normal exponent range of ``dtype`` (any mantissa, both signs), between the
    sweep's grid points."""
    info = np.finfo(dtype)
    low, high = np.log2(float(info.tiny)), np.log2(float(info.max))
    exponent = st.floats(low * fraction, (high - 1e-9) * fraction, allow_nan=False)
    value = st.builds(
        lambda e, negative: (-1) ** negative * 2.0**e, exponent, st.booleans()
    )
    return st.lists(value, min_size=size, max_size=size)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", UNARY, ids=lambda c: c.name)
@settings(max_examples=2, deadline=None)
@given(data=st.data())
def test_unary_derivatives_at_random_points(case, dtype, data):
    order = data.draw(st.integers(1, 4), label="order")
    values = np.asarray(data.draw(random_magnitudes(dtype), label="points"))
    if case.signs == (1,):
        values = np.abs(values)
    result = sweep_unary(case, dtype, order, values.astype(dtype))
    assert result.ok, _report(case, dtype, order, result)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", BINARY, ids=lambda c: c.name)
def test_binary_mixed_partials_orders_1_to_4(case, dtype):
    points = binary_points(case, dtype)
    for order in range(1, 5):
        for orders in helpers.partial_orders(2, order):
            result = sweep_binary(case, dtype, orders, points)
            assert result.ok, _report(case, dtype, orders, result)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", BINARY, ids=lambda c: c.name)
@settings(max_examples=2, deadline=None)
@given(data=st.data())
def test_binary_mixed_partials_at_random_points(case, dtype, data):
    """Random pairs over the square root of the exponent range (the grid's claim);
    ``power``'s exponents are drawn in ``[-4, 4]``."""
    order = data.draw(st.integers(1, 4), label="order")
    orders = data.draw(st.sampled_from(helpers.partial_orders(2, order)), label="k")
    first = np.asarray(data.draw(random_magnitudes(dtype, 0.5), label="x1"))
    if case.name == "power":
        exponents = st.floats(-4.0, 4.0, allow_nan=False)
        second = np.asarray(
            data.draw(st.lists(exponents, min_size=RANDOM_BATCH, max_size=RANDOM_BATCH))
        )
        first = np.abs(first)
    else:
        second = np.asarray(data.draw(random_magnitudes(dtype, 0.5), label="x2"))
    points = np.stack([first, second], axis=1).astype(dtype)
    result = sweep_binary(case, dtype, orders, points)
    assert result.ok, _report(case, dtype, orders, result)

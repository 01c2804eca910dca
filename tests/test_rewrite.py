"""``stabilize(f, rewrite=True)``: each rewrite reduces the error against the truth.

Every case is a point where the plain expression is wrong (``inf``, ``0``, ``nan`` or
all digits lost) and the truth, computed with mpmath at 50 digits, is a normal
float: the rewritten function must be right to the tolerance of its order, the plain
one must not, and the report must name the rewrite that fired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax
from tests import helpers


@dataclasses.dataclass(frozen=True)
class Case:
    rule: str  # the name the report gives the rewrite
    function: Callable  # plain JAX
    truth: Callable  # mpmath, of the same arguments
    args: tuple
    dtype: type = np.float32
    order: int = 0  # derivative order in the first argument (0: the value)

    def __str__(self):
        return f"{self.rule} {np.dtype(self.dtype).name} order {self.order}"


def _x_log_x(x):
    return mpmath.mpf(0) if x == 0 else x * mpmath.log(x)


def _norm(x0, x1):
    return mpmath.sqrt(x0**2 + x1**2)


def _log_sum_exp(x0, x1, x2):
    return mpmath.log(mpmath.exp(x0) + mpmath.exp(x1) + mpmath.exp(x2))


CASES = [
    Case("log(1 + x) -> log1p(x)", lambda x: jnp.log(1 + x), mpmath.log1p, (1e-10,)),
    Case(
        "log(1 + x) -> log1p(x)",
        lambda x: jnp.log(x + 1.0),
        mpmath.log1p,
        (1e-20,),
        np.float64,
    ),
    Case("exp(x) - 1 -> expm1(x)", lambda x: jnp.exp(x) - 1, mpmath.expm1, (1e-10,)),
    Case(
        "sqrt(x**2 + y**2) -> hypot(x, y)",
        lambda x, y: jnp.sqrt(x**2 + y**2),
        lambda x, y: mpmath.sqrt(x**2 + y**2),
        (3e30, 4e30),
    ),
    Case(
        "sqrt(x**2 + y**2) -> hypot(x, y)",
        lambda x, y: jnp.sqrt(x * x + jnp.square(y)),
        lambda x, y: mpmath.sqrt(x**2 + y**2),
        (3e-30, 4e-30),
    ),
    Case(
        "sqrt(sum(x**2)) -> norm(x)",
        lambda x0, x1: jnp.sqrt(jnp.sum(jnp.stack([x0, x1]) ** 2)),
        _norm,
        (3e200, 4e200),
        np.float64,
    ),
    Case(
        "log(exp(a) + exp(b)) -> logaddexp(a, b)",
        lambda a, b: jnp.log(jnp.exp(a) + jnp.exp(b)),
        lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
        (100.0, 99.0),
    ),
    Case(
        "log(sum(exp(x))) -> logsumexp(x)",
        lambda *x: jnp.log(jnp.sum(jnp.exp(jnp.stack(x)))),
        _log_sum_exp,
        (-120.0, -121.0, -125.0),
    ),
    Case(
        "1/(1 + exp(-x)) -> expit(x)",
        lambda x: 1 / (1 + jnp.exp(-x)),
        lambda x: 1 / (1 + mpmath.exp(-x)),
        (-50.0,),
        order=1,
    ),
    Case(
        "x / y**3 -> repeated division",
        lambda y, x: x / y**3,
        lambda y, x: x / y**3,
        (1e-20, 1e-30),
    ),
    Case(
        "x / y**2 -> repeated division",
        lambda y, x: x / y**2,
        lambda y, x: x / y**2,
        (1e-20, 1e-30),
        order=1,
    ),
    Case(  # x**2 is subnormal (flushed to 0 on CPU) where the quotient is not
        "x**m / y -> sign(y) (x / |y|**(1/m))**m",
        lambda y, x: x**2 / y,
        lambda y, x: x**2 / y,
        (3e-20, 1e-20),
    ),
    Case(
        "x**m / y -> sign(y) (x / |y|**(1/m))**m",
        lambda y, x: x**2 / y,
        lambda y, x: x**2 / y,
        (3e-20, 1e-20),
        order=2,
    ),
    Case(
        "x**m / y -> sign(y) (x / |y|**(1/m))**m",
        lambda y, x: x**3 / (-2 * y),
        lambda y, x: x**3 / (-2 * y),
        (3e-20, 1e-14),
        order=1,
    ),
    Case("x**n * log(x) -> power_log(x)", lambda x: x * jnp.log(x), _x_log_x, (0.0,)),
    Case(
        "log(1 + exp(x)) -> softplus(x)",
        lambda x: jnp.log(1 + jnp.exp(x)),
        lambda x: mpmath.log1p(mpmath.exp(x)),
        (100.0,),
    ),
    Case(
        "log(c + exp(x)) -> log(c) + softplus(x - log(c))",
        lambda x: jnp.log(2.0 + jnp.exp(x)),
        lambda x: mpmath.log(2 + mpmath.exp(x)),
        (100.0,),
    ),
    Case(
        "log(1 - exp(x)) -> log1mexp(-x)",
        lambda x: jnp.log(1 - jnp.exp(x)),
        lambda x: mpmath.log(-mpmath.expm1(x)),
        (-1e-10,),
    ),
    Case(
        "log(exp(x) - 1) -> x + log1mexp(x)",
        lambda x: jnp.log(jnp.exp(x) - 1),
        lambda x: mpmath.log(mpmath.expm1(x)),
        (100.0,),
    ),
    Case(
        "log(sigmoid(x)) -> log_sigmoid(x)",
        lambda x: jnp.log(jax.nn.sigmoid(x)),
        lambda x: -mpmath.log1p(mpmath.exp(-x)),
        (-100.0,),
    ),
    Case(
        "log(cosh(x)) -> logcosh(x)",
        lambda x: jnp.log(jnp.cosh(x)),
        lambda x: mpmath.log(mpmath.cosh(x)),
        (100.0,),
        order=1,
    ),
    Case(
        "log(1 + x**2) -> log1p_square(x)",
        lambda x: jnp.log(1 + x**2),
        lambda x: mpmath.log1p(x**2),
        (1e20,),
    ),
    Case(
        "log(c * x**n * ...) -> log|c| + n log|x| + ...",
        lambda x: jnp.log(2 * jnp.pi * x**2),
        lambda x: mpmath.log(2 * mpmath.pi * x**2),
        (1e-30,),
    ),
    Case(
        "exp(x) / sum(exp(x)) -> softmax(x)",
        lambda x: (
            jnp.exp(jnp.stack([x, 0.0 * x]))[0]
            / jnp.sum(jnp.exp(jnp.stack([x, 0.0 * x])))
        ),
        lambda x: 1 / (1 + mpmath.exp(-x)),
        (100.0,),
    ),
    Case(
        "x - log(sum(exp(x))) -> log_softmax(x)",
        lambda x: jax.nn.log_softmax(jnp.stack([x, 0.0 * x]))[0],
        lambda x: -mpmath.log1p(mpmath.exp(-x)),
        (20.0,),
        order=1,
    ),
    Case(
        "(exp(x) - 1) / x -> exprel(x)",
        lambda x: (jnp.exp(x) - 1) / x,
        lambda x: mpmath.expm1(x) / x,
        (1e-10,),
    ),
    Case(
        "sin(x) / x -> divided(sin)",
        lambda x: jnp.sin(x) / x,
        lambda x: mpmath.sin(x) / x,
        (1e-3,),
        order=2,
    ),
    Case(
        "1 + tanh(u) -> 2 expit(2u)",
        lambda u: 1 + jnp.tanh(u),
        lambda u: 1 + mpmath.tanh(u),
        (-20.0,),
    ),
    Case(
        "1 + erf(u) -> erfc(-u)",
        lambda u: 1 + jax.scipy.special.erf(u),
        lambda u: mpmath.erfc(-u),
        (-5.0,),
    ),
    Case(
        "sqrt(x**2 + c) -> hypot(x, sqrt(c))",
        lambda x: jnp.sqrt(x**2 + 1e-12),
        lambda x: mpmath.sqrt(x**2 + mpmath.mpf(float(np.float32(1e-12)))),
        (1e20,),
    ),
    Case(
        "c / (1 + x**2) -> c arctan'(x)",
        lambda x: 1 / (1 + x**2),
        lambda x: 1 / (1 + x**2),
        (1e10,),
        order=1,
    ),
    Case(
        "1 / cosh(x)**2 -> tanh'(x)",
        lambda x: 1 / jnp.cosh(x) ** 2,
        lambda x: mpmath.sech(x) ** 2,
        (40.0,),
        order=1,
    ),
    Case(
        "arctan(c/x) -> sign(x) pi/2 - arctan(x/c)",
        lambda x: jnp.arctan(1 / x),
        lambda x: mpmath.atan(1 / x),
        (1e-22,),
        order=1,
    ),
    Case(
        "exp(log(a) - log(b)) -> a / b",
        lambda b, a: -jnp.exp(jnp.log(a) - jnp.log(b)),
        lambda b, a: -a / b,
        (1e19, 1e19),
        order=2,
    ),
]


def _derivative(f: Callable, order: int) -> Callable:
    for _ in range(order):
        f = jax.grad(f)
    return f


def _relative_error(value, truth: mpmath.mpf) -> float:
    value = float(value)
    if not np.isfinite(value):
        return float("inf")
    return float(abs(value - truth) / abs(truth)) if truth != 0 else abs(value)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_rewrite_reduces_the_error(case):
    args = tuple(jnp.asarray(a, case.dtype) for a in case.args)
    with mpmath.workdps(helpers.DIGITS):
        point = [mpmath.mpf(float(a)) for a in args]
        if case.order:
            truth = helpers.truth_partial(
                case.truth, point, (case.order,) + (0,) * (len(point) - 1)
            )
        else:
            truth = case.truth(*point)
    assert helpers.representable(truth, case.dtype) or truth == 0
    tolerance = helpers.ULPS[case.order] * helpers.eps(case.dtype)
    rewritten = calculax.stabilize(case.function, rewrite=True, report=True)
    ours = _relative_error(_derivative(rewritten, case.order)(*args), truth)
    plain = _relative_error(_derivative(case.function, case.order)(*args), truth)
    assert ours <= tolerance, (ours, tolerance)
    assert plain > 100 * tolerance, plain  # the case is one the rewrite is for
    assert rewritten.report.rewrites[case.rule] >= 1, rewritten.report.rewrites


@pytest.mark.parametrize("case", CASES[::2], ids=str)
def test_rewrite_keeps_values_where_the_plain_expression_is_right(case):
    # At ordinary arguments both forms agree to a few ulp.
    args = tuple(jnp.asarray(0.5 + 0.25 * i, case.dtype) for i in range(len(case.args)))
    ours = calculax.stabilize(case.function, rewrite=True)(*args)
    plain = case.function(*args)
    tolerance = helpers.ULPS[0] * helpers.eps(case.dtype)
    np.testing.assert_allclose(ours, plain, rtol=tolerance, atol=0)


def test_rewritten_quotient_of_logs_keeps_the_domain():
    # exp(log(a) - log(b)) is nan for negative a or b: so is the rewritten a / b.
    f = calculax.stabilize(lambda a, b: jnp.exp(jnp.log(a) - jnp.log(b)), rewrite=True)
    values = f(jnp.array([-1.0, 2.0, 2.0, 0.0]), jnp.array([2.0, -1.0, 4.0, 3.0]))
    np.testing.assert_array_equal(values, [np.nan, np.nan, 0.5, 0.0])


def test_rewrite_keeps_the_shape_of_a_broadcast_constant():
    # log(ones(3) + x) for a scalar x: the pattern's leaf is x, its root has shape 3.
    ones = np.ones(3, np.float32)
    f = calculax.stabilize(lambda x: jnp.log(ones + x), rewrite=True, report=True)
    value = f(jnp.float32(1e-10))
    assert value.shape == (3,) and f.report.rewrites["log(1 + x) -> log1p(x)"] == 1
    np.testing.assert_array_equal(value, np.full(3, np.float32(1e-10)))


def test_without_rewrite_values_are_unchanged():
    f = calculax.stabilize(lambda x: jnp.log(1 + x), report=True)
    assert float(f(jnp.float32(1e-10))) == 0.0  # the plain value, wrong as it is
    assert not f.report.rewrites

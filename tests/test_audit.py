"""``calculax.audit``'s high-precision interpreter against closed forms."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax.numpy as cnp
from calculax.audit import audit, high_precision, true_derivative

DIGITS = 50


def _close(value, exact, digits=40):
    return abs(value - exact) <= mpmath.mpf(10) ** -digits * abs(exact)


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(DIGITS + 10):
        yield


def test_values_of_a_program_with_reductions_and_calls():
    def f(x, y):
        picked = jnp.where(x > 1, jnp.sin(x) * y, x**2.5)
        return jnp.sum(picked) + jnp.max(x) + jnp.linalg.norm(x) + x @ x

    x = np.array([0.5, 1.0, 2.0])
    exact = (
        mpmath.mpf(0.5) ** 2.5 + 1 + mpmath.sin(2) * 3 + 2 + mpmath.sqrt(5.25) + 5.25
    )
    assert _close(high_precision(f, digits=DIGITS)(jnp.asarray(x), 3.0), exact)


def test_exact_where_floating_point_cancels():
    # (1 - cos x) / x**2 at x = 1e-8: 0 in float64; at 50 digits the cancellation
    # leaves 34.
    x = 1e-8
    value = high_precision(lambda v: (1 - jnp.cos(v)) / v**2, digits=DIGITS)(x)
    exact = (1 - mpmath.cos(mpmath.mpf(x))) / mpmath.mpf(x) ** 2
    assert float(jax.jit(lambda v: (1 - jnp.cos(v)) / v**2)(x)) == 0.0
    assert _close(value, exact, digits=32)


def test_real_functions_stay_real():
    assert mpmath.isnan(high_precision(jnp.sqrt)(-1.0))
    assert mpmath.isnan(high_precision(jnp.log)(-2.0))


@pytest.mark.parametrize(
    "point", [(3.0, 4.0), (1.7718548704178006e-103, 7.458340731200182e-155)]
)
def test_true_mixed_partial_of_arctan2(point):
    y, x = (mpmath.mpf(v) for v in point)
    exact = (y**2 - x**2) / (x**2 + y**2) ** 2  # d2 atan2(y, x) / dy dx
    value = true_derivative(jnp.arctan2, *point, argnums=(0, 1), order=(1, 1))
    assert _close(value, exact, digits=30)


@pytest.mark.parametrize("b", [1e-30, 1.0, 1e19])
def test_true_second_derivative_of_the_seed_ratio(b):
    value = true_derivative(lambda a, b: -a / b, b, b, argnums=1, order=2)
    assert _close(value, -2 / mpmath.mpf(b) ** 2, digits=30)


def test_true_derivative_in_a_saturated_tail():
    value = true_derivative(jnp.tanh, 20.0, order=2)
    exact = -2 * mpmath.tanh(20) * mpmath.sech(20) ** 2
    assert _close(value, exact, digits=30)


def test_stack_cumulative_sums_and_frexp():
    # jnp.stack, lax.cumsum (both directions) and jnp.frexp / jnp.ldexp (bit
    # manipulation in JAX, mpmath.frexp here), against exact values.
    x = np.array([1.0, 2.0, 3.0])
    assert high_precision(lambda a, b: jnp.stack([a, b]).sum())(1.5, 2.0) == 3.5
    forward = high_precision(jnp.cumsum)(x)
    backward = high_precision(lambda a: jax.lax.cumsum(a, reverse=True))(x)
    assert list(forward) == [1, 3, 6] and list(backward) == [6, 5, 3]
    mantissa, exponent = high_precision(jnp.frexp)(np.array([0.0, 3.0, -0.25]))
    assert list(mantissa) == [0, 0.75, -0.5] and list(exponent) == [0, 2, -1]
    assert high_precision(lambda a: jnp.ldexp(a, 3))(1.5) == 12


def test_true_derivative_through_calculax_norm():
    # calculax.numpy.linalg.norm scales by powers of two (frexp): its truth is the
    # norm's, d2/dx0^2 |(x0, x1)| = x1**2 / |x|**3.
    def norm(a, b):
        return cnp.linalg.norm(jnp.stack([a, b]))

    value = true_derivative(norm, 3.0, 4.0, argnums=0, order=2)
    assert abs(value - mpmath.mpf(16) / 125) < mpmath.mpf(10) ** -30


def test_unsupported_primitive_is_named():
    with pytest.raises(NotImplementedError, match="'erf_inv'"):
        high_precision(jax.lax.erf_inv)(jnp.float32(0.5))


def test_bad_arguments_are_specific_errors():
    with pytest.raises(ValueError, match="out of range"):
        true_derivative(jnp.sin, 1.0, argnums=2)
    with pytest.raises(ValueError, match="non-negative"):
        true_derivative(jnp.sin, 1.0, order=-1)
    with pytest.raises(ValueError, match="scalar-valued"):
        true_derivative(lambda x: jnp.stack([x, x]), 1.0)


@pytest.mark.parametrize("order, jax_right, n", [(1, 37, 75), (2, 25, 39)])
def test_audit_of_the_seed_ratio(order, jax_right, n, tmp_path):
    # The tour's numbers, here with truths from the jaxpr interpreter (not the
    # closed forms the tour uses).
    report = audit(lambda a, b: -a / b, wrt=1, tie=[0], order=order)
    assert (report.counts["jax"].right, report.counts["jax"].representable) == (
        jax_right,
        n,
    )
    stable = report.counts["stabilized"]
    assert (stable.right, stable.representable) == (n, n)
    assert "| stabilized | " in report.to_markdown()
    worst = report.worst("jax", 3)
    assert len(worst) == 3 and not np.isfinite(worst[0][1])
    assert report.plot(tmp_path / "audit.png").stat().st_size > 0


def test_audit_bad_input():
    with pytest.raises(ValueError, match="order must be >= 1"):
        audit(lambda a, b: a / b, wrt=1, order=0)
    with pytest.raises(ValueError, match="out of range"):
        audit(lambda a, b: a / b, wrt=2)

"""``calculax.integrate.quad`` against closed-form integrals.

All cases share one integrand (``lax.switch`` on a case index), so the table costs
one quadrature compilation; one more for the derivatives.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from calculax.integrate import STATUS, quad

EPS64 = float(np.finfo(np.float64).eps)
RTOL = EPS64**0.75  # quad's default tolerance
VALUE_TOL = 16 * RTOL  # tolerance met, plus the rounding of the final sum

BRANCHES = (
    lambda x, p: jnp.exp(-p * x * x),  # sqrt(pi / p) on the line
    lambda x, p: x**p,  # endpoint singularity at 0 for p < 0
    lambda x, p: jnp.exp(-p * x),
    lambda x, p: 1 / (1 + x * x),
    lambda x, p: jnp.log(x),  # log singularity at 0
    lambda x, p: 1 / x,  # divergent on [0, 1]
)


def _f(x, k, p):
    return jax.lax.switch(k, BRANCHES, x, p)


# (case, a, b, p, exact)
CASES = [
    (0, -np.inf, np.inf, 2.0, np.sqrt(np.pi / 2)),
    (1, 0.0, 1.0, -0.5, 2.0),
    (1, 0.0, 2.0, -0.9, 10 * 2**0.1),
    (2, 0.0, np.inf, 1e-3, 1e3),
    (2, 3.0, np.inf, 2.0, np.exp(-6.0) / 2),
    (3, -np.inf, 0.0, 0.0, np.pi / 2),
    (3, -3.0, 1e3, 0.0, np.arctan(1e3) + np.arctan(3.0)),
    (4, 0.0, 1.0, 0.0, -1.0),
]
# x**-0.999 on [0, 1] = 1000, most of it beyond what float64 resolves near 0; 1/x
# diverges. Neither may come back as a silent number.
FLAGGED = [(1, 0.0, 1.0, -0.999, 1000.0), (5, 0.0, 1.0, 0.0, np.inf)]


@functools.cache
def _cached(*cases):
    return _batch(*_columns(list(cases)))


@jax.jit
def _batch(k, a, b, p):
    return jax.vmap(lambda *z: quad(_f, z[1], z[2], args=(z[0], z[3]), throw=False))(
        k, a, b, p
    )


def _columns(cases):
    k, a, b, p, _ = zip(*cases)
    return (jnp.asarray(k), jnp.asarray(a), jnp.asarray(b), jnp.asarray(p))


def _all():
    """Every case in one batch: one compilation, one run."""
    return _cached(*CASES, *FLAGGED)


def test_values_errors_and_status_under_jit_and_vmap():
    result = _all()
    for i, case in enumerate(CASES):
        exact = case[-1]
        error = abs(float(result.value[i]) - exact)
        assert int(result.status[i]) == STATUS.normal, case
        assert error <= VALUE_TOL * abs(exact), (case, error)
        assert error <= float(result.error[i]) + 4 * EPS64 * abs(exact), case


def test_too_strong_singularity_and_divergence_are_flagged():
    result = _all()
    strong, divergent = len(CASES), len(CASES) + 1
    assert int(result.status[strong]) == STATUS.truncation
    assert float(result.error[strong]) >= abs(float(result.value[strong]) - 1000.0)
    assert int(result.status[divergent]) != STATUS.normal


def test_throw_raises_with_the_status_message():
    f = eqx.filter_jit(lambda: quad(_f, 0.0, 1.0, args=(jnp.asarray(5), 0.0)))
    with pytest.raises(eqx.EquinoxRuntimeError):
        f()


# d/dp of each case's integral (`_f` with p as in CASES), against calculus by hand.
DP_EXACT = [
    -0.5 * np.sqrt(np.pi) * 2.0**-1.5,  # sqrt(pi / p)
    -4.0,  # 1 / (p + 1) at p = -0.5
    2**0.1 * (np.log(2) / 0.1 - 1 / 0.01),  # 2**(p+1) / (p+1) at p = -0.9
    -1e6,  # 1 / p
    -3 * np.exp(-6.0) / 2 - np.exp(-6.0) / 4,  # exp(-3p) / p
    0.0,
    0.0,
    0.0,
]


@jax.jit
def _gradients(k, a, b, p):
    def integral(a, b, p, k):
        return quad(_f, a, b, args=(k, p)).value

    return jax.vmap(jax.grad(integral, argnums=(0, 1, 2)))(a, b, p, k)


def test_reverse_mode_in_limits_and_parameter_under_jit_and_vmap():
    # Leibniz: dI/db = f(b), dI/da = -f(a) (0 at an infinite limit, infinite at an
    # end singularity), dI/dp an integral of its own. Under this suite's
    # `jax_numpy_rank_promotion="raise"`.
    k, a, b, p = _columns(CASES)
    da, db, dp = _gradients(k, a, b, p)
    for i, (case, exact) in enumerate(zip(CASES, DP_EXACT)):
        kk, lo, hi, pp, _ = case
        assert abs(float(dp[i]) - exact) <= VALUE_TOL * max(abs(exact), 1.0), case
        for limit, got, sign in ((lo, da[i], -1.0), (hi, db[i], 1.0)):
            with np.errstate(divide="ignore"):
                edge = sign * float(_f(limit, kk, pp)) if np.isfinite(limit) else 0.0
            assert float(got) == pytest.approx(edge, rel=4 * EPS64), (case, limit)


def test_second_derivative_and_closure_over_the_parameter():
    # I(p) = int_1^inf exp(-p x) dx = exp(-p) / p; the integrand closes over `p`.
    def integral(p):
        return quad(lambda x: jnp.exp(-p * x), 1.0, jnp.inf).value

    p = 2.0
    # jax.hessian: forward mode over reverse mode, so both rules are exercised.
    second = float(jax.jit(jax.hessian(integral))(p))
    exact = np.exp(-p) * (1 / p + 2 / p**2 + 2 / p**3)
    assert abs(second - exact) <= VALUE_TOL * exact


def test_float32_limits_give_float32_result_and_bad_limits_raise():
    r = quad(lambda x: jnp.exp(-x), jnp.float32(0.0), jnp.float32(jnp.inf))
    assert r.value.dtype == jnp.float32
    assert abs(float(r.value) - 1.0) <= 16 * float(np.finfo(np.float32).eps) ** 0.75
    with pytest.raises(ValueError, match="must be a scalar"):
        quad(lambda x: x, jnp.zeros(2), 1.0)

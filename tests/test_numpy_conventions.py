"""Conventions at non-differentiable points, strong zeros, dtypes, transformations."""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax.numpy as cnp
from tests import helpers


def test_sqrt_derivative_at_zero_is_inf_but_zero_cotangent_stays_zero():
    assert jax.grad(cnp.sqrt)(jnp.float32(0.0)) == jnp.inf
    masked = jax.grad(lambda x: jnp.where(x > 0, cnp.sqrt(x), 0.0))(jnp.float32(0.0))
    assert masked == 0.0
    # jax.numpy leaks nan through the branch not taken.
    assert jnp.isnan(jax.grad(lambda x: jnp.where(x > 0, jnp.sqrt(x), 0.0))(0.0))


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_hypot_and_arctan2_origin_give_zero_at_every_order(order):
    for function in (cnp.hypot, cnp.arctan2):
        g = function
        for _ in range(order):
            g = jax.grad(g)
        assert g(jnp.float32(0.0), jnp.float32(0.0)) == 0.0


def test_abs_subgradient_at_zero_is_zero():
    assert jax.grad(cnp.abs)(jnp.float32(0.0)) == 0.0
    assert jax.grad(jax.grad(cnp.abs))(jnp.float32(0.0)) == 0.0


def test_complex_abs_is_stable_at_extreme_scale():
    z = jnp.complex64(3e30 + 4e30j)
    assert cnp.abs(z) == pytest.approx(5e30, rel=1e-6)
    assert cnp.abs(jnp.complex64(3e-30 + 4e-30j)) == pytest.approx(5e-30, rel=1e-6)


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64])
def test_result_dtype_follows_jax_numpy(dtype):
    x = jnp.asarray([0.5, 2.0], dtype=dtype)
    for name in ("exp", "log", "sqrt", "tanh", "arctan", "sinc", "expm1"):
        ours, theirs = getattr(cnp, name)(x), getattr(jnp, name)(x)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        assert jax.grad(lambda v: getattr(cnp, name)(v).sum())(x).dtype == dtype
    assert cnp.divide(x, 3).dtype == jnp.divide(x, 3).dtype
    assert cnp.power(x, 2).dtype == jnp.power(x, 2).dtype


def test_integer_inputs_are_promoted_like_jax_numpy():
    assert cnp.sqrt(jnp.int32(4)).dtype == jnp.sqrt(jnp.int32(4)).dtype
    assert cnp.divide(jnp.int32(1), jnp.int32(2)) == 0.5
    assert cnp.abs(jnp.int32(-3)).dtype == jnp.int32


def test_unsupported_dtype_is_a_type_error_naming_it():
    x = jnp.asarray([1.0], dtype=jnp.float8_e4m3fn)
    with pytest.raises(TypeError, match="float8_e4m3fn"):
        cnp.exp(x)


def test_broadcasting_matches_jax_numpy():
    a, b = jnp.ones((3, 1)), jnp.arange(1.0, 5.0)[None, :]
    assert cnp.divide(a, b).shape == (3, 4)
    assert cnp.hypot(a, b).shape == (3, 4)
    with pytest.raises((ValueError, TypeError), match="shapes"):
        cnp.divide(jnp.ones(3), jnp.ones(4))


def test_jit_vmap_jacfwd_jacrev_hessian_agree():
    def f(x):
        return cnp.logaddexp(cnp.tanh(x[0]), cnp.divide(x[1], x[2])) + cnp.hypot(
            x[0], x[2]
        )

    x = jnp.array([0.3, -1.2, 2.5])
    np.testing.assert_allclose(jax.jacfwd(f)(x), jax.jacrev(f)(x), rtol=1e-14)
    np.testing.assert_allclose(
        jax.jit(jax.hessian(f))(x), jax.jacfwd(jax.jacrev(f))(x), rtol=1e-14
    )
    y, f_lin = jax.linearize(f, x)
    np.testing.assert_allclose(f_lin(jnp.ones(3)), jax.jacfwd(f)(x).sum(), rtol=1e-14)
    batch = jnp.stack([x, 2 * x])
    np.testing.assert_allclose(
        jax.vmap(jax.grad(f))(batch), jnp.stack([jax.grad(f)(x), jax.grad(f)(2 * x)])
    )


PRIMAL_CASES = [
    ("exp", cnp.exp, jnp.exp, mpmath.exp, (-80.0, 80.0)),
    ("log1p", cnp.log1p, jnp.log1p, mpmath.log1p, (-0.9, 50.0)),
    ("tanh", cnp.tanh, jnp.tanh, mpmath.tanh, (-20.0, 20.0)),
    ("arcsinh", cnp.arcsinh, jnp.arcsinh, mpmath.asinh, (-1e30, 1e30)),
    ("sinc", cnp.sinc, jnp.sinc, mpmath.sincpi, (-1e4, 1e4)),
    (
        "cbrt",
        cnp.cbrt,
        jnp.cbrt,
        lambda x: mpmath.sign(x) * mpmath.cbrt(abs(x)),
        (-1e30, 1e30),
    ),
]


@pytest.mark.parametrize("case", PRIMAL_CASES, ids=lambda c: c[0])
def test_primal_within_2_ulp_of_jax_numpy_or_more_accurate(case):
    _, ours, theirs, truth, (low, high) = case
    x = np.linspace(low, high, 257, dtype=np.float32)
    values, reference = np.asarray(ours(x)), np.asarray(theirs(x))
    for xi, vi, ri in zip(x, values, reference):
        t = truth(mpmath.mpf(float(xi)))
        ulp = abs(float(t)) * helpers.eps(np.float32) + float(np.finfo(np.float32).tiny)
        ours_error, jax_error = abs(vi - t), abs(ri - t)
        assert ours_error <= max(jax_error, 2 * ulp), (xi, vi, ri, t)


def test_hypot_primal_beats_overflow_and_underflow():
    for scale in (1e-30, 1.0, 1e30):
        x = jnp.float32(3 * scale)
        y = jnp.float32(4 * scale)
        assert cnp.hypot(x, y) == pytest.approx(
            5 * scale, rel=2 * helpers.eps(np.float32)
        )

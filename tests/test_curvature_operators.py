"""Curvature operators on a small MLP (mixed shapes and dtypes) and the error tiers.

Truth: the dense Hessian from ``jax.hessian`` of the loss of the flattened parameters
(``jacfwd`` of ``jacrev``, not the operator's ``jvp`` of ``grad`` code path), the
dense Gauss-Newton matrix ``J^T H_z J`` from ``jax.jacobian``, and ``numpy.linalg``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import calculax
from calculax.curvature import (
    diagonal,
    eigenvalues,
    finite_difference_hessian_operator,
    frobenius_norm,
    gauss_newton_operator,
    hessian_operator,
    linear_operator,
    spectral_density,
    trace,
)

from .test_curvature import MIN_COVERAGE, rounding

KEYS = jax.random.split(jax.random.key(7), 200)
BUDGET = 30


def _init(key):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    return {
        "w1": jax.random.normal(k1, (4, 8)) / 2,
        "b1": (0.1 * jax.random.normal(k2, (8,))).astype(jnp.float32),  # mixed dtype
        "w2": jax.random.normal(k3, (8, 3)) / 3,
        "b2": 0.1 * jax.random.normal(k4, (3,)),
    }


def model(p, x):
    return jnp.tanh(x @ p["w1"] + p["b1"][None]) @ p["w2"] + p["b2"][None]


def cross_entropy(logits, y):
    picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=1) - picked)


def loss(p, x, y):
    return cross_entropy(model(p, x), y)


PARAMS = _init(jax.random.key(0))
X = jax.random.normal(jax.random.key(1), (16, 4))
Y = jax.random.randint(jax.random.key(2), (16,), 0, 3)
FLAT, UNRAVEL = ravel_pytree(PARAMS)
N = FLAT.size  # 67
# b1 is float32: the Hessian's b1 rows and columns carry float32 rounding.
TOL = rounding(np.float32)


@jax.jit
def _dense_hessian(x=X, y=Y):
    return jax.hessian(lambda z: loss(UNRAVEL(z), x, y))(FLAT)


H = np.asarray(_dense_hessian())
H_EIG = np.linalg.eigvalsh(H)
SCALE = np.max(np.abs(H_EIG))


def test_hessian_operator_is_the_dense_hessian_with_pytree_dtypes():
    op = hessian_operator(loss, PARAMS, X, Y)
    assert op.size == N and op.dtype == np.float64
    np.testing.assert_allclose(op.as_dense(), H, atol=TOL * SCALE)
    out = jax.jit(op.flat.unravel)(jnp.ones(N))
    assert jax.tree_util.tree_map(lambda a: a.dtype, out) == jax.tree_util.tree_map(
        lambda a: a.dtype, PARAMS
    )


@jax.jit
def _mlp_sweep(keys):
    op = hessian_operator(loss, PARAMS, X, Y)

    def one(key):
        return (
            trace(op, num_matvecs=BUDGET, key=key),
            diagonal(op, num_matvecs=BUDGET, key=key),
            frobenius_norm(op, num_matvecs=BUDGET, key=key),
        )

    return jax.lax.map(one, keys)


def test_mlp_hessian_estimates_cover_dense_truth():
    tr, diag, frob = _mlp_sweep(KEYS)
    diag_flat = jax.vmap(lambda d: ravel_pytree(d)[0])
    for est, truth, value, error in (
        (tr, np.trace(H), tr.value, tr.error),
        (frob, np.linalg.norm(H), frob.value, frob.error),
        (diag, np.diag(H), diag_flat(diag.value), diag_flat(diag.error)),
    ):
        low, high = est.interval(0.95)
        if isinstance(low, dict):
            low, high = diag_flat(low), diag_flat(high)
        floor = TOL * SCALE
        covered = (np.asarray(low) - floor <= truth) & (
            truth <= np.asarray(high) + floor
        )
        assert covered.mean() >= MIN_COVERAGE
        assert np.asarray(value).shape[0] == len(KEYS)
        assert np.all(np.asarray(error) >= 0)
    assert jax.tree_util.tree_structure(diag.value) == jax.tree_util.tree_structure(
        PARAMS
    )
    assert diag.value["b1"].dtype == jnp.float32


def test_mlp_hessian_extreme_eigenvalues_and_density():
    op = hessian_operator(loss, PARAMS, X, Y)
    top = eigenvalues(op, 2, num_matvecs=41, key=jax.random.key(3), rtol=1e-6)
    # The bound includes the measured rounding (b1 is float32): no extra floor.
    assert np.all(
        np.abs(np.asarray(top.value) - H_EIG[::-1][:2]) <= np.asarray(top.error)
    )
    d = spectral_density(
        op, num_matvecs=4 * 20, key=jax.random.key(4), lanczos_steps=20
    )
    spacing = float(d.grid[1] - d.grid[0])
    np.testing.assert_allclose(np.sum(d.value) * spacing, 1.0, rtol=1e-3)
    assert float(d.grid[0]) < H_EIG[0] and H_EIG[-1] < float(d.grid[-1])


def test_batches_average_the_per_batch_hessians():
    halves = [(X[:8], Y[:8]), (X[8:], Y[8:])]
    op = hessian_operator(loss, PARAMS, batches=iter(halves))
    truth = np.asarray(_dense_hessian(*halves[0]) + _dense_hessian(*halves[1])) / 2
    np.testing.assert_allclose(op.as_dense(), truth, atol=TOL * SCALE)


def test_gauss_newton_operator_is_jt_hz_j():
    op = gauss_newton_operator(model, cross_entropy, PARAMS, X, Y)

    @jax.jit
    def dense_gauss_newton():
        jac = jax.jacobian(lambda z: model(UNRAVEL(z), X).ravel())(FLAT)
        out = model(PARAMS, X)
        hz = jax.hessian(lambda o: cross_entropy(o.reshape(out.shape), Y))(out.ravel())
        return jac.T @ hz @ jac

    truth = np.asarray(dense_gauss_newton())
    np.testing.assert_allclose(op.as_dense(), truth, atol=TOL * SCALE)


def test_finite_difference_hvp_error_is_eps_two_thirds():
    params = {"w": jnp.linspace(-1.0, 1.0, 5), "v": jnp.array(0.5)}

    def f(p):
        return jnp.sum(jnp.sin(p["w"]) ** 2) * jnp.cosh(p["v"]) + p["v"] ** 4

    exact = hessian_operator(f, params)
    fd = finite_difference_hessian_operator(jax.grad(f), params)
    direction = {"w": jnp.array([1.0, -2.0, 0.5, 0.0, 3.0]), "v": jnp.array(-1.0)}
    want, got = jax.jit(lambda v: (exact.matvec(v), fd.matvec(v)))(direction)
    # Truncation h^2 |f'''| + rounding eps |g| / h, both ~eps^(2/3) at the chosen h.
    bound = 64 * np.finfo(np.float64).eps ** (2 / 3)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=bound, atol=bound)


def test_budget_too_small_is_a_specific_error():
    a, key = jnp.eye(50), jax.random.key(0)
    with pytest.raises(ValueError, match="at least 6 .method 'auto'"):
        trace(a, num_matvecs=5, key=key)
    with pytest.raises(ValueError, match="method 'hutch..' needs at least 4"):
        trace(a, num_matvecs=3, key=key, method="hutch++")
    with pytest.raises(ValueError, match="Lanczos for 3 eigenvalue"):
        eigenvalues(a, 3, num_matvecs=3, key=key)
    with pytest.raises(ValueError, match="SLQ needs at least 2 probes"):
        spectral_density(a, num_matvecs=40, key=key, lanczos_steps=32)
    with pytest.raises(TypeError, match="must be a Python int"):
        trace(a, num_matvecs=30.0, key=key)


def test_mismatched_pytrees_are_specific_errors():
    example = {"a": jnp.ones(3), "b": jnp.ones(2)}
    with pytest.raises(ValueError, match="pytree structure"):
        linear_operator(lambda v: {"a": v["a"]}, example)
    with pytest.raises(ValueError, match="leaf shapes"):
        linear_operator(lambda v: {"a": v["a"][:2], "b": v["b"]}, example)
    op = hessian_operator(loss, PARAMS, X, Y)
    with pytest.raises(ValueError, match="`vector` has pytree structure"):
        op.matvec({"w1": PARAMS["w1"]})
    with pytest.raises(ValueError, match="gradient"):
        finite_difference_hessian_operator(lambda p: p["a"], example)
    with pytest.raises(ValueError, match="every batch must have the same"):
        hessian_operator(loss, PARAMS, batches=[(X, Y), (X[:8], Y[:8])])


def test_nan_in_matvec_is_a_runtime_error_also_under_jit():
    example = jnp.ones(40)
    op = linear_operator(lambda v: v * jnp.where(v[0] > 2, 1.0, jnp.nan), example)
    key = jax.random.key(0)
    jitted = jax.jit(lambda k: trace(op, num_matvecs=10, key=k, method="hutchinson"))
    with pytest.raises(Exception, match="trace: A non-finite value"):
        jitted(key).value.block_until_ready()


def test_bad_options_are_specific_errors():
    a, key = jnp.eye(50), jax.random.key(0)
    with pytest.raises(ValueError, match=r"square \(n, n\) matrix"):
        trace(jnp.ones((3, 4)), num_matvecs=10, key=key)
    with pytest.raises(TypeError, match="pass `example=`"):
        trace(lambda v: v, num_matvecs=10, key=key)
    with pytest.raises(ValueError, match="`method` must be one of"):
        trace(a, num_matvecs=10, key=key, method="hutch")
    with pytest.raises(ValueError, match="does not estimate the diagonal"):
        diagonal(a, num_matvecs=10, key=key, method="xtrace")
    with pytest.raises(ValueError, match="does not estimate the trace.*'xtrace'"):
        trace(a, num_matvecs=10, key=key, method="xdiag")
    with pytest.raises(ValueError, match="must return a scalar"):
        hessian_operator(lambda p: p * 2, jnp.ones(3))
    with pytest.raises(ValueError, match="`level` must be a number in"):
        trace(a, num_matvecs=10, key=key).interval(1.5)
    with pytest.raises(ValueError, match="`which` must be one of"):
        eigenvalues(a, num_matvecs=10, key=key, which="middle")


def test_fisher_operator_is_the_mean_outer_product_of_per_example_gradients():
    def losses(p, x, y):
        logits = model(p, x)
        picked = jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0]
        return jax.nn.logsumexp(logits, axis=1) - picked

    op = calculax.curvature.fisher_operator(losses, PARAMS, X, Y)
    jac = np.asarray(jax.jacobian(lambda z: losses(UNRAVEL(z), X, Y))(FLAT))
    truth = jac.T @ jac / len(X)
    np.testing.assert_allclose(op.as_dense(), truth, atol=TOL * np.abs(truth).max())
    assert op.tags() == frozenset({"symmetric", "psd"})
    with pytest.raises(ValueError, match="per-example losses, a vector"):
        calculax.curvature.fisher_operator(loss, PARAMS, X, Y)


def test_as_lineax_solves_a_damped_newton_system():
    import lineax as lx

    # lineax's CG promotes mixed-dtype pytrees: use float64 throughout here.
    params = jax.tree_util.tree_map(lambda a: a.astype(jnp.float64), PARAMS)
    flat, unravel = ravel_pytree(params)
    op = hessian_operator(loss, params, X, Y)
    damping = 1.0 - float(H_EIG[0])  # H + damping I is positive definite
    hessian = op.as_lineax()
    shifted = lx.TaggedLinearOperator(
        hessian + damping * lx.IdentityLinearOperator(hessian.in_structure()),
        lx.positive_semidefinite_tag,
    )
    x = lx.linear_solve(shifted, unravel(jnp.ones(N)), lx.CG(1e-10, 1e-10)).value
    truth = np.linalg.solve(H + damping * np.eye(N), np.ones(N))
    np.testing.assert_allclose(ravel_pytree(x)[0], truth, rtol=1e-5, atol=1e-5)

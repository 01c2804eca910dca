"""``entropy_from_samples`` against SciPy's implementation, closed-form truths and
an independent nearest-neighbour search."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.spatial
import scipy.stats

from calculax.information import entropy_from_samples
from calculax.information._samples._knn import knn_distances

EPS64 = float(np.finfo(np.float64).eps)
SAME_FORMULA_TOL = 64 * EPS64  # same estimator, different summation order
NORMAL_H = 0.5 * np.log(2 * np.pi * np.e)
SPACING = ("vasicek", "van es", "ebrahimi", "correa")
# Root-mean-square error bound C / n**rate: the estimators' asymptotic standard
# deviation on N(0, 1) is sqrt(Var log p) = sqrt(1/2) ~ 0.71 (spacing estimators
# add a bias, k-NN a constant factor), so C = 3 is ~4 standard deviations. Van Es
# with the default window m = sqrt(n) converges more slowly: its bias shrinks only
# like n**-0.3 (measured on N(0, 1): -0.068 at n = 1e3, -0.034 at 1e4), documented
# in its module; it is held to n**-0.25.
RATE_CONSTANT = 3.0
RATE = {"vasicek": 0.5, "van es": 0.25, "ebrahimi": 0.5, "correa": 0.5, "knn": 0.5}
REPLICATES = 8
SIZES = (1000, 4000)


@pytest.mark.parametrize("method", SPACING)
def test_spacing_formulas_match_scipy(method):
    x = np.random.default_rng(0).standard_normal(501)
    expected = scipy.stats.differential_entropy(x, method=method)
    computed = float(entropy_from_samples(x, method))
    assert abs(computed - expected) <= SAME_FORMULA_TOL * abs(expected)


def test_blockwise_knn_matches_kd_tree():
    x = np.random.default_rng(1).standard_normal((1000, 3))
    distances, _ = scipy.spatial.cKDTree(x).query(x, k=4)  # self + 3 neighbours
    computed = knn_distances(jnp.asarray(x), 3, block=96)  # 96 does not divide 1000
    np.testing.assert_allclose(computed, distances[:, 3], rtol=16 * EPS64)


@pytest.mark.parametrize("method", (*SPACING, "knn"))
def test_converges_at_root_n_on_the_normal(method):
    keys = jax.random.split(jax.random.key(2), REPLICATES)
    errors = {}
    for n in SIZES:
        samples = jax.vmap(lambda k, n=n: jax.random.normal(k, (n,)))(keys)
        estimates = jnp.stack([entropy_from_samples(s, method) for s in samples])
        rmse = float(jnp.sqrt(jnp.mean((estimates - NORMAL_H) ** 2)))
        assert rmse <= RATE_CONSTANT / n ** RATE[method], (n, rmse)
        errors[n] = rmse
    assert errors[SIZES[1]] < errors[SIZES[0]]


def test_knn_in_three_dimensions():
    cov = np.array([[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]])
    truth = scipy.stats.multivariate_normal(cov=cov).entropy()
    x = np.random.default_rng(3).multivariate_normal(np.zeros(3), cov, 4000)
    estimate = float(entropy_from_samples(x))  # auto: knn for d > 1
    assert abs(estimate - truth) <= RATE_CONSTANT * np.sqrt(3) / np.sqrt(4000)


def test_half_sampling_standard_error_matches_replicate_spread():
    keys = jax.random.split(jax.random.key(4), 40)
    spread = np.std(
        [
            float(entropy_from_samples(jax.random.normal(k, (800,)), "vasicek"))
            for k in keys
        ]
    )
    x = jax.random.normal(jax.random.key(5), (800,))
    result = entropy_from_samples(x, "vasicek", key=jax.random.key(6), full_output=True)
    assert 0.5 * spread <= float(result.error) <= 2.0 * spread
    lo, hi = result.interval
    assert lo < float(result.value) < hi
    # without a key: the same estimate of the spread, from a fixed key
    plain = entropy_from_samples(x, "vasicek", full_output=True)
    again = entropy_from_samples(x, "vasicek", full_output=True)
    assert 0.5 * spread <= float(plain.error) == float(again.error) <= 2.0 * spread
    assert plain.interval is not None
    traced = jax.jit(lambda v: entropy_from_samples(v, "vasicek", full_output=True))(x)
    assert float(traced.error) == float(plain.error) and traced.interval is not None


def test_too_few_points_for_halves_give_an_unknown_not_a_zero_spread():
    x = np.array([0.1, 0.7, 1.9, 2.2, 3.5])  # halves of 2 points: no estimate
    result = entropy_from_samples(x, "vasicek", full_output=True)
    assert np.isfinite(float(result.value)) and float(result.error) == np.inf
    result = entropy_from_samples(x[:, None], "knn", k=3, full_output=True)
    assert float(result.error) == np.inf


def test_ties_nan_and_too_few_points_are_specific_errors():
    x = np.round(np.random.default_rng(7).standard_normal(500), 1)
    with pytest.raises(ValueError, match="^entropy_from_samples: k\\+1 = 4 .*ties"):
        entropy_from_samples(x, "knn")
    with pytest.raises(ValueError, match="^entropy_from_samples: repeated .*ties"):
        entropy_from_samples(np.repeat([0.0, 1.0, 2.0], 40), "van es")
    with pytest.raises(eqx.EquinoxRuntimeError, match="ties"):  # under jit
        eqx.filter_jit(lambda v: entropy_from_samples(v, "van es"))(np.ones(12))
    with pytest.raises(ValueError, match="^entropy_from_samples: `x` contains nan"):
        entropy_from_samples(np.array([0.0, np.nan, 1.0, 2.0, 3.0, 4.0]), "vasicek")
    with pytest.raises(ValueError, match="n >= 3 points"):
        entropy_from_samples(np.array([0.0, 1.0]), "vasicek")
    with pytest.raises(ValueError, match="`method` must be one of"):
        entropy_from_samples(np.zeros(10), "histogram")

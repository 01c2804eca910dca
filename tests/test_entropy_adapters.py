"""numpyro, TFP-on-JAX and distrax distribution objects, against mpmath.

Each library is optional: its tests skip when it is not installed. Parameters are
float64 arrays (TFP would otherwise work in float32 whatever JAX's setting).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from calculax.information import entropy

from . import entropy_references as refs

# TFP (nightly, the release that works with this JAX) and distrax, which imports it,
# read a deprecated JAX attribute at import; that is theirs to fix, not an error here.
pytestmark = pytest.mark.filterwarnings(
    "ignore:jax.core.pytype_aval_mappings is deprecated:DeprecationWarning"
)
CLOSED_TOL = 4096 * float(np.finfo(np.float64).eps)
NUMERICAL_TOL = 1e-9


def f64(*values):
    return tuple(jnp.asarray(v, jnp.float64) for v in values)


# (library, class, constructor arguments, SciPy family, shapes, scale).
CASES = [
    ("numpyro", "Normal", (1.0, 1e-6), "norm", (), 1e-6),
    ("numpyro", "Gamma", (1e10, 2.0), "gamma", (1e10,), 0.5),
    ("numpyro", "Beta", (2.0, 1e20), "beta", (2.0, 1e20), 1.0),
    ("numpyro", "StudentT", (0.5, 0.0, 3.0), "t", (0.5,), 3.0),
    ("numpyro", "Pareto", (2.0, 3.0), "pareto", (3.0,), 2.0),
    ("numpyro", "InverseGamma", (3.0, 2.0), "invgamma", (3.0,), 2.0),
    ("numpyro", "VonMises", (0.0, 1e-3), "vonmises", (1e-3,), 1.0),
    ("tfp", "Gamma", (0.3, 4.0), "gamma", (0.3,), 0.25),
    ("tfp", "Beta", (2.0, 1e20), "beta", (2.0, 1e20), 1.0),
    ("tfp", "Pareto", (3.0, 2.0), "pareto", (3.0,), 2.0),
    ("tfp", "InverseGamma", (3.0, 2.0), "invgamma", (3.0,), 2.0),
    ("tfp", "Weibull", (1.5, 2.0), "weibull_min", (1.5,), 2.0),
    ("tfp", "LogNormal", (0.5, 0.7), "lognorm", (0.7,), float(np.exp(0.5))),
    ("distrax", "Beta", (0.5, 0.5), "beta", (0.5, 0.5), 1.0),
    ("distrax", "Laplace", (0.0, 1e5), "laplace", (), 1e5),
    ("distrax", "Gumbel", (0.0, 2.0), "gumbel_r", (), 2.0),
]
MODULES = {
    "numpyro": "numpyro.distributions",
    "tfp": "tensorflow_probability.substrates.jax.distributions",
    "distrax": "distrax",
}


def _library(name):
    return pytest.importorskip(MODULES[name])


@functools.cache
def _truth(family, shapes, scale):
    with mp.workdps(40):
        return float(refs.truth(family, shapes) + mp.log(mp.mpf(scale)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}.{c[1]}")
def test_library_family_uses_our_closed_form(case):
    library, cls, args, family, shapes, scale = case
    dist = getattr(_library(library), cls)(*f64(*args))
    result = entropy(dist, full_output=True)
    assert result.method == f"closed-form: {family} (from {library}.{cls})"
    truth = _truth(family, shapes, scale)
    assert abs(float(result.value) - truth) <= CLOSED_TOL * max(1.0, abs(truth))


def test_library_closed_forms_are_not_what_we_return_where_they_fail():
    # Why the libraries' own entropy() is not used: at Beta(2, 1e20) numpyro's and
    # TFP's return 0.0 (the truth is -44.47...); numpyro's Gamma(1e10) is off in
    # the 7th digit.
    nd = _library("numpyro")
    truth = _truth("beta", (2.0, 1e20), 1.0)
    assert float(nd.Beta(*f64(2.0, 1e20)).entropy()) == 0.0
    assert abs(float(entropy(nd.Beta(*f64(2.0, 1e20)))) - truth) <= CLOSED_TOL * 45


def test_gradient_batch_shape_and_multivariate():
    nd = _library("numpyro")

    def h(a):
        return entropy(nd.Gamma(a, jnp.asarray(3.0)))

    a = 2.5
    # dH/da = 1 + (1 - a) trigamma(a) for the gamma family (any rate).
    exact = 1 + (1 - a) * float(mp.psi(1, a))
    assert abs(float(jax.grad(h)(jnp.asarray(a))) - exact) <= CLOSED_TOL
    batch = entropy(nd.Normal(jnp.zeros(3), jnp.asarray(2.0)))
    assert batch.shape == (3,)
    cov = jnp.asarray([[2.0, 0.3], [0.3, 1.0]])
    mvn = entropy(nd.MultivariateNormal(jnp.zeros(2), cov), full_output=True)
    with mp.workdps(40):
        truth = 1 + mp.log(2 * mp.pi) + mp.log(mp.mpf(2) - mp.mpf("0.09")) / 2
    assert abs(float(mvn.value) - float(truth)) <= CLOSED_TOL
    assert mvn.method.startswith("closed-form: multivariate_normal")


def test_family_without_closed_form_uses_log_prob():
    # Kumaraswamy(a, b): H = (1 - 1/b) + (1 - 1/a) H_b - log(a b), H_b harmonic.
    nd = _library("numpyro")
    a, b = 2.0, 3.0
    with mp.workdps(30):
        truth = float(
            (1 - mp.mpf(1) / b) + (1 - mp.mpf(1) / a) * mp.harmonic(b) - mp.log(a * b)
        )
    result = entropy(nd.Kumaraswamy(*f64(a, b)), full_output=True)
    assert "log_prob of numpyro.Kumaraswamy" in result.method
    assert abs(float(result.value) - truth) <= NUMERICAL_TOL


def test_tfp_without_closed_form_needs_support():
    td = _library("tfp")
    with pytest.raises(TypeError, match=r"support=\(lo, hi\)"):
        entropy(td.Kumaraswamy(*f64(2.0, 3.0)))


def test_multivariate_without_closed_form_is_a_specific_error():
    nd = _library("numpyro")
    with pytest.raises(TypeError, match="multivariate distribution without"):
        entropy(nd.Normal(jnp.zeros(2), jnp.asarray(1.0)).to_event(1))

"""The quadrature path (log-densities, SciPy families without a closed form), the
multivariate closed forms and cubature, KL divergence and cross-entropy, against
mpmath.

Log-density cases share one ``lax.switch`` log-density, so the table compiles one
integrand kernel.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import scipy.stats
from jax.scipy.stats import beta, cauchy, gamma, logistic, norm, t

import calculax
from calculax import RESULTS
from calculax.information import cross_entropy, entropy, kl_divergence

from . import entropy_references as refs
from .helpers import default_precision

EPS64 = float(np.finfo(np.float64).eps)
NUMERICAL_TOL = 1e-9  # the bound for the quadrature path
CLOSED_TOL = 4096 * EPS64


def _mixture(x):
    return jnp.logaddexp(
        jnp.log(0.3) + norm.logpdf(x, -2.0, 0.5),
        jnp.log(0.7) + norm.logpdf(x, 1.0, 1.0),
    )


LOGPDFS = (
    (lambda x: norm.logpdf(x, 0.0, 1e-6), (-np.inf, np.inf)),
    (lambda x: cauchy.logpdf(x), (-np.inf, np.inf)),
    (lambda x: t.logpdf(x, 1.5), (-np.inf, np.inf)),
    (_mixture, (-np.inf, np.inf)),
    (lambda x: logistic.logpdf(x), (-np.inf, np.inf)),
    (lambda x: jnp.log(1e6) - 1e6 * x, (0.0, np.inf)),  # expon(scale=1e-6)
    (lambda x: gamma.logpdf(x, 0.3), (0.0, np.inf)),
    (lambda x: jnp.log(0.5) - 1.5 * jnp.log1p(x), (0.0, np.inf)),  # lomax(0.5)
    (lambda x: norm.logpdf(jnp.log(x), 0.0, 2.0) - jnp.log(x), (0.0, np.inf)),
    (lambda x: beta.logpdf(x, 0.5, 2.0), (0.0, 1.0)),
    (lambda x: beta.logpdf(x, 2.0, 3.0), (0.0, 1.0)),
    (lambda x: jnp.log(0.2) - 0.8 * jnp.log(x), (0.0, 1.0)),  # powerlaw(0.2)
    # Bad inputs, through the same compiled quadrature:
    (lambda x: norm.logpdf(x) + 1.0, (-np.inf, np.inf)),  # integrates to e
    # 1 / (x log(x)**2) on (e, inf): infinite entropy, mass beyond 1e308.
    (lambda x: -jnp.log(x) - 2 * jnp.log(jnp.log(x)), (float(np.e), np.inf)),
    # 2 / (x log(x)**3) on (e, inf): finite entropy 7/2 - log 2, part of it beyond
    # the float range.
    (
        lambda x: jnp.log(2.0) - jnp.log(x) - 3 * jnp.log(jnp.log(x)),
        (float(np.e), np.inf),
    ),
)
UNNORMALISED, HEAVY, SLOW = range(len(LOGPDFS) - 3, len(LOGPDFS))


def _case(x, k):
    """All log-densities in one function: one quadrature compilation for the file."""
    return jax.lax.switch(k, [f for f, _ in LOGPDFS], x)


def _mp_mixture_entropy():
    def p(x):
        return 0.3 * mp.npdf(x, -2, 0.5) + 0.7 * mp.npdf(x, 1, 1)

    return -mp.quad(lambda x: p(x) * mp.log(p(x)), [-mp.inf, -2, 0, 1, mp.inf])


@functools.cache
def _truths():
    with mp.workdps(30):
        return [
            refs.truth("norm", ()) + mp.log(mp.mpf(1e-6)),
            refs.truth("cauchy", ()),
            refs.truth("t", (1.5,)),
            _mp_mixture_entropy(),
            refs.truth("logistic", ()),
            refs.truth("expon", ()) + mp.log(mp.mpf(1e-6)),
            refs.truth("gamma", (0.3,)),
            refs.truth("lomax", (0.5,)),
            refs.truth("lognorm", (2.0,)),
            refs.truth("beta", (0.5, 2.0)),
            refs.truth("beta", (2.0, 3.0)),
            refs.truth("powerlaw", (0.2,)),
        ]


def _entropy_of_case(k, throw=True):
    index = jnp.asarray(k)  # an array, not a Python int: one compilation for all k
    return entropy(
        _case, support=LOGPDFS[k][1], args=(index,), full_output=True, throw=throw
    )


@pytest.mark.parametrize("k", range(UNNORMALISED))
def test_logpdf_entropy_within_1e9_with_honest_error(k):
    truth = float(_truths()[k])
    result = _entropy_of_case(k)
    error = abs(float(result.value) - truth)
    assert result.ok
    assert error <= NUMERICAL_TOL, error
    assert error <= float(result.error) + 8 * EPS64 * abs(truth)
    assert result.method.startswith("quadrature")


def test_density_not_integrating_to_one_reports_its_integral():
    # Two independent quadratures agree the density integrates to e.
    with pytest.raises(ValueError, match=r"integrates to 2\.718281828.*confirmed"):
        _entropy_of_case(UNNORMALISED)


def test_infinite_entropy_is_inf_and_flagged():
    # -p log p of 1/(x log(x)**2) decays like 1/log(x): decided from the tail's
    # log-log slope (calculax.integrate._tails), not a truncated number.
    result = _entropy_of_case(HEAVY, throw=False)
    assert float(result.value) == np.inf
    assert result.status == RESULTS.divergent
    with pytest.raises(calculax.NumericalError, match="entropy: The integral is"):
        _entropy_of_case(HEAVY)


def test_finite_entropy_of_a_slow_tail_is_flagged_with_an_honest_error():
    # 2/(x log(x)**3): with t = log x, H = int_1^inf 2 t**-3 (t + 3 log t - log 2)
    # = 7/2 - log 2; a part of it lies beyond x = 1e150, where the algebraic model
    # of the tail bounds it.
    truth = 3.5 - np.log(2.0)
    result = _entropy_of_case(SLOW, throw=False)
    assert not result.ok
    assert abs(float(result.value) - truth) <= float(result.error)
    assert float(result.error) <= 100 * abs(float(result.value) - truth)


def test_gradient_of_quadrature_entropy_in_parameters():
    # d/dsigma of the entropy of N(0, sigma) is 1/sigma; reverse mode, under this
    # suite's `jax_numpy_rank_promotion="raise"`. The log-density closes over
    # `sigma` instead of taking it in `args`: the derivative must see it anyway.
    def h(sigma):
        return entropy(lambda x: norm.logpdf(x, 0.0, sigma), support=(-np.inf, np.inf))

    sigma = 0.37
    assert abs(float(jax.jit(jax.grad(h))(sigma)) * sigma - 1) <= NUMERICAL_TOL


def test_scipy_family_without_closed_form_uses_quadrature():
    c = 1.5

    def p(x):
        return mp.npdf(x, c, 1) + mp.npdf(x, -c, 1)

    with mp.workdps(30):
        truth = -mp.quad(lambda x: p(x) * mp.log(p(x)), [0, c, mp.inf])
    result = entropy(scipy.stats.foldnorm(c, scale=2.0), full_output=True)
    assert result.method.startswith("quadrature")
    assert abs(float(result.value) - float(truth + mp.log(2))) <= NUMERICAL_TOL


def test_unknown_object_lists_families_and_logpdf_route():
    with pytest.raises(TypeError, match="closed forms for .*gamma.*logpdf, support"):
        entropy(object())
    with pytest.raises(TypeError, match="needs its support"):
        entropy(lambda x: -x * x)


# Multivariate closed forms against mpmath (textbook formulas at 50 digits).
COV = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1e-8]])


def _mp_logdet(matrix):
    return mp.log(mp.det(mp.matrix(matrix.tolist())))


def _mp_dirichlet(alpha):
    a = [mp.mpf(x) for x in alpha]
    a0 = mp.fsum(a)
    log_b = mp.fsum(mp.loggamma(x) for x in a) - mp.loggamma(a0)
    return (
        log_b
        + (a0 - len(a)) * mp.digamma(a0)
        - mp.fsum((x - 1) * mp.digamma(x) for x in a)
    )


def test_multivariate_closed_forms_match_mpmath():
    with mp.workdps(60):
        d = 3
        mvn_truth = d / mp.mpf(2) * (1 + mp.log(2 * mp.pi)) + _mp_logdet(COV) / 2
        nu = mp.mpf(3.5)
        t_truth = (
            _mp_logdet(COV) / 2
            + d / mp.mpf(2) * mp.log(nu * mp.pi)
            + mp.loggamma(nu / 2)
            - mp.loggamma((nu + d) / 2)
            + (nu + d) / 2 * (mp.digamma((nu + d) / 2) - mp.digamma(nu / 2))
        )
        alphas = ([0.5, 2.0, 7.0], [1e6, 2e6, 3e6], [1e-3, 1e-3, 1.0])
        dirichlet_truths = [_mp_dirichlet(a) for a in alphas]
    cases = [
        (scipy.stats.multivariate_normal(np.zeros(3), COV), mvn_truth),
        (scipy.stats.multivariate_t(np.zeros(3), COV, df=3.5), t_truth),
    ] + [(scipy.stats.dirichlet(a), h) for a, h in zip(alphas, dirichlet_truths)]
    for dist, truth in cases:
        result = entropy(dist, full_output=True)
        assert result.method.startswith("closed-form")
        error = abs(float(result.value) - float(truth)) / max(1, abs(float(truth)))
        assert error <= CLOSED_TOL, (dist, error)
    wishart = scipy.stats.wishart(df=5.5, scale=COV[:2, :2])
    assert abs(float(entropy(wishart)) - wishart.entropy()) <= 1e-12  # SciPy's form


# KL divergence and cross-entropy.
def _mp_kl_norm(m1, s1, m2, s2):
    m1, s1, m2, s2 = (mp.mpf(v) for v in (m1, s1, m2, s2))
    return mp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - mp.mpf(1) / 2


def test_kl_closed_forms_match_mpmath_including_nearly_equal():
    with mp.workdps(60):
        cases = [
            ((0.0, 1.0), (1.0, 2.0)),
            ((0.0, 1.0), (0.0, 1.0 + 1e-9)),  # textbook form cancels to noise here
            ((3.0, 1e-5), (-2.0, 1e5)),
        ]
        for (m1, s1), (m2, s2) in cases:
            truth = _mp_kl_norm(m1, s1, m2, s2)
            value = kl_divergence(scipy.stats.norm(m1, s1), scipy.stats.norm(m2, s2))
            assert abs(float(value) - float(truth)) <= CLOSED_TOL * max(1, abs(truth))
        a1, t1, a2, t2 = (mp.mpf(v) for v in (2.5, 3.0, 1.5, 0.5))
        gamma_truth = (
            (a1 - a2) * mp.digamma(a1)
            - mp.loggamma(a1)
            + mp.loggamma(a2)
            + a2 * mp.log(t2 / t1)
            + a1 * (t1 - t2) / t2
        )
        b = [mp.mpf(v) for v in (2.0, 3.0, 4.0, 1.5)]
        beta_truth = (
            mp.log(mp.beta(b[2], b[3]))
            - mp.log(mp.beta(b[0], b[1]))
            + (b[0] - b[2]) * mp.digamma(b[0])
            + (b[1] - b[3]) * mp.digamma(b[1])
            + (b[2] - b[0] + b[3] - b[1]) * mp.digamma(b[0] + b[1])
        )
    value = kl_divergence(
        scipy.stats.gamma(2.5, scale=3.0), scipy.stats.gamma(1.5, scale=0.5)
    )
    assert abs(float(value) - float(gamma_truth)) <= CLOSED_TOL * abs(
        float(gamma_truth)
    )
    value = kl_divergence(scipy.stats.beta(2.0, 3.0), scipy.stats.beta(4.0, 1.5))
    assert abs(float(value) - float(beta_truth)) <= CLOSED_TOL * abs(float(beta_truth))


def test_numerical_kl_and_cross_entropy_match_mpmath():
    p, q = scipy.stats.gamma(2.0, scale=3.0), scipy.stats.lognorm(1.0, scale=4.0)

    def mp_logp(x):
        return mp.log(x) - x / 3 - mp.log(9)

    def mp_logq(x):
        return -((mp.log(x / 4)) ** 2) / 2 - mp.log(x * mp.sqrt(2 * mp.pi))

    with mp.workdps(30):
        kl_truth = mp.quad(
            lambda x: mp.exp(mp_logp(x)) * (mp_logp(x) - mp_logq(x)), [0, 6, mp.inf]
        )
        h_truth = refs.truth("gamma", (2.0,)) + mp.log(3)
    kl = kl_divergence(p, q, full_output=True)
    assert kl.method.startswith("quadrature")
    assert abs(float(kl.value) - float(kl_truth)) <= NUMERICAL_TOL
    ce = cross_entropy(p, q, full_output=True)
    assert abs(float(ce.value) - float(h_truth + kl_truth)) <= NUMERICAL_TOL
    assert ce.method.startswith("quadrature")


def test_whole_line_logpdf_in_float32_mode_locates_its_mode_without_overflow():
    # The mode search grid reaches 1e+-40 in float64; in JAX's default 32-bit mode it
    # must stop inside float32's range (it used to overflow in the cast: a
    # RuntimeWarning, an error under this suite's warning filter).
    with default_precision():
        result = entropy(
            lambda x: logistic.logpdf(x), support=(-np.inf, np.inf), full_output=True
        )
    assert result.value.dtype == jnp.float32
    assert result.ok
    eps32 = float(np.finfo(np.float32).eps)
    assert abs(float(result.value) - 2.0) <= 64 * eps32 * 2.0  # logistic: exactly 2


# Support rules of the divergences, and densities on both sides.
def test_kl_is_infinite_where_q_misses_the_mass_of_p():
    # p = N(0, 1) has half its mass below 0, where expon and uniform have none.
    for q in (scipy.stats.expon(), scipy.stats.uniform()):
        r = kl_divergence(scipy.stats.norm(0, 1), q, full_output=True)
        assert float(r.value) == np.inf and r.ok
    # The same through log-densities (q = 0 below 0 is read at the sampled points).
    r = kl_divergence(
        lambda x: norm.logpdf(x),
        lambda x: jnp.where(x > 0, -x, -jnp.inf),
        support=(-np.inf, np.inf),
        full_output=True,
    )
    assert float(r.value) == np.inf


def test_kl_of_an_unnormalised_q_is_refused_with_its_integral():
    with pytest.raises(
        ValueError, match=r"kl_divergence \(q\): the density integrates to 2\.718"
    ):
        kl_divergence(
            lambda x: norm.logpdf(x),
            lambda x: norm.logpdf(x, 1.0, 2.0) + 1.0,
            support=(-np.inf, np.inf),
        )


def test_kl_of_log_densities_matches_the_closed_form_and_is_never_negative():
    # KL(N(0,1) || N(1,2)) = log 2 + (1 + 1)/8 - 1/2.
    exact = np.log(2.0) + 2 / 8 - 0.5
    r = kl_divergence(
        lambda x: norm.logpdf(x),
        lambda x: norm.logpdf(x, 1.0, 2.0),
        support=(-np.inf, np.inf),
        full_output=True,
    )
    assert abs(float(r.value) - exact) <= NUMERICAL_TOL
    same = kl_divergence(
        lambda x: norm.logpdf(x), lambda x: norm.logpdf(x), support=(-np.inf, np.inf)
    )
    assert float(same) >= 0 and float(same) <= NUMERICAL_TOL


def test_kl_and_cross_entropy_of_library_objects():
    nd = pytest.importorskip("numpyro.distributions")
    f64 = jnp.float64
    p, q = nd.Normal(f64(0.0), f64(1.0)), nd.Normal(f64(1.0), f64(2.0))
    exact = np.log(2.0) + 2 / 8 - 0.5
    r = kl_divergence(p, q, full_output=True)
    assert r.method.startswith("closed-form: norm")
    assert abs(float(r.value) - exact) <= CLOSED_TOL
    # numpyro against SciPy: the same family, so the same closed form.
    mixed = kl_divergence(p, scipy.stats.norm(1, 2), full_output=True)
    assert abs(float(mixed.value) - exact) <= CLOSED_TOL
    # numpyro Normal against a SciPy Student t: quadrature of numpyro's log_prob.
    nu = 3.0
    kl_t = kl_divergence(p, scipy.stats.t(nu), full_output=True)
    assert kl_t.method.startswith("quadrature")

    def mp_kl(x):
        lp = -x * x / 2 - mp.log(2 * mp.pi) / 2
        lq = mp.loggamma((nu + 1) / 2) - mp.loggamma(nu / 2) - mp.log(nu * mp.pi) / 2
        lq -= (nu + 1) / 2 * mp.log(1 + x * x / nu)
        return mp.exp(lp) * (lp - lq)

    with mp.workdps(30):
        truth = float(mp.quad(mp_kl, [-mp.inf, 0, mp.inf]))
    assert abs(float(kl_t.value) - truth) <= NUMERICAL_TOL
    h = cross_entropy(p, q)
    assert abs(float(h) - (0.5 * np.log(2 * np.pi * np.e) + exact)) <= CLOSED_TOL


# Log-densities of d variables: cubature (d <= 3) and importance sampling.
def test_multivariate_log_density_by_cubature_matches_closed_forms():
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    chol = np.linalg.cholesky(cov)

    def mvn(x):
        z = jax.scipy.linalg.solve_triangular(chol, x, lower=True)
        return -0.5 * z @ z - np.log(np.diag(chol)).sum() - np.log(2 * np.pi)

    truth = float(scipy.stats.multivariate_normal(cov=cov).entropy())
    r = entropy(mvn, support=[(-np.inf, np.inf)] * 2, full_output=True)
    assert r.method.startswith("cubature")
    assert abs(float(r.value) - truth) <= max(float(r.error), 1e-9)


@pytest.mark.slow
def test_dirichlet_log_density_on_the_simplex_by_cubature():
    # Dirichlet(2, 3, 4): the second bound depends on the first (quadax's form).
    alpha = np.array([2.0, 3.0, 4.0])
    log_b = float(sum(mp.loggamma(a) for a in alpha) - mp.loggamma(float(alpha.sum())))

    def dirichlet(x):
        x3 = 1 - x[0] - x[1]
        return (
            (alpha[0] - 1) * jnp.log(x[0])
            + (alpha[1] - 1) * jnp.log(x[1])
            + (alpha[2] - 1) * jnp.log(x3)
            - log_b
        )

    r = entropy(
        dirichlet, support=[(0.0, 1.0), lambda x: (0.0, 1.0 - x[0])], full_output=True
    )
    truth = float(scipy.stats.dirichlet(alpha).entropy())
    assert abs(float(r.value) - truth) <= max(float(r.error), 1e-8), (r, truth)


def test_high_dimensional_log_density_by_importance_sampling_within_its_interval():
    d = 5
    truth = 0.5 * d * np.log(2 * np.pi * np.e)
    r = entropy(
        lambda x: -0.5 * x @ x - 0.5 * d * np.log(2 * np.pi),
        support=[(-np.inf, np.inf)] * d,
        key=jax.random.key(0),
        n_samples=4096,
        full_output=True,
    )
    lo, hi = (float(v) for v in r.interval)
    assert lo - 3 * float(r.error) <= truth <= hi + 3 * float(r.error)
    assert float(r.error) < 0.05

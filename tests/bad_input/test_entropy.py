"""Bad and edge inputs to ``entropy``, ``kl_divergence``, ``cross_entropy`` and
``entropy_from_samples``.

Each case states its expected outcome (``tests/bad_input/_outcomes.py``).
``python -m tests.bad_input.test_entropy`` prints the outcome classes per entry
point for whichever calculax is importable; the counts before and after are in
``notes/quadent.md``.
"""

from __future__ import annotations

import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from jax.scipy.special import betaln
from jax.scipy.stats import norm

import calculax

from ._outcomes import Case, Flagged, Limited, Raises, Right, check, classify, tally

if __name__ == "__main__":  # as in the test run (conftest.py): float64 available
    jax.config.update("jax_enable_x64", True)

INF = np.inf
LINE = (-INF, INF)
NORMAL_H = 0.5 * np.log(2 * np.pi * np.e)
SAMPLES = np.random.default_rng(0).standard_normal(200)


def entropy(*args, **kwargs):
    return calculax.entropy(*args, **kwargs)


def kl(*args, **kwargs):
    return calculax.kl_divergence(*args, **kwargs)


def cross(*args, **kwargs):
    return calculax.cross_entropy(*args, **kwargs)


def samples(*args, **kwargs):
    return calculax.entropy_from_samples(*args, **kwargs)


def std_normal(x):
    return norm.logpdf(x)


def full(fn, *args, **kwargs):
    return lambda: fn(*args, full_output=True, **kwargs)


def _mixture_pm10(x):
    return jnp.logaddexp(
        jnp.log(0.5) + norm.logpdf(x, -10.0, 0.1),
        jnp.log(0.5) + norm.logpdf(x, 10.0, 0.1),
    )


def _beta(a, b):
    return lambda x: (a - 1) * jnp.log(x) + (b - 1) * jnp.log1p(-x) - betaln(a, b)


def _beta_h(a, b):
    from scipy.special import betaln as bl
    from scipy.special import digamma as psi

    return bl(a, b) - (a - 1) * psi(a) - (b - 1) * psi(b) + (a + b - 2) * psi(a + b)


def _samples_scipy(x, window):
    return float(
        scipy.stats.differential_entropy(
            np.asarray(x), window_length=window, method="vasicek"
        )
    )


def _quiet(fn):
    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return fn()

    return call


X3 = np.array([0.1, 0.7, 2.0])
X4 = np.array([0.1, 0.7, 2.0, 3.5])

CASES = [
    # --- entropy: arguments -----------------------------------------------------
    Case(
        "object",
        "entropy",
        lambda: entropy(object()),
        Raises(TypeError, "cannot use an object of type object"),
    ),
    Case(
        "logpdf-no-support",
        "entropy",
        lambda: entropy(std_normal),
        Raises(TypeError, "needs its support"),
    ),
    Case(
        "base-1",
        "entropy",
        lambda: entropy(scipy.stats.norm(), base=1),
        Raises(ValueError, "`base` must be a finite number > 0 other than 1"),
    ),
    Case(
        "base-0",
        "entropy",
        lambda: entropy(scipy.stats.norm(), base=0),
        Raises(ValueError, "`base` must be"),
    ),
    Case(
        "base-negative",
        "entropy",
        lambda: entropy(scipy.stats.norm(), base=-2),
        Raises(ValueError, "`base` must be"),
    ),
    Case(
        "base-nan",
        "entropy",
        lambda: entropy(scipy.stats.norm(), base=np.nan),
        Raises(ValueError, "`base` must be"),
    ),
    Case(
        "base-inf",
        "entropy",
        lambda: entropy(scipy.stats.norm(), base=np.inf),
        Raises(ValueError, "`base` must be"),
    ),
    Case(
        "base-string",
        "entropy",
        lambda: entropy(scipy.stats.norm(), base="2"),
        Raises(TypeError, "`base` must be None"),
    ),
    Case(
        "base-2",
        "entropy",
        full(entropy, scipy.stats.norm(), base=2),
        Right(NORMAL_H / np.log(2), 1e-12),
    ),
    Case(
        "full-output-string",
        "entropy",
        lambda: entropy(scipy.stats.norm(), full_output="yes"),
        Raises(TypeError, "`full_output` must be True or False"),
    ),
    Case(
        "throw-int",
        "entropy",
        lambda: entropy(scipy.stats.norm(), throw=1),
        Raises(TypeError, "`throw` must be True or False"),
    ),
    Case(
        "support-reversed",
        "entropy",
        lambda: entropy(std_normal, support=(1.0, 0.0)),
        Raises(ValueError, "`support` must satisfy lo < hi"),
    ),
    Case(
        "support-nan",
        "entropy",
        lambda: entropy(std_normal, support=(0.0, np.nan)),
        Raises(ValueError, "`support` must not contain nan"),
    ),
    Case(
        "support-string",
        "entropy",
        lambda: entropy(std_normal, support="line"),
        Raises(TypeError, "`support` must be a pair"),
    ),
    Case(
        "support-one",
        "entropy",
        lambda: entropy(std_normal, support=(0.0,)),
        Raises(ValueError, "`support` must be a pair"),
    ),
    Case(
        "support-three",
        "entropy",
        lambda: entropy(std_normal, support=(0.0, 1.0, 2.0)),
        Raises(ValueError, "`support` must be a pair"),
    ),
    Case(
        "support-complex",
        "entropy",
        lambda: entropy(std_normal, support=(0.0, 1j)),
        Raises(TypeError, "`support` must be a pair"),
    ),
    Case(
        "modes-outside",
        "entropy",
        lambda: entropy(std_normal, support=(0.0, 1.0), modes=[5.0]),
        Raises(ValueError, "`modes` must lie inside"),
    ),
    Case(
        "modes-nan",
        "entropy",
        lambda: entropy(std_normal, support=LINE, modes=[np.nan]),
        Raises(ValueError, "`modes` must be finite"),
    ),
    Case(
        "scale-negative",
        "entropy",
        lambda: entropy(std_normal, support=LINE, scale=-1.0),
        Raises(ValueError, "`scale` must be a positive"),
    ),
    Case(
        "scale-zero",
        "entropy",
        lambda: entropy(std_normal, support=LINE, scale=0.0),
        Raises(ValueError, "`scale` must be a positive"),
    ),
    Case(
        "args-float",
        "entropy",
        lambda: entropy(lambda x, s: norm.logpdf(x, 0, s), support=LINE, args=2.0),
        Raises(TypeError, "`args` must be a tuple"),
    ),
    Case(
        "logpdf-vector",
        "entropy",
        lambda: entropy(lambda x: jnp.stack([x, x]), support=LINE),
        Raises(TypeError, "must return a real scalar"),
    ),
    Case(
        "logpdf-raises",
        "entropy",
        lambda: entropy(lambda x: x.nope, support=LINE),
        Raises(TypeError, r"calling `logp\(x, \*args\)`"),
    ),
    Case(
        "scipy-array-no-closed-form",
        "entropy",
        lambda: entropy(scipy.stats.foldnorm([1.0, 2.0])),
        Raises(ValueError, "takes scalar parameters"),
    ),
    # --- entropy: densities -----------------------------------------------------
    Case(
        "unnormalised-above",
        "entropy",
        lambda: entropy(lambda x: norm.logpdf(x) + 1.0, support=LINE),
        Raises(ValueError, r"integrates to 2\.71828"),
    ),
    Case(
        "unnormalised-below",
        "entropy",
        lambda: entropy(lambda x: norm.logpdf(x) - 1.0, support=LINE),
        Raises(ValueError, r"integrates to 0\.36787"),
    ),
    Case(
        "unnormalised-finite",
        "entropy",
        lambda: entropy(lambda x: jnp.log(2.0) + 0 * x, support=(0.0, 1.0)),
        Raises(ValueError, "integrates to 2"),
    ),
    Case(
        "normal-logpdf",
        "entropy",
        full(entropy, std_normal, support=LINE),
        Right(NORMAL_H, 1e-9),
    ),
    Case(
        "mixture-pm10",
        "entropy",
        full(entropy, _mixture_pm10, support=LINE),
        Right(0.5 * np.log(2 * np.pi * np.e * 0.01) + np.log(2), 1e-9),
    ),
    Case(
        "mixture-support-100",
        "entropy",
        full(entropy, _mixture_pm10, support=(-100.0, 100.0)),
        Right(0.5 * np.log(2 * np.pi * np.e * 0.01) + np.log(2), 1e-9),
    ),
    Case(
        "beta-0.01",
        "entropy",
        full(entropy, _beta(0.01, 0.01), support=(0.0, 1.0)),
        Right(_beta_h(0.01, 0.01), 1e-9),
    ),
    Case(
        "beta-0.001-1000",
        "entropy",
        full(entropy, _beta(0.001, 1000.0), support=(0.0, 1.0)),
        Right(_beta_h(0.001, 1000.0), 1e-9),
    ),
    Case(
        "uniform-logpdf",
        "entropy",
        full(entropy, lambda x: 0.0 * x, support=(0.0, 1.0)),
        Right(0.0, 1e-9),
    ),
    Case(
        "nan-logpdf",
        "entropy",
        full(
            entropy,
            lambda x: jnp.where(x > 2, jnp.nan, norm.logpdf(x)),
            support=LINE,
            throw=False,
        ),
        Flagged(),
    ),
    Case(
        "infinite-entropy",
        "entropy",
        full(
            entropy,
            lambda x: -jnp.log(x) - 2 * jnp.log(jnp.log(x)),
            support=(float(np.e), INF),
            throw=False,
        ),
        Flagged(),
    ),
    Case(
        "jf-skew-t",
        "entropy",
        full(entropy, scipy.stats.jf_skew_t(4, 3)),
        Right(float(scipy.stats.jf_skew_t(4, 3).entropy()), 1e-8),
    ),
    Case(
        "scipy-quadrature",
        "entropy",
        full(entropy, scipy.stats.foldnorm(1.5, scale=2.0)),
        Right(float(scipy.stats.foldnorm(1.5, scale=2.0).entropy()), 1e-8),
    ),
    Case(
        "closed-form-beyond-range",
        "entropy",
        full(entropy, scipy.stats.burr12(1e-300, 1e-300), throw=False),
        Flagged(),
    ),
    Case(
        "spike-on-broad-hinted",
        "entropy",
        full(
            entropy,
            lambda x: jnp.logaddexp(
                jnp.log(0.5) + norm.logpdf(x), jnp.log(0.5) + norm.logpdf(x, 3.7, 1e-7)
            ),
            support=LINE,
            modes=[3.7],
        ),
        Limited(
            float(
                NORMAL_H * 0.5
                + 0.5 * (0.5 * np.log(2 * np.pi * np.e) + np.log(1e-7))
                + np.log(2)
            ),
            1e-9,
        ),
    ),
    # --- kl_divergence ----------------------------------------------------------
    Case(
        "kl-norm-expon",
        "kl_divergence",
        full(kl, scipy.stats.norm(0, 1), scipy.stats.expon()),
        Right(INF),
    ),
    Case(
        "kl-norm-uniform",
        "kl_divergence",
        full(kl, scipy.stats.norm(0, 1), scipy.stats.uniform()),
        Right(INF),
    ),
    Case(
        "kl-logpdf-q-zero",
        "kl_divergence",
        full(kl, std_normal, lambda x: jnp.where(x > 0, -x, -jnp.inf), support=LINE),
        Right(INF),
    ),
    Case(
        "kl-unnormalised-q",
        "kl_divergence",
        lambda: kl(std_normal, lambda x: norm.logpdf(x, 1.0, 2.0) + 1.0, support=LINE),
        Raises(ValueError, r"\(q\): the density integrates to 2\.718"),
    ),
    Case(
        "kl-unnormalised-p",
        "kl_divergence",
        lambda: kl(
            lambda x: norm.logpdf(x) - 1.0,
            lambda x: norm.logpdf(x, 1.0, 2.0),
            support=LINE,
        ),
        Raises(ValueError, r"integrates to 0\.3678"),
    ),
    Case(
        "kl-no-support",
        "kl_divergence",
        lambda: kl(std_normal, std_normal),
        Raises(TypeError, "pass its support"),
    ),
    Case(
        "kl-object",
        "kl_divergence",
        lambda: kl(object(), scipy.stats.norm()),
        Raises(TypeError, "cannot use an object"),
    ),
    Case(
        "kl-equal",
        "kl_divergence",
        full(kl, scipy.stats.norm(0, 1), scipy.stats.norm(0, 1)),
        Right(0.0, 1e-12),
    ),
    Case(
        "kl-nearly-equal",
        "kl_divergence",
        full(kl, scipy.stats.norm(0, 1), scipy.stats.norm(0, 1 + 1e-9)),
        Right(1e-18, 1e-15),
    ),
    Case(
        "kl-logpdfs-equal",
        "kl_divergence",
        full(kl, std_normal, std_normal, support=LINE),
        Right(0.0, 1e-9),
    ),
    Case(
        "kl-logpdfs",
        "kl_divergence",
        full(kl, std_normal, lambda x: norm.logpdf(x, 1.0, 2.0), support=LINE),
        Right(np.log(2.0) + 2 / 8 - 0.5, 1e-9),
    ),
    Case(
        "kl-args-float",
        "kl_divergence",
        lambda: kl(std_normal, std_normal, support=LINE, args=1.0),
        Raises(TypeError, "`args` must be a tuple"),
    ),
    Case(
        "kl-full-output-string",
        "kl_divergence",
        lambda: kl(scipy.stats.norm(), scipy.stats.norm(), full_output="x"),
        Raises(TypeError, "`full_output` must be True or False"),
    ),
    Case(
        "kl-support-reversed",
        "kl_divergence",
        lambda: kl(std_normal, std_normal, support=(1.0, 0.0)),
        Raises(ValueError, "`support` must satisfy lo < hi"),
    ),
    # --- cross_entropy ----------------------------------------------------------
    Case(
        "ce-norm-expon",
        "cross_entropy",
        full(cross, scipy.stats.norm(0, 1), scipy.stats.expon()),
        Right(INF),
    ),
    Case(
        "ce-norm-norm",
        "cross_entropy",
        full(cross, scipy.stats.norm(0, 1), scipy.stats.norm(0, 1)),
        Right(NORMAL_H, 1e-12),
    ),
    Case(
        "ce-logpdfs",
        "cross_entropy",
        full(cross, std_normal, lambda x: norm.logpdf(x, 1.0, 2.0), support=LINE),
        Right(NORMAL_H + np.log(2.0) + 2 / 8 - 0.5, 1e-9),
    ),
    Case(
        "ce-no-support",
        "cross_entropy",
        lambda: cross(std_normal, std_normal),
        Raises(TypeError, "pass its support"),
    ),
    # --- entropy_from_samples ---------------------------------------------------
    Case(
        "samples-complex",
        "entropy_from_samples",
        lambda: samples(SAMPLES + 1j),
        Raises(TypeError, "`x` must be real"),
    ),
    Case(
        "samples-bool",
        "entropy_from_samples",
        lambda: samples(SAMPLES > 0),
        Raises(TypeError, "`x` must be real numbers"),
    ),
    Case(
        "samples-string",
        "entropy_from_samples",
        lambda: samples("abc"),
        Raises(TypeError, "`x` must be an array of numbers"),
    ),
    Case(
        "samples-inf",
        "entropy_from_samples",
        lambda: samples(np.append(SAMPLES, np.inf)),
        Raises(Exception, "`x` contains inf"),
    ),
    Case(
        "samples-nan",
        "entropy_from_samples",
        lambda: samples(np.append(SAMPLES, np.nan)),
        Raises(Exception, "`x` contains nan"),
    ),
    Case(
        "samples-n3",
        "entropy_from_samples",
        full(samples, X3, "vasicek"),
        Right(_samples_scipy(X3, 1), 1e-12),
    ),
    Case(
        "samples-n4",
        "entropy_from_samples",
        full(samples, X4, "vasicek"),
        Right(_samples_scipy(X4, 1), 1e-12),
    ),
    Case(
        "samples-n2",
        "entropy_from_samples",
        lambda: samples(np.array([0.0, 1.0]), "vasicek"),
        Raises(ValueError, "need n >= 3 points"),
    ),
    Case(
        "samples-confidence-1.5",
        "entropy_from_samples",
        lambda: samples(SAMPLES, confidence=1.5),
        Raises(ValueError, r"`confidence` must be a number in \(0, 1\)"),
    ),
    Case(
        "samples-confidence-0",
        "entropy_from_samples",
        lambda: samples(SAMPLES, confidence=0.0),
        Raises(ValueError, "`confidence` must be a number in"),
    ),
    Case(
        "samples-base-1",
        "entropy_from_samples",
        lambda: samples(SAMPLES, base=1.0),
        Raises(ValueError, "`base` must be"),
    ),
    Case(
        "samples-base-negative",
        "entropy_from_samples",
        lambda: samples(SAMPLES, base=-1.0),
        Raises(ValueError, "`base` must be"),
    ),
    Case(
        "samples-window-0",
        "entropy_from_samples",
        lambda: samples(SAMPLES, window=0),
        Raises(ValueError, "`window` must be an integer >= 1"),
    ),
    Case(
        "samples-window-bool",
        "entropy_from_samples",
        lambda: samples(SAMPLES, window=True),
        Raises(TypeError, "`window` must be an integer"),
    ),
    Case(
        "samples-window-too-big",
        "entropy_from_samples",
        lambda: samples(SAMPLES, "vasicek", window=100),
        Raises(ValueError, "window < n/2"),
    ),
    Case(
        "samples-k-0",
        "entropy_from_samples",
        lambda: samples(SAMPLES, "knn", k=0),
        Raises(ValueError, "`k` must be an integer >= 1"),
    ),
    Case(
        "samples-k-too-big",
        "entropy_from_samples",
        lambda: samples(SAMPLES, "knn", k=500),
        Raises(ValueError, "1 <= k < n"),
    ),
    Case(
        "samples-method",
        "entropy_from_samples",
        lambda: samples(SAMPLES, "histogram"),
        Raises(ValueError, "`method` must be one of"),
    ),
    Case(
        "samples-method-int",
        "entropy_from_samples",
        lambda: samples(SAMPLES, 3),
        Raises(TypeError, "`method` must be a string"),
    ),
    Case(
        "samples-3d",
        "entropy_from_samples",
        lambda: samples(np.zeros((4, 4, 4))),
        Raises(ValueError, "shape"),
    ),
    Case(
        "samples-no-columns",
        "entropy_from_samples",
        lambda: samples(np.zeros((10, 0))),
        Raises(ValueError, "no variables"),
    ),
    Case(
        "samples-key-int",
        "entropy_from_samples",
        lambda: samples(SAMPLES, key=5),
        Raises(TypeError, "`key` must be a JAX PRNG key"),
    ),
    Case(
        "samples-resamples-1",
        "entropy_from_samples",
        lambda: samples(SAMPLES, key=jax.random.key(0), n_resamples=1),
        Raises(ValueError, "`n_resamples` must be an integer >= 2"),
    ),
    Case(
        "samples-block-0",
        "entropy_from_samples",
        lambda: samples(SAMPLES, "knn", block=0),
        Raises(ValueError, "`block` must be an integer >= 1"),
    ),
    Case(
        "samples-ties",
        "entropy_from_samples",
        lambda: samples(np.repeat([0.0, 1.0, 2.0], 40), "van es"),
        Raises(Exception, "ties"),
    ),
    Case(
        "samples-vasicek-matches-scipy",
        "entropy_from_samples",
        full(samples, SAMPLES, "vasicek"),
        Right(
            float(scipy.stats.differential_entropy(SAMPLES, method="vasicek")), 1e-12
        ),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case):
    check(case)


def test_scipy_quadrature_in_float32_prints_no_overflow_warning():
    # The float32 SciPy-quadrature path cast float64 log-densities down outside the
    # warning filter ("RuntimeWarning: overflow encountered in cast").
    from tests.helpers import default_precision

    with default_precision(), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        h = calculax.entropy(scipy.stats.foldnorm(1.5))
    assert abs(float(h) - float(scipy.stats.foldnorm(1.5).entropy())) <= 1e-3


@settings(max_examples=25, deadline=None)
@given(
    m1=st.floats(-50, 50),
    m2=st.floats(-50, 50),
    s1=st.floats(1e-3, 1e3),
    s2=st.floats(1e-3, 1e3),
)
def test_kl_is_never_negative(m1, m2, s1, s2):
    value = calculax.kl_divergence(scipy.stats.norm(m1, s1), scipy.stats.norm(m2, s2))
    assert float(value) >= 0


@settings(max_examples=6, deadline=None)
@given(m=st.floats(-3, 3), s=st.floats(0.3, 3.0))
def test_kl_of_log_densities_is_never_negative(m, s):
    value = calculax.kl_divergence(
        _normal_pair_p,
        _normal_pair_q,
        support=LINE,
        args=(jnp.asarray(m), jnp.asarray(s)),
    )
    exact = np.log(s) + (1 + m * m) / (2 * s * s) - 0.5
    assert float(value) >= 0
    assert abs(float(value) - exact) <= 1e-8 * max(1.0, exact)


def _normal_pair_p(x, m, s):
    return norm.logpdf(x)


def _normal_pair_q(x, m, s):
    return norm.logpdf(x, m, s)


if __name__ == "__main__":
    print(tally(CASES, f"entropy bad-input cases ({calculax.__file__})"))
    if "-v" in sys.argv:
        for case in CASES:
            print(case.entry, case.id, classify(case))

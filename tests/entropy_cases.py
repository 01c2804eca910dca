"""Adversarial 1-D log-densities, written as a user would write them.

``CASES[name] = (logpdf, support)``; the truths are in
``tests/entropy_references.py`` (``logdensity_truth(name)``, mpmath). Used by
``tests/test_entropy_logdensity.py`` and ``benchmarks/entropy_cases.py`` (which
prints the table of truth, value, error and status).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betaln, i0e, log_ndtr, logsumexp
from jax.scipy.stats import beta, cauchy, gamma, gennorm, logistic, norm, t

INF = float(np.inf)
LINE = (-INF, INF)


def _mixture(weights, means, sds, kind="norm"):
    w = jnp.log(jnp.asarray(weights))
    m, s = jnp.asarray(means), jnp.asarray(sds)

    def logpdf(x):
        if kind == "norm":
            parts = norm.logpdf(x, m, s)
        elif kind == "laplace":
            parts = -jnp.abs(x - m) / s - jnp.log(2 * s)
        else:
            parts = cauchy.logpdf(x, m, s)
        return logsumexp(w + parts)

    return logpdf


def _beta_on(a, b, lo, hi):
    width = hi - lo

    def logpdf(x):
        u = (x - lo) / width
        return (
            (a - 1) * jnp.log(u)
            + (b - 1) * jnp.log1p(-u)
            - betaln(a, b)
            - jnp.log(width)
        )

    return logpdf


def _skewnorm(alpha):
    return lambda x: jnp.log(2.0) + norm.logpdf(x) + log_ndtr(alpha * x)


def _truncnorm(lo, hi):
    # log Z = log(Phi(hi) - Phi(lo)) = log(Q(lo) - Q(hi)), Q the upper tail.
    log_z = float(
        np.log(np.exp(np.float64(log_ndtr(-lo))) - np.exp(np.float64(log_ndtr(-hi))))
    )
    return lambda x: norm.logpdf(x) - log_z


def _vonmises(kappa):
    # log I0(k) = log(i0e(k)) + k.
    return lambda x: kappa * (jnp.cos(x) - 1) - jnp.log(2 * jnp.pi * i0e(kappa))


def _beta_mixture(x):
    return jnp.logaddexp(beta.logpdf(x, 0.5, 5.0), beta.logpdf(x, 5.0, 0.5)) - jnp.log(
        2.0
    )


CASES = {
    "mix_pm10_sd0.1": (_mixture([0.5, 0.5], [-10, 10], [0.1, 0.1]), LINE),
    "mix_pm10_support100": (_mixture([0.5, 0.5], [-10, 10], [0.1, 0.1]), (-100, 100)),
    "mix_1e3_widths": (_mixture([0.5, 0.5], [0, 1000], [1, 1]), LINE),
    "mix_1e6_widths": (_mixture([0.5, 0.5], [0, 1e6], [1, 1]), LINE),
    "mix_narrow_1e6_widths": (_mixture([0.4, 0.6], [0, 1e3], [1e-3, 1e-3]), LINE),
    "mix_weight_1e-6": (_mixture([1 - 1e-6, 1e-6], [0, 30], [1, 1]), LINE),
    "mix_weight_1e-6_far_narrow": (
        _mixture([1 - 1e-6, 1e-6], [0, 1e4], [1, 0.01]),
        LINE,
    ),
    "mix_three_scales": (_mixture([0.2, 0.5, 0.3], [-50, 0, 50], [1, 0.01, 10]), LINE),
    "mix_100_widths_close": (_mixture([0.3, 0.7], [5, 5.01], [1e-4, 1e-4]), LINE),
    "mix_five_20_widths": (_mixture([0.2] * 5, [0, 10, 20, 30, 40], [0.5] * 5), LINE),
    "mix_laplace_pm20": (_mixture([0.5, 0.5], [-20, 20], [1, 1], "laplace"), LINE),
    "mix_cauchy_pm1e3": (_mixture([0.5, 0.5], [-1e3, 1e3], [1, 1], "cauchy"), LINE),
    "mix_weight_1e-5_below": (_mixture([1e-5, 1 - 1e-5], [-1e3, 0], [1, 1]), LINE),
    "beta_0.01_0.01": (lambda x: beta.logpdf(x, 0.01, 0.01), (0, 1)),
    "beta_0.001_1000": (_beta_on(0.001, 1000.0, 0.0, 1.0), (0, 1)),
    "beta_0.001_0.001": (_beta_on(0.001, 0.001, 0.0, 1.0), (0, 1)),
    "beta_0.5_0.5": (lambda x: beta.logpdf(x, 0.5, 0.5), (0, 1)),
    "gamma_0.001": (lambda x: gamma.logpdf(x, 0.001), (0, INF)),
    "gamma_0.01_scale1e-5": (lambda x: gamma.logpdf(x, 0.01, scale=1e-5), (0, INF)),
    "powerlaw_0.001": (lambda x: jnp.log(0.001) - 0.999 * jnp.log(x), (0, 1)),
    "beta_0.002_3_on_5_6": (_beta_on(0.002, 3.0, 5.0, 6.0), (5, 6)),
    "beta_2_0.005_on_m1_1": (_beta_on(2.0, 0.005, -1.0, 1.0), (-1, 1)),
    "beta_0.5_0.5_at_1e6": (_beta_on(0.5, 0.5, 1e6, 1e6 + 1), (1e6, 1e6 + 1)),
    "cauchy": (lambda x: cauchy.logpdf(x), LINE),
    "t_0.5": (lambda x: t.logpdf(x, 0.5), LINE),
    "t_1.5": (lambda x: t.logpdf(x, 1.5), LINE),
    "t_0.05": (lambda x: t.logpdf(x, 0.05), LINE),
    "lomax_0.05": (lambda x: jnp.log(0.05) - 1.05 * jnp.log1p(x), (0, INF)),
    "lognorm_10": (lambda x: norm.logpdf(jnp.log(x), 0.0, 10.0) - jnp.log(x), (0, INF)),
    "levy": (
        lambda x: -0.5 * jnp.log(2 * jnp.pi) - 1.5 * jnp.log(x) - 0.5 / x,
        (0, INF),
    ),
    "norm_at_1e6_sd1e-2": (lambda x: norm.logpdf(x, 1e6, 1e-2), LINE),
    "norm_at_m3.7e5_sd3.7e-3": (lambda x: norm.logpdf(x, -3.7e5, 3.7e-3), LINE),
    "logistic_at_1e8": (lambda x: logistic.logpdf(x - 1e8), LINE),
    "gamma_1e6": (lambda x: gamma.logpdf(x, 1e6), (0, INF)),
    "beta_1e6_1e6": (_beta_on(1e6, 1e6, 0.0, 1.0), (0, 1)),
    "norm_sd1e-8": (lambda x: norm.logpdf(x, 0.0, 1e-8), LINE),
    "expon_1e-6_from_100": (
        lambda x: jnp.log(1e6) - 1e6 * (x - 100.0),
        (100, INF),
    ),
    "gumbel": (lambda x: -x - jnp.exp(-x), LINE),
    "skewnorm_5": (_skewnorm(5.0), LINE),
    "gennorm_8": (lambda x: gennorm.logpdf(x, 8.0), LINE),
    "truncnorm_20_21": (_truncnorm(20.0, 21.0), (20, 21)),
    "vonmises_100": (_vonmises(100.0), (-float(np.pi), float(np.pi))),
    "halfnorm": (lambda x: norm.logpdf(x) + jnp.log(2.0), (0, INF)),
    "beta_mixture_u": (_beta_mixture, (0, 1)),
}


# --- A second table: what the first leaves out ---------------------------------
# Separations of 1e4/1e5 widths, tiny weights that are far, wide or on the left,
# singular ends against heavy tails, log singularities, extreme Weibull/lognormal
# spreads, bumps of relative width 1e-8 at other scales, and SciPy's jf_skew_t.


def _powerlaw_upper(a):
    # a (1 - x)**(a - 1) on (0, 1): the singular end is 1, where 1 - x rounds.
    return lambda x: jnp.log(a) + (a - 1) * jnp.log1p(-x)


def _weibull(c):
    return lambda x: jnp.log(c) + (c - 1) * jnp.log(x) - x**c


def _jf_skew_t(a, b):
    log_c = float((a + b - 1) * np.log(2.0) + np.log(np.sqrt(a + b))) + float(
        betaln(a, b)
    )

    def logpdf(x):
        # 1 -+ r = (a + b) / (root (root +- |x|)) without cancellation or overflow.
        ax = jnp.abs(x)
        big = ax > 1.0
        safe = jnp.where(big, ax, 1.0)
        root = jnp.where(
            big, safe * jnp.sqrt(1 + (a + b) / (safe * safe)), jnp.sqrt(a + b + x * x)
        )
        near = jnp.log(a + b) - jnp.log(root) - jnp.log(root + ax)
        far = jnp.log1p(ax / root)
        up, down = jnp.where(x >= 0, far, near), jnp.where(x >= 0, near, far)
        return (a + 0.5) * up + (b + 0.5) * down - log_c

    return logpdf


def _jf_skew_t_naive(a, b):
    # As SciPy's formula reads: x * x overflows past 1e154, where r becomes 0 and
    # the density returns to its value at 0 (a density that integrates to inf).
    log_c = float((a + b - 1) * np.log(2.0) + np.log(np.sqrt(a + b))) + float(
        betaln(a, b)
    )

    def logpdf(x):
        r = x / jnp.sqrt(a + b + x * x)
        return (a + 0.5) * jnp.log1p(r) + (b + 0.5) * jnp.log1p(-r) - log_c

    return logpdf


def _laplace_at(m, s):
    return lambda x: -jnp.abs(x - m) / s - jnp.log(2 * s)


MORE_CASES = {
    "mix_1e4_widths": (_mixture([0.5, 0.5], [0, 1e4], [1, 1]), LINE),
    "mix_1e5_widths_left": (_mixture([0.3, 0.7], [-1e5, 0], [1, 1]), LINE),
    "mix_pm5e5": (_mixture([0.5, 0.5], [-5e5, 5e5], [1, 1]), LINE),
    "mix_weight_1e-6_at_1e6": (_mixture([1 - 1e-6, 1e-6], [0, 1e6], [1, 1]), LINE),
    "mix_weight_1e-6_wide": (_mixture([1 - 1e-6, 1e-6], [0, 0], [1, 1e4]), LINE),
    "mix_weight_1e-6_left_narrow": (
        _mixture([1e-6, 1 - 1e-6], [-1e5, 0], [1e-3, 1]),
        LINE,
    ),
    "mix_weight_1e-6_three": (
        _mixture([1e-6, 1 - 2e-6, 1e-6], [-1e3, 0, 1e3], [1, 1, 1]),
        LINE,
    ),
    "mix_laplace_1e4_widths": (_mixture([0.5, 0.5], [0, 1e4], [1, 1], "laplace"), LINE),
    "mix_four_decades": (
        _mixture([0.4, 0.3, 0.2, 0.1], [0, 10, 1e3, 1e5], [1, 1e-2, 1, 10]),
        LINE,
    ),
    "mix_close_sd1e-6": (_mixture([0.5, 0.5], [1, 1 + 1e-5], [1e-6, 1e-6]), LINE),
    "mix_broad_and_narrow_far": (_mixture([0.5, 0.5], [0, 1e4], [1e3, 1e-2]), LINE),
    "mix_half_support": (_mixture([0.5, 0.5], [0, 40], [1, 1]), (-10, 50)),
    "beta_0.001_0.5": (_beta_on(0.001, 0.5, 0.0, 1.0), (0, 1)),
    "powerlaw_0.001_upper": (_powerlaw_upper(0.001), (0, 1)),
    "gamma_0.005_scale1e3": (lambda x: gamma.logpdf(x, 0.005, scale=1e3), (0, INF)),
    "betaprime_0.005_2": (
        lambda x: -0.995 * jnp.log(x) - 2.005 * jnp.log1p(x) - betaln(0.005, 2.0),
        (0, INF),
    ),
    "weibull_0.05": (_weibull(0.05), (0, INF)),
    "log_singular": (lambda x: jnp.log(-jnp.log(x)), (0, 1)),
    "beta_0.003_0.003_pm1e3": (_beta_on(0.003, 0.003, -1e3, 1e3), (-1e3, 1e3)),
    "t_0.01": (lambda x: t.logpdf(x, 0.01), LINE),
    "pareto_0.01": (lambda x: jnp.log(0.01) - 1.01 * jnp.log(x), (1, INF)),
    "lognorm_30": (lambda x: norm.logpdf(jnp.log(x), 0.0, 30.0) - jnp.log(x), (0, INF)),
    "cauchy_at_1e4_scale1e-4": (lambda x: cauchy.logpdf(x, 1e4, 1e-4), LINE),
    "t3_at_m1e5_scale1e-3": (lambda x: t.logpdf(x, 3.0, -1e5, 1e-3), LINE),
    "jf_skew_t_4_3": (_jf_skew_t(4.0, 3.0), LINE),
    "jf_skew_t_4_3_naive": (_jf_skew_t_naive(4.0, 3.0), LINE),
    "norm_at_1e3_sd1e-5": (lambda x: norm.logpdf(x, 1e3, 1e-5), LINE),
    "laplace_at_m1e4_sd1e-4": (_laplace_at(-1e4, 1e-4), LINE),
    "norm_at_1e-3_sd1e-11": (lambda x: norm.logpdf(x, 1e-3, 1e-11), LINE),
    "gamma_1e4_scale1e-4": (lambda x: gamma.logpdf(x, 1e4, scale=1e-4), (0, INF)),
    "norm_sd1e-8_on_halfline": (lambda x: norm.logpdf(x, 2.0, 1e-8), (0, INF)),
}
CASES.update(MORE_CASES)

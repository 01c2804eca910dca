"""mpmath truths for the entropy tests: textbook closed forms at 50+ digits.

Each ``MP[name](*shapes)`` is the family's differential entropy at ``loc=0, scale=1``
written as in the literature (Lazo & Rathie 1978; Cover & Thomas table 17.1) with
mpmath's own ``loggamma``/``digamma``/``beta``/Bessel functions, not with the
remainder forms calculax evaluates. The working precision grows with the size of the
parameters (``gamma(1e300)`` cancels 300 digits) so that every truth is good to 50
digits. ``GRIDS`` are the parameter grids, extremes included; ``BENIGN`` one
moderate point per family where the formula itself is checked against SciPy's
quadrature of its own ``logpdf`` (an independent derivation check).
"""

from __future__ import annotations

import functools
import itertools

import mpmath as mp

DIGITS = 50

E = mp.euler


def _gamma(a):
    return a + mp.loggamma(a) + (1 - a) * mp.digamma(a)


def _beta(a, b):
    return (
        mp.log(mp.beta(a, b))
        - (a - 1) * mp.digamma(a)
        - (b - 1) * mp.digamma(b)
        + (a + b - 2) * mp.digamma(a + b)
    )


def _betaprime(a, b):
    return (
        mp.log(mp.beta(a, b))
        - (a - 1) * mp.digamma(a)
        - (b + 1) * mp.digamma(b)
        + (a + b) * mp.digamma(a + b)
    )


def _truncnorm(a, b):
    if b <= 0:
        return _truncnorm(-b, -a)
    root2 = mp.sqrt(2)
    z = (mp.erfc(a / root2) - mp.erfc(b / root2)) / 2
    phi = mp.npdf
    pa = a * phi(a) if mp.isfinite(a) else 0
    pb = b * phi(b) if mp.isfinite(b) else 0
    return mp.log(mp.sqrt(2 * mp.pi * mp.e) * z) + (pa - pb) / (2 * z)


def _burr12(c, d):
    return 1 + 1 / d - mp.log(c * d) + (1 - 1 / c) * (E + mp.digamma(d))


MP = {
    "norm": lambda: mp.log(2 * mp.pi * mp.e) / 2,
    "uniform": lambda: mp.mpf(0),
    "expon": lambda: mp.mpf(1),
    "laplace": lambda: 1 + mp.log(2),
    "logistic": lambda: mp.mpf(2),
    "cauchy": lambda: mp.log(4 * mp.pi),
    "gumbel_r": lambda: 1 + E,
    "gumbel_l": lambda: 1 + E,
    "hypsecant": lambda: mp.log(2 * mp.pi),
    "semicircular": lambda: mp.log(mp.pi) - mp.mpf(1) / 2,
    "arcsine": lambda: mp.log(mp.pi / 4),
    "anglit": lambda: 1 - mp.log(2),
    "cosine": lambda: mp.log(4 * mp.pi) - 1,
    "moyal": lambda: (1 + E + mp.log(4 * mp.pi)) / 2,
    "levy": lambda: (1 + 3 * E + mp.log(16 * mp.pi)) / 2,
    "levy_l": lambda: (1 + 3 * E + mp.log(16 * mp.pi)) / 2,
    "halfnorm": lambda: mp.log(mp.pi * mp.e / 2) / 2,
    "halfcauchy": lambda: mp.log(2 * mp.pi),
    "halflogistic": lambda: 2 - mp.log(2),
    "rayleigh": lambda: 1 + E / 2 - mp.log(2) / 2,
    "maxwell": lambda: mp.log(2 * mp.pi) / 2 + E - mp.mpf(1) / 2,
    "gibrat": lambda: mp.log(2 * mp.pi * mp.e) / 2,
    "gamma": _gamma,
    "erlang": _gamma,
    "dgamma": lambda a: _gamma(a) + mp.log(2),
    "chi2": lambda k: _gamma(k / 2) + mp.log(2),
    "chi": lambda k: (
        mp.loggamma(k / 2) + (k - mp.log(2) - (k - 1) * mp.digamma(k / 2)) / 2
    ),
    "nakagami": lambda m: (
        mp.loggamma(m)
        - (m - mp.mpf(1) / 2) * mp.digamma(m)
        + m
        - mp.log(2 * mp.sqrt(m))
    ),
    "gengamma": lambda a, c: _gamma(a) - mp.log(abs(c)) + (1 / c - 1) * mp.digamma(a),
    "invgamma": lambda a: a + mp.loggamma(a) - (1 + a) * mp.digamma(a),
    "loggamma": lambda c: _gamma(c) - mp.digamma(c),
    "genlogistic": lambda c: -mp.log(c) + mp.digamma(c) + E + (c + 1) / c,
    "beta": _beta,
    "betaprime": _betaprime,
    "f": lambda d1, d2: mp.log(d2 / d1) + _betaprime(d1 / 2, d2 / 2),
    "t": lambda v: (
        (v + 1) / 2 * (mp.digamma((v + 1) / 2) - mp.digamma(v / 2))
        + mp.log(mp.sqrt(v) * mp.beta(v / 2, mp.mpf(1) / 2))
    ),
    "powerlaw": lambda a: 1 - 1 / a - mp.log(a),
    "rdist": lambda c: _beta(c / 2, c / 2) + mp.log(2),
    "bradford": lambda c: mp.log(mp.log1p(c) / c) + mp.log1p(c) / 2,
    "weibull_min": lambda c: E * (1 - 1 / c) + 1 - mp.log(c),
    "weibull_max": lambda c: E * (1 - 1 / c) + 1 - mp.log(c),
    "dweibull": lambda c: E * (1 - 1 / c) + 1 - mp.log(c) + mp.log(2),
    "invweibull": lambda c: 1 + E + E / c - mp.log(c),
    "genextreme": lambda c: 1 + E * (1 - c),
    "genpareto": lambda c: 1 + c,
    "pareto": lambda b: 1 + 1 / b - mp.log(b),
    "lomax": lambda c: 1 + 1 / c - mp.log(c),
    "burr12": _burr12,
    "burr": lambda c, d: _burr12(c, d) + 2 * (E + mp.digamma(d)) / c,
    "fisk": lambda c: 2 - mp.log(c),
    "loglaplace": lambda c: 1 + mp.log(2 / c),
    "gennorm": lambda b: 1 / b - mp.log(b / (2 * mp.gamma(1 / b))),
    "halfgennorm": lambda b: 1 / b - mp.log(b / mp.gamma(1 / b)),
    "lognorm": lambda s: mp.log(s * mp.sqrt(2 * mp.pi * mp.e)),
    "triang": lambda c: mp.mpf(1) / 2 - mp.log(2),
    "loguniform": lambda a, b: mp.log(mp.log(b / a)) + (mp.log(a) + mp.log(b)) / 2,
    "reciprocal": lambda a, b: mp.log(mp.log(b / a)) + (mp.log(a) + mp.log(b)) / 2,
    "truncexpon": lambda b: (
        mp.log(1 - mp.exp(-b)) + 1 - b * mp.exp(-b) / (1 - mp.exp(-b))
    ),
    "truncnorm": _truncnorm,
    "vonmises": lambda k: (
        mp.log(2 * mp.pi * mp.besseli(0, k)) - k * mp.besseli(1, k) / mp.besseli(0, k)
    ),
    "vonmises_line": lambda k: (
        mp.log(2 * mp.pi * mp.besseli(0, k)) - k * mp.besseli(1, k) / mp.besseli(0, k)
    ),
    "wrapcauchy": lambda c: mp.log(2 * mp.pi * (1 - c * c)),
    "skewcauchy": lambda a: mp.log(4 * mp.pi),
}

_POS = (1e-20, 1e-3, 0.37, 1.0, 2.5, 9.99, 10.0, 123.4, 1e6, 1e12, 1e20, 1e300)
_POS2 = (1e-8, 0.5, 3.0, 1e5, 1e20)
_SHAPE = (1e-3, 0.3, 1.0, 2.7, 1e3, 1e15)

GRIDS: dict[str, list[tuple[float, ...]]] = {}
for _name, _fn in MP.items():
    _n = _fn.__code__.co_argcount
    GRIDS[_name] = [()] if _n == 0 else [(x,) for x in _POS]
for _name in ("beta", "betaprime", "f", "burr", "burr12", "gengamma"):
    GRIDS[_name] = [tuple(p) for p in itertools.product(_POS2, repeat=2)]
GRIDS["gengamma"] = [(a, c) for a in _POS2 for c in (-3.0, -0.5, 0.5, 2.0, 1e3)]
GRIDS["burr"] = [(c, d) for c in _SHAPE for d in _POS2]
GRIDS["burr12"] = GRIDS["burr"]
for _name in ("weibull_min", "weibull_max", "dweibull", "invweibull", "pareto"):
    GRIDS[_name] = [(x,) for x in _SHAPE]
GRIDS["genextreme"] = [(c,) for c in (-1e3, -2.0, -0.5, 0.0, 0.5, 1.0, 7.5)]
GRIDS["genpareto"] = [(c,) for c in (-3.0, -1.0, -0.5, 0.0, 0.25, 0.9)]
GRIDS["triang"] = [(c,) for c in (0.0, 0.3, 1.0)]
GRIDS["skewcauchy"] = [(a,) for a in (-0.9, 0.0, 0.5)]
GRIDS["wrapcauchy"] = [(c,) for c in (1e-10, 0.1, 0.5, 0.99, 1 - 1e-9)]
GRIDS["vonmises"] = [(k,) for k in (1e-8, 1e-3, 0.5, 1.0, 10.0, 100.0, 1e3)]
GRIDS["vonmises_line"] = GRIDS["vonmises"]
GRIDS["truncexpon"] = [(b,) for b in (1e-10, 1e-3, 0.5, 1.0, 30.0, 800.0)]
GRIDS["truncnorm"] = [
    (-1.0, 2.0),
    (-30.0, 30.0),
    (-1e-8, 1e-8),
    (0.0, 1.0),
    (5.0, 5.5),
    (20.0, 21.0),
    (-21.0, -20.0),
    (37.0, 38.0),
    (2.0, 1e3),
    (-1e3, -3.0),
]
GRIDS["loguniform"] = [(1e-300, 1.0), (0.5, 2.0), (1.0, 1.0 + 1e-9), (3.0, 1e300)]
GRIDS["reciprocal"] = GRIDS["loguniform"]
GRIDS["gennorm"] = [(x,) for x in (1e-2, 0.3, 1.0, 2.0, 8.0, 1e6, 1e20)]
GRIDS["halfgennorm"] = GRIDS["gennorm"]
GRIDS["lognorm"] = [(s,) for s in (1e-300, 1e-5, 1.0, 3.0, 1e300)]
GRIDS["bradford"] = [(c,) for c in (1e-12, 1e-3, 0.5, 2.0, 1e5, 1e300)]
GRIDS["powerlaw"] = [(a,) for a in (1e-5, 0.3, 1.0, 7.0, 1e10)]

BENIGN: dict[str, tuple[float, ...]] = {
    name: grid[len(grid) // 2] for name, grid in GRIDS.items()
}
BENIGN.update(
    {
        "gamma": (2.5,),
        "erlang": (3.0,),
        "dgamma": (1.7,),
        "chi2": (3.0,),
        "chi": (2.5,),
        "nakagami": (1.3,),
        "gengamma": (2.0, 1.5),
        "invgamma": (3.0,),
        "loggamma": (1.5,),
        "genlogistic": (2.5,),
        "beta": (2.0, 3.5),
        "betaprime": (3.0, 4.0),
        "f": (5.0, 9.0),
        "t": (3.5,),
        "powerlaw": (2.5,),
        "rdist": (3.0,),
        "bradford": (2.0,),
        "weibull_min": (1.7,),
        "weibull_max": (1.7,),
        "dweibull": (2.5,),
        "invweibull": (2.5,),
        "genextreme": (0.3,),
        "genpareto": (0.25,),
        "pareto": (2.5,),
        "lomax": (2.5,),
        "burr12": (2.0, 3.0),
        "burr": (3.0, 2.0),
        "fisk": (3.0,),
        "loglaplace": (3.0,),
        "gennorm": (1.5,),
        "halfgennorm": (1.5,),
        "lognorm": (0.7,),
        "triang": (0.3,),
        "loguniform": (0.5, 2.0),
        "reciprocal": (0.5, 2.0),
        "truncexpon": (2.0,),
        "truncnorm": (-1.0, 2.0),
        "vonmises": (2.0,),
        "vonmises_line": (2.0,),
        "wrapcauchy": (0.5,),
        "skewcauchy": (0.5,),
    }
)


def _digits_needed(shapes) -> int:
    biggest = max([abs(float(s)) for s in shapes] + [1.0])
    smallest = min([abs(float(s)) for s in shapes if s != 0] + [1.0])
    return DIGITS + 20 + int(mp.log10(biggest)) + int(-mp.log10(smallest) / 10)


@functools.cache
def truth(name: str, shapes: tuple[float, ...]) -> mp.mpf:
    """High-precision entropy of ``scipy.stats.<name>(*shapes)`` (exact floats in)."""
    with mp.workdps(_digits_needed(shapes)):
        value = MP[name](*(mp.mpf(s) for s in shapes))
        return +value


@functools.cache
def truth_gradient(name: str, shapes: tuple[float, ...]) -> tuple[mp.mpf, ...]:
    """d entropy / d shape_i at ``shapes`` by mpmath's numerical differentiation."""
    out = []
    with mp.workdps(_digits_needed(shapes) + 30):
        point = [mp.mpf(s) for s in shapes]
        for i in range(len(point)):

            def along(x, i=i):
                p = list(point)
                p[i] = x
                return MP[name](*p)

            out.append(mp.diff(along, point[i], h=point[i] * mp.mpf(10) ** -20))
    return tuple(out)


# --- Adversarial log-densities (issue: entropy of any density a user writes) -----
#
# Each case is written as a user would write it, as a JAX log-density, and its truth
# comes from mpmath: the closed form above where the density is a named family
# (plus log(scale)), else -int p log p by mpmath quadrature split at the modes and
# at a few widths either side of each (so that no part of the mass is skipped).


def _mp_norm_logpdf(x, m, s):
    return -((x - m) ** 2) / (2 * s * s) - mp.log(s) - mp.log(2 * mp.pi) / 2


def _mixture_truth(weights, means, sds, lo=-mp.inf, hi=mp.inf, kind="norm"):
    """-int p log p of a mixture of normals (or Laplace / Cauchy components)."""
    w = [mp.mpf(v) for v in weights]
    m = [mp.mpf(v) for v in means]
    s = [mp.mpf(v) for v in sds]

    def logpdf(x):
        if kind == "norm":
            terms = [
                mp.log(wi) + _mp_norm_logpdf(x, mi, si) for wi, mi, si in zip(w, m, s)
            ]
        elif kind == "laplace":
            terms = [
                mp.log(wi) - abs(x - mi) / si - mp.log(2 * si)
                for wi, mi, si in zip(w, m, s)
            ]
        else:  # cauchy
            terms = [
                mp.log(wi) - mp.log(mp.pi * si * (1 + ((x - mi) / si) ** 2))
                for wi, mi, si in zip(w, m, s)
            ]
        top = max(terms)
        return top + mp.log(mp.fsum(mp.exp(t - top) for t in terms))

    points = {lo, hi}
    for mi, si in zip(m, s):
        for k in (-60, -20, -8, -3, -1, 0, 1, 3, 8, 20, 60):
            points.add(mi + k * si)
    points = sorted(p for p in points if lo <= p <= hi)

    def integrand(x):
        lp = logpdf(x)
        return -mp.exp(lp) * lp

    return mp.quad(integrand, points)


def _scaled(name, shapes, scale=1):
    return truth(name, tuple(shapes)) + mp.log(mp.mpf(scale))


def _beta_on(a, b, lo, hi):
    return _scaled("beta", (a, b), mp.mpf(hi) - mp.mpf(lo))


def _skew_normal_truth(alpha):
    def logpdf(x):
        return mp.log(2) + _mp_norm_logpdf(x, 0, 1) + mp.log(mp.ncdf(alpha * x))

    def integrand(x):
        lp = logpdf(x)
        return -mp.exp(lp) * lp

    return mp.quad(integrand, [-mp.inf, -5, -1, 0, 1, 5, mp.inf])


def _beta_mixture_truth():
    # Symmetric about 1/2: twice the integral over (0, 1/2], in the variable x
    # itself (1 - x is never close to 0 there).
    half = mp.mpf(1) / 2

    def p(x):
        return (
            x**-half * (1 - x) ** 4 / mp.beta(half, 5)
            + x**4 * (1 - x) ** -half / mp.beta(5, half)
        ) / 2

    points = [0, mp.mpf(10) ** -30, mp.mpf(10) ** -10, mp.mpf(10) ** -3, half]
    return -2 * mp.quad(lambda x: p(x) * mp.log(p(x)), points)


@functools.cache
def logdensity_truth(name: str) -> mp.mpf:
    """High-precision entropy of the case ``name`` of ``tests/entropy_cases.py``."""
    with mp.workdps(40):
        return +_LOGDENSITY_TRUTHS[name]()


_LOGDENSITY_TRUTHS = {
    # Separated modes, 10 to 1e6 widths apart, weights down to 1e-6.
    "mix_pm10_sd0.1": lambda: _mixture_truth([0.5, 0.5], [-10, 10], [0.1, 0.1]),
    "mix_pm10_support100": lambda: _mixture_truth(
        [0.5, 0.5], [-10, 10], [0.1, 0.1], lo=-100, hi=100
    ),
    "mix_1e3_widths": lambda: _mixture_truth([0.5, 0.5], [0, 1000], [1, 1]),
    "mix_1e6_widths": lambda: _mixture_truth([0.5, 0.5], [0, 1e6], [1, 1]),
    "mix_narrow_1e6_widths": lambda: _mixture_truth([0.4, 0.6], [0, 1e3], [1e-3, 1e-3]),
    "mix_weight_1e-6": lambda: _mixture_truth([1 - 1e-6, 1e-6], [0, 30], [1, 1]),
    "mix_weight_1e-6_far_narrow": lambda: _mixture_truth(
        [1 - 1e-6, 1e-6], [0, 1e4], [1, 0.01]
    ),
    "mix_three_scales": lambda: _mixture_truth(
        [0.2, 0.5, 0.3], [-50, 0, 50], [1, 0.01, 10]
    ),
    "mix_100_widths_close": lambda: _mixture_truth([0.3, 0.7], [5, 5.01], [1e-4, 1e-4]),
    "mix_five_20_widths": lambda: _mixture_truth(
        [0.2] * 5, [0, 10, 20, 30, 40], [0.5] * 5
    ),
    "mix_laplace_pm20": lambda: _mixture_truth(
        [0.5, 0.5], [-20, 20], [1, 1], kind="laplace"
    ),
    "mix_cauchy_pm1e3": lambda: _mixture_truth(
        [0.5, 0.5], [-1e3, 1e3], [1, 1], kind="cauchy"
    ),
    "mix_weight_1e-5_below": lambda: _mixture_truth(
        [1e-5, 1 - 1e-5], [-1e3, 0], [1, 1]
    ),
    # Singular ends x**(a-1), a down to 1e-3.
    "beta_0.01_0.01": lambda: _scaled("beta", (0.01, 0.01)),
    "beta_0.001_1000": lambda: _scaled("beta", (0.001, 1000)),
    "beta_0.001_0.001": lambda: _scaled("beta", (0.001, 0.001)),
    "beta_0.5_0.5": lambda: _scaled("beta", (0.5, 0.5)),
    "gamma_0.001": lambda: _scaled("gamma", (0.001,)),
    "gamma_0.01_scale1e-5": lambda: _scaled("gamma", (0.01,), 1e-5),
    "powerlaw_0.001": lambda: _scaled("powerlaw", (0.001,)),
    "beta_0.002_3_on_5_6": lambda: _beta_on(0.002, 3, 5, 6),
    "beta_2_0.005_on_m1_1": lambda: _beta_on(2, 0.005, -1, 1),
    "beta_0.5_0.5_at_1e6": lambda: _beta_on(0.5, 0.5, 1e6, 1e6 + 1),
    # Heavy tails.
    "cauchy": lambda: _scaled("cauchy", ()),
    "t_0.5": lambda: _scaled("t", (0.5,)),
    "t_1.5": lambda: _scaled("t", (1.5,)),
    "t_0.05": lambda: _scaled("t", (0.05,)),
    "lomax_0.05": lambda: _scaled("lomax", (0.05,)),
    "lognorm_10": lambda: _scaled("lognorm", (10,)),
    "levy": lambda: _scaled("levy", ()),
    # Concentrated in a width 1e-8 (or so) of their location, anywhere.
    "norm_at_1e6_sd1e-2": lambda: _scaled("norm", (), 1e-2),
    "norm_at_m3.7e5_sd3.7e-3": lambda: _scaled("norm", (), 3.7e-3),
    "logistic_at_1e8": lambda: _scaled("logistic", ()),
    "gamma_1e6": lambda: _scaled("gamma", (1e6,)),
    "beta_1e6_1e6": lambda: _scaled("beta", (1e6, 1e6)),
    "norm_sd1e-8": lambda: _scaled("norm", (), 1e-8),
    "expon_1e-6_from_100": lambda: _scaled("expon", (), 1e-6),
    # Other shapes.
    "gumbel": lambda: _scaled("gumbel_r", ()),
    "skewnorm_5": lambda: _skew_normal_truth(5),
    "gennorm_8": lambda: _scaled("gennorm", (8,)),
    "truncnorm_20_21": lambda: _scaled("truncnorm", (20, 21)),
    "vonmises_100": lambda: _scaled("vonmises", (100,)),
    "halfnorm": lambda: _scaled("halfnorm", ()),
    "beta_mixture_u": _beta_mixture_truth,
}


def _jf_skew_t_truth(a, b):
    a, b = mp.mpf(a), mp.mpf(b)
    log_c = (a + b - 1) * mp.log(2) + mp.log(mp.beta(a, b)) + mp.log(mp.sqrt(a + b))

    def logpdf(x):
        # 1 -+ r without cancellation: (a + b) / (sqrt(s) (sqrt(s) +- |x|)).
        root = mp.sqrt(a + b + x * x)
        near = (a + b) / (root * (root + abs(x)))
        far = 1 + abs(x) / root
        up, down = (far, near) if x >= 0 else (near, far)
        return (
            (a + mp.mpf(1) / 2) * mp.log(up)
            + (b + mp.mpf(1) / 2) * mp.log(down)
            - log_c
        )

    def integrand(x):
        lp = logpdf(x)
        return -mp.exp(lp) * lp

    return mp.quad(integrand, [-mp.inf, -30, -5, -1, 0, 1, 5, 30, mp.inf])


_LOGDENSITY_TRUTHS.update(
    {
        "mix_1e4_widths": lambda: _mixture_truth([0.5, 0.5], [0, 1e4], [1, 1]),
        "mix_1e5_widths_left": lambda: _mixture_truth([0.3, 0.7], [-1e5, 0], [1, 1]),
        "mix_pm5e5": lambda: _mixture_truth([0.5, 0.5], [-5e5, 5e5], [1, 1]),
        "mix_weight_1e-6_at_1e6": lambda: _mixture_truth(
            [1 - 1e-6, 1e-6], [0, 1e6], [1, 1]
        ),
        "mix_weight_1e-6_wide": lambda: _mixture_truth(
            [1 - 1e-6, 1e-6], [0, 0], [1, 1e4]
        ),
        "mix_weight_1e-6_left_narrow": lambda: _mixture_truth(
            [1e-6, 1 - 1e-6], [-1e5, 0], [1e-3, 1]
        ),
        "mix_weight_1e-6_three": lambda: _mixture_truth(
            [1e-6, 1 - 2e-6, 1e-6], [-1e3, 0, 1e3], [1, 1, 1]
        ),
        "mix_laplace_1e4_widths": lambda: _mixture_truth(
            [0.5, 0.5], [0, 1e4], [1, 1], kind="laplace"
        ),
        "mix_four_decades": lambda: _mixture_truth(
            [0.4, 0.3, 0.2, 0.1], [0, 10, 1e3, 1e5], [1, 1e-2, 1, 10]
        ),
        "mix_close_sd1e-6": lambda: _mixture_truth(
            [0.5, 0.5], [1, 1 + 1e-5], [1e-6, 1e-6]
        ),
        "mix_broad_and_narrow_far": lambda: _mixture_truth(
            [0.5, 0.5], [0, 1e4], [1e3, 1e-2]
        ),
        "mix_half_support": lambda: _mixture_truth(
            [0.5, 0.5], [0, 40], [1, 1], lo=-10, hi=50
        ),
        "beta_0.001_0.5": lambda: _scaled("beta", (0.001, 0.5)),
        "powerlaw_0.001_upper": lambda: _scaled("powerlaw", (0.001,)),
        "gamma_0.005_scale1e3": lambda: _scaled("gamma", (0.005,), 1e3),
        "betaprime_0.005_2": lambda: _scaled("betaprime", (0.005, 2)),
        "weibull_0.05": lambda: _scaled("weibull_min", (0.05,)),
        # p = -log x on (0, 1); with x = exp(-y), -int p log p = -psi(2) = euler - 1.
        "log_singular": lambda: E - 1,
        "beta_0.003_0.003_pm1e3": lambda: _beta_on(0.003, 0.003, -1e3, 1e3),
        "t_0.01": lambda: _scaled("t", (0.01,)),
        "pareto_0.01": lambda: _scaled("pareto", (0.01,)),
        "lognorm_30": lambda: _scaled("lognorm", (30,)),
        "cauchy_at_1e4_scale1e-4": lambda: _scaled("cauchy", (), 1e-4),
        "t3_at_m1e5_scale1e-3": lambda: _scaled("t", (3,), 1e-3),
        "jf_skew_t_4_3": lambda: _jf_skew_t_truth(4, 3),
        # The intended density's entropy (the formula as written diverges).
        "jf_skew_t_4_3_naive": lambda: _jf_skew_t_truth(4, 3),
        "norm_at_1e3_sd1e-5": lambda: _scaled("norm", (), 1e-5),
        "laplace_at_m1e4_sd1e-4": lambda: _scaled("laplace", (), 1e-4),
        "norm_at_1e-3_sd1e-11": lambda: _scaled("norm", (), 1e-11),
        "gamma_1e4_scale1e-4": lambda: _scaled("gamma", (1e4,), 1e-4),
        "norm_sd1e-8_on_halfline": lambda: _scaled("norm", (), 1e-8),
    }
)

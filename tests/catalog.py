"""A catalog of scalar functions as users write them, and the sweep that checks them.

Each :class:`Entry` is one function written once against a namespace ``xp``
(``jax.numpy`` with ``.special``/``.nn``/``.stats``, or ``calculax.numpy``), an
mpmath truth of the same arguments, and points spread over the range of each dtype
(both tails, the edges of overflow and underflow, and the function's own special
points). A *check* is one derivative -- an order ``k`` in one argument, at one
point, in one dtype -- whose true value is a normal number of the dtype; it is
computed in several *modes*, nestings of forward (``f``: ``jax.jvp``) and reverse
(``r``: ``jax.grad``) differentiation written outermost first (``"fr"`` is forward
over reverse, ``jax.hessian``'s nesting), and judged with ``tests.helpers``'
tolerance (``ULPS[k]`` ulp, backward-error term included).

Variants: ``jax`` (the function on ``jax.numpy``), ``stabilize``
(``calculax.stabilize`` of it), ``rewrite`` (``stabilize(..., rewrite=True)``) and
``cnp`` (the same code on ``calculax.numpy``). Entries whose code calls
``xp.stats`` (JAX's ``scipy.stats`` log-densities) have no ``cnp`` variant.

``python -m tests.catalog_report`` runs the whole catalog; ``tests/test_mode
_consistency.py`` runs a compact part of it in the default test run.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np

from tests import helpers

ORDER2_MODES = ("ff", "fr", "rf", "rr")
HIGH_MODES = {3: ("fff", "rrr"), 4: ("ffff", "rrrr")}
F32, F64 = np.float32, np.float64


class _JaxNamespace(types.SimpleNamespace):
    """``jax.numpy`` with the subnamespaces a user reaches for."""

    def __getattr__(self, name):
        return getattr(jnp, name)


JAX = _JaxNamespace(
    special=jax.scipy.special, nn=jax.nn, stats=jax.scipy.stats, linalg=jnp.linalg
)


@dataclasses.dataclass(frozen=True)
class Entry:
    name: str
    fn: Callable  # fn(xp, *args) -> scalar
    truth: Callable  # mpmath, of the same arguments
    points: Callable  # points(dtype) -> list of rows (tuples of floats)
    wrt: tuple = (0,)  # the argument(s) differentiated, each on its own
    max_order: int = 2
    singular: tuple = ()
    offset: float = 0.0
    library: bool = False  # calls xp.stats: no calculax.numpy variant

    def rows(self, dtype) -> np.ndarray:
        rows = [tuple(r) if isinstance(r, tuple) else (r,) for r in self.points(dtype)]
        with np.errstate(over="ignore"):
            array = np.asarray(rows, dtype=np.float64).astype(dtype)
        array = helpers.flush_subnormals(array)
        keep = np.all(np.isfinite(array), axis=1)
        array = array[keep]
        return np.unique(array, axis=0)


# ---------------------------------------------------------------- points


def _range(dtype, low=None, high=None, step=None):
    """Powers of ten over the normal range of ``dtype`` (or ``[low, high]``)."""
    info = np.finfo(dtype)
    lo = math.floor(math.log10(float(info.tiny))) + 1 if low is None else low
    hi = math.floor(math.log10(float(info.max))) if high is None else high
    if step is None:
        step = 5 if dtype == F32 else 40
    return [10.0**k for k in range(lo, hi + 1, step)]


def positive(dtype):
    return _range(dtype) + [0.5, 1.0, 2.0, 3.0]


def both_signs(dtype):
    p = positive(dtype)
    return p + [-v for v in p]


TAIL = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 80.0, 100.0, 300.0, 700.0, 1e4)


def tails(dtype):
    values = [v for v in TAIL if dtype == F64 or v < 1e3] + [1e10, 1e30]
    return values + [-v for v in values] + [0.0]


def unit(dtype):
    k = 7 if dtype == F32 else 15
    near = [10.0**-j for j in range(1, k + 1, 2)]
    return [0.5, 0.25, 0.75] + near + [1 - v for v in near] + _range(dtype, high=-1)


def unit_both(dtype):
    u = unit(dtype)
    return u + [-v for v in u]


def near_minus_one(dtype):
    k = 7 if dtype == F32 else 15
    return [-1 + 10.0**-j for j in range(1, k + 1, 2)] + positive(dtype)


def above_one(dtype):
    k = 7 if dtype == F32 else 15
    return [1 + 10.0**-j for j in range(1, k + 1, 2)] + [
        v for v in positive(dtype) if v > 1
    ]


def moderate(dtype):
    return [0.1, 0.5, 1.0, 2.0, 5.0, 1e-3, 1e3] + [-0.1, -0.5, -1.0, -2.0, -5.0]


def ties(dtype):
    return [(v, v) for v in positive(dtype)]


def with_fixed(values, *fixed):
    def points(dtype):
        return [(v, *fixed) for v in values(dtype)]

    return points


def scale_points(dtype):
    # (x, mu, sigma) with x = mu (the density's peak) and x = mu + sigma.
    sigmas = _range(dtype, step=4 if dtype == F32 else 30)
    return [(0.0, 0.0, s) for s in sigmas] + [(s, 0.0, s) for s in sigmas]


def location_points(dtype):
    big = 30.0 if dtype == F32 else 300.0
    return [(x, 0.0, 1.0) for x in (0.0, 0.5, -2.0, 10.0, -big, 1e4, 1e15)]


# ---------------------------------------------------------------- truths

LOG_2PI = mp.log(2 * mp.pi)


def _xlogx(x):
    return mp.mpf(0) if x == 0 else x * mp.log(x)


def _lse(*values):
    return mp.log(mp.fsum(mp.exp(v) for v in values))


def _sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def _softplus(x):
    return mp.log1p(mp.exp(x)) if x < 0 else x + mp.log1p(mp.exp(-x))


def _norm_logpdf(x, mu, s):
    return -(((x - mu) / s) ** 2) / 2 - mp.log(s) - LOG_2PI / 2


def _ndtr(x):
    return mp.ncdf(x)


def _gelu_tanh(x):
    c = mp.sqrt(2 / mp.pi)
    return x * _sigmoid(2 * c * (x + mp.mpf("0.044715") * x**3))


# ---------------------------------------------------------------- the catalog


def _e(name, fn, truth, points, **kw) -> Entry:
    return Entry(name, fn, truth, points, **kw)


ELEMENTARY = [
    _e("exp", lambda xp, x: xp.exp(x), mp.exp, tails),
    _e("expm1", lambda xp, x: xp.expm1(x), mp.expm1, tails),
    _e("log", lambda xp, x: xp.log(x), mp.log, positive, singular=(0.0,)),
    _e("log1p", lambda xp, x: xp.log1p(x), mp.log1p, near_minus_one, singular=(-1.0,)),
    _e("log2", lambda xp, x: xp.log2(x), lambda x: mp.log(x, 2), positive),
    _e("log10", lambda xp, x: xp.log10(x), mp.log10, positive),
    _e("sqrt", lambda xp, x: xp.sqrt(x), mp.sqrt, positive, singular=(0.0,)),
    _e(
        "cbrt",
        lambda xp, x: xp.cbrt(x),
        lambda x: mp.sign(x) * mp.cbrt(abs(x)),
        both_signs,
    ),
    _e("reciprocal", lambda xp, x: xp.reciprocal(x), lambda x: 1 / x, both_signs),
    _e("square", lambda xp, x: xp.square(x), lambda x: x * x, both_signs),
    _e("tanh", lambda xp, x: xp.tanh(x), mp.tanh, tails),
    _e("sinh", lambda xp, x: xp.sinh(x), mp.sinh, tails),
    _e("cosh", lambda xp, x: xp.cosh(x), mp.cosh, tails),
    _e("arcsinh", lambda xp, x: xp.arcsinh(x), mp.asinh, both_signs),
    _e("arccosh", lambda xp, x: xp.arccosh(x), mp.acosh, above_one, singular=(1.0,)),
    _e("arctanh", lambda xp, x: xp.arctanh(x), mp.atanh, unit_both, singular=(1, -1)),
    _e("arcsin", lambda xp, x: xp.arcsin(x), mp.asin, unit_both, singular=(1, -1)),
    _e("arccos", lambda xp, x: xp.arccos(x), mp.acos, unit_both, singular=(1, -1)),
    _e("arctan", lambda xp, x: xp.arctan(x), mp.atan, both_signs),
    _e("sin", lambda xp, x: xp.sin(x), mp.sin, moderate),
    _e("cos", lambda xp, x: xp.cos(x), mp.cos, moderate),
    _e("tan", lambda xp, x: xp.tan(x), mp.tan, moderate),
    _e("sinc", lambda xp, x: xp.sinc(x), mp.sincpi, moderate),
    _e("expit", lambda xp, x: xp.special.expit(x), _sigmoid, tails),
    _e(
        "logit",
        lambda xp, x: xp.special.logit(x),
        lambda p: mp.log(p / (1 - p)),
        unit,
        singular=(0.0, 1.0),
    ),
    _e("erf", lambda xp, x: xp.special.erf(x), mp.erf, tails),
    _e("erfc", lambda xp, x: xp.special.erfc(x), mp.erfc, tails),
    _e("ndtr", lambda xp, x: xp.special.ndtr(x), _ndtr, tails),
    _e(
        "log_ndtr",
        lambda xp, x: xp.special.log_ndtr(x),
        lambda x: mp.log(mp.ncdf(x)),
        tails,
    ),
    _e(
        "ndtri",
        lambda xp, x: xp.special.ndtri(x),
        lambda p: -mp.sqrt(2) * mp.erfinv(1 - 2 * p),
        unit,
        singular=(0.0, 1.0),
    ),
    _e(
        "gammaln",
        lambda xp, x: xp.special.gammaln(x),
        mp.loggamma,
        positive,
        singular=(0.0,),
    ),
    _e("digamma", lambda xp, x: xp.special.digamma(x), mp.digamma, positive),
    _e("entr", lambda xp, x: xp.special.entr(x), lambda x: -_xlogx(x), positive),
    _e("softplus", lambda xp, x: xp.nn.softplus(x), _softplus, tails),
    _e(
        "log_sigmoid",
        lambda xp, x: xp.nn.log_sigmoid(x),
        lambda x: -_softplus(-x),
        tails,
    ),
    _e("gelu_tanh", lambda xp, x: xp.nn.gelu(x), _gelu_tanh, tails),
    _e(
        "gelu_erf",
        lambda xp, x: xp.nn.gelu(x, approximate=False),
        lambda x: x * mp.ncdf(x),
        tails,
    ),
    _e("silu", lambda xp, x: xp.nn.silu(x), lambda x: x * _sigmoid(x), tails),
    _e(
        "mish",
        lambda xp, x: xp.nn.mish(x),
        lambda x: x * mp.tanh(_softplus(x)),
        tails,
    ),
    _e(
        "elu",
        lambda xp, x: xp.nn.elu(x),
        lambda x: x if x > 0 else mp.expm1(x),
        lambda d: [v for v in tails(d) if v != 0],
    ),
    _e(
        "squareplus",
        lambda xp, x: xp.nn.squareplus(x),
        lambda x: (
            (x + mp.sqrt(x * x + 4)) / 2 if x >= 0 else 2 / (mp.sqrt(x * x + 4) - x)
        ),
        both_signs,
    ),
    _e(
        "soft_sign",
        lambda xp, x: xp.nn.soft_sign(x),
        lambda x: x / (abs(x) + 1),
        lambda d: [v for v in both_signs(d)],
    ),
    _e(
        "log_softmax2",
        lambda xp, x: xp.nn.log_softmax(xp.stack([x, 0.0 * x]))[0],
        lambda x: x - _lse(x, 0),
        tails,
        offset=1.0,
    ),
    _e(
        "logsumexp3",
        lambda xp, x: xp.special.logsumexp(xp.stack([x, 0.0 * x + 1.0, 0.0 * x - 2.0])),
        lambda x: _lse(x, 1, -2),
        tails,
        offset=1.0,
    ),
]

BINARY = [
    _e(
        "divide",
        lambda xp, a, b: xp.divide(a, b),
        lambda a, b: a / b,
        ties,
        wrt=(1,),
        max_order=4,
    ),
    _e(
        "power_x",
        lambda xp, x: xp.power(x, 2.5),
        lambda x: x ** mp.mpf(2.5),
        positive,
    ),
    _e(
        "power_y",
        lambda xp, y: xp.power(3.0, y),
        lambda y: mp.mpf(3) ** y,
        moderate,
    ),
    _e(
        "arctan2",
        lambda xp, y: xp.arctan2(y, 1.0),
        lambda y: mp.atan2(y, 1),
        both_signs,
    ),
    _e("hypot", lambda xp, x: xp.hypot(x, 1.0), lambda x: mp.hypot(x, 1), both_signs),
    _e(
        "logaddexp",
        lambda xp, x: xp.logaddexp(x, 0.0),
        lambda x: _lse(x, 0),
        tails,
        offset=1.0,
    ),
    _e(
        "xlogy",
        lambda xp, x, y: xp.special.xlogy(x, y),
        lambda x, y: x * mp.log(y),
        ties,
        wrt=(0, 1),
    ),
    _e(
        "xlog1py",
        lambda xp, x, y: xp.special.xlog1py(x, y),
        lambda x, y: x * mp.log1p(y),
        ties,
        wrt=(0, 1),
    ),
    _e(
        "rel_entr",
        lambda xp, p, q: xp.special.rel_entr(p, q),
        lambda p, q: p * mp.log(p / q),
        lambda d: [(v, 2 * v) for v in positive(d)],
        wrt=(0, 1),
    ),
    _e(
        "kl_div",
        lambda xp, p, q: xp.special.kl_div(p, q),
        lambda p, q: p * mp.log(p / q) - p + q,
        lambda d: [(v, 2 * v) for v in positive(d)],
        wrt=(0, 1),
    ),
]


def _naive_logsumexp(xp, x):
    v = xp.stack([x, 0.0 * x + 1.0, 0.0 * x + 2.0])
    return xp.log(xp.sum(xp.exp(v)))


def _naive_softmax(xp, x):
    v = xp.exp(xp.stack([x, 0.0 * x + 1.0, 0.0 * x + 2.0]))
    return xp.divide(v[0], xp.sum(v))


def _difference_norm(xp, x):
    d = xp.stack([x, 2.0 * x]) - xp.stack([1.0, 2.0])
    return xp.sqrt(xp.sum(d**2))


def _difference_linalg_norm(xp, x):
    return xp.linalg.norm(xp.stack([x, 2.0 * x]) - xp.stack([1.0, 2.0]))


def near_one(dtype):
    k = 37 if dtype == F32 else 300
    step = 4 if dtype == F32 else 30
    return [1 + s * 10.0**-j for j in range(1, k, step) for s in (1, -1)] + [
        10.0,
        1e10,
        -1e10,
        0.0,
    ]


COMPOSITE = [
    _e("x*log(x)", lambda xp, x: x * xp.log(x), _xlogx, positive, max_order=4),
    _e(
        "x**2*log(x)",
        lambda xp, x: x**2 * xp.log(x),
        lambda x: x * x * mp.log(x),
        positive,
    ),
    _e("x*exp(-x)", lambda xp, x: x * xp.exp(-x), lambda x: x * mp.exp(-x), positive),
    _e(
        "log(1+exp(x))",
        lambda xp, x: xp.log(1 + xp.exp(x)),
        _softplus,
        tails,
        max_order=4,
    ),
    _e(
        "log(1+exp(-x))",
        lambda xp, x: xp.log(1 + xp.exp(-x)),
        lambda x: _softplus(-x),
        tails,
    ),
    _e(
        "1/(1+exp(-x))",
        lambda xp, x: xp.divide(1.0, 1 + xp.exp(-x)),
        _sigmoid,
        tails,
    ),
    _e(
        "log(sigmoid)",
        lambda xp, x: xp.log(xp.divide(1.0, 1 + xp.exp(-x))),
        lambda x: -_softplus(-x),
        tails,
    ),
    _e(
        "log(nn.sigmoid)",
        lambda xp, x: xp.log(xp.nn.sigmoid(x)),
        lambda x: -_softplus(-x),
        tails,
    ),
    _e(
        "log(1-exp(x))",
        lambda xp, x: xp.log(1 - xp.exp(x)),
        lambda x: mp.log(-mp.expm1(x)),
        lambda d: [-v for v in positive(d)],
    ),
    _e(
        "log(exp(x)-1)",
        lambda xp, x: xp.log(xp.exp(x) - 1),
        lambda x: mp.log(mp.expm1(x)),
        lambda d: [v for v in positive(d)] + [20.0, 50.0, 100.0],
    ),
    _e(
        "log(exp(a)+exp(b))",
        lambda xp, x: xp.log(xp.exp(x) + xp.exp(0.0 * x)),
        lambda x: _lse(x, 0),
        tails,
        offset=1.0,
    ),
    _e("logsumexp naive", _naive_logsumexp, lambda x: _lse(x, 1, 2), tails, offset=1.0),
    _e(
        "softmax naive",
        _naive_softmax,
        lambda x: mp.exp(x - _lse(x, 1, 2)),
        tails,
        offset=1.0,
    ),
    _e(
        "sqrt(x**2+eps)",
        lambda xp, x: xp.sqrt(x**2 + 1e-12),
        lambda x: mp.sqrt(x * x + mp.mpf(1e-12)),
        both_signs,
    ),
    _e(
        "sqrt(x**2+y**2)",
        lambda xp, x, y: xp.sqrt(x**2 + y**2),
        lambda x, y: mp.hypot(x, y),
        ties,
        wrt=(0,),
    ),
    _e("||x-c|| (sum)", _difference_norm, lambda x: abs(x - 1) * mp.sqrt(5), near_one),
    _e(
        "||x-c|| (linalg)",
        _difference_linalg_norm,
        lambda x: abs(x - 1) * mp.sqrt(5),
        near_one,
    ),
    _e(
        "a/b**2",
        lambda xp, a, b: xp.divide(a, b**2),
        lambda a, b: a / b**2,
        ties,
        wrt=(1,),
        max_order=3,
    ),
    _e(
        "a/(b*b)",
        lambda xp, a, b: xp.divide(a, b * b),
        lambda a, b: a / (b * b),
        ties,
        wrt=(1,),
    ),
    _e(
        "a/b**3",
        lambda xp, a, b: xp.divide(a, b**3),
        lambda a, b: a / b**3,
        ties,
        wrt=(1,),
    ),
    _e(
        "(a/b)/b",
        lambda xp, a, b: xp.divide(xp.divide(a, b), b),
        lambda a, b: a / b / b,
        ties,
        wrt=(1,),
    ),
    _e(
        "exp(log(a)-log(b))",
        lambda xp, a, b: xp.exp(xp.log(a) - xp.log(b)),
        lambda a, b: a / b,
        ties,
        wrt=(0, 1),
    ),
    _e("exp(-x**2)", lambda xp, x: xp.exp(-(x**2)), lambda x: mp.exp(-x * x), tails),
    _e(
        "gauss pdf",
        lambda xp, x: xp.exp(-(x**2) / 2) / np.sqrt(2 * np.pi),
        mp.npdf,
        tails,
    ),
    _e(
        "norm logpdf (formula)",
        lambda xp, x, mu, s: (
            -0.5 * xp.square(xp.divide(x - mu, s)) - xp.log(s) - 0.5 * np.log(2 * np.pi)
        ),
        _norm_logpdf,
        scale_points,
        wrt=(2,),
    ),
    _e(
        "norm logpdf (jax's form)",
        lambda xp, x, mu, s: xp.divide(
            xp.log(2 * np.pi * s**2) + xp.divide((x - mu) ** 2, s**2), -2.0
        ),
        _norm_logpdf,
        scale_points,
        wrt=(0, 2),
    ),
    _e(
        "norm.logpdf",
        lambda xp, x, mu, s: xp.stats.norm.logpdf(x, mu, s),
        _norm_logpdf,
        scale_points,
        wrt=(0, 1, 2),
        library=True,
    ),
    _e(
        "norm.logpdf x",
        lambda xp, x, mu, s: xp.stats.norm.logpdf(x, mu, s),
        _norm_logpdf,
        location_points,
        wrt=(0,),
        library=True,
    ),
    _e(
        "norm.logcdf",
        lambda xp, x: xp.stats.norm.logcdf(x),
        lambda x: mp.log(mp.ncdf(x)),
        tails,
        library=True,
    ),
    _e(
        "t.logpdf",
        lambda xp, x: xp.stats.t.logpdf(x, 3.0),
        lambda x: (
            mp.loggamma(2)
            - mp.loggamma(1.5)
            - mp.log(3 * mp.pi) / 2
            - 2 * mp.log1p(x * x / 3)
        ),
        both_signs,
        library=True,
    ),
    _e(
        "cauchy.logpdf scale",
        lambda xp, s: xp.stats.cauchy.logpdf(0.0, 0.0, s),
        lambda s: -mp.log(mp.pi * s),
        positive,
        library=True,
    ),
    _e(
        "laplace.logpdf scale",
        lambda xp, x, s: xp.stats.laplace.logpdf(x, 0.0, s),
        lambda x, s: -mp.log(2 * s) - abs(x) / s,
        ties,
        wrt=(1,),
        library=True,
    ),
    _e(
        "expon.logpdf scale",
        lambda xp, x, s: xp.stats.expon.logpdf(x, 0.0, s),
        lambda x, s: -mp.log(s) - x / s,
        ties,
        wrt=(1,),
        library=True,
    ),
    _e(
        "logistic.logpdf",
        lambda xp, x: xp.stats.logistic.logpdf(x),
        lambda x: -x - 2 * _softplus(-x),
        tails,
        library=True,
    ),
    _e(
        "gamma.logpdf",
        lambda xp, x: xp.stats.gamma.logpdf(x, 2.5),
        lambda x: mp.mpf(1.5) * mp.log(x) - x - mp.loggamma(2.5),
        positive,
        library=True,
    ),
    _e(
        "beta.logpdf",
        lambda xp, x: xp.stats.beta.logpdf(x, 2.5, 0.5),
        lambda x: (
            mp.mpf(1.5) * mp.log(x)
            - mp.mpf(0.5) * mp.log1p(-x)
            - mp.log(mp.beta(2.5, 0.5))
        ),
        unit,
        library=True,
    ),
    _e(
        "lognorm logpdf",
        lambda xp, x: -0.5 * xp.square(xp.log(x)) - xp.log(x) - 0.5 * np.log(2 * np.pi),
        lambda x: -(mp.log(x) ** 2) / 2 - mp.log(x) - LOG_2PI / 2,
        positive,
    ),
    _e(
        "x/(1+x**2)",
        lambda xp, x: xp.divide(x, 1 + x**2),
        lambda x: x / (1 + x * x),
        both_signs,
    ),
    _e(
        "1/(1+x**2)",
        lambda xp, x: xp.divide(1.0, 1 + x**2),
        lambda x: 1 / (1 + x * x),
        both_signs,
    ),
    _e(
        "sqrt(1+x**2)",
        lambda xp, x: xp.sqrt(1 + x**2),
        lambda x: mp.sqrt(1 + x * x),
        both_signs,
    ),
    _e(
        "log(1+x**2)",
        lambda xp, x: xp.log(1 + x**2),
        lambda x: mp.log1p(x * x),
        both_signs,
    ),
    _e(
        "log(cosh(x))",
        lambda xp, x: xp.log(xp.cosh(x)),
        lambda x: mp.log(mp.cosh(x)),
        tails,
    ),
    _e(
        "x/sqrt(1+x**2)",
        lambda xp, x: xp.divide(x, xp.sqrt(1 + x**2)),
        lambda x: x / mp.sqrt(1 + x * x),
        both_signs,
    ),
    _e(
        "(exp(x)-1)/x",
        lambda xp, x: xp.divide(xp.exp(x) - 1, x),
        lambda x: mp.expm1(x) / x,
        lambda d: [v for v in tails(d) if v != 0] + [1e-3, 1e-6, -1e-6],
    ),
    _e(
        "log1p(x)/x",
        lambda xp, x: xp.divide(xp.log1p(x), x),
        lambda x: mp.log1p(x) / x,
        lambda d: [v for v in positive(d) if v > 1e-30] + [-0.5, -0.9],
    ),
    _e("x**x", lambda xp, x: xp.power(x, x), lambda x: x**x, positive),
    _e(
        "binary entropy",
        lambda xp, p: -p * xp.log(p) - (1 - p) * xp.log(1 - p),
        lambda p: -_xlogx(p) - _xlogx(1 - p),
        unit,
    ),
    _e(
        "logit naive",
        lambda xp, p: xp.log(xp.divide(p, 1 - p)),
        lambda p: mp.log(p / (1 - p)),
        unit,
    ),
    _e(
        "silu naive",
        lambda xp, x: xp.divide(x, 1 + xp.exp(-x)),
        lambda x: x * _sigmoid(x),
        tails,
    ),
    _e(
        "mish naive",
        lambda xp, x: x * xp.tanh(xp.log(1 + xp.exp(x))),
        lambda x: x * mp.tanh(_softplus(x)),
        tails,
    ),
    _e(
        "gelu naive",
        lambda xp, x: 0.5 * x * (1 + xp.special.erf(x / np.sqrt(2.0))),
        lambda x: x * mp.ncdf(x),
        moderate,
    ),
    _e(
        "log(x)/x",
        lambda xp, x: xp.divide(xp.log(x), x),
        lambda x: mp.log(x) / x,
        positive,
    ),
    _e(
        "rsqrt",
        lambda xp, x: xp.divide(1.0, xp.sqrt(x)),
        lambda x: 1 / mp.sqrt(x),
        positive,
    ),
    _e("x**-2", lambda xp, x: xp.power(x, -2), lambda x: x**-2, both_signs),
    _e("x**3", lambda xp, x: x**3, lambda x: x**3, both_signs, max_order=4),
    _e(
        "exp(x)/(1+exp(x))",
        lambda xp, x: xp.divide(xp.exp(x), 1 + xp.exp(x)),
        _sigmoid,
        tails,
    ),
    _e("log(x**2)", lambda xp, x: xp.log(x**2), lambda x: mp.log(x * x), both_signs),
    _e(
        "arctan(1/x)",
        lambda xp, x: xp.arctan(xp.reciprocal(x)),
        lambda x: mp.atan(1 / x),
        both_signs,
    ),
    _e(
        "log(expm1(x))",
        lambda xp, x: xp.log(xp.expm1(x)),
        lambda x: mp.log(mp.expm1(x)),
        lambda d: [v for v in positive(d)] + [20.0, 50.0],
    ),
    _e(
        "sech**2",
        lambda xp, x: xp.square(xp.reciprocal(xp.cosh(x))),
        lambda x: mp.sech(x) ** 2,
        tails,
    ),
    _e("x*sqrt(x)", lambda xp, x: x * xp.sqrt(x), lambda x: x * mp.sqrt(x), positive),
    _e(
        "sqrt(x)/x",
        lambda xp, x: xp.divide(xp.sqrt(x), x),
        lambda x: 1 / mp.sqrt(x),
        positive,
    ),
    _e(
        "x*log1p(x)",
        lambda xp, x: x * xp.log1p(x),
        lambda x: x * mp.log1p(x),
        positive,
    ),
    _e(
        "log(x)**2",
        lambda xp, x: xp.square(xp.log(x)),
        lambda x: mp.log(x) ** 2,
        positive,
    ),
    _e(
        "exp(x)*x**2",
        lambda xp, x: xp.exp(-x) * x**2,
        lambda x: mp.exp(-x) * x * x,
        positive,
    ),
    _e(
        "tanh(x)/x",
        lambda xp, x: xp.divide(xp.tanh(x), x),
        lambda x: mp.tanh(x) / x,
        lambda d: [v for v in both_signs(d) if abs(v) > 1e-30],
    ),
    _e(
        "x*sigmoid(x)",
        lambda xp, x: x * xp.nn.sigmoid(x),
        lambda x: x * _sigmoid(x),
        tails,
    ),
    _e(
        "log(2+exp(x))",
        lambda xp, x: xp.log(2 + xp.exp(x)),
        lambda x: mp.log(2 + mp.exp(x)),
        tails,
    ),
    _e(
        "(1-cos(x))/x**2",
        lambda xp, x: xp.divide(1 - xp.cos(x), x**2),
        lambda x: (1 - mp.cos(x)) / x**2,
        lambda d: [0.5, 1.0, 2.0, 1e-2, 1e-3, 1e-4, -1e-3, -0.5],
    ),
    _e(
        "sin(x)/x",
        lambda xp, x: xp.divide(xp.sin(x), x),
        lambda x: mp.sin(x) / x,
        lambda d: [0.5, 1.0, 3.0, 1e-2, 1e-4, 1e-7, -1e-3, -2.0],
    ),
    _e(
        "sqrt(x**2)",
        lambda xp, x: xp.sqrt(x**2),
        abs,
        lambda d: [v for v in both_signs(d)],
    ),
    _e(
        "log(x+sqrt(x**2+1))",
        lambda xp, x: xp.log(x + xp.sqrt(x**2 + 1)),
        mp.asinh,
        both_signs,
    ),
    _e(
        "logistic pdf",
        lambda xp, x: xp.divide(xp.exp(x), (1 + xp.exp(x)) ** 2),
        lambda x: mp.exp(-abs(x)) / (1 + mp.exp(-abs(x))) ** 2,
        tails,
    ),
    _e(
        "sqrt(1-x**2)",
        lambda xp, x: xp.sqrt(1 - x**2),
        lambda x: mp.sqrt(1 - x * x),
        unit_both,
        singular=(1.0, -1.0),
    ),
    _e(
        "logaddexp chain",
        lambda xp, x: xp.logaddexp(xp.logaddexp(x, 0.0), 1.0),
        lambda x: _lse(x, 0, 1),
        tails,
        offset=1.0,
    ),
]

CATALOG: list[Entry] = ELEMENTARY + BINARY + COMPOSITE


# ---------------------------------------------------------------- evaluation


def variant_function(entry: Entry, variant: str) -> Callable:
    import calculax

    if variant == "cnp":
        if entry.library:
            raise LookupError("no calculax.numpy variant")
        import calculax.numpy as cnp

        return functools.partial(entry.fn, cnp)
    plain = functools.partial(entry.fn, JAX)
    if variant == "jax":
        return plain
    if variant == "stabilize":
        return calculax.stabilize(plain)
    if variant == "rewrite":
        return calculax.stabilize(plain, rewrite=True)
    raise ValueError(variant)


def derivative(f: Callable, argnum: int, mode: str) -> Callable:
    """``jit(vmap(...))`` of the derivative of ``f`` in ``argnum``, nested as
    ``mode`` (outermost first)."""
    g = f
    for kind in reversed(mode):
        g = helpers._differentiate(g, argnum, None, "rev" if kind == "r" else "fwd")
    return jax.jit(jax.vmap(g))


def modes_of(order: int) -> tuple[str, ...]:
    if order == 1:
        return ("f", "r")
    if order == 2:
        return ORDER2_MODES
    return HIGH_MODES[order]


@dataclasses.dataclass
class Outcome:
    """Per check (entry, argnum, point, order, dtype): the label per mode."""

    entry: str
    argnum: int
    point: tuple
    order: int
    dtype: str
    labels: dict


def evaluate(entry: Entry, variant: str, dtype, orders: Sequence[int] | None = None):
    """The outcomes of ``entry``'s checks in ``variant`` and ``dtype``."""
    rows = entry.rows(dtype)
    outcomes: list[Outcome] = []
    try:
        f = variant_function(entry, variant)
    except (LookupError, AttributeError):
        return None
    arity = rows.shape[1]
    for argnum in entry.wrt:
        for order in orders or range(1, entry.max_order + 1):
            if order > entry.max_order:
                continue
            computed = {}
            for mode in modes_of(order):
                try:
                    values = derivative(f, argnum, mode)(
                        *[jnp.asarray(c) for c in rows.T]
                    )
                    computed[mode] = np.asarray(values, dtype=np.float64)
                except Exception as error:  # a missing name, an unsupported input
                    computed[mode] = error
            index = [0] * arity
            index[argnum] = order
            for i, row in enumerate(rows):
                try:
                    truth = helpers.truth_partial(
                        entry.truth, row, index, entry.singular
                    )
                except (ValueError, ZeroDivisionError, TypeError):
                    continue
                if not helpers.representable(truth, dtype, helpers.EDGE):
                    continue  # not a check: the truth is not (safely) representable
                labels = {}
                for mode, values in computed.items():
                    if isinstance(values, Exception):
                        labels[mode] = "error"
                    else:
                        labels[mode] = _label(
                            entry, row, index, values[i], truth, dtype
                        )
                outcomes.append(
                    Outcome(
                        entry.name,
                        argnum,
                        tuple(float(v) for v in row),
                        order,
                        np.dtype(dtype).name,
                        labels,
                    )
                )
    return outcomes


def _label(entry: Entry, row, index, value, truth, dtype) -> str:
    def partial(point, orders, refine=False):
        return helpers.truth_partial(entry.truth, point, orders, entry.singular, refine)

    label = helpers._judge(value, truth, row, index, partial, dtype, entry.offset)
    if label not in ("right", "skip", "edge"):
        refined = partial(row, index, refine=True)
        label = helpers._judge(value, refined, row, index, partial, dtype, entry.offset)
    return label

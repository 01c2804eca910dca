r"""Generalised normals, truncated, log-uniform and circular families.

Truncated normal on :math:`[a, b]` (the hard case: SciPy 1.17 returns ``nan`` for
``truncnorm(20, 21)``): with :math:`Z = \Phi(b) - \Phi(a)`,

.. math::

    H = \tfrac12\log(2\pi e) + \log Z + \frac{a\varphi(a) - b\varphi(b)}{2Z}.

For :math:`a \ge 0` it is evaluated through the scaled complementary error function
:math:`Q(x) = \tfrac12\operatorname{erfcx}(x/\sqrt2)e^{-x^2/2}`: with
:math:`r = Q(b)/Q(a)` and the Mills ratio :math:`m(x) = \varphi(x)/Q(x) =
\sqrt{2/\pi}/\operatorname{erfcx}(x/\sqrt2)`,

.. math::

    H = \tfrac12\log(2\pi e) + \log\tfrac12\operatorname{erfcx}(a/\sqrt2)
    - \tfrac{a^2}{2} + \operatorname{log1p}(-r) + \frac{a\,m(a) - b\,m(b)\,r}{2(1-r)},

so nothing underflows; :math:`b \le 0` is its mirror image and :math:`a < 0 < b`
uses :math:`\Phi` directly (no cancellation there).

Von Mises: :math:`H = \log(2\pi I_0(\kappa)) - \kappa I_1(\kappa)/I_0(\kappa)`,
evaluated with the exponentially scaled Bessel functions; the last term loses
:math:`\kappa\epsilon` absolutely (``1e-13`` at :math:`\kappa = 10^3`).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf, erfcx, gammaln, i0e, i1e

from ._family import Family, positive

_LOG2 = float(np.log(2.0))
_LOG_2PI = float(np.log(2 * np.pi))
_NORMAL = 0.5 * (_LOG_2PI + 1)
_SQRT_HALF = float(np.sqrt(0.5))
_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))


def _gennorm(beta):
    # 1/beta - log(beta / (2 Gamma(1/beta))), with Gamma(1/b) = b Gamma(1 + 1/b).
    return 1 / beta + _LOG2 + gammaln(1 + 1 / beta)


def _right_tail(a, b):
    """Truncated-normal entropy for ``0 <= a < b`` (see module docstring)."""
    ea, eb = erfcx(a * _SQRT_HALF), erfcx(b * _SQRT_HALF)
    r = eb / ea * jnp.exp(-0.5 * (b - a) * (b + a))
    mills_a, mills_b = _SQRT_2_OVER_PI / ea, _SQRT_2_OVER_PI / eb
    bm_r = jnp.where(jnp.isinf(b), 0.0, b * mills_b * r)  # b = inf: r = 0
    return (
        _NORMAL
        + jnp.log(0.5 * ea)
        - 0.5 * a * a
        + jnp.log1p(-r)
        + (a * mills_a - bm_r) / (2 * (1 - r))
    )


def _straddle(a, b):
    """Truncated-normal entropy for ``a < 0 < b``: ``Z`` from ``erf``, no cancellation.

    ``erf(b/sqrt2)`` and ``-erf(a/sqrt2)`` are both positive, so their sum keeps full
    relative precision even for a narrow window around 0.
    """
    z = 0.5 * (erf(b * _SQRT_HALF) - erf(a * _SQRT_HALF))

    def a_phi(x):  # x phi(x), 0 at infinite x
        return jnp.where(
            jnp.isinf(x), 0.0, x * jnp.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        )

    return _NORMAL + jnp.log(z) + (a_phi(a) - a_phi(b)) / (2 * z)


def _truncnorm(a, b):
    right = a >= 0
    left = b <= 0
    # Double where: each branch sees arguments valid for it.
    ra, rb = jnp.where(right, a, 0.0), jnp.where(right, b, 1.0)
    la, lb = jnp.where(left, -b, 0.0), jnp.where(left, -a, 1.0)
    sa = jnp.where(right | left, -1.0, a)
    sb = jnp.where(right | left, 1.0, b)
    inner = jnp.where(left, _right_tail(la, lb), _straddle(sa, sb))
    return jnp.where(right, _right_tail(ra, rb), inner)


def _vonmises(kappa):
    ratio = i1e(kappa) / i0e(kappa)
    return _LOG_2PI + jnp.log(i0e(kappa)) + kappa * (1 - ratio)


def _loguniform(a, b):
    # pdf 1 / (x log(b/a)): log log(b/a) + E log X, E log X = (log a + log b) / 2;
    # log(b/a) as log1p((b-a)/a) when b/a < 2 (no cancellation), else log b - log a
    # (whose derivative does not overflow for b/a ~ 1e300).
    near = b < 2 * a
    log_ratio = jnp.where(
        near,
        jnp.log1p(
            (jnp.where(near, b, 2.0) - jnp.where(near, a, 1.0))
            / jnp.where(near, a, 1.0)
        ),
        jnp.log(jnp.where(near, 2.0, b)) - jnp.log(jnp.where(near, 1.0, a)),
    )
    return jnp.log(log_ratio) + 0.5 * (jnp.log(a) + jnp.log(b))


def _truncexpon(b):
    # pdf e^-x / (1 - e^-b) on [0, b]: log(1 - e^-b) + 1 - b / (e^b - 1).
    return jnp.log(-jnp.expm1(-b)) + 1 - b / jnp.expm1(b)


def _ordered(a, b):
    return (a < b) & (a > 0)


FAMILIES = (
    Family("gennorm", ("beta",), _gennorm, positive, "Nadarajah 2005"),
    Family(
        "halfgennorm",
        ("beta",),
        lambda beta: _gennorm(beta) - _LOG2,
        positive,
        "folded gennorm",
    ),
    Family(
        "lognorm",
        ("s",),
        lambda s: _NORMAL + jnp.log(s),
        positive,
        "exp(s Z)",
    ),
    Family(
        "triang",
        ("c",),
        lambda c: jnp.asarray(0.5 - _LOG2),
        lambda c: (c >= 0) & (c <= 1),
        "1/2 + log(width/2)",
    ),
    Family("loguniform", ("a", "b"), _loguniform, _ordered, "direct"),
    Family("reciprocal", ("a", "b"), _loguniform, _ordered, "loguniform"),
    Family("truncexpon", ("b",), _truncexpon, positive, "direct"),
    Family("truncnorm", ("a", "b"), _truncnorm, lambda a, b: a < b, "see module"),
    Family("vonmises", ("kappa",), _vonmises, positive, "Mardia & Jupp 2000"),
    Family("vonmises_line", ("kappa",), _vonmises, positive, "vonmises"),
    Family(
        "wrapcauchy",
        ("c",),
        lambda c: _LOG_2PI + jnp.log1p(-c) + jnp.log1p(c),
        lambda c: (c > 0) & (c < 1),
        "log(2 pi (1 - c^2))",
    ),
    Family(
        "skewcauchy",
        ("a",),
        lambda a: jnp.asarray(float(np.log(4 * np.pi))),
        lambda a: (a > -1) & (a < 1),
        "two scaled half-Cauchy pieces",
    ),
)

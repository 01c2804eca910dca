r"""Stable building blocks for entropy closed forms: Stirling and digamma remainders.

Closed-form entropies combine :math:`\log\Gamma`, :math:`\psi` and :math:`\log B` into
terms of size :math:`a\log a` whose sum is only :math:`O(\log a)`; evaluated as
written they lose :math:`a\,\epsilon` absolutely (``gamma(1e10)``: ``1e-6``;
``beta(2, 1e20)``: ``1e6``). Here every such function is split into its elementary
leading part, which the families cancel algebraically, and a small remainder:

.. math::

    S(a) = \log\Gamma(a) - (a - \tfrac12)\log a + a - \tfrac12\log 2\pi, \qquad
    D(a) = \psi(a) - \log a + \frac{1}{2a},

both evaluated from their asymptotic (Bernoulli) series for :math:`a \ge 10` and by
the defining difference below, where the leading terms are :math:`O(1)` and lose only
:math:`O(\epsilon)` absolutely. The series is written by hand because no library
function returns the remainders themselves.

References:
    Abramowitz & Stegun 6.1.40 (Stirling series) and 6.3.18 (digamma series).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, gammaln

_HALF_LOG_2PI = float(0.5 * np.log(2 * np.pi))
_SERIES_FROM = 10.0
# B_{2k} / (2k (2k - 1)) and B_{2k} / (2k), k = 1..8: terms below 1e-19 at a = 10.
_BERNOULLI = np.array(
    [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510]
)
_K = np.arange(1, 9)
_STIRLING_COEF = _BERNOULLI / (2 * _K * (2 * _K - 1))
_DIGAMMA_COEF = _BERNOULLI / (2 * _K)

EULER = float(np.euler_gamma)


def _series(coef: np.ndarray, inverse_power: jnp.ndarray, first: jnp.ndarray):
    """Horner sum of ``first * sum_k coef[k] * inverse_power**k``."""
    total = jnp.zeros_like(first)
    for c in coef[::-1]:
        total = total * inverse_power + jnp.asarray(c, first.dtype)
    return first * total


def _split(a):
    """Double-where arguments: series branch at ``a >= 10``, direct branch below."""
    big = a >= _SERIES_FROM
    return big, jnp.where(big, a, _SERIES_FROM), jnp.where(big, 1.0, a)


def stirling_remainder(a):
    r""":math:`S(a) = \log\Gamma(a) - (a-\frac12)\log a + a - \frac12\log 2\pi`."""
    big, a_big, a_small = _split(a)
    inv = 1.0 / a_big
    series = _series(_STIRLING_COEF, inv * inv, inv)
    direct = (
        gammaln(a_small) - (a_small - 0.5) * jnp.log(a_small) + a_small - _HALF_LOG_2PI
    )
    return jnp.where(big, series, direct)


def digamma_remainder(a):
    r""":math:`D(a) = \psi(a) - \log a + 1/(2a)`."""
    big, a_big, a_small = _split(a)
    inv2 = 1.0 / (a_big * a_big)
    series = -_series(_DIGAMMA_COEF, inv2, inv2)
    direct = digamma(a_small) - jnp.log(a_small) + 0.5 / a_small
    return jnp.where(big, series, direct)


def digamma_stable(a):
    r""":math:`\psi(a) = \log a - 1/(2a) + D(a)`."""
    return jnp.log(a) - 0.5 / a + digamma_remainder(a)


def digamma_difference(x, y):
    r""":math:`\psi(x + y) - \psi(x)` without cancellation when :math:`y \ll x`.

    .. math:: \operatorname{log1p}(y/x) + \frac{y}{2x(x+y)} + D(x+y) - D(x)
    """
    s = x + y
    return (
        jnp.log1p(y / x) + y / (2 * x * s) + digamma_remainder(s) - digamma_remainder(x)
    )


def log_beta(a, b):
    r""":math:`\log B(a, b)` with the Stirling parts cancelled, arguments ordered.

    .. math::

        \log B(a,b) = \tfrac12\log 2\pi + (a-\tfrac12)\log a - a\log(a+b)
        - (b-\tfrac12)\operatorname{log1p}(a/b) + S(a) + S(b) - S(a+b),
        \quad a \le b.
    """
    lo, hi = jnp.minimum(a, b), jnp.maximum(a, b)
    s = lo + hi
    return (
        _HALF_LOG_2PI
        + (lo - 0.5) * jnp.log(lo)
        - lo * jnp.log(s)
        - (hi - 0.5) * jnp.log1p(lo / hi)
        + stirling_remainder(lo)
        + stirling_remainder(hi)
        - stirling_remainder(s)
    )


def gamma_entropy(a):
    r"""Entropy of ``gamma(a)``: :math:`a + \log\Gamma(a) + (1-a)\psi(a)`, as

    .. math::

        \tfrac12\log(2\pi a) + \tfrac12 - \frac{1}{2a} + S(a) + (1 - a) D(a).
    """
    return (
        0.5 * jnp.log(2 * np.pi * a)
        + 0.5
        - 0.5 / a
        + stirling_remainder(a)
        + (1 - a) * digamma_remainder(a)
    )


def beta_entropy(a, b):
    r"""Entropy of ``beta(a, b)`` with every :math:`O(a\log a)` term cancelled.

    .. math::

        \tfrac12\log 2\pi + \tfrac12\log ab - \tfrac32\log s + \tfrac12
        - \frac{a/s}{2b} - \frac{b/s}{2a} + S(a) + S(b) - S(s)
        + (a-1)(D(s) - D(a)) + (b-1)(D(s) - D(b)), \quad s = a + b,

    which equals :math:`\log B(a,b) - (a-1)\psi(a) - (b-1)\psi(b) + (s-2)\psi(s)`.
    """
    s = a + b
    d_s = digamma_remainder(s)
    return (
        _HALF_LOG_2PI
        + 0.5 * (jnp.log(a) + jnp.log(b))
        - 1.5 * jnp.log(s)
        + 0.5
        - 0.5 * ((a / s) / b + (b / s) / a)
        + stirling_remainder(a)
        + stirling_remainder(b)
        - stirling_remainder(s)
        + (a - 1) * (d_s - digamma_remainder(a))
        + (b - 1) * (d_s - digamma_remainder(b))
    )

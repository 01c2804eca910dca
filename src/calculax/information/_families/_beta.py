r"""The beta family and its transforms: ``betaprime``, ``f``, ``t``, ``rdist``, ...

:math:`H = \log B(a,b) - (a-1)\psi(a) - (b-1)\psi(b) + (a+b-2)\psi(a+b)` for the
beta law; the others follow by a change of variables. All are assembled from
:func:`._special.beta_entropy`, :func:`._special.log_beta` and
:func:`._special.digamma_difference`, which cancel the :math:`O(a\log a)` parts
analytically (``beta(2, 1e20)``, ``t(1e20)`` and ``f(1e10, 1e10)`` stay exact).

References:
    Lazo & Rathie (1978), *On the entropy of continuous probability distributions*,
    IEEE Trans. Inf. Theory 24(1).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._family import Family, positive
from ._special import beta_entropy, digamma_difference, log_beta

_LOG2 = float(np.log(2.0))


def _betaprime_small(a, b):
    # lnB + (a-1)(psi(s)-psi(a)) + (b+1)(psi(s)-psi(b)) with the poles of psi at 0
    # taken out (psi(x) = psi(x+1) - 1/x): their rational parts sum to 1 + 1/b - 1/a.
    return (
        log_beta(a, b)
        + 1
        + (1 / b - 1 / a)  # first: exactly 0 for a = b, however large 1/a is
        + (a - 1) * digamma_difference(a + 1, b)
        + (b + 1) * digamma_difference(b + 1, a)
    )


def _betaprime(a, b):
    # Y / (1 - Y), Y ~ Beta(a, b): H_beta + 2 (psi(a + b) - psi(b)); below 1 the
    # 1/a and 1/b poles of the two terms cancel, so they are removed analytically.
    small = jnp.minimum(a, b) < 1
    sa, sb = jnp.where(small, a, 0.5), jnp.where(small, b, 0.5)
    la, lb = jnp.where(small, 2.0, a), jnp.where(small, 2.0, b)
    return jnp.where(
        small,
        _betaprime_small(sa, sb),
        beta_entropy(la, lb) + 2 * digamma_difference(lb, la),
    )


def _f(dfn, dfd):
    # (dfd / dfn) * BetaPrime(dfn / 2, dfd / 2).
    return jnp.log(dfd / dfn) + _betaprime(dfn / 2, dfd / 2)


def _t(df):
    # (df+1)/2 (psi((df+1)/2) - psi(df/2)) + log(sqrt(df) B(df/2, 1/2)).
    half = df / 2
    return (
        (df + 1) / 2 * digamma_difference(half, 0.5)
        + 0.5 * jnp.log(df)
        + log_beta(half, jnp.asarray(0.5, half.dtype))
    )


def _powerlaw(a):
    # Beta(a, 1): 1 - 1/a - log a.
    return 1 - 1 / a - jnp.log(a)


_BRADFORD_SERIES = (-1 / 2, 5 / 24, -1 / 8, 251 / 2880, -19 / 288)


def _bradford(c):
    # pdf c / (log1p(c) (1 + c x)) on [0, 1]: E log(1 + cX) = log1p(c) / 2.
    # log(log1p(c) / c) by its Taylor series below 1e-3 (exact derivative there).
    small = c < 1e-3
    cs, cl = jnp.where(small, c, 0.0), jnp.where(small, 1.0, c)
    series = jnp.zeros_like(cs)
    for coefficient in _BRADFORD_SERIES[::-1]:
        series = (series + coefficient) * cs
    log_ratio = jnp.where(small, series, jnp.log(jnp.log1p(cl) / cl))
    return log_ratio + 0.5 * jnp.log1p(c)


FAMILIES = (
    Family("beta", ("a", "b"), beta_entropy, positive, "Lazo & Rathie 1978"),
    Family("betaprime", ("a", "b"), _betaprime, positive, "Y/(1-Y), Y ~ beta"),
    Family("f", ("dfn", "dfd"), _f, positive, "Lazo & Rathie 1978"),
    Family("t", ("df",), _t, positive, "Lazo & Rathie 1978"),
    Family("powerlaw", ("a",), _powerlaw, positive, "beta(a, 1)"),
    Family(
        "rdist",
        ("c",),
        lambda c: beta_entropy(c / 2, c / 2) + _LOG2,
        positive,
        "2 beta(c/2, c/2) - 1",
    ),
    Family("bradford", ("c",), _bradford, positive, "direct integration"),
)

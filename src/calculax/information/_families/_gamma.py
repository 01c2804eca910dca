r"""The gamma family and its transforms: ``chi``, ``nakagami``, ``gengamma``, ...

Every member is :math:`X = g(Y)` with :math:`Y \sim \mathrm{Gamma}(a)`, so
:math:`H(X) = H(Y) + E\log|g'(Y)|` with :math:`E\log Y = \psi(a)`; the gamma entropy
and :math:`\psi` are evaluated through the Stirling/digamma remainders of
:mod:`._special`, so ``gamma(1e10)`` and ``chi2(1e300)`` keep full accuracy.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma

from ._family import Family, positive
from ._special import (
    EULER,
    digamma_remainder,
    digamma_stable,
    gamma_entropy,
    stirling_remainder,
)

_LOG2 = float(np.log(2.0))


def _chi(df):
    # sqrt(2 Y), Y ~ Gamma(df/2): H_gamma - log(2)/2 - psi(a)/2, logs cancelled.
    a = df / 2
    return (
        0.5 * float(np.log(np.pi))
        + 0.5
        - 0.25 / a
        + stirling_remainder(a)
        + (0.5 - a) * digamma_remainder(a)
    )


def _nakagami(nu):
    # sqrt(Y / nu), Y ~ Gamma(nu): H_gamma - log 2 - log(nu)/2 - psi(nu)/2.
    return (
        0.5 * float(np.log(np.pi / 2))
        + 0.5
        - 0.5 * jnp.log(nu)
        - 0.25 / nu
        + stirling_remainder(nu)
        + (0.5 - nu) * digamma_remainder(nu)
    )


def _gengamma(a, c):
    # Y**(1/c): H_gamma - log|c| + (1/c - 1) psi(a).
    return gamma_entropy(a) - jnp.log(jnp.abs(c)) + (1 / c - 1) * digamma_stable(a)


def _nonzero_c(a, c):
    return (a > 0) & (c != 0)


def _genlogistic(c):
    # log-density log c - x - (c+1) log1p(e^-x); E[x] = psi(c) + gamma,
    # E log1p(e^-x) = 1/c: H = 1 + 1/c - log c + psi(c) + gamma, evaluated as
    # 1 - log c + psi(c + 1) + gamma below 1 (pole removed) and
    # 1 + 1/(2c) + gamma + D(c) above (psi(c) - log c without cancellation).
    small = c < 1
    cs, cl = jnp.where(small, c, 0.5), jnp.where(small, 2.0, c)
    return jnp.where(
        small,
        1 - jnp.log(cs) + digamma(cs + 1) + EULER,
        1 + 0.5 / cl + EULER + digamma_remainder(cl),
    )


def _loggamma(c):
    # log Gamma(c): c + lnG(c) - c psi(c) = 1/2 log(2 pi / c) + 1/2 + S(c) - c D(c).
    return (
        0.5 * jnp.log(2 * np.pi / c)
        + 0.5
        + stirling_remainder(c)
        - c * digamma_remainder(c)
    )


FAMILIES = (
    Family("gamma", ("a",), gamma_entropy, positive, "a + lnG(a) + (1-a) psi(a)"),
    Family("erlang", ("a",), gamma_entropy, positive, "gamma"),
    Family("dgamma", ("a",), lambda a: gamma_entropy(a) + _LOG2, positive, "gamma"),
    Family("chi2", ("df",), lambda df: gamma_entropy(df / 2) + _LOG2, positive, ""),
    Family("chi", ("df",), _chi, positive, "sqrt(2 Gamma(df/2))"),
    Family("nakagami", ("nu",), _nakagami, positive, "sqrt(Gamma(nu)/nu)"),
    Family("gengamma", ("a", "c"), _gengamma, _nonzero_c, "Gamma(a)**(1/c)"),
    Family(
        "invgamma",
        ("a",),
        lambda a: gamma_entropy(a) - 2 * digamma_stable(a),
        positive,
        "1/Gamma(a)",
    ),
    Family("loggamma", ("c",), _loggamma, positive, "log Gamma(c)"),
    Family("genlogistic", ("c",), _genlogistic, positive, "-log of F**(1/c)"),
)

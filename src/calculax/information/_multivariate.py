r"""Closed-form entropies of multivariate families (normal, Student t, Dirichlet,
Wishart).

.. math::

    H_{\mathcal N}(\Sigma) &= \tfrac d2(1 + \log 2\pi) + \tfrac12\log\det\Sigma \\
    H_{t_\nu}(\Sigma) &= \tfrac12\log\det\Sigma + \tfrac d2\log(\nu\pi)
        + \log\Gamma(\tfrac\nu2) - \log\Gamma(\tfrac{\nu+d}2)
        + \tfrac{\nu+d}2\big(\psi(\tfrac{\nu+d}2) - \psi(\tfrac\nu2)\big) \\
    H_{\mathrm{Dir}}(\alpha) &= \log B(\alpha)
        + \textstyle\sum_j (\alpha_j - 1)\big(\psi(\alpha_0) - \psi(\alpha_j)\big) \\
    H_{W}(n, V) &= \tfrac{p+1}2\log\det V + \tfrac{p(p+1)}2\log 2
        + \log\Gamma_p(\tfrac n2) - \tfrac{n-p-1}2\psi_p(\tfrac n2) + \tfrac{np}2

:math:`\log\det` comes from a Cholesky factor; the Dirichlet form is evaluated
with its Stirling parts cancelled (see :func:`dirichlet_entropy`), so large
concentrations keep their accuracy.

References:
    Cover & Thomas (2006) ch. 8; Kotz & Nadarajah, *Multivariate t Distributions*
    (2004); Bishop, *Pattern Recognition and Machine Learning* (2006) B.81.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, gammaln, multigammaln

from ._families._special import (
    digamma_difference,
    digamma_remainder,
    stirling_remainder,
)

__all__ = [
    "mvn_entropy",
    "multivariate_t_entropy",
    "dirichlet_entropy",
    "wishart_entropy",
]

_LOG_2PI = float(np.log(2 * np.pi))


def _logdet(matrix):
    chol = jnp.linalg.cholesky(matrix)
    return 2 * jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)


def mvn_entropy(cov):
    """Entropy of ``N(mean, cov)``; ``cov`` shape ``(..., d, d)``."""
    d = cov.shape[-1]
    return 0.5 * d * (1 + _LOG_2PI) + 0.5 * _logdet(cov)


def multivariate_t_entropy(shape, df):
    """Entropy of the multivariate t with shape matrix ``shape`` and ``df``."""
    d = shape.shape[-1]
    half = jnp.asarray(df, shape.dtype) / 2
    return (
        0.5 * _logdet(shape)
        + 0.5 * d * jnp.log(2 * half * np.pi)
        + gammaln(half)
        - gammaln(half + d / 2)
        + (half + d / 2) * digamma_difference(half, jnp.asarray(d / 2, half.dtype))
    )


def dirichlet_entropy(alpha):
    r"""Entropy of ``Dirichlet(alpha)``; ``alpha`` shape ``(..., K)``.

    Evaluated with the Stirling parts of :math:`\log\Gamma` and :math:`\psi`
    cancelled analytically (:math:`\alpha_0 = \sum_j\alpha_j`):

    .. math::

        \tfrac{K-1}2\log 2\pi + \tfrac12\sum_j\log\alpha_j
        + (\tfrac12 - K)\log\alpha_0 + \tfrac{K-1}2 + \frac{K}{2\alpha_0}
        - \sum_j\frac1{2\alpha_j} + \sum_j S(\alpha_j) - S(\alpha_0)
        + (\alpha_0 - K)D(\alpha_0) - \sum_j(\alpha_j - 1)D(\alpha_j)
    """
    k = alpha.shape[-1]
    a0 = jnp.sum(alpha, axis=-1)
    return (
        0.5 * (k - 1) * _LOG_2PI
        + 0.5 * jnp.sum(jnp.log(alpha), axis=-1)
        + (0.5 - k) * jnp.log(a0)
        + 0.5 * (k - 1)
        + 0.5 * k / a0
        - jnp.sum(0.5 / alpha, axis=-1)
        + jnp.sum(stirling_remainder(alpha), axis=-1)
        - stirling_remainder(a0)
        + (a0 - k) * digamma_remainder(a0)
        - jnp.sum((alpha - 1) * digamma_remainder(alpha), axis=-1)
    )


def wishart_entropy(df, scale):
    """Entropy of ``Wishart(df, scale)``; ``scale`` shape ``(..., p, p)``."""
    p = scale.shape[-1]
    df = jnp.asarray(df, scale.dtype)
    half = df / 2
    psi_p = sum(digamma(half - 0.5 * i) for i in range(p))
    return (
        0.5 * (p + 1) * _logdet(scale)
        + 0.5 * p * (p + 1) * float(np.log(2.0))
        + multigammaln(half, p)
        - 0.5 * (df - p - 1) * psi_p
        + 0.5 * df * p
    )

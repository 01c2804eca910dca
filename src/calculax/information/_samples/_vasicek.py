r"""Vasicek's m-spacing estimator.

.. math:: \hat H = \frac1n\sum_{i=1}^n \log\Big(\frac{n}{2m}(x_{(i+m)} - x_{(i-m)})\Big)

Consistent for :math:`m\to\infty`, :math:`m/n\to 0`; negatively biased at small
:math:`n` (bias :math:`O(m/n)`), error :math:`O(n^{-1/2})` for smooth densities.

References:
    Vasicek, O. (1976), *A test for normality based on sample entropy*, JRSS B 38.
"""

from __future__ import annotations

import jax.numpy as jnp

from ._spacing import centred_spacings


def vasicek(x, m: int):
    """Vasicek estimate from the sorted sample ``x`` (shape ``(n,)``), window ``m``."""
    n = x.shape[0]
    return jnp.mean(jnp.log(n / (2 * m) * centred_spacings(x, m)))

r"""Correa's local-linear-regression spacing estimator.

.. math::

    \hat H = -\frac1n\sum_{i=1}^n\log\frac{\sum_{j=i-m}^{i+m}(j-i)
    (x_{(j)} - \bar x_{(i)})}{n\sum_{j=i-m}^{i+m}(x_{(j)} - \bar x_{(i)})^2},
    \quad \bar x_{(i)} = \frac{1}{2m+1}\sum_{j=i-m}^{i+m}x_{(j)}

The slope of the empirical CDF is fitted over each window instead of taking one
difference: smaller mean squared error than Vasicek's at small :math:`n`.

References:
    Correa, J. C. (1995), *A new estimator of entropy*, Commun. Statist. Theory
    Methods 24.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._spacing import padded


def correa(x, m: int):
    """Correa estimate from the sorted sample ``x`` (shape ``(n,)``), window ``m``."""
    n = x.shape[0]
    p = padded(x, m)
    offsets = np.arange(-m, m + 1)
    windows = jnp.stack([p[m + o : m + o + n] for o in offsets])  # (2m+1, n)
    centred = windows - jnp.mean(windows, axis=0, keepdims=True)
    num = jnp.sum(jnp.asarray(offsets, x.dtype)[:, None] * centred, axis=0)
    den = n * jnp.sum(centred * centred, axis=0)
    return -jnp.mean(jnp.log(num / den))

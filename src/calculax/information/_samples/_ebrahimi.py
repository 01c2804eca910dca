r"""Ebrahimi, Pflughoeft & Soofi's m-spacing estimator (boundary-corrected Vasicek).

.. math::

    \hat H = \frac1n\sum_{i=1}^n\log\Big(\frac{n}{c_i m}(x_{(i+m)} - x_{(i-m)})\Big),
    \quad c_i = \begin{cases}1 + \frac{i-1}{m} & i \le m\\ 2 & m < i \le n-m\\
    1 + \frac{n-i}{m} & i > n - m\end{cases}

Smaller bias than Vasicek at small :math:`n`; same :math:`n^{-1/2}` rate.

References:
    Ebrahimi, N., Pflughoeft, K. & Soofi, E. (1994), *Two measures of sample
    entropy*, Statist. Probab. Lett. 20.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._spacing import centred_spacings


def ebrahimi(x, m: int):
    """Ebrahimi estimate from the sorted sample ``x`` (shape ``(n,)``), window ``m``."""
    n = x.shape[0]
    i = np.arange(1, n + 1)
    c = np.where(i <= m, 1 + (i - 1) / m, 2.0)
    c = np.where(i >= n - m + 1, 1 + (n - i) / m, c)
    weights = jnp.asarray(n / (c * m), x.dtype)
    return jnp.mean(jnp.log(weights * centred_spacings(x, m)))

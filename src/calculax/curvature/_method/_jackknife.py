r"""Standard errors of exchangeable estimators: a jackknife corrected for its bias.

An exchangeable estimate :math:`\hat T_k` (the mean of :math:`k` leave-one-out
samples that share one sketch) has no independent samples to take a spread from:
the samples' own spread ignores what they share and is optimistic (a 95% interval
covered 77-87% on our test spectra). The delete-a-group jackknife, with :math:`G`
groups of :math:`d = k/G` probes and estimates :math:`\hat T_{(g)}` redone without
group :math:`g` from the same products,

.. math:: J_k = \frac{G-1}{G} \sum_g \bigl(\hat T_{(g)} - \bar T\bigr)^2,

is conservative (Efron & Stein 1981), and by how much depends on how fast the
estimator improves with the number of probes: if its variance is :math:`V(k) =
c\,k^{-\alpha}` (:math:`\alpha = 1` for a mean of independent samples; larger for a
low-rank method on a decaying spectrum), then :math:`\mathbb{E}\,J_k \approx
\varphi_G(\alpha)\,V(k)` with :math:`\varphi_G(\alpha) = (G-1)\bigl((G/(G-1))^\alpha
- 1\bigr)` (:math:`\varphi_G(1) = 1`, :math:`\varphi_G(\alpha) \approx \alpha`). We
measured the uncorrected jackknife at 1.2-2.6 times the actual spread, growing with
the spectrum's decay exactly as :math:`\sqrt{\varphi}` predicts.

The correction measures :math:`\alpha` from the same products: the same
:math:`G`-group jackknife on each half of the probes gives :math:`J_{k/2} \approx
\varphi_G(\alpha)\,2^\alpha V(k)`, so :math:`\hat\alpha = \log_2(\bar J_{k/2}/J_k)`,
clipped to :math:`[1, 8]`, and the variance is :math:`J_k/\varphi_G(\hat\alpha)`
(:math:`3G` sub-sketches in all, in two loops, each :math:`O(k^3)` for the
trace, see ``_exchange``). With fewer than :math:`2G` probes there is no room
for halves, and the plain jackknife (conservative) is used. The calibration is
checked, not assumed: ``benchmarks/curvature.py`` prints the coverage of the 95%
intervals over many keys on decaying, flat, indefinite and model-Hessian spectra.

References:
    Efron, B., Stein, C. (1981). The jackknife estimate of variance. Ann. Stat.
    9(3), 586-596.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["GROUPS", "jackknife"]

GROUPS = 10
ALPHA_MAX = 8.0


def _kept(index: np.ndarray, groups: int) -> np.ndarray:
    """Rows of ``index`` without each of ``groups`` consecutive groups (the rest of
    ``index`` always kept)."""
    k = len(index)
    d = k // groups
    return np.asarray(
        [
            [index[j] for j in range(k) if not g * d <= j < (g + 1) * d]
            for g in range(groups)
        ]
    )


def _spread(dropped, groups: int):
    centred = dropped - jnp.mean(dropped, axis=0, keepdims=True)
    return (groups - 1) / groups * jnp.sum(centred**2, axis=0)


def _phi(alpha, groups: int):
    ratio = groups / (groups - 1)
    return (groups - 1) * (ratio**alpha - 1)


def jackknife(estimate, k: int, scalar=None):
    r"""Variance, degrees of freedom and the measured exponent :math:`\hat\alpha`
    of ``estimate(all k probes)`` (see module; :math:`\hat\alpha = 1` when not
    measured).

    ``estimate(index)`` is the estimate from the probes ``index`` (an int array);
    ``scalar(values)`` reduces an estimate to the scalar from which :math:`\alpha`
    is measured (default: the estimate itself; the sum of a diagonal's entries).
    """
    groups = min(k, GROUPS)
    everything = np.arange(k)
    full = _spread(
        jax.lax.map(estimate, jnp.asarray(_kept(everything, groups))), groups
    )
    if k < 2 * GROUPS:
        return full, groups - 1, jnp.asarray(1.0, full.dtype)
    half = k // 2
    # Both halves' groups in one loop (one compiled body).
    rows = np.concatenate(
        [_kept(everything[:half], groups), _kept(everything[half : 2 * half], groups)]
    )
    dropped = jax.lax.map(estimate, jnp.asarray(rows))

    def reduce(x):
        return x if scalar is None else scalar(x)

    spread_full = reduce(full)
    spread_half = (
        reduce(_spread(dropped[:groups], groups))
        + reduce(_spread(dropped[groups:], groups))
    ) / 2
    tiny = jnp.finfo(jnp.result_type(spread_full)).tiny
    ratio = spread_half / jnp.maximum(spread_full, tiny)
    alpha = jnp.clip(jnp.log2(jnp.maximum(ratio, tiny)), 1.0, ALPHA_MAX)
    alpha = jnp.where(spread_full > 0, alpha, 1.0)
    return full / _phi(alpha, groups), groups - 1, alpha

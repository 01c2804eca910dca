"""Adaptive choice between Hutchinson and an exchangeable low-rank estimator."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from .._functional import Diagonal, FrobeniusSquared, Trace
from .._probes import apply, rademacher
from ._base import AbstractMethod, Raw, mean_and_stderr
from ._exchange import (
    exchange_diagonal,
    exchange_frobenius2,
    exchange_trace,
    jackknife,
    sketch,
)

__all__ = ["Auto"]

_EXCHANGE = {
    Trace: lambda sk, z: exchange_trace(sk, z, resphere=False),
    Diagonal: exchange_diagonal,
    FrobeniusSquared: exchange_frobenius2,
}


class Auto(AbstractMethod):
    r"""Hutchinson or XTrace/XDiag, decided from a sketch that is never wasted.

    The first :math:`k = \lfloor m/2 \rfloor` random-sign probes give :math:`Y =
    AG`. Their Hutchinson samples estimate the per-probe variance :math:`\hat v_H`.
    The leave-one-out share :math:`\hat\rho = \sum_i d_i^2 / \|Y\|_F^2`, with
    :math:`d_i` the distance of column :math:`i` to the span of the others (free from
    :math:`Y = QR`), estimates how much of :math:`\|A\|_F^2 \approx \|Y\|_F^2/k` a
    rank-:math:`(k-1)` part leaves, hence the per-probe variance :math:`\hat v_X`
    after deflation (conservatively, see ``residual_variance``). If :math:`\hat v_X/k
    < \hat v_H/m`, the remaining products are :math:`AQ` with :math:`Q =
    \operatorname{orth}(Y)`, and the estimate is the exchangeable one (XTrace for the
    trace, XDiag for the diagonal, its analogue for :math:`\|A\|_F^2`: every probe
    is both sketch and residual probe, see ``_exchange``); otherwise :math:`m - k`
    more Hutchinson probes, all :math:`m` samples averaged (exactly
    ``Hutchinson``'s numbers for the same key). The sketch costs nothing extra, so
    ``Auto`` is Hutchinson on flat spectra and XTrace/XDiag on decaying ones. Both
    branches are one block of :math:`m - k` products chosen by ``where``
    (``choice`` in the result: 1 = low-rank; for odd :math:`m` the low-rank branch
    leaves one product unused).

    The low-rank branch's standard error is a delete-a-group jackknife (conservative
    in expectation, see ``_exchange.jackknife``), not the leave-one-out samples'
    spread, which ignores their shared sketch and is optimistic (``methods.XTrace``).

    References:
        Epperly, E. N., Tropp, J. A., Webber, R. J. (2024). XTrace: Making the most
        of every sample in stochastic trace estimation. SIMAX 45(1).
        Persson, D., Cortinovis, A., Kressner, D. (2022). Improved variants of the
        Hutch++ algorithm for trace estimation. SIMAX 43(3). (Adaptive choice.)
    """

    name: ClassVar[str] = "auto"
    min_matvecs: ClassVar[int] = 6
    functionals: ClassVar[tuple[type, ...]] = (Trace, Diagonal, FrobeniusSquared)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        m, n, dtype = num_matvecs, operator.size, operator.dtype
        k = m // 2
        # One draw for both stages: each random draw costs seconds to compile.
        signs = rademacher(key, n, m, dtype)
        g1, g2 = signs[:, :k], signs[:, k:]
        y1 = apply(operator, g1, mesh)
        samples1 = functional.sample(g1, g1, y1)
        variance = jnp.sum(jnp.var(samples1, axis=-1, ddof=1))
        sk = sketch(g1, y1)
        total = jnp.sum(y1**2)
        # A zero sketch (A g = 0 for every probe): nothing to deflate, Hutchinson.
        fraction = jnp.where(
            total > 0, jnp.sum(sk.distance2) / jnp.where(total > 0, total, 1), 1
        )
        residual = functional.residual_variance(variance, fraction, total / k)
        low_rank = residual * m < variance * k

        extra = jnp.concatenate([sk.q, g2[:, k:]], axis=1)
        w = apply(operator, jnp.where(low_rank, extra, g2), mesh)
        all_samples = jnp.concatenate([samples1, functional.sample(g2, g2, w)], -1)
        hutchinson = mean_and_stderr(all_samples)
        exchange = _EXCHANGE[type(functional)]
        # Only the taken branch runs (a `select` under `vmap`).
        exchanged = jax.lax.cond(
            low_rank,
            lambda: jackknife(exchange, sk, w[:, :k]),
            lambda: jax.tree.map(jnp.zeros_like, hutchinson),
        )
        chosen = [jnp.where(low_rank, a, b) for a, b in zip(exchanged, hutchinson)]
        return Raw(*chosen, low_rank.astype(jnp.int32))

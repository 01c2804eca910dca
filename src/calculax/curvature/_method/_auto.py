"""Adaptive choice between Hutchinson and Hutch++ from the first third of the budget."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from .._functional import Diagonal, FrobeniusSquared, Trace
from .._probes import apply, rademacher
from ._base import AbstractMethod, Raw, mean_and_stderr

__all__ = ["Auto"]


def _sketch(y: jax.Array):
    r"""Basis of ``range(y)``, the share :math:`\hat\rho` of :math:`\|Y\|_F^2` that
    a rank-:math:`(s-1)` part misses, and :math:`\|A\|_F^2 \approx \|Y\|_F^2/s`.

    Leave-one-out: column :math:`j`'s distance to the span of the others is
    :math:`1/\|e_j^\top R^{-1}\|` for :math:`Y = QR`, so :math:`\hat\rho = \sum_j
    \|e_j^\top R^{-1}\|^{-2} / \|Y\|_F^2` costs no products.
    """
    q, r = jnp.linalg.qr(y, mode="reduced")
    s = y.shape[1]
    pivots = jnp.abs(jnp.diagonal(r))
    # Dependent columns (rank(A) < s): a tiny pivot makes their distance ~0, as it is.
    tiny = s * jnp.finfo(y.dtype).eps * jnp.maximum(jnp.max(pivots), 1e-300)
    r = r + jnp.diag(jnp.where(pivots < tiny, tiny, 0))
    r_inv = jax.scipy.linalg.solve_triangular(r, jnp.eye(s, dtype=y.dtype))
    distance2 = 1 / jnp.sum(r_inv**2, axis=1)
    total = jnp.sum(y**2)
    # A zero sketch (A g = 0 for every probe): nothing to deflate, keep Hutchinson.
    fraction = jnp.where(
        total > 0, jnp.sum(distance2) / jnp.where(total > 0, total, 1), 1
    )
    return q, fraction, total / s


class Auto(AbstractMethod):
    r"""Hutchinson or Hutch++, decided from a sketch that is never wasted.

    The first :math:`s = \lfloor m/3 \rfloor` random-sign probes give :math:`Y = AG`.
    Their Hutchinson samples estimate the per-probe variance :math:`\hat v_H`; the
    leave-one-out share :math:`\hat\rho` of :math:`\|Y\|_F^2` outside the span of
    the other columns estimates how much of :math:`\|A\|_F^2` a rank-:math:`s` part
    leaves, hence the deflated per-probe variance :math:`\hat v_R` (conservatively,
    see ``residual_variance``). If :math:`\hat v_R/(m-2s) < \hat v_H/m`, the
    remaining :math:`m - s` products are spent as Hutch++ (:math:`Q =
    \operatorname{orth}(Y)`, :math:`AQ`, :math:`m-2s` deflated probes); otherwise as
    :math:`m - s` more Hutchinson probes, all :math:`m` samples averaged. Either way
    the sketch costs nothing extra, so ``Auto`` is Hutchinson on flat spectra and at
    least Hutch++ on decaying ones (XTrace, which reuses every probe, can be better
    still there: see ``benchmarks/curvature.py``). Both branches are one block of
    :math:`m - s` products chosen by ``where`` (``choice`` in the result: 1 =
    low-rank).

    References:
        Persson, D., Cortinovis, A., Kressner, D. (2022). Improved variants of the
        Hutch++ algorithm for trace estimation. SIMAX 43(3). (Adaptive splitting.)
    """

    name: ClassVar[str] = "auto"
    min_matvecs: ClassVar[int] = 6
    functionals: ClassVar[tuple[type, ...]] = (Trace, Diagonal, FrobeniusSquared)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        m, n, dtype = num_matvecs, operator.size, operator.dtype
        s = m // 3
        # One draw for both stages: each random draw costs seconds to compile.
        signs = rademacher(key, n, m, dtype)
        g1, g2 = signs[:, :s], signs[:, s:]
        y1 = apply(operator, g1, mesh)
        samples1 = functional.sample(g1, g1, y1)
        variance = jnp.sum(jnp.var(samples1, axis=-1, ddof=1))
        q, fraction, frobenius2 = _sketch(y1)
        residual = functional.residual_variance(variance, fraction, frobenius2)
        low_rank = residual * m < variance * (m - 2 * s)

        g_res = g2[:, : m - 2 * s]
        gp = g_res - q @ (q.T @ g_res)
        w = apply(operator, jnp.where(low_rank, jnp.concatenate([q, gp], 1), g2), mesh)

        all_samples = jnp.concatenate([samples1, functional.sample(g2, g2, w)], -1)
        hutchinson = mean_and_stderr(all_samples)
        mean, stderr, dof = mean_and_stderr(functional.sample(g_res, gp, w[:, s:]))
        deflated = (functional.exact(q, w[:, :s]) + mean, stderr, dof)
        chosen = [jnp.where(low_rank, a, b) for a, b in zip(deflated, hutchinson)]
        return Raw(*chosen, low_rank.astype(jnp.int32))

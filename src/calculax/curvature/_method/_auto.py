"""Adaptive choice between Hutchinson, XTrace/XDiag and Nyström, from one sketch."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from .._functional import Diagonal, FrobeniusSquared, Trace
from .._probes import apply, rademacher
from ._base import AbstractMethod, Raw, mean_and_error
from ._exchange import core, resphered_trace_samples, samples, subset
from ._jackknife import jackknife
from ._nystrom import nystrom_core, nystrom_samples, nystrom_subset

__all__ = ["Auto"]

HUTCHINSON, EXCHANGE, NYSTROM = 0, 1, 2
# Nyström only where the sketch's singular values fall at least like 1/i between
# k/2 and k (ratio <= 0.6; a flat residual after a few large eigenvalues gives ~1).
DECAY = 0.6


class Auto(AbstractMethod):
    r"""Hutchinson, XTrace/XDiag or Nyström, decided from a first half of the probes.

    The first :math:`k = \lfloor m/2 \rfloor` random-sign probes give :math:`Y_1 =
    A\Omega_1`. From them, at no further cost, three predicted variances of the final
    estimate:

    * Hutchinson with all :math:`m` probes: the per-probe sample variance over
      :math:`m`;
    * the exchangeable estimator (XTrace for the trace, XDiag for the diagonal, its
      analogue for :math:`\|A\|_F^2`, see ``_exchange``) on :math:`\Omega_1` with
      :math:`Z = AQ`: from the leave-one-out share :math:`\hat\rho = \sum_i d_i^2 /
      \|Y_1\|_F^2` (:math:`d_i` the distance of column :math:`i` of :math:`Y_1` to the
      span of the others), which estimates how much of :math:`\|A\|_F^2` a
      rank-:math:`(k-1)` part leaves (``_functional.residual_variance``);
    * Nyström (trace and diagonal of a symmetric :math:`A`, ``_nystrom``) on all
      :math:`m` probes: its jackknife variance on :math:`\Omega_1`, scaled by
      :math:`k/m`.

    The remaining :math:`m - k` products go to the branch with the smallest
    prediction: more random-sign probes (Hutchinson, whose numbers are then exactly
    ``Hutchinson``'s for the same key; Nyström, on all :math:`m` probes) or
    :math:`AQ` (exchangeable; for odd :math:`m` one product is left unused). The
    sketch is never wasted, so ``Auto`` is Hutchinson on flat spectra, Nyström on
    (nearly) positive semi-definite and decaying ones, and XTrace/XDiag on decaying
    indefinite ones. ``choice`` in the result records the branch (0, 1, 2).

    Standard errors: Hutchinson's sample std over :math:`\sqrt m`; for the other
    branches the bias-corrected jackknife of ``_jackknife``.

    References:
        Epperly, E. N., Tropp, J. A., Webber, R. J. (2024). XTrace: Making the most
        of every sample in stochastic trace estimation. SIMAX 45(1). (XTrace,
        XDiag, XNysTrace.)
        Persson, D., Cortinovis, A., Kressner, D. (2022). Improved variants of the
        Hutch++ algorithm for trace estimation. SIMAX 43(3). (Adaptive choice.)
    """

    name: ClassVar[str] = "auto"
    min_matvecs: ClassVar[int] = 6
    functionals: ClassVar[tuple[type, ...]] = (Trace, Diagonal, FrobeniusSquared)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        m, n, dtype = num_matvecs, operator.size, operator.dtype
        k = m // 2
        vectors = isinstance(functional, Diagonal)
        gaussian = isinstance(functional, Trace)
        first_key, second_key = jax.random.split(key)
        # The trace's first stage is Gaussian, so that its exchangeable branch is
        # XTrace resphered (which makes a flat residual's contribution exact); its
        # Hutchinson samples are sphere-normalised (unbiased, the variance of random
        # signs on an operator in a random basis). Diagonal and Frobenius norm: random
        # signs (Gaussian probes add 2 a_jj^2 to every diagonal entry's variance).
        if gaussian:
            g1 = jax.random.normal(first_key, (n, k), dtype)
            norms = jnp.sum(g1**2, axis=0)
        else:
            g1 = rademacher(first_key, n, k, dtype)
        g2 = rademacher(second_key, n, m - k, dtype)
        y1 = apply(operator, g1, mesh)
        samples1 = functional.sample(g1, g1, y1)
        if gaussian:
            samples1 = samples1 * n / norms
        variance = jnp.sum(jnp.var(samples1, axis=-1, ddof=1))
        q1, r1 = jnp.linalg.qr(y1, mode="reduced")
        predicted = [variance / m, _exchange_prediction(functional, r1, y1, variance)]
        nystrom = not isinstance(functional, FrobeniusSquared)
        if nystrom:
            predicted.append(_nystrom_prediction(functional, g1, y1, r1, m, vectors))
        branch = jnp.argmin(jnp.stack(predicted)).astype(jnp.int32)

        extra = jnp.concatenate([q1, g2[:, k:]], axis=1)
        w = apply(operator, jnp.where(branch == EXCHANGE, extra, g2), mesh)

        def hutchinson():
            all_samples = jnp.concatenate([samples1, functional.sample(g2, g2, w)], -1)
            return mean_and_error(all_samples)

        def exchange():
            c = core(g1, y1, q1, r1, w[:, :k], vectors)
            if gaussian:
                return _exchange_estimate(
                    lambda c: resphered_trace_samples(c, n), c, k, False
                )
            return _exchange_estimate(
                lambda c: samples(functional, c), c, k, vectors
            )

        def nystrom_branch():
            omega = jnp.concatenate([g1, g2], axis=1)
            c = nystrom_core(omega, jnp.concatenate([y1, w], axis=1), vectors)
            return _nystrom_estimate(functional, c, m)[:3]

        branches = [hutchinson, exchange] + ([nystrom_branch] if nystrom else [])

        def run(i):
            value, error, dof = branches[i]()
            return value, error, jnp.asarray(dof, jnp.int32)

        value, error, dof = jax.lax.switch(
            branch, [lambda i=i: run(i) for i in range(len(branches))]
        )
        return Raw(value, error, dof, branch)


def _exchange_prediction(functional, r, y1, variance):
    """Predicted variance of the exchangeable estimate (see ``Auto``)."""
    k = r.shape[1]
    eye = jnp.eye(k, dtype=y1.dtype)
    pivots = jnp.abs(jnp.diagonal(r))
    tiny = k * jnp.finfo(y1.dtype).eps * jnp.maximum(jnp.max(pivots), 1e-30)
    r_safe = r + jnp.diag(jnp.where(pivots <= tiny, tiny, 0))
    inv_t = jax.scipy.linalg.solve_triangular(r_safe, eye, trans="T")
    # dist(y_i, span of the others) = 1 / |column i of R^-T| (no products needed).
    distance2 = 1 / jnp.sum(inv_t**2, axis=0)
    total = jnp.sum(y1**2)
    fraction = jnp.where(
        total > 0, jnp.sum(distance2) / jnp.where(total > 0, total, 1), 1
    )
    return functional.residual_variance(variance, fraction, total / k) / k


def _nystrom_prediction(functional, g1, y1, r1, m, vectors):
    """Jackknife variance of Nyström on the first stage, times ``(k / m)^alpha``;
    ``inf`` for a visibly non-symmetric operator (Nyström assumes symmetry) or a
    sketch whose singular values stop decaying (a flat residual)."""
    k = g1.shape[1]
    sigma = jnp.linalg.svd(r1, compute_uv=False)
    tiny = jnp.finfo(sigma.dtype).tiny
    decay = sigma[k - 1] / jnp.maximum(sigma[(k - 1) // 2], tiny)
    c = nystrom_core(g1, y1, vectors)
    value, error, _, alpha = _nystrom_estimate(functional, c, k)
    core_matrix = g1.T @ y1
    asymmetry = jnp.linalg.norm(core_matrix - core_matrix.T)
    symmetric = asymmetry <= jnp.sqrt(jnp.finfo(y1.dtype).eps) * jnp.linalg.norm(
        core_matrix
    )
    # An indefinite tail (small eigenvalues of both signs in the core) makes the
    # Nyström approximation unstable: its error is then unbounded in practice.
    theta = jnp.linalg.eigvalsh((core_matrix + core_matrix.T) / 2)
    small = jnp.abs(theta) <= 0.1 * jnp.max(jnp.abs(theta))
    mixed = jnp.any(small & (theta > 0)) & jnp.any(small & (theta < 0))
    symmetric = symmetric & ~mixed
    # Its variance falls like k^-alpha (alpha measured by the jackknife); a flat
    # residual (alpha near 1) is where the exchangeable estimator does better than
    # its prediction says (random signs cancel a flat residual's diagonal), so
    # Nystrom is only taken on a measurably decaying spectrum.
    predicted = jnp.sum(error**2) * (k / m) ** alpha
    ok = symmetric & jnp.all(jnp.isfinite(value)) & jnp.isfinite(predicted)
    decaying = (alpha >= 2) & (decay <= DECAY)
    return jnp.where(ok & decaying, predicted, jnp.inf)


def _exchange_estimate(sample, c, k, vectors):
    value = jnp.mean(sample(c), axis=-1)
    variance, dof, _ = jackknife(
        lambda index: jnp.mean(sample(subset(c, index)), axis=-1),
        k,
        scalar=jnp.sum if vectors else None,
    )
    return value, jnp.sqrt(variance), dof


def _nystrom_estimate(functional, c, k):
    value = jnp.mean(nystrom_samples(functional, c), axis=-1)
    variance, dof, alpha = jackknife(
        lambda index: jnp.mean(
            nystrom_samples(functional, nystrom_subset(c, index)), axis=-1
        ),
        k,
        scalar=jnp.sum if isinstance(functional, Diagonal) else None,
    )
    return value, jnp.sqrt(variance), dof, alpha

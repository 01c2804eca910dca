"""Adaptive choice between Hutchinson and XTrace/XDiag, from one sketch."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from .._functional import Diagonal, FrobeniusSquared, Trace
from .._probes import rademacher, two_stages
from ._base import AbstractMethod, Raw, mean_and_error
from ._exchange import core, resphered_trace_samples, samples, subset
from ._jackknife import jackknife

__all__ = ["Auto"]


class Auto(AbstractMethod):
    r"""Hutchinson or XTrace/XDiag, decided from a first half of the probes.

    The first :math:`k = \lfloor m/2 \rfloor` probes give :math:`Y_1 = A\Omega_1`.
    Their Hutchinson samples estimate the per-probe variance :math:`\hat v_H`. The
    leave-one-out share :math:`\hat\rho = \sum_i d_i^2 / \|Y_1\|_F^2`, with
    :math:`d_i` the distance of column :math:`i` to the span of the others (free from
    :math:`Y_1 = QR`), estimates how much of :math:`\|A\|_F^2 \approx
    \|Y_1\|_F^2/k` a rank-:math:`(k-1)` part leaves, hence the per-probe variance
    :math:`\hat v_X` after deflation (conservatively, see ``residual_variance``). If
    :math:`\hat v_X/k < \hat v_H/m`, the remaining products are :math:`AQ` with
    :math:`Q = \operatorname{orth}(Y_1)` and the estimate is the exchangeable one
    (XTrace for the trace, XDiag for the diagonal, its analogue for
    :math:`\|A\|_F^2`: every probe is both sketch and residual probe, see
    ``_exchange``); otherwise :math:`m - k` more random-sign probes, all :math:`m`
    samples averaged. The sketch is never wasted, so ``Auto`` is Hutchinson on flat
    spectra and XTrace/XDiag on decaying ones. Both branches are one block of
    :math:`m - k` products chosen by ``where`` (``choice`` in the result: 0
    Hutchinson, 1 exchangeable; for odd :math:`m` the exchangeable branch leaves
    one product unused).

    Probes: for the trace the first stage is Gaussian, so that its exchangeable
    branch is XTrace with resphering (the same estimator as ``XTrace`` and
    matfree's, which estimates a flat residual exactly: 2.4x smaller errors than
    random signs on a flat spectrum plus a few large eigenvalues), and its
    Hutchinson samples are sphere-normalised, :math:`n\,g^\top A g/\|g\|^2` (the
    variance of random signs, up to the diagonal's share: 0-10% more on the model
    Hessians we measured). The second stage, and both stages of the diagonal and
    the Frobenius norm, use random signs (Gaussian probes would add
    :math:`2a_{jj}^2` to each diagonal entry's variance).

    Standard errors: Hutchinson's sample std over :math:`\sqrt m`; for the
    exchangeable branch the bias-corrected jackknife of ``_jackknife``.

    A third branch, Nyström (``XNysTrace``, better than XTrace on positive
    semi-definite operators with decaying spectra), is not taken automatically: its
    error on an indefinite tail is unbounded in practice and the first stage could
    not tell it apart reliably enough (it chose Nyström on a flat spectrum plus a
    few large eigenvalues, 3x worse than XTrace), while doubling the compilation
    time. Pass ``method="xnystrace"`` for operators known to be positive
    semi-definite (Gauss-Newton, Fisher).

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
        vectors = isinstance(functional, Diagonal)
        gaussian = isinstance(functional, Trace)
        # The first stage draws from `key` as ``XTrace``/``XDiag``/``Hutchinson`` do:
        # where the exchangeable branch is taken, the numbers are exactly theirs
        # for the same key and k = m/2.
        second_key = jax.random.fold_in(key, 1)
        if gaussian:
            g1 = jax.random.normal(key, (n, k), dtype)
        else:
            g1 = rademacher(key, n, k, dtype)
        g2 = rademacher(second_key, n, m - k, dtype)
        # Both blocks have m - k columns (for odd m the first carries a zero
        # column, whose product is ignored) so that they share one call site.
        first = jnp.pad(g1, ((0, 0), (0, m - 2 * k)))

        def plan(y):
            y = y[:, :k]
            samples = functional.sample(g1, g1, y)
            if gaussian:
                samples = samples * n / jnp.sum(g1**2, axis=0)
            variance = jnp.sum(jnp.var(samples, axis=-1, ddof=1))
            q, r = jnp.linalg.qr(y, mode="reduced")
            predicted = _exchange_prediction(functional, r, y, variance)
            low_rank = predicted * m < variance
            extra = jnp.concatenate([q, g2[:, k:]], axis=1)
            return jnp.where(low_rank, extra, g2), (samples, q, r, low_rank)

        y1, w, (samples1, q1, r1, low_rank) = two_stages(operator, first, plan, mesh)
        y1 = y1[:, :k]

        def hutchinson():
            all_samples = jnp.concatenate([samples1, functional.sample(g2, g2, w)], -1)
            value, error, dof = mean_and_error(all_samples)
            return value, error, jnp.asarray(dof, jnp.int32)

        def exchange():
            c = core(g1, y1, q1, r1, w[:, :k], vectors)
            if gaussian:
                return _exchange_estimate(
                    lambda c: resphered_trace_samples(c, n), c, k, False
                )
            return _exchange_estimate(lambda c: samples(functional, c), c, k, vectors)

        # Both branches run and one is selected: the Hutchinson branch is cheap, and
        # a `lax.cond` around the jackknife's loops made XLA on CPU run them 7x
        # slower than the same code unconditioned (1.6 s against XTrace's 0.22 s,
        # 2,121 parameters, 100 products).
        value, error, dof = jax.tree_util.tree_map(
            lambda a, b: jnp.where(low_rank, a, b), exchange(), hutchinson()
        )
        return Raw(value, error, dof, low_rank.astype(jnp.int32))


def _exchange_prediction(functional, r, y1, variance):
    """Predicted variance of the exchangeable estimate (see ``Auto``)."""
    k = r.shape[1]
    pivots = jnp.abs(jnp.diagonal(r))
    tiny = k * jnp.finfo(y1.dtype).eps * jnp.maximum(jnp.max(pivots), 1e-30)
    r_safe = r + jnp.diag(jnp.where(pivots <= tiny, tiny, 0))
    eye = jnp.eye(k, dtype=y1.dtype)
    inv_t = jax.scipy.linalg.solve_triangular(r_safe, eye, trans="T")
    # dist(y_i, span of the others) = 1 / |column i of R^-T| (no products needed).
    distance2 = 1 / jnp.sum(inv_t**2, axis=0)
    total = jnp.sum(y1**2)
    fraction = jnp.where(
        total > 0, jnp.sum(distance2) / jnp.where(total > 0, total, 1), 1
    )
    return functional.residual_variance(variance, fraction, total / k) / k


def _exchange_estimate(sample, c, k, vectors):
    value = jnp.mean(sample(c), axis=-1)
    variance, dof, _ = jackknife(
        lambda index: jnp.mean(sample(subset(c, index)), axis=-1),
        k,
        scalar=jnp.sum if vectors else None,
    )
    return value, jnp.sqrt(variance), jnp.asarray(dof, jnp.int32)

r"""Exchangeable Nyström estimators (XNysTrace and its diagonal), for symmetric A.

From :math:`Y = A\Omega` alone (one product per probe, no second pass), the Nyström
approximation :math:`\hat A = Y C^{-1} Y^\top`, :math:`C = \Omega^\top A \Omega`,
and its leave-one-out versions :math:`\hat A_{(i)}` (probe :math:`i` removed) give

.. math::
    t_i &= \operatorname{tr}\hat A_{(i)} + \omega_i^\top (A - \hat A_{(i)})\omega_i
        = \operatorname{tr}(MG) - \frac{(MGM)_{ii}}{M_{ii}} + \frac{1}{M_{ii}},\\
    d_i &= \operatorname{diag}\hat A_{(i)} + \omega_i \odot (A - \hat A_{(i)})\omega_i
        = \operatorname{diag}(YMY^\top) - \frac{(Ym_i)^{\odot 2}}{M_{ii}}
          + \omega_i \odot \frac{Y m_i}{M_{ii}}

with :math:`M = C^{-1}`, :math:`m_i = Me_i`, :math:`G = Y^\top Y` (the Schur
complement :math:`C_{ii} - c^\top C_{(i)}^{-1} c = 1/M_{ii}` and the rank-one
downdate of :math:`M` give every leave-one-out quantity from :math:`k \times k`
matrices). Each sample is unbiased because :math:`\hat A_{(i)}` does not depend on
:math:`\omega_i`, whatever :math:`A` is; the variance is small when :math:`A` is
well approximated by a Nyström approximation, i.e. (nearly) positive semi-definite
or dominated by a few large eigenvalues of either sign. ``Auto`` uses it only where
its own first-stage jackknife says so. :math:`G` enters through the triangular
factor of :math:`Y = Q_Y R_Y` (never :math:`Y^\top Y`, whose condition number is
squared). A core :math:`C` that is singular to rounding (eigenvalues below
:math:`k\epsilon\max|\theta|`) means :math:`\operatorname{rank}(A) < k`: then
:math:`\hat A = Y C^+ Y^\top = A` and every sample is that exact value.

Written here: matfree has no Nyström trace estimator, and ``Auto`` must reuse its
first-stage sketch.

References:
    Epperly, E. N., Tropp, J. A., Webber, R. J. (2024). XTrace: Making the most of
    every sample in stochastic trace estimation. SIMAX 45(1). (XNysTrace, sec. 3.)
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["NystromCore", "nystrom_core", "nystrom_subset", "nystrom_samples"]


class NystromCore(eqx.Module):
    """``C = Omega^T A Omega`` (symmetrised) and ``R`` of ``Y = Q_Y R``."""

    c: jax.Array  # (k, k)
    r: jax.Array  # (k0, k), Y_nu = Q_Y r (columns of this sketch)
    nu: jax.Array
    n: int = eqx.field(static=True)
    omega: jax.Array | None  # (n, k) (diagonal only)
    y: jax.Array | None  # (n, k), Y (diagonal only)


def nystrom_core(omega, y, vectors: bool) -> NystromCore:
    n, _ = omega.shape
    c = omega.T @ y
    _, r = jnp.linalg.qr(y, mode="reduced")
    return NystromCore(
        (c + c.T) / 2,
        r,
        jnp.asarray(0.0, y.dtype),
        n,
        omega if vectors else None,
        y if vectors else None,
    )


def nystrom_subset(c: NystromCore, index) -> NystromCore:
    return NystromCore(
        c.c[index][:, index],
        c.r[:, index],
        c.nu,
        c.n,
        None if c.omega is None else c.omega[:, index],
        None if c.y is None else c.y[:, index],
    )


def _inverse(c: NystromCore):
    """``M = C^{-1}`` by ``eigh`` (C may be indefinite) and whether ``C`` is
    numerically singular. Then ``rank(A) < k`` and :math:`\\hat A = Y C^+ Y^\top`
    is ``A`` itself: every sample is the exact :math:`\\operatorname{tr}(C^+ G)`."""
    theta, v = jnp.linalg.eigh(c.c)
    k = theta.shape[0]
    cut = k * jnp.finfo(theta.dtype).eps * jnp.max(jnp.abs(theta))
    kept = jnp.abs(theta) > cut
    inv = jnp.where(kept, 1 / jnp.where(kept, theta, 1), 0)
    return (v * inv[None]) @ v.T, ~jnp.all(kept)


def trace_samples(c: NystromCore) -> jax.Array:
    m, deficient = _inverse(c)
    rm = c.r @ m  # columns R m_i, so that |Y m_i| = |R m_i|
    diag = jnp.diagonal(m)
    safe = jnp.where(diag != 0, diag, 1)
    total = jnp.sum(rm * c.r)  # tr(M G) = tr(R M R^T)
    t = total - jnp.sum(rm**2, axis=0) / safe + 1 / safe
    t = jnp.where(deficient, total, t)
    return t - c.nu * c.n


def diagonal_samples(c: NystromCore) -> jax.Array:
    m, deficient = _inverse(c)
    ym = c.y @ m
    diag = jnp.diagonal(m)
    safe = jnp.where(diag != 0, diag, 1)
    full = jnp.sum(ym * c.y, axis=1)
    samples = full[:, None] - ym**2 / safe[None] + c.omega * ym / safe[None]
    samples = jnp.where(deficient, full[:, None], samples)
    return samples - c.nu


def nystrom_samples(functional, c: NystromCore) -> jax.Array:
    return {"trace": trace_samples, "diagonal": diagonal_samples}[functional.name](c)

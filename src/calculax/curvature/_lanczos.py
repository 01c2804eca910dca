"""Extreme eigenvalues by Lanczos with full reorthogonalisation (matfree's Arnoldi)."""

from __future__ import annotations

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from matfree import decomp

from ._operator import AbstractOperator
from ._probes import check_finite

__all__ = ["krylov", "asymmetry_warning"]


class Krylov(eqx.Module):
    """A Krylov decomposition ``A Q ≈ Q H`` from one start vector."""

    basis: jax.Array  # (n, m)
    hessenberg: jax.Array  # (m, m), H; tridiagonal for symmetric A
    residual: jax.Array  # (n,), the next unnormalised Lanczos vector
    asymmetry: jax.Array  # ‖H - Hᵀ‖_F / ‖H‖_F


def krylov(operator: AbstractOperator, start: jax.Array, depth: int) -> Krylov:
    r"""``depth`` Arnoldi steps with full reorthogonalisation from ``start``.

    matfree's ``decomp.hessenberg``: for symmetric :math:`A`, :math:`H` is the
    Lanczos tridiagonal :math:`T`. Its asymmetry :math:`\|H - H^\top\|_F/\|H\|_F`
    detects a non-symmetric operator at no extra cost.
    """

    def matvec(v):
        return check_finite(operator.flat_matvec(v), v)

    arnoldi = decomp.hessenberg(depth, reortho="full", custom_vjp=False)
    q, h, residual, _ = arnoldi(matvec, start)
    norm = jnp.linalg.norm(h)
    asym = jnp.linalg.norm(h - h.T) / jnp.where(norm > 0, norm, 1)
    return Krylov(q, h, residual, asym)


def asymmetry_warning(asymmetry, dtype, function: str) -> None:
    """Warn (outside ``jit`` only) when the Krylov matrix is visibly non-symmetric."""
    if isinstance(asymmetry, jax.core.Tracer):
        return
    limit = float(np.sqrt(np.finfo(dtype).eps))
    worst = float(np.max(np.asarray(asymmetry)))
    if worst > limit:
        warnings.warn(
            f"`{function}` assumes a symmetric operator, but the Krylov matrix has "
            f"relative asymmetry {worst:.2e} > sqrt(eps) = {limit:.1e}; the result "
            "is that of the operator's symmetric part restricted to the Krylov space. "
            "Symmetrise the operator, (A + Aᵀ)/2, or check the matvec.",
            stacklevel=3,
        )

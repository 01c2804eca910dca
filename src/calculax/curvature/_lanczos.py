r"""Lanczos with full reorthogonalisation that detects breakdown and restarts.

Why not ``matfree.decomp.hessenberg`` (used before): when the Krylov space of the
start vector is exhausted (an operator with few distinct eigenvalues: the identity, a
low-rank Hessian, a two-point spectrum) the next Lanczos vector is rounding noise.
matfree normalises it anyway (or divides by an exact 0, giving nan), so the basis
loses orthogonality, the Krylov matrix turns non-symmetric and the Ritz values are
wrong (34.0 for the eigenvalues {1, 2}). Here a residual below
:math:`c\,\epsilon\,\|Aq_j\|` is a *breakdown*: the basis spans an invariant
subspace, so its Ritz values are exact eigenvalues; the iteration restarts from a
random vector orthogonal to the basis (which finds further eigenvalues and their
multiplicities), and the dropped coupling (of rounding size) is added to the error
bounds. With ``depth = n`` the basis spans everything and the answer is exact.

The relation maintained, in exact arithmetic, is

.. math:: A Q = Q H + r e_m^\top + \textstyle\sum_b d_b e_b^\top

with :math:`Q` orthonormal (two Gram-Schmidt passes per step), :math:`H = Q^\top A Q`
upper Hessenberg (tridiagonal for symmetric :math:`A`), :math:`r` the next residual
and :math:`\|d_b\| = \text{dropped}_b` the residuals dropped at breakdowns.

The operator's own rounding is measured, not assumed: one extra product
:math:`A(q_1 + q_2)` is compared with :math:`Aq_1 + Aq_2` (known from the
relation above); the difference is rounding in the operator application (a linear
map applied exactly would give 0), and it enters the eigenvalue bounds.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["Krylov", "lanczos", "lanczos_products", "start_vector"]

# A residual below BREAKDOWN * eps * |A q_j| (after two Gram-Schmidt passes) is
# rounding noise: its direction is meaningless and normalising it destroys the
# basis. Any value between ~10 and 1/sqrt(eps) is safe, because what is dropped is
# added to the bounds; 2**10 keeps the bounds at rounding level.
BREAKDOWN = 2.0**10


class Krylov(eqx.Module):
    """A Lanczos decomposition ``A Q = Q H + r e_m^T + dropped`` (see module)."""

    basis: jax.Array  # (n, m), orthonormal columns
    hessenberg: jax.Array  # (m, m), H = Q^T A Q
    residual: jax.Array  # (n,), r
    dropped: jax.Array  # (m,), norm of the residual dropped after step j (0 if none)
    restarted: jax.Array  # (m,) bool, column j starts a new Krylov sequence
    rounding: jax.Array  # measured rounding of one operator application
    finite: jax.Array  # every product was finite

    @property
    def asymmetry(self) -> jax.Array:
        r""":math:`\|H - H^\top\|_F / \|H\|_F` (rounding level for symmetric ``A``)."""
        h = self.hessenberg
        norm = jnp.linalg.norm(h)
        return jnp.linalg.norm(h - h.T) / jnp.where(norm > 0, norm, 1)


def _orthogonalise(basis: jax.Array, w: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Two classical Gram-Schmidt passes ("twice is enough"); coefficients too."""
    h = basis.T @ w
    w = w - basis @ h
    h2 = basis.T @ w
    return w - basis @ h2, h + h2


def lanczos(
    matvec, start: jax.Array, depth: int, key: jax.Array, measure: bool = True
) -> Krylov:
    """``depth`` Lanczos steps from ``start`` (any norm > 0); see the module.

    ``key`` draws the restart vectors. With ``measure`` (and ``depth >= 2``) one
    more product measures the operator's rounding (:func:`lanczos_products`).
    """
    n, dtype = start.shape[0], start.dtype
    eps = jnp.finfo(dtype).eps

    def restart_vector(j, basis):
        fresh = jax.random.normal(jax.random.fold_in(key, j), (n,), dtype)
        fresh, _ = _orthogonalise(basis, fresh)
        return fresh

    measuring = measure and depth >= 2

    def step(j, state):
        basis, h, v, scale, dropped, restarted, finite, combined = state
        # The last iteration (j = depth, when measuring) applies the operator to
        # q1 + q2 instead: one call site of the operator in the compiled program.
        extra = j >= depth
        i = jnp.minimum(j, depth - 1)
        beta = jnp.linalg.norm(v)
        broken = (j > 0) & (beta <= BREAKDOWN * eps * scale) & ~extra
        v = jax.lax.cond(broken, restart_vector, lambda j, b: v, j, basis)
        norm = jnp.linalg.norm(v)
        # A zero start vector cannot happen (checked by the callers); a zero restart
        # vector only when the basis already spans everything (j = n), excluded.
        q = v / jnp.where(norm > 0, norm, 1)
        w = matvec(jnp.where(extra, basis[:, 0] + basis[:, 1], q))
        finite = finite & jnp.all(jnp.isfinite(w))
        combined = jnp.where(extra, w, combined)
        new_basis = basis.at[:, i].set(q)
        column = jnp.where(broken | (j == 0), 0.0, beta).astype(dtype)
        new_h = h.at[i, i - 1].set(jnp.where(j > 0, column, h[i, i - 1]))
        dropped = dropped.at[i - 1].set(jnp.where(broken, beta, dropped[i - 1]))
        restarted = restarted.at[i].set(
            jnp.where(extra, restarted[i], broken | (j == 0))
        )
        orthogonal, coefficients = _orthogonalise(new_basis, w)
        new_h = new_h.at[:, i].set(coefficients)
        basis = jnp.where(extra, basis, new_basis)
        h = jnp.where(extra, h, new_h)
        next_scale = jnp.where(extra, scale, jnp.linalg.norm(w))
        v = jnp.where(extra, v, orthogonal)
        return basis, h, v, next_scale, dropped, restarted, finite, combined

    state = (
        jnp.zeros((n, depth), dtype),
        jnp.zeros((depth, depth), dtype),
        start,
        jnp.asarray(0.0, dtype),
        jnp.zeros((depth,), dtype),
        jnp.zeros((depth,), bool),
        jnp.asarray(True),
        jnp.zeros((n,), dtype),
    )
    basis, h, w, _, dropped, restarted, finite, combined = jax.lax.fori_loop(
        0, depth + int(measuring), step, state
    )
    if measuring:
        # Rounding of the operator: A(q1 + q2) - (A q1 + A q2). In the relation
        # above A q_j = Q H e_j (+ the final residual for the last column, + a
        # dropped part of rounding size), so the difference is the rounding of
        # three operator applications and of the Gram-Schmidt passes.
        known = basis @ (h[:, 0] + h[:, 1])
        if depth == 2:
            known = known + w
        rounding = jnp.linalg.norm(combined - known) + dropped[0] + dropped[1]
    else:
        rounding = jnp.asarray(0.0, dtype)
    return Krylov(basis, h, w, dropped, restarted, rounding, finite)


def lanczos_products(depth: int, measure: bool = True) -> int:
    """Products spent by :func:`lanczos` at ``depth``."""
    return depth + 1 if measure and depth >= 2 else depth


def start_vector(key: jax.Array, n: int, dtype) -> jax.Array:
    """A Gaussian start vector (not orthogonal to any eigenvector, almost surely)."""
    return jax.random.normal(key, (n,), dtype)

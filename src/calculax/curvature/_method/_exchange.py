r"""Exchangeable (leave-one-out) estimators from one sketch :math:`Y = A\Omega`.

For probes :math:`\omega_1, \dots, \omega_k` (columns of :math:`\Omega`), :math:`Y =
A\Omega = QR` and :math:`Z = AQ`, the estimate for probe :math:`i` uses the projector
:math:`P_i = Q_{(i)} Q_{(i)}^\top` onto the span of the *other* columns of :math:`Y`,
which is independent of :math:`\omega_i`, so that each of

.. math::
    t_i &= \operatorname{tr}(P_i A P_i) + \omega_i^\top (I - P_i) A (I - P_i)\omega_i
        \quad\text{(XTrace)},\\
    d_i &= \operatorname{diag}(A P_i) + \omega_i \odot A (I - P_i)\omega_i
        \quad\text{(XDiag, right-projected)},\\
    f_i &= \|A P_i\|_F^2 + \|A (I - P_i)\omega_i\|^2

is unbiased for any square :math:`A` and isotropic :math:`\omega_i`. With the
downdate :math:`P_i = Q (I - s_i s_i^\top) Q^\top`, :math:`s_i` the normalised
:math:`i`-th column of :math:`R^{-\top}` (Epperly, Tropp & Webber 2024, sec. 2.1), and
:math:`x_i = (I - s_i s_i^\top) Q^\top \omega_i` the coordinates of :math:`P_i
\omega_i`, everything is computed from :math:`\Omega, Y, Q, R, Z` with no further
products: :math:`A(I - P_i)\omega_i = y_i - Z x_i`.

Written here rather than taken from ``matfree.stochtrace``: matfree's XTrace draws and
multiplies its own probes (``Auto`` must reuse a sketch it already paid for), and its
XDiag projects on the left, :math:`\operatorname{diag}(QQ^\top A)`, which needs the
transposed matvec (``jax.linear_transpose`` of the user's function: for a Hessian a
third differentiation, and impossible for a matvec JAX cannot transpose). The
right-projected form above needs only :math:`A`; for a symmetric :math:`A` (a Hessian)
the two are the same estimator up to which of :math:`(I-P_i)A` or its transpose is
probed, with the same total variance.

The estimate is the mean of the :math:`k` samples; its standard error, the sample std
over :math:`\sqrt k` (the paper's), ignores that the samples share the sketch and is
optimistic (see ``methods.XTrace``). If :math:`\operatorname{rank}(Y) < k` the
sketch holds :math:`\operatorname{range}(A)` and the values are exact (for the
diagonal and Frobenius norm this uses :math:`\operatorname{range}(A^\top) =
\operatorname{range}(A)`, i.e. a symmetric :math:`A`).

References:
    Epperly, E. N., Tropp, J. A., Webber, R. J. (2024). XTrace: Making the most of
    every sample in stochastic trace estimation. SIMAX 45(1). arXiv:2301.07825.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = [
    "Sketch",
    "exchange_diagonal",
    "exchange_frobenius2",
    "exchange_trace",
    "sketch",
]


class Sketch(eqx.Module):
    """``Y = A Omega = Q R`` with the leave-one-out downdate factors ``S``."""

    omega: jax.Array  # (n, k) probes
    y: jax.Array  # (n, k) = A omega
    q: jax.Array  # (n, k)
    r: jax.Array  # (k, k)
    s: jax.Array  # (k, k), unit columns: Q_(i) Q_(i)^T = Q (I - s_i s_i^T) Q^T
    x: jax.Array  # (k, k), coordinates of P_i omega_i in the basis Q
    distance2: jax.Array  # (k,), squared distance of y_i to the span of the others
    deficient: jax.Array  # rank(Y) < k: range(Q) holds range(A), values exact


def sketch(omega: jax.Array, y: jax.Array) -> Sketch:
    """QR of ``y`` and the leave-one-out quantities (no operator products)."""
    q, r = jnp.linalg.qr(y, mode="reduced")
    k = y.shape[1]
    pivots = jnp.abs(jnp.diagonal(r))
    # Rank-deficient Y (rank(A) < k): pivots at rounding level. Then the values are
    # exact and S is unused; lift the pivots so the solve below stays finite.
    tiny = k * jnp.finfo(y.dtype).eps * jnp.maximum(jnp.max(pivots), 1e-300)
    deficient = jnp.any(pivots <= tiny)
    r_safe = r + jnp.diag(jnp.where(pivots <= tiny, tiny, 0))
    eye = jnp.eye(k, dtype=y.dtype)
    inv_t = jax.scipy.linalg.solve_triangular(r_safe, eye, trans="T")
    # dist(y_i, span of the others) = 1 / |column i of R^-T| (no products needed).
    norms2 = jnp.sum(inv_t**2, axis=0)
    s = inv_t / jnp.sqrt(norms2)[None]
    w = q.T @ omega
    x = w - s * jnp.sum(w * s, axis=0)[None]
    return Sketch(omega, y, q, r, s, x, 1 / norms2, deficient)


def residual_products(sk: Sketch, z: jax.Array) -> jax.Array:
    """``A (I - P_i) omega_i`` for every ``i``, as the columns of an ``(n, k)``."""
    return sk.y - z @ sk.x


def exchange_trace(sk: Sketch, z: jax.Array, resphere: bool) -> jax.Array:
    r"""The ``k`` XTrace samples :math:`t_i` (``z = A Q``).

    ``resphere`` (Gaussian probes only): scale the residual term by :math:`(n - k +
    1)/\|(I - P_i)\omega_i\|^2` (Epperly 2025), as ``matfree`` does.
    """
    h = sk.q.T @ z
    t = z.T @ sk.omega
    s_h_s = jnp.sum(sk.s * (h @ sk.s), axis=0)
    exact = jnp.trace(h) - s_h_s
    s_r = jnp.sum(sk.s * sk.r, axis=0)
    s_w = jnp.sum(sk.s * (sk.q.T @ sk.omega), axis=0)
    residual = (
        -jnp.sum(t * sk.x, axis=0) + jnp.sum(sk.x * (h @ sk.x), axis=0) + s_r * s_w
    )
    if resphere:
        n, k = sk.omega.shape
        projected = jnp.sum(sk.omega**2, axis=0) - jnp.sum(sk.x**2, axis=0)
        safe = jnp.where(projected > 0, projected, 1)
        residual = residual * jnp.where(projected > 0, (n - k + 1) / safe, 1)
    return jnp.where(sk.deficient, jnp.trace(h), exact + residual)


def exchange_diagonal(sk: Sketch, z: jax.Array) -> jax.Array:
    r"""The ``k`` XDiag samples :math:`d_i`, as the columns of an ``(n, k)``."""
    full = jnp.sum(z * sk.q, axis=1)
    exact = full[:, None] - (z @ sk.s) * (sk.q @ sk.s)
    samples = exact + sk.omega * residual_products(sk, z)
    return jnp.where(sk.deficient, full[:, None], samples)


def exchange_frobenius2(sk: Sketch, z: jax.Array) -> jax.Array:
    r"""The ``k`` samples :math:`f_i` of :math:`\|A\|_F^2`."""
    full = jnp.sum(z * z)
    exact = full - jnp.sum((z @ sk.s) ** 2, axis=0)
    samples = exact + jnp.sum(residual_products(sk, z) ** 2, axis=0)
    return jnp.where(sk.deficient, full, samples)


def jackknife(exchange, sk: Sketch, z: jax.Array, max_groups: int = 10):
    r"""Value, honest standard error and degrees of freedom of an exchangeable mean.

    The value is the mean of ``exchange(sk, z)``'s :math:`k` samples. Its standard
    error is the delete-a-group jackknife: the probes are split into :math:`G =
    \min(k, \text{max\_groups})` groups of :math:`d = \lfloor k/G \rfloor`
    consecutive probes (the last :math:`k - Gd` always kept), the estimate is redone
    without each group, :math:`\hat T_{(g)}`, from the same products (the smaller
    sketch lies in :math:`\operatorname{range}(Q)`, so :math:`A Q_{(g)} = Z Q^\top
    Q_{(g)}`), and :math:`\widehat{\operatorname{Var}} = \frac{G-1}{G} \sum_g
    (\hat T_{(g)} - \bar T)^2` with :math:`G - 1` degrees of freedom. The estimator
    is a symmetric function of independent probes, so by the Efron-Stein inequality
    this is conservative in expectation (unlike the samples' own spread, which
    ignores their shared sketch). Cost: :math:`G` QR factorisations of
    :math:`(n, k-d)`; no operator products.

    References:
        Efron, B., Stein, C. (1981). The jackknife estimate of variance. Ann. Stat.
        9(3), 586-596.
    """
    k = sk.omega.shape[1]
    groups = min(k, max_groups)
    d = k // groups
    keep = jnp.asarray(
        [[j for j in range(k) if not g * d <= j < (g + 1) * d] for g in range(groups)]
    )

    def without(idx):
        sub = sketch(sk.omega[:, idx], sk.y[:, idx])
        return jnp.mean(exchange(sub, z @ (sk.q.T @ sub.q)), axis=-1)

    value = jnp.mean(exchange(sk, z), axis=-1)
    dropped = jax.lax.map(without, keep)
    centred = dropped - jnp.mean(dropped, axis=0, keepdims=True)
    variance = (groups - 1) / groups * jnp.sum(centred**2, axis=0)
    return value, jnp.sqrt(variance), jnp.asarray(groups - 1)

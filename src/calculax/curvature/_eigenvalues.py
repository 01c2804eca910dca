"""Extreme eigenvalues and the spectral norm by Lanczos, with error bounds."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from .._core.results import RESULTS, AbstractResult, finish
from .._core.validate import choice, nonnegative_float, positive_int
from . import _checks
from ._lanczos import Krylov, lanczos, lanczos_products, start_vector
from ._operator import as_operator, require_symmetric

__all__ = ["Eigenvalues", "eigenvalues", "spectral_norm"]

_WHICH = ("largest", "smallest")


class Eigenvalues(AbstractResult):
    r"""Ritz values with error bounds that include rounding.

    Attributes:
        value: Ritz values, shape ``(k,)`` (a scalar for ``spectral_norm``), sorted
            from the requested end of the spectrum.
        error: for each value :math:`\theta_i`, a bound :math:`e_i` such that an
            eigenvalue of the operator lies in :math:`[\theta_i - e_i, \theta_i +
            e_i]` (see :func:`eigenvalues` for what it is made of).
        status: ``RESULTS.successful``; ``RESULTS.not_converged`` when a bound
            exceeds ``atol + rtol * |value|``; ``RESULTS.not_symmetric`` when the
            operator is visibly non-symmetric; ``RESULTS.nonfinite`` when the
            operator returned nan or inf.
        iterations: Krylov depth at which every requested value first met the
            tolerance (checked at up to 8 depths), or the full depth if never.
        asymmetry: :math:`\|H - H^\top\|_F / \|H\|_F` of the Krylov matrix.
        rounding: the measured rounding of one operator application (absolute).
        num_matvecs: operator applications spent (static).
    """

    value: jax.Array
    error: jax.Array
    status: object
    iterations: jax.Array
    asymmetry: jax.Array
    rounding: jax.Array
    num_matvecs: int = eqx.field(static=True)

    def interval(self, level: float = 0.95):
        """``(value - error, value + error)``: a bound, the same at every ``level``.

        Raises:
            ValueError: ``level`` not in ``(0, 1)``.
        """
        from .._core.validate import in_open_interval

        in_open_interval("Eigenvalues.interval", "level", level, 0.0, 1.0)
        return self.value - self.error, self.value + self.error


def _ritz(kry: Krylov, depth: int, k: int, which: str):
    """Ritz values and bounds of the leading ``depth`` block, from ``which`` end."""
    h = kry.hessenberg
    m = h.shape[0]
    t = (h + h.T) / 2
    inside = jnp.arange(m) < depth
    # Pad with a far-away diagonal so that the block's own eigenpairs sort first.
    far = 2 * jnp.linalg.norm(t) + 1
    sentinel = -far if which == "largest" else far
    block = jnp.where(inside[:, None] & inside[None, :], t, 0)
    block = block + jnp.diag(jnp.where(inside, 0, sentinel))
    theta, s = jnp.linalg.eigh(block)
    if depth == m:
        beta = jnp.linalg.norm(kry.residual)
    else:
        beta = h[depth, depth - 1] + kry.dropped[depth - 1]
    dropped = jnp.where(jnp.arange(m) < depth - 1, kry.dropped, 0)
    skew = jnp.where(inside[:, None] & inside[None, :], h - t, 0)
    residual = (
        jnp.abs(beta * s[depth - 1])
        + dropped @ jnp.abs(s)
        + jnp.linalg.norm(skew @ s, axis=0)
    )
    order = jnp.argsort(-theta if which == "largest" else theta)[:k]
    return theta[order], residual[order]


def _rounding(kry: Krylov, depth: int) -> jax.Array:
    r"""Rounding in the bound: twice the measured rounding of one product plus
    :math:`\sqrt m\,\epsilon\,\|T\|_2` for the Gram-Schmidt and ``eigh``
    arithmetic."""
    h = kry.hessenberg
    eps = jnp.finfo(h.dtype).eps
    norm = jnp.max(jnp.abs(jnp.linalg.eigvalsh((h + h.T) / 2)))
    return 2 * kry.rounding + np.sqrt(depth) * eps * norm


def _status(ok, kry: Krylov):
    eps = jnp.finfo(kry.hessenberg.dtype).eps
    norm = jnp.linalg.norm(kry.hessenberg)
    # Rounding alone makes H - H^T of the size of the measured rounding.
    limit = jnp.maximum(jnp.sqrt(eps), 16 * kry.rounding / jnp.where(norm > 0, norm, 1))
    status = _checks.where_status(ok, RESULTS.successful, RESULTS.not_converged)
    status = _checks.where_status(kry.asymmetry > limit, RESULTS.not_symmetric, status)
    return _checks.where_status(kry.finite, status, RESULTS.nonfinite)


@eqx.filter_jit
def _lanczos(operator, key, depth: int, k: int, ends: tuple[str, ...], atol, rtol):
    """One Krylov run; for each requested end: Ritz values, bounds, iterations, ok."""
    start_key, restart_key = jax.random.split(key)
    start = start_vector(start_key, operator.size, operator.dtype)
    kry = lanczos(operator.flat_matvec, start, depth, restart_key)
    rounding = _rounding(kry, depth)
    checks = sorted({int(d) for d in np.linspace(k, depth, min(8, depth - k + 1))})
    results = []
    for which in ends:
        iterations = jnp.asarray(depth)
        for d in reversed(checks):
            theta, bound = _ritz(kry, d, k, which)
            ok = jnp.all(bound + rounding <= atol + rtol * jnp.abs(theta))
            iterations = jnp.where(ok, d, iterations)
        theta, bound = _ritz(kry, depth, k, which)
        bound = bound + rounding
        ok = jnp.all(bound <= atol + rtol * jnp.abs(theta))
        nan = jnp.asarray(jnp.nan, theta.dtype)
        theta = jnp.where(kry.finite, theta, nan)
        bound = jnp.where(kry.finite, bound, jnp.inf)
        results.append((theta, bound, _status(ok, kry), iterations))
    return results, kry.asymmetry, kry.rounding


def _prepare(where, operator, example, num_matvecs, k, method, key, rtol, atol, throw):
    _checks.throw(where, throw)
    op = as_operator(operator, example, where)
    require_symmetric(op, where)
    choice(where, "method", method, ("auto", "lanczos"))
    key = _checks.key(where, key)
    k = positive_int(where, "k", k)
    if k > op.size:
        raise ValueError(
            f"{where}: `k` must be at most the operator's size n = {op.size}; got {k}."
        )
    rtol = nonnegative_float(where, "rtol", rtol)
    atol = nonnegative_float(where, "atol", atol)
    if op.size == 1:
        minimum = 1
    else:
        minimum = lanczos_products(k + 1)
    num_matvecs = _checks.budget(
        where,
        num_matvecs,
        minimum,
        f"Lanczos for {k} eigenvalue(s) needs a Krylov depth of k + 1 = {k + 1} and "
        "one product to measure the operator's rounding; 20-100 is typical",
    )
    if op.size == 1:
        depth = 1
    else:
        depth = min(num_matvecs - 1, op.size)
    tolerances = jnp.asarray(atol, op.dtype), jnp.asarray(rtol, op.dtype)
    return op, key, k, depth, tolerances


def eigenvalues(
    operator,
    k: int = 1,
    *,
    num_matvecs: int,
    key: jax.Array,
    which: str = "largest",
    method: str = "auto",
    rtol: float = 1e-3,
    atol: float = 0.0,
    throw: bool = True,
    example=None,
    mesh: Mesh | None = None,
) -> Eigenvalues:
    r"""The ``k`` largest or smallest eigenvalues of a symmetric operator.

    Lanczos with full reorthogonalisation from a Gaussian start vector: Ritz values
    :math:`\theta_i` of :math:`T = Q^\top A Q` with error bounds

    .. math:: e_i = \beta_m |s_{mi}| + \textstyle\sum_b \beta_b |s_{bi}|
        + \|(H - T) s_i\| + 2\rho + \sqrt m\,\epsilon\,\|T\|_2

    (Parlett, *The Symmetric Eigenvalue Problem*, Thm 4.5.1: the residual
    :math:`\beta_m |s_{mi}|` of the Ritz pair; then the couplings dropped at
    breakdowns, the Krylov matrix's asymmetry, the *measured* rounding
    :math:`\rho` of one operator application, and the Lanczos arithmetic), so that
    an eigenvalue of the operator lies within :math:`e_i` of :math:`\theta_i` in
    float32 as in float64. When the Krylov space is exhausted (an operator with few
    distinct eigenvalues, such as the identity or a low-rank Hessian) Lanczos
    breaks down: its Ritz values are then exact, and it restarts from a new random
    vector to find further eigenvalues and their multiplicities. Converged when
    every :math:`e_i \le \text{atol} + \text{rtol}\,|\theta_i|`. The bound says
    that *an* eigenvalue lies within :math:`e_i`; that it is the :math:`i`-th
    largest is what convergence from a random start makes overwhelmingly likely,
    not a certainty. ``mesh`` is accepted for a uniform signature; Lanczos is
    sequential and runs on one device.

    Args:
        operator: as for ``trace`` (operator, dense array, or matvec + ``example``).
        k: how many eigenvalues.
        num_matvecs: products to spend: a Krylov depth of ``num_matvecs - 1``
            (capped at ``n``, where the result is exact) plus one to measure the
            operator's rounding.
        key: start-vector key.
        which: ``"largest"`` (algebraically) or ``"smallest"``.
        method: ``"auto"`` or ``"lanczos"`` (the same).
        rtol, atol: tolerance on the bounds.
        throw: raise (also under ``jit``) unless the status is successful;
            ``throw=False`` returns the result with its status.
        example: for a matvec callable, a vector (pytree) of the right structure.
        mesh: ignored (accepted for a uniform signature), or a probe mesh.

    Returns:
        :class:`Eigenvalues` with ``value`` and ``error`` of shape ``(k,)``.

    Raises:
        ValueError, TypeError: a bad argument (a non-symmetric dense matrix, ``k``
            out of range, budget below ``k + 2``, ...).
        calculax.NumericalError: (``throw=True``) not converged, not symmetric, or
            non-finite products.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import eigenvalues
        >>> a = jnp.diag(jnp.arange(1.0, 51.0))
        >>> eigenvalues(a, 2, num_matvecs=51, key=jax.random.key(0)).value
        Array([50., 49.], dtype=float32)
        >>> eigenvalues(jnp.eye(30), 3, num_matvecs=10, key=jax.random.key(0)).value
        Array([1., 1., 1.], dtype=float32)
    """
    where = "eigenvalues"
    choice(where, "which", which, _WHICH)
    op, key, k, depth, (atol, rtol) = _prepare(
        where, operator, example, num_matvecs, k, method, key, rtol, atol, throw
    )
    _checks.mesh(where, mesh)
    out, asymmetry, rounding = _lanczos(op, key, depth, k, (which,), atol, rtol)
    theta, bound, status, iterations = out[0]
    result = Eigenvalues(
        theta,
        bound,
        status,
        iterations,
        asymmetry,
        rounding,
        num_matvecs=lanczos_products(depth) if op.size > 1 else 1,
    )
    return finish(result, throw, where)


def spectral_norm(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str = "auto",
    rtol: float = 1e-3,
    atol: float = 0.0,
    throw: bool = True,
    example=None,
    mesh: Mesh | None = None,
) -> Eigenvalues:
    r""":math:`\|A\|_2 = \max(|\lambda_{\max}|, |\lambda_{\min}|)` of a symmetric
    operator, from both ends of one Lanczos run.

    Args, Raises: as :func:`eigenvalues` (without ``k`` and ``which``).

    Returns:
        :class:`Eigenvalues` with scalar ``value`` (the Ritz value of larger
        magnitude, made positive) and its bound ``error``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import spectral_norm
        >>> a = jnp.diag(jnp.linspace(-3.0, 2.0, 40))
        >>> spectral_norm(a, num_matvecs=41, key=jax.random.key(0)).value
        Array(3., dtype=float32)
    """
    where = "spectral_norm"
    op, key, _, depth, (atol, rtol) = _prepare(
        where, operator, example, num_matvecs, 1, method, key, rtol, atol, throw
    )
    _checks.mesh(where, mesh)
    (top, bottom), asymmetry, rounding = _lanczos(op, key, depth, 1, _WHICH, atol, rtol)
    pick = jnp.abs(top[0][0]) >= jnp.abs(bottom[0][0])
    value = jnp.where(pick, jnp.abs(top[0][0]), jnp.abs(bottom[0][0]))
    bound = jnp.where(pick, top[1][0], bottom[1][0])
    status = _checks.where_status(pick, top[2], bottom[2])
    iterations = jnp.where(pick, top[3], bottom[3])
    result = Eigenvalues(
        value,
        bound,
        status,
        iterations,
        asymmetry,
        rounding,
        num_matvecs=lanczos_products(depth) if op.size > 1 else 1,
    )
    return finish(result, throw, where)

"""Extreme eigenvalues and the spectral norm by Lanczos, with residual bounds."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from ._lanczos import asymmetry_warning, krylov
from ._operator import as_operator

__all__ = ["Eigenvalues", "eigenvalues", "spectral_norm"]

_WHICH = ("largest", "smallest")


class Eigenvalues(eqx.Module):
    r"""Ritz values with rigorous residual bounds.

    Attributes:
        value: Ritz values, shape ``(k,)`` (a scalar for ``spectral_norm``), sorted
            from the requested end of the spectrum.
        stderr: residual norms :math:`\|A u_i - \theta_i u_i\|`; each interval
            :math:`[\theta_i \pm \|r_i\|]` contains an eigenvalue of a symmetric
            :math:`A` (Parlett, *The Symmetric Eigenvalue Problem*, Thm 4.5.1).
        iterations: Krylov depth at which every requested pair first met the
            tolerance (checked at up to 8 depths), or ``num_matvecs`` if never.
        converged: whether they met ``atol + rtol * |value|`` at the final depth.
        asymmetry: relative asymmetry of the Krylov matrix (0 for symmetric ``A``).
        num_matvecs: operator applications spent (static).
    """

    value: jax.Array
    stderr: jax.Array
    iterations: jax.Array
    converged: jax.Array
    asymmetry: jax.Array
    num_matvecs: int = eqx.field(static=True)

    def interval(self, level: float = 0.95):
        """``(value - stderr, value + stderr)``: a bound, valid at every ``level``."""
        if not 0.0 < level < 1.0:
            raise ValueError(f"`level` must be in (0, 1); got {level}.")
        return self.value - self.stderr, self.value + self.stderr


def _ritz(t, beta_last, depth: int, k: int, which: str) -> tuple[jax.Array, jax.Array]:
    """Ritz values and residual norms of the leading ``depth`` block, ``which`` end."""
    m = t.shape[0]
    inside = jnp.arange(m) < depth
    # Pad with a far-away diagonal so the block's own eigenpairs sort first.
    far = 2 * jnp.linalg.norm(t) + 1
    sentinel = -far if which == "largest" else far
    block = jnp.where(inside[:, None] & inside[None, :], t, 0)
    block = block + jnp.diag(jnp.where(inside, 0, sentinel))
    theta, vectors = jnp.linalg.eigh(block)
    beta = beta_last if depth == m else t[depth, depth - 1]
    residual = jnp.abs(beta * vectors[depth - 1])
    order = jnp.argsort(-theta if which == "largest" else theta)[:k]
    return theta[order], residual[order]


def _converged(theta, residual, atol, rtol):
    return jnp.all(residual <= atol + rtol * jnp.abs(theta))


@eqx.filter_jit
def _lanczos(
    operator, key, depth: int, k: int, ends: tuple[str, ...], atol, rtol
) -> list[tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]]:
    """One Krylov run; for each requested end: Ritz values, bounds, iterations, ok."""
    start = jax.random.normal(key, (operator.size,), operator.dtype)
    kry = krylov(operator, start, depth)
    t = (kry.hessenberg + kry.hessenberg.T) / 2
    beta_last = jnp.linalg.norm(kry.residual)
    checks = sorted({int(d) for d in np.linspace(k, depth, min(8, depth - k + 1))})
    results = []
    for which in ends:
        iterations = jnp.asarray(depth)
        for d in reversed(checks):
            ok = _converged(*_ritz(t, beta_last, d, k, which), atol, rtol)
            iterations = jnp.where(ok, d, iterations)
        theta, residual = _ritz(t, beta_last, depth, k, which)
        ok = _converged(theta, residual, atol, rtol)
        results.append((theta, residual, iterations, ok, kry.asymmetry))
    return results


def _prepare(operator, example, num_matvecs, k, method):
    op = as_operator(operator, example)
    if method not in ("auto", "lanczos"):
        raise ValueError(f"`method` must be 'auto' or 'lanczos'; got {method!r}.")
    if not isinstance(num_matvecs, int) or num_matvecs < k + 1:
        raise ValueError(
            f"`num_matvecs={num_matvecs!r}` is too small: Lanczos for {k} "
            f"eigenvalue(s) needs an int of at least {k + 1}; raise `num_matvecs` "
            "(20-100 is typical for extreme eigenvalues)."
        )
    if not 1 <= k <= op.size:
        raise ValueError(f"`k` must be in [1, {op.size}]; got {k}.")
    return op, min(num_matvecs, op.size)


def _tolerances(atol, rtol, dtype):
    """As arrays: traced, so changing a tolerance does not recompile."""
    return jnp.asarray(atol, dtype), jnp.asarray(rtol, dtype)


def _finish(result: Eigenvalues, throw: bool, dtype, name: str) -> Eigenvalues:
    asymmetry_warning(result.asymmetry, dtype, name)
    if throw:
        value = eqx.error_if(
            result.value,
            ~result.converged,
            f"`{name}`: Lanczos did not reach atol + rtol*|value| within num_matvecs;"
            " raise `num_matvecs`, loosen `rtol`/`atol`, or pass `throw=False` to get "
            "the Ritz values with their residual bounds.",
        )
        result = eqx.tree_at(lambda r: r.value, result, value)
    return result


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

    Lanczos with full reorthogonalisation (matfree) from a Gaussian start vector:
    Ritz values :math:`\theta_i` of :math:`T = Q^\top A Q` and residual norms
    :math:`\|A Q s_i - \theta_i Q s_i\| = \beta_m |e_m^\top s_i|`, converged when
    :math:`\le \text{atol} + \text{rtol}\,|\theta_i|`. ``mesh`` is accepted for a
    uniform signature; Lanczos is sequential and runs on one device.

    Args:
        operator: as for ``trace`` (operator, dense array, or matvec + ``example``).
        k: how many eigenvalues.
        num_matvecs: Krylov depth (capped at ``n``, where the result is exact).
        key: start-vector key.
        which: ``"largest"`` (algebraically) or ``"smallest"``.
        method: ``"auto"`` or ``"lanczos"`` (the same).
        rtol, atol: convergence tolerance on the residual bounds.
        throw: raise (also under ``jit``) when not converged; else see
            ``converged``.

    Returns:
        :class:`Eigenvalues` with ``value`` and ``stderr`` of shape ``(k,)``.

    Raises:
        ValueError: bad ``which``/``method``/``k``, budget below ``k + 1``, or (with
            ``throw``) no convergence.

    Warns:
        UserWarning: the operator is visibly non-symmetric.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import eigenvalues
        >>> a = jnp.diag(jnp.arange(1.0, 51.0))
        >>> eigenvalues(a, 2, num_matvecs=50, key=jax.random.key(0)).value
        Array([50., 49.], dtype=float32)
    """
    if which not in _WHICH:
        raise ValueError(f"`which` must be one of {_WHICH}; got {which!r}.")
    op, depth = _prepare(operator, example, num_matvecs, k, method)
    atol, rtol = _tolerances(atol, rtol, op.dtype)
    (out,) = _lanczos(op, key, depth, k, (which,), atol, rtol)
    return _finish(Eigenvalues(*out, num_matvecs=depth), throw, op.dtype, "eigenvalues")


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

    Args and Raises: as :func:`eigenvalues` (without ``k`` and ``which``).

    Returns:
        :class:`Eigenvalues` with scalar ``value`` (the Ritz value of larger
        magnitude, made positive) and its residual bound ``stderr``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import spectral_norm
        >>> a = jnp.diag(jnp.linspace(-3.0, 2.0, 40))
        >>> spectral_norm(a, num_matvecs=40, key=jax.random.key(0)).value
        Array(3., dtype=float32)
    """
    op, depth = _prepare(operator, example, num_matvecs, 1, method)
    atol, rtol = _tolerances(atol, rtol, op.dtype)
    top, bottom = _lanczos(op, key, depth, 1, _WHICH, atol, rtol)
    pick = jnp.abs(top[0][0]) >= jnp.abs(bottom[0][0])
    fields = [jnp.where(pick, a, b) for a, b in zip(top, bottom)]
    value, bound = jnp.abs(fields[0][0]), fields[1][0]
    iterations, converged, asymmetry = fields[2:]
    result = Eigenvalues(
        value, bound, iterations, converged, asymmetry, num_matvecs=depth
    )
    return _finish(result, throw, op.dtype, "spectral_norm")

r"""Entropy of a log-density of ``d`` variables: cubature (``d <= 3``), importance
sampling above.

Both start from the mode :math:`m` of :math:`\ell = \log p` (Newton ascent with
JAX's gradient and Hessian, from the centre of the support) and the Laplace
covariance :math:`\Sigma = (-\nabla^2\ell(m))^{-1}`.

* ``d <= 3``: :func:`quadax.adaptive_cubature` with a Genz-Malik rule (degree 9)
  of the vector :math:`e^{\ell}[1, -\ell]` (in log space, ``0`` where
  :math:`\ell = -\infty`). On an unbounded support the variables are first
  whitened, :math:`x = m + Lz` with :math:`LL^T = \Sigma` (a unit Jacobian up to
  :math:`\det L`), so that quadax's map of each infinite axis sees a density of
  width 1 centred at 0. A bound of the support may be a callable
  ``lim(x_prev) -> (lo, hi)`` of the coordinates before it (quadax's form): a
  simplex is ``[(0, 1), lambda x: (0, 1 - x[0])]``. The mass must come out ``1``
  within its error, else the status is ``mass_not_found``.
* ``d > 3``: importance sampling from a multivariate Student t with 5 degrees of
  freedom centred at :math:`m` with scale :math:`\Sigma` (heavier tails than the
  target, so the weights stay bounded for Gaussian-like densities):
  :math:`\hat H = -\frac1n\sum_i w_i\ell(x_i)`, :math:`w_i = p(x_i)/q(x_i)`, with
  its standard error as ``error`` and a 95% confidence interval. The mass
  :math:`\frac1n\sum w_i` must be ``1`` within four standard errors, and the
  effective sample size at least ``n/1000``, else the status is
  ``mass_not_found`` or ``unverified``.

References:
    Genz, A. C. & Malik, A. A. (1980), *An adaptive algorithm for numerical
    integration over an N-dimensional rectangular region*, J. Comput. Appl. Math.
    6. Owen, A. B. (2013), *Monte Carlo theory, methods and examples*, ch. 9.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS
from .._core.validate import positive_int
from ._result import EntropyResult, status_where

__all__ = ["multivariate_entropy"]

_NEWTON = 50
_DF = 5.0


def _mode(logp, args, start):
    """Damped Newton ascent on ``logp`` from ``start``; returns mode and Hessian."""
    grad = jax.grad(lambda x: logp(x, *args))
    hess = jax.hessian(lambda x: logp(x, *args))
    d = start.shape[0]

    def step(_, x):
        g, h = grad(x), hess(x)
        # A negative definite step where the Hessian allows, else a gradient step.
        shifted = h - jnp.eye(d) * jnp.maximum(
            0.0, jnp.max(jnp.linalg.eigvalsh(h)) + 1e-8
        )
        move = -jnp.linalg.solve(shifted, g)
        candidates = jnp.stack([x, x + move, x + 0.5 * move, x + 0.1 * g])
        values = jax.vmap(lambda z: logp(z, *args))(candidates)
        values = jnp.where(jnp.isnan(values), -jnp.inf, values)
        return candidates[jnp.argmax(values)]

    mode = jax.lax.fori_loop(0, _NEWTON, step, start)
    return mode, hess(mode)


def _laplace(logp, args, centre):
    mode, h = _mode(logp, args, centre)
    d = centre.shape[0]
    ok = jnp.all(jnp.isfinite(h)) & jnp.all(jnp.linalg.eigvalsh(-h) > 0)
    cov = jnp.where(ok, jnp.linalg.inv(jnp.where(ok, -h, -jnp.eye(d))), jnp.eye(d))
    cov = 0.5 * (cov + cov.T)
    return jnp.where(jnp.all(jnp.isfinite(mode)), mode, centre), cov


def _bounds(pairs):
    """Each entry as ``(lo, hi)``; a callable entry (quadax's form) stays one."""
    return [p if callable(p) else tuple(p) for p in pairs]


def _centre(pairs) -> np.ndarray:
    out = []
    for entry in pairs:
        if callable(entry):
            out.append(0.5)
            continue
        lo, hi = entry
        if callable(lo) or callable(hi):
            out.append(0.5)
        elif np.isfinite(lo) and np.isfinite(hi):
            out.append(0.5 * (lo + hi))
        elif np.isfinite(lo):
            out.append(lo + 1.0)
        elif np.isfinite(hi):
            out.append(hi - 1.0)
        else:
            out.append(0.0)
    return np.asarray(out, float)


def _integrand(logp, args, shift, chol):
    def g(z):
        x = shift + chol @ z
        ell = logp(x, *args)
        finite = jnp.isfinite(ell)
        w = jnp.where(finite, jnp.exp(jnp.where(finite, ell, 0.0)), 0.0)
        return jnp.stack([w, jnp.where(w > 0, -w * ell, 0.0)])

    return g


def _cubature(logp, pairs, args) -> EntropyResult:
    import quadax

    d = len(pairs)
    dtype = jnp.result_type(float)
    unbounded = all(
        not callable(p) and np.isneginf(p[0]) and np.isposinf(p[1]) for p in pairs
    )
    if unbounded:
        mode, cov = _laplace(logp, args, jnp.zeros(d, dtype))
        chol = jnp.linalg.cholesky(cov)
        shift, log_det = mode, jnp.sum(jnp.log(jnp.diagonal(chol)))
        interval = jnp.asarray([[-jnp.inf, jnp.inf]] * d, dtype)
    else:
        chol, shift = jnp.eye(d, dtype=dtype), jnp.zeros(d, dtype)
        log_det = jnp.zeros((), dtype)
        if any(callable(p) for p in pairs):
            interval = [p if callable(p) else jnp.asarray(p, dtype) for p in pairs]  # type: ignore[assignment]
        else:
            interval = jnp.asarray(pairs, dtype)
    g = _integrand(logp, args, shift, chol)
    eps = float(np.finfo(dtype).eps)
    rtol = max(eps**0.75, 1000 * eps)
    with jax.numpy_rank_promotion("allow"):
        rule = quadax.GenzMalikRule(d, 9)
        value, info = quadax.adaptive_cubature(
            rule, g, interval, epsabs=rtol, epsrel=rtol, max_nregion=20000
        )
    scale = jnp.exp(log_det)
    mass, h = value[0] * scale, value[1] * scale
    error = info.err * scale
    status = _status(info.status)
    off = jnp.abs(mass - 1) > 4 * error + 64 * eps
    status = status_where(off, RESULTS.mass_not_found, status)
    error = jnp.where(off, jnp.inf, error)
    method = f"cubature: quadax.adaptive_cubature (Genz-Malik, d={d}) of -p log p"
    return EntropyResult(h, error, status, method)


def _status(code):
    """quadax's status codes onto :data:`RESULTS`."""
    import quadax

    table = {
        quadax.STATUS.normal: RESULTS.successful,
        quadax.STATUS.max_ninter: RESULTS.max_subintervals,
        quadax.STATUS.max_nregion: RESULTS.max_subintervals,
        quadax.STATUS.max_divisions: RESULTS.max_subintervals,
        quadax.STATUS.no_converge: RESULTS.no_convergence,
        quadax.STATUS.truncation: RESULTS.truncation,
        quadax.STATUS.bad_integrand: RESULTS.bad_integrand,
        quadax.STATUS.roundoff: RESULTS.roundoff,
        quadax.STATUS.divergent: RESULTS.divergent,
    }
    out = RESULTS.successful
    for member, item in table.items():
        out = status_where(code == int(member), item, out)
    return out


def _importance(logp, pairs, args, key, n_samples) -> EntropyResult:
    d = len(pairs)
    dtype = jnp.result_type(float)
    mode, cov = _laplace(logp, args, jnp.asarray(_centre(pairs), dtype))
    chol = jnp.linalg.cholesky(cov)
    k1, k2 = jax.random.split(key)
    z = jax.random.normal(k1, (n_samples, d), dtype)
    chi = jax.random.gamma(k2, _DF / 2, (n_samples,), dtype) * 2 / _DF
    x = mode[None, :] + (z / jnp.sqrt(chi)[:, None]) @ chol.T
    # log q of the multivariate t (df, mode, cov).
    solved = jax.scipy.linalg.solve_triangular(
        chol, (x - mode[None, :]).T, lower=True
    ).T
    quad = jnp.sum(solved**2, axis=1)
    log_q = (
        math.lgamma((_DF + d) / 2)
        - math.lgamma(_DF / 2)
        - d / 2 * math.log(_DF * math.pi)
        - jnp.sum(jnp.log(jnp.diagonal(chol)))
        - (_DF + d) / 2 * jnp.log1p(quad / _DF)
    )
    inside = jnp.ones(n_samples, bool)
    for i, (lo, hi) in enumerate(pairs):
        inside = inside & (x[:, i] > lo) & (x[:, i] < hi)
    ell = jax.vmap(lambda xi: logp(xi, *args))(x)
    ell = jnp.where(inside, ell, -jnp.inf)
    finite = jnp.isfinite(ell)
    w = jnp.where(finite, jnp.exp(jnp.where(finite, ell - log_q, 0.0)), 0.0)
    terms = jnp.where(finite, -w * ell, 0.0)
    n = n_samples
    mass, h = jnp.mean(w), jnp.mean(terms)
    se_mass = jnp.std(w) / math.sqrt(n)
    se = jnp.std(terms) / math.sqrt(n)
    ess = jnp.sum(w) ** 2 / jnp.sum(w * w)
    status = status_where(
        jnp.abs(mass - 1) > 4 * se_mass, RESULTS.mass_not_found, RESULTS.successful
    )
    status = status_where(ess < n / 1000, RESULTS.unverified, status)
    z95 = 1.959963984540054
    interval = jnp.stack([h - z95 * se, h + z95 * se])
    method = f"importance sampling (d={d}, n={n}, Student-t proposal at the mode)"
    return EntropyResult(h, se, status, method, interval)


def multivariate_entropy(
    logp: Callable, pairs, *, args: tuple, key, n_samples
) -> EntropyResult:
    """Entropy of a ``d``-variate log-density on the box (or region) ``pairs``."""
    d = len(pairs)
    if not isinstance(args, tuple):
        raise TypeError(
            f"entropy: `args` must be a tuple of the extra arguments of the "
            f"log-density; got {type(args).__name__} {args!r}."
        )
    try:
        out = jax.eval_shape(lambda x: logp(x, *args), jnp.zeros(d))
    except Exception as error:  # the user's function failed: say where
        raise TypeError(
            f"entropy: calling the log-density with x of shape ({d},) (one entry "
            f"per pair of `support`) failed ({type(error).__name__}: {error})."
        ) from error
    if getattr(out, "shape", None) != ():
        raise TypeError(
            f"entropy: a {d}-dimensional log-density must return a scalar; got {out!r}."
        )
    if d <= 3:
        return _cubature(logp, pairs, args)
    if key is None:
        raise ValueError(
            f"entropy: a {d}-dimensional log-density (d > 3) is integrated by "
            "importance sampling, which needs `key=jax.random.key(...)`."
        )
    n_samples = (
        2**16
        if n_samples is None
        else positive_int("entropy", "n_samples", n_samples, 100)
    )
    return _importance(logp, pairs, args, key, n_samples)

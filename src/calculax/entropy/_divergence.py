r"""``kl_divergence`` and ``cross_entropy``: closed forms where known, else quadrature.

.. math::

    D_{\mathrm{KL}}(p\,\|\,q) = \int p\log\frac pq, \qquad
    H(p, q) = -\int p\log q = H(p) + D_{\mathrm{KL}}(p\,\|\,q).

Closed forms (same family, same support): ``norm``, ``expon``, ``gamma``, ``beta``,
``multivariate_normal``, ``dirichlet``. The normal and exponential forms are written
as :math:`\tfrac12(\operatorname{expm1}(\ell) - \ell)` with :math:`\ell` the log
variance ratio, exact when :math:`p \approx q` (the textbook
:math:`\log r + \frac{1}{2r^2} - \frac12` cancels to noise there). Anything else:
:func:`._numerical.logpdf_entropy` with the functional :math:`\log p - \log q`.

References:
    Penny, W. D. (2001), *KL-divergences of normal, gamma, Dirichlet and Wishart
    densities*, Wellcome Department of Cognitive Neurology.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, gammaln
from scipy import stats

from ._entropy import entropy
from ._families._special import log_beta
from ._numerical import logpdf_entropy
from ._result import EntropyResult
from ._scipy import callback_logpdf, scipy_parts, supported_message

__all__ = ["kl_divergence", "cross_entropy"]


def _half_expm1_minus(ell):
    """:math:`\\tfrac12(e^\\ell - 1 - \\ell)`, exact near :math:`\\ell = 0`."""
    return 0.5 * (jnp.expm1(ell) - ell)


def _kl_norm(p, q):
    ell = 2 * (jnp.log(p.scale) - jnp.log(q.scale))
    return _half_expm1_minus(ell) + 0.5 * ((p.loc - q.loc) / q.scale) ** 2


def _kl_expon(p, q):
    return 2 * _half_expm1_minus(jnp.log(p.scale) - jnp.log(q.scale))


def _kl_gamma(p, q):
    (ap,), (aq,) = p.shapes, q.shapes
    tp, tq = p.scale, q.scale
    return (
        (ap - aq) * digamma(ap)
        - gammaln(ap)
        + gammaln(aq)
        + aq * (jnp.log(tq) - jnp.log(tp))
        + ap * jnp.expm1(jnp.log(tp) - jnp.log(tq))
    )


def _kl_beta(p, q):
    (ap, bp), (aq, bq) = p.shapes, q.shapes
    return (
        log_beta(aq, bq)
        - log_beta(ap, bp)
        + (ap - aq) * digamma(ap)
        + (bp - bq) * digamma(bp)
        + (aq - ap + bq - bp) * digamma(ap + bp)
    )


_CLOSED = {"norm": _kl_norm, "expon": _kl_expon, "gamma": _kl_gamma, "beta": _kl_beta}
_SAME_LOC = {"expon", "gamma", "beta"}


def _kl_mvn(p, q):
    mp, mq = jnp.asarray(p.mean), jnp.asarray(q.mean)
    sp, sq = jnp.asarray(p.cov), jnp.asarray(q.cov)
    chol = jnp.linalg.cholesky(sq)
    solve = jax.scipy.linalg.cho_solve
    d = sp.shape[-1]
    trace = jnp.trace(solve((chol, True), sp))
    diff = mq - mp
    maha = diff @ solve((chol, True), diff)
    logdet_q = 2 * jnp.sum(jnp.log(jnp.diagonal(chol)))
    logdet_p = 2 * jnp.sum(jnp.log(jnp.diagonal(jnp.linalg.cholesky(sp))))
    return 0.5 * (trace + maha - d + logdet_q - logdet_p)


def _kl_dirichlet(p, q):
    a, b = jnp.asarray(p.alpha, float), jnp.asarray(q.alpha, float)
    a0, b0 = jnp.sum(a), jnp.sum(b)
    return (
        gammaln(a0)
        - jnp.sum(gammaln(a))
        - gammaln(b0)
        + jnp.sum(gammaln(b))
        + jnp.sum((a - b) * (digamma(a) - digamma(a0)))
    )


def _closed(p, q):
    """``(kl, name)`` if a closed form applies, else ``None``."""
    frozen = stats._multivariate
    for cls, fn, name in (
        (frozen.multivariate_normal_frozen, _kl_mvn, "multivariate_normal"),
        (frozen.dirichlet_frozen, _kl_dirichlet, "dirichlet"),
    ):
        if isinstance(p, cls) and isinstance(q, cls):
            return fn(p, q), name
    pp, qq = scipy_parts(p), scipy_parts(q)
    if pp is None or qq is None or pp.name != qq.name or pp.name not in _CLOSED:
        return None
    if pp.name in _SAME_LOC and not np.all(np.asarray(pp.loc) == np.asarray(qq.loc)):
        return None
    if pp.name == "beta" and not np.all(np.asarray(pp.scale) == np.asarray(qq.scale)):
        return None
    return _CLOSED[pp.name](_as_jax(pp), _as_jax(qq)), pp.name


def _as_jax(parts):
    return parts._replace(
        shapes=tuple(jnp.asarray(s, float) for s in parts.shapes),
        loc=jnp.asarray(parts.loc, float),
        scale=jnp.asarray(parts.scale, float),
    )


def _log_ratio(logq, x, lp, fargs):
    return lp - logq(x, *fargs)


def _as_logpdf(dist, what):
    if callable(dist) and scipy_parts(dist) is None:
        return dist, None
    parts = scipy_parts(dist)
    if parts is None:
        raise TypeError(supported_message(what, dist))
    return (lambda x, *a: callback_logpdf(dist)(x)), parts


def _numerical(p, q, support, args, what) -> EntropyResult:
    logp, parts = _as_logpdf(p, what)
    logq, _ = _as_logpdf(q, what)
    if support is None:
        if parts is None:
            raise TypeError(
                f"{what}: log-densities need `support=(lo, hi)` (p's support)."
            )
        support = parts.support
    return logpdf_entropy(
        logp,
        support,
        args=args,
        refine=parts is None,
        functional=jax.tree_util.Partial(_log_ratio, logq),
        fargs=args,
        method="quadrature: quadax.quadgk of exp(logp) * (logp - logq)",
    )


def kl_divergence(p, q, *, support=None, args: tuple = (), full_output: bool = False):
    r"""Kullback-Leibler divergence :math:`D_{\mathrm{KL}}(p\,\|\,q)` in nats.

    Closed form for two frozen ``scipy.stats`` distributions of the same family
    among ``norm``, ``expon``, ``gamma``, ``beta`` (same ``loc``; ``beta`` also the
    same ``scale``), ``multivariate_normal`` and ``dirichlet``; otherwise quadrature
    of :math:`p(\log p - \log q)` over ``p``'s support (``support=`` for
    log-densities ``p(x, *args)``, ``q(x, *args)``), with an error estimate.

    Args:
        p, q: frozen SciPy distributions or JAX log-densities.
        support: ``(lo, hi)`` of ``p`` when ``p`` is a log-density.
        args: extra arguments of both log-densities.
        full_output: return an :class:`EntropyResult` (value, error, method).

    Returns:
        The divergence (scalar or the broadcast parameter shape), or an
        :class:`EntropyResult`.

    Raises:
        TypeError: unsupported objects, or log-densities without ``support``.

    Example:
        >>> import scipy.stats
        >>> from calculax.entropy import kl_divergence
        >>> kl = kl_divergence(scipy.stats.norm(0, 1), scipy.stats.norm(1, 2))
        >>> print(f"{float(kl):.6f}")
        0.443147
    """
    closed = _closed(p, q)
    if closed is not None:
        value, name = closed
        result = EntropyResult(value, jnp.zeros_like(value), f"closed-form: {name}")
    else:
        result = _numerical(p, q, support, args, "kl_divergence")
    return result if full_output else result.value


def cross_entropy(p, q, *, support=None, args: tuple = (), full_output: bool = False):
    r"""Cross-entropy :math:`H(p, q) = -\int p\log q = H(p) + D_{\mathrm{KL}}(p\|q)`.

    Uses :func:`entropy` and :func:`kl_divergence` (closed forms where both have
    one). Arguments and returns as :func:`kl_divergence`.

    Example:
        >>> import scipy.stats
        >>> from calculax.entropy import cross_entropy
        >>> h = cross_entropy(scipy.stats.norm(0, 1), scipy.stats.norm(0, 1))
        >>> print(f"{float(h):.6f}")
        1.418939
    """
    if callable(p) and scipy_parts(p) is None:
        h = entropy(p, full_output=True, support=support, args=args)
    else:
        h = entropy(p, full_output=True)
    kl = kl_divergence(p, q, support=support, args=args, full_output=True)
    assert isinstance(h, EntropyResult) and isinstance(kl, EntropyResult)
    method = h.method if h.method == kl.method else f"{h.method} + {kl.method}"
    result = EntropyResult(h.value + kl.value, h.error + kl.error, method)
    return result if full_output else result.value

r"""``kl_divergence`` and ``cross_entropy``: closed forms where known, else quadrature.

.. math::

    D_{\mathrm{KL}}(p\,\|\,q) = \int p\log\frac pq, \qquad
    H(p, q) = -\int p\log q = H(p) + D_{\mathrm{KL}}(p\,\|\,q).

Closed forms (same family, same support): ``norm``, ``expon``, ``gamma``, ``beta``,
``multivariate_normal``, ``dirichlet``, from SciPy frozen distributions or the
same families of numpyro/TFP/distrax. The normal and exponential forms are written
as :math:`\tfrac12(\operatorname{expm1}(\ell) - \ell)` with :math:`\ell` the log
variance ratio, exact when :math:`p \approx q`.

Anything else: :func:`calculax.integrate.expectation` of
:math:`\log p - \log q` under :math:`p`, with the support rules:

* where :math:`p > 0` and :math:`q = 0` on a set of positive :math:`p`-mass (a
  support of :math:`p` not inside that of :math:`q`, or :math:`\log q = -\infty`
  at points the quadrature samples), the divergence (and the cross-entropy) is
  :math:`+\infty`, exactly;
* both densities must be normalised: :math:`p`'s mass is checked as for
  ``entropy``, and :math:`q`'s over its own support (``q_support``, default
  :math:`p`'s), each accused of not integrating to 1 only when two independent
  methods agree;
* the divergence is never negative: a value below 0 within its error is
  returned as ``0`` (its error kept), one below 0 beyond its error is flagged
  ``unverified``.

References:
    Penny, W. D. (2001), *KL-divergences of normal, gamma, Dirichlet and Wishart
    densities*, Wellcome Department of Cognitive Neurology.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.special import digamma, gammaln

from .._core.results import RESULTS, finish
from .._core.validate import boolean, is_traced, support_pair
from ._adapters import adapt
from ._arguments import density_arguments
from ._entropy import apply_mass_check, closed, entropy
from ._families._special import log_beta
from ._numerical import density_integrals
from ._result import EntropyResult, status_where
from ._scipy import callback_logpdf, is_scipy, scipy_parts, supported_message

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
    import jax

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


class _Parts:
    """A family, its shapes, loc and scale (SciPy's parametrisation)."""

    def __init__(self, name, shapes, loc, scale):
        self.name = name
        self.shapes = tuple(jnp.asarray(s, float) for s in shapes)
        self.loc = jnp.asarray(loc, float)
        self.scale = jnp.asarray(scale, float)


def _family(dist) -> _Parts | None:
    parts = scipy_parts(dist)
    if parts is not None:
        return _Parts(parts.name, parts.shapes, parts.loc, parts.scale)
    found = adapt(dist)
    if found is not None and found.kind == "family":
        return _Parts(found.name, found.shapes, found.loc, found.scale)
    return None


def _closed_kl(p, q):
    """``(kl, name)`` if a closed form applies, else ``None``."""
    if is_scipy(p) and is_scipy(q):
        from scipy.stats import _multivariate as frozen

        for cls, fn, name in (
            (frozen.multivariate_normal_frozen, _kl_mvn, "multivariate_normal"),
            (frozen.dirichlet_frozen, _kl_dirichlet, "dirichlet"),
        ):
            if isinstance(p, cls) and isinstance(q, cls):
                return fn(p, q), name
    pp, qq = _family(p), _family(q)
    if pp is None or qq is None or pp.name != qq.name or pp.name not in _CLOSED:
        return None
    if is_traced((pp.loc, qq.loc, pp.scale, qq.scale)):
        same_loc = same_scale = True  # traced library parameters: the form applies
    else:
        same_loc = bool(np.all(np.asarray(pp.loc) == np.asarray(qq.loc)))
        same_scale = bool(np.all(np.asarray(pp.scale) == np.asarray(qq.scale)))
    if pp.name in _SAME_LOC and not same_loc:
        return None
    if pp.name == "beta" and not same_scale:
        return None
    return _CLOSED[pp.name](pp, qq), pp.name


def _as_density(dist, what, who, support):
    """``(logpdf(x, *args), support or None)`` of ``dist`` (``who`` is p or q)."""
    found = adapt(dist)
    if found is not None:
        if found.batch_shape:
            raise TypeError(
                f"{what}: `{who}` has batch shape {found.batch_shape}; the quadrature "
                "path takes one distribution (loop or vmap over the batch)."
            )
        if found.logpdf is None:
            raise TypeError(
                f"{what}: `{who}` ({found.library}.{found.cls}) is multivariate; the "
                "quadrature path is one-dimensional."
            )
        log_prob = found.logpdf
        return (lambda x, *a: log_prob(x)), (support or found.support)
    parts = scipy_parts(dist)
    if parts is not None:
        logpdf = callback_logpdf(dist)
        return (lambda x, *a: logpdf(x)), (support or parts.support)
    if callable(dist) and not is_scipy(dist):
        return dist, support
    raise TypeError(supported_message(what, dist))


class _Ratio:
    """``(x, log p(x), *args) -> [log p - log q, 1 where q = 0]`` (q = 0 reads 0)."""

    def __init__(self, logq, lo, hi, cross: bool):
        self.logq = logq
        self.lo, self.hi = lo, hi
        self.cross = cross

    def __call__(self, x, logp_x, *args):
        inside = (x > self.lo) & (x < self.hi)
        lq = jnp.where(inside, self.logq(x, *args), -jnp.inf)
        zero = lq == -jnp.inf
        body = -lq if self.cross else logp_x - lq
        return jnp.stack([jnp.where(zero, 0.0, body), jnp.where(zero, 1.0, 0.0)])


def _q_normalised(logq, q_support, args, what):
    """Check that ``q`` integrates to 1 over its support (raises if it surely
    does not); ``True`` if confirmed, ``False`` if its mass could not be found."""
    result, check = density_integrals(
        logq, q_support, None, args=args, modes=None, scale=None, where=f"{what} (q)"
    )
    return check is None or check.kind == "inexact"


def _numerical(p, q, support, q_support, args, modes, scale, what, cross):
    logp, p_support = _as_density(p, what, "p", support)
    logq, q_known = _as_density(q, what, "q", q_support)
    if p_support is None:
        raise TypeError(
            f"{what}: `p` is a log-density: pass its support, `support=(lo, hi)` "
            "(ends may be infinite)."
        )
    p_support, modes, scale = density_arguments(what, p_support, modes, scale)
    q_support = p_support if q_known is None else support_pair(what, q_known)
    method = f"quadrature of p ({'-log q' if cross else 'log p - log q'}), log space"
    # p has mass where q has none: the divergence is +inf, exactly.
    if p_support[0] < q_support[0] or p_support[1] > q_support[1]:
        inf = jnp.asarray(jnp.inf)
        return EntropyResult(
            inf,
            jnp.zeros(()),
            RESULTS.successful,
            method + "; q = 0 on part of p's support",
        )
    q_ok = _q_normalised(logq, q_support, args, what)
    ratio = _Ratio(logq, *q_support, cross)
    result, check = density_integrals(
        logp, p_support, ratio, args=args, modes=modes, scale=scale, where=what
    )
    value, error = result.value[0], result.error[0]
    outside = result.value[1]
    status, error = apply_mass_check(check, value, error, result.status, result)
    if not q_ok:
        status, error = RESULTS.mass_not_found, jnp.full_like(error, jnp.inf)
    # q = 0 where p has mass (sampled): +inf exactly.
    off_support = outside > 0
    value = jnp.where(off_support, jnp.inf, value)
    error = jnp.where(off_support, 0.0, error)
    status = status_where(off_support, RESULTS.successful, status)
    if not cross:
        value, error, status = _nonnegative(value, error, status)
    return EntropyResult(value, error, status, method)


def _nonnegative(value, error, status):
    """KL >= 0: a small negative value within its error is 0; beyond, flagged."""
    negative = value < 0
    within = negative & (-value <= error)
    status = status_where(negative & ~within, RESULTS.unverified, status)
    error = jnp.where(negative & ~within, jnp.maximum(error, -value), error)
    value = jnp.where(within, 0.0, value)
    return value, error, status


def _check_common(what, full_output, throw, args):
    full_output = boolean(what, "full_output", full_output)
    throw = boolean(what, "throw", throw)
    if not isinstance(args, tuple):
        raise TypeError(
            f"{what}: `args` must be a tuple of the extra arguments of the "
            f"log-densities; got {type(args).__name__} {args!r}."
        )
    return full_output, throw


def kl_divergence(
    p,
    q,
    *,
    support=None,
    q_support=None,
    args: tuple = (),
    modes=None,
    scale=None,
    full_output: bool = False,
    throw: bool = True,
):
    r"""Kullback-Leibler divergence :math:`D_{\mathrm{KL}}(p\,\|\,q)` in nats.

    Closed form for two distributions of the same family among ``norm``,
    ``expon``, ``gamma``, ``beta`` (same ``loc``; ``beta`` also the same
    ``scale``), ``multivariate_normal`` and ``dirichlet`` (frozen SciPy objects,
    or numpyro/TFP/distrax distributions of those families); otherwise quadrature
    of :math:`p(\log p - \log q)` over ``p``'s support, in log space, with the
    support rules of the module (``+inf`` where ``q = 0`` on ``p``'s mass; both
    densities checked to integrate to 1; never negative).

    Args:
        p, q: frozen SciPy distributions, numpyro/TFP/distrax distributions, or
            JAX log-densities ``logpdf(x, *args)``, in any combination.
        support: ``(lo, hi)``, ``p``'s support (needed when ``p`` is a
            log-density).
        q_support: ``q``'s support when ``q`` is a log-density whose support is
            not ``p``'s (default: ``p``'s).
        args: extra arguments of both log-densities (a tuple).
        modes, scale: hints for the mode search of ``p`` (see ``entropy``).
        full_output: return an :class:`EntropyResult` (value, error, status,
            method).
        throw: raise on a non-OK status (default).

    Returns:
        The divergence (``+inf`` where ``q`` misses ``p``'s mass), or an
        :class:`EntropyResult`.

    Raises:
        TypeError: unsupported objects, or a log-density ``p`` without
            ``support``; arguments of the wrong type.
        ValueError: a density that two independent methods agree does not
            integrate to 1 (the message names ``p`` or ``q`` and its integral).
        calculax.NumericalError: with ``throw=True``, a non-OK status.

    Example:
        >>> import scipy.stats
        >>> from calculax.information import kl_divergence
        >>> kl = kl_divergence(scipy.stats.norm(0, 1), scipy.stats.norm(1, 2))
        >>> print(f"{float(kl):.6f}")
        0.443147
        >>> float(kl_divergence(scipy.stats.norm(0, 1), scipy.stats.expon()))
        inf
    """
    what = "kl_divergence"
    full_output, throw = _check_common(what, full_output, throw, args)
    found = _closed_kl(p, q)
    if found is not None:
        value, name = found
        result = closed(value, f"closed-form: {name}")
    else:
        result = _numerical(p, q, support, q_support, args, modes, scale, what, False)
    result = finish(result, throw, what)
    return result if full_output else result.value


def cross_entropy(
    p,
    q,
    *,
    support=None,
    q_support=None,
    args: tuple = (),
    modes=None,
    scale=None,
    full_output: bool = False,
    throw: bool = True,
):
    r"""Cross-entropy :math:`H(p, q) = -\int p\log q = H(p) + D_{\mathrm{KL}}(p\|q)`.

    :func:`entropy` plus :func:`kl_divergence` where both have closed forms;
    otherwise one quadrature of :math:`-p\log q` with the support rules of
    :func:`kl_divergence` (``+inf`` where ``q = 0`` on ``p``'s mass). Arguments
    and returns as :func:`kl_divergence`.

    Example:
        >>> import scipy.stats
        >>> from calculax.information import cross_entropy
        >>> h = cross_entropy(scipy.stats.norm(0, 1), scipy.stats.norm(0, 1))
        >>> print(f"{float(h):.6f}")
        1.418939
    """
    what = "cross_entropy"
    full_output, throw = _check_common(what, full_output, throw, args)
    found = _closed_kl(p, q)
    if found is not None:
        h = entropy(p, full_output=True, throw=False)
        assert isinstance(h, EntropyResult)  # full_output=True
        kl = closed(found[0], f"closed-form: {found[1]}")
        status = status_where(h.ok & kl.ok, RESULTS.successful, RESULTS.divergent)
        result = EntropyResult(
            h.value + kl.value, h.error + kl.error, status, f"{h.method} + {kl.method}"
        )
    else:
        result = _numerical(p, q, support, q_support, args, modes, scale, what, True)
    result = finish(result, throw, what)
    return result if full_output else result.value

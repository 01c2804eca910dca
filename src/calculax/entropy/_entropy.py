"""``entropy``: the differential entropy of a distribution or a log-density."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from ._adapters import Adapted, adapt
from ._closed_form import FAMILIES, family_entropy
from ._multivariate import (
    dirichlet_entropy,
    multivariate_t_entropy,
    mvn_entropy,
    wishart_entropy,
)
from ._numerical import logpdf_entropy
from ._result import EntropyResult
from ._scipy import callback_logpdf, scipy_parts, supported_message

__all__ = ["entropy"]


def _multivariate(dist) -> tuple[jax.Array, str] | None:
    frozen = stats._multivariate
    if isinstance(dist, frozen.multivariate_normal_frozen):
        return mvn_entropy(jnp.asarray(dist.cov)), "multivariate_normal"
    if isinstance(dist, frozen.multivariate_t_frozen):
        value = multivariate_t_entropy(jnp.asarray(dist.shape), dist.df)
        return value, "multivariate_t"
    if isinstance(dist, frozen.dirichlet_frozen):
        return dirichlet_entropy(jnp.asarray(dist.alpha, float)), "dirichlet"
    if isinstance(dist, frozen.wishart_frozen):
        return wishart_entropy(dist.df, jnp.asarray(dist.scale, float)), "wishart"
    return None


def _scipy_numerical(parts, dist) -> EntropyResult:
    """Quadrature for a SciPy family without a closed form, scaled by its IQR."""
    spread = float(dist.ppf(0.75) - dist.ppf(0.25))
    scale = spread if np.isfinite(spread) and spread > 0 else float(parts.scale)
    return logpdf_entropy(
        callback_logpdf(dist),
        parts.support if np.isfinite(parts.support).any() else (-np.inf, np.inf),
        loc=float(dist.median()),
        scale=scale,
        refine=False,
    )


_OUT_OF_RANGE = (
    "the closed form is {} at some of these parameters: the entropy diverges "
    "there, or its magnitude exceeds the dtype's range (it tends to +-inf at this "
    "parameter limit)."
)


def _closed(value, method: str) -> EntropyResult:
    """A closed-form result; a concrete infinite value says why in ``reason``."""
    reason = ""
    if not isinstance(value, jax.core.Tracer) and not bool(
        jnp.all(jnp.isfinite(value))
    ):
        sign = "+inf" if bool(jnp.any(value == jnp.inf)) else "-inf or nan"
        reason = _OUT_OF_RANGE.format(sign)
    return EntropyResult(value, jnp.zeros_like(value), method, 0, reason)


def _adapted(found: Adapted, support, loc, scale) -> EntropyResult:
    """Entropy of a numpyro/TFP/distrax distribution (see :mod:`._adapters`)."""
    source = f"{found.library}.{found.cls}"
    if found.kind == "family":
        value = family_entropy(found.name, *found.shapes, scale=found.scale)
        value = jnp.broadcast_to(
            value, jnp.broadcast_shapes(value.shape, found.batch_shape)
        )
        return _closed(value, f"closed-form: {found.name} (from {source})")
    if found.kind == "multivariate":
        fn = mvn_entropy if found.name == "multivariate_normal" else dirichlet_entropy
        value = fn(*found.shapes)
        return _closed(value, f"closed-form: {found.name} (from {source})")
    support = found.support if support is None else support
    if support is None or found.batch_shape:
        raise TypeError(
            f"entropy: {source} has no closed form here; the quadrature path needs a "
            "distribution without batch dimensions and its support: "
            "entropy(dist, support=(lo, hi)) (ends may be infinite)."
        )
    assert found.logpdf is not None  # kind == "logpdf"
    result = logpdf_entropy(found.logpdf, support, loc=loc, scale=scale)
    method = f"{result.method} (log_prob of {source})"
    return EntropyResult(
        result.value, result.error, method, result.status, result.reason
    )


def _dispatch(dist, support, loc, scale, args) -> EntropyResult:
    found = adapt(dist)
    if found is not None:
        return _adapted(found, support, loc, scale)
    if callable(dist) and support is not None:
        return logpdf_entropy(dist, support, args=args, loc=loc, scale=scale)
    parts = scipy_parts(dist)
    if parts is not None:
        if parts.name in FAMILIES:
            value = family_entropy(parts.name, *parts.shapes, scale=parts.scale)
            return _closed(value, f"closed-form: {parts.name}")
        if np.ndim(parts.scale) or any(np.ndim(s) for s in parts.shapes):
            raise ValueError(
                f"entropy: scipy.stats.{parts.name} has no closed form here, and the "
                "quadrature path takes scalar parameters; loop over the settings."
            )
        return _scipy_numerical(parts, dist)
    multivariate = _multivariate(dist)
    if multivariate is not None:
        value, name = multivariate
        return _closed(value, f"closed-form: {name}")
    if callable(dist):
        raise TypeError(
            "entropy: a log-density needs its support: entropy(logpdf, "
            "support=(lo, hi)); use -inf/inf for unbounded ends."
        )
    raise TypeError(supported_message("entropy", dist))


def entropy(
    dist,
    base: float | None = None,
    full_output: bool = False,
    *,
    support: tuple[float, float] | None = None,
    loc=None,
    scale=None,
    args: tuple = (),
) -> jax.Array | EntropyResult:
    r"""Differential entropy :math:`H = -\int p\log p` of a distribution.

    How it is computed depends on ``dist``:

    * a frozen ``scipy.stats`` continuous distribution of one of the
      :data:`~calculax.entropy.FAMILIES`: its closed form in JAX
      (:func:`family_entropy`; parameters may be arrays: one vectorised evaluation);
    * any other frozen ``scipy.stats`` continuous distribution: quadrature of its
      ``logpdf`` (through ``jax.pure_callback``), centred on the median and scaled by
      the interquartile range;
    * a frozen ``multivariate_normal``, ``multivariate_t``, ``dirichlet`` or
      ``wishart``: closed form;
    * a numpyro, TensorFlow Probability (JAX substrate) or distrax distribution
      (recognised by its module, none of them imported by calculax): the SciPy
      family with the same density (``Normal``, ``Gamma``, ``Beta``, ``StudentT``,
      ``Exponential``, ``LogNormal``, ``Weibull``, ``Pareto``, ``InverseGamma``,
      ``Chi2``, ``Cauchy``, ``Laplace``, ``Logistic``, ``Gumbel``, ``HalfNormal``,
      ``HalfCauchy``, ``VonMises``, ``Uniform``; ``MultivariateNormal*``,
      ``Dirichlet``) and calculax's closed form, differentiable in the
      distribution's parameters; any other by quadrature of its ``log_prob``
      (``support=`` needed unless numpyro's ``support`` constraint gives it);
    * a JAX log-density ``dist(x, *args)`` with ``support=(lo, hi)`` (ends may be
      infinite; mixtures are log-densities too, written with ``logsumexp``):
      quadrature of :math:`-e^{\log p}\log p` in log space, mapped to the line
      (see :func:`calculax.entropy._numerical`), with optional ``loc``/``scale``
      hints; differentiable with respect to ``args``.

    Args:
        dist: the distribution (see above).
        base: logarithm base of the result (``None``: nats; ``2``: bits).
        full_output: return an :class:`EntropyResult` (value, error, method,
            status, reason) instead of the value.
        support: ``(lo, hi)`` of a log-density or of a library distribution
            without a closed form (Python floats).
        loc, scale: optional centre and width hints for a log-density on the line.
        args: extra arguments of the log-density (differentiable).

    Returns:
        The entropy (shape of the distribution's broadcast parameters), or an
        :class:`EntropyResult` with ``full_output=True``.

    Raises:
        TypeError: an object that is not a supported distribution (the message
            lists what is), or a log-density without ``support``.
        ValueError: a log-density that does not integrate to 1 (the message gives
            its integral).

    Example:
        >>> import scipy.stats
        >>> from calculax.entropy import entropy
        >>> h = entropy(scipy.stats.beta(0.5, 0.5))  # log(pi/4)
        >>> print(f"{float(h):.4f}")
        -0.2416
        >>> r = entropy(scipy.stats.norm(0, 2), full_output=True)
        >>> print(f"{float(r.value):.6f} {r.method}")
        2.112086 closed-form: norm
    """
    result = _dispatch(dist, support, loc, scale, args)
    if base is not None:
        log_base = float(np.log(base))
        result = EntropyResult(
            result.value / log_base,
            result.error / log_base,
            result.method,
            result.status,
            result.reason,
        )
    return result if full_output else result.value

"""``entropy``: the differential entropy of a distribution or a log-density."""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS, finish
from .._core.validate import boolean, is_traced
from ._adapters import Adapted, adapt
from ._arguments import density_arguments, multivariate_support
from ._closed_form import FAMILIES, family_entropy
from ._multivariate import (
    dirichlet_entropy,
    multivariate_t_entropy,
    mvn_entropy,
    wishart_entropy,
)
from ._multivariate_numerical import multivariate_entropy
from ._numerical import density_integrals, tolerances, widening
from ._result import EntropyResult, status_where
from ._scipy import callback_logpdf, is_scipy, scipy_parts, supported_message

__all__ = [
    "entropy",
    "closed",
    "rebase",
    "checked_base",
    "negative_log",
    "apply_mass_check",
]

# A closed form is checked against mpmath to 4096 ulp (tests/test_entropy_*).
_CLOSED_ULPS = 4096


def negative_log(x, logp_x, *args):
    """The entropy functional: ``-log p``."""
    return -logp_x


def closed(value, method: str) -> EntropyResult:
    """A closed-form result: its verified accuracy as error; ``divergent`` if
    the form is infinite at these parameters (the entropy diverges or leaves the
    dtype's range)."""
    value = jnp.asarray(value)
    eps = float(np.finfo(value.dtype).eps)
    error = _CLOSED_ULPS * eps * jnp.maximum(1.0, jnp.abs(value))
    status = status_where(jnp.isfinite(value), RESULTS.successful, RESULTS.divergent)
    return EntropyResult(value, error, status, method)


def _multivariate_scipy(dist) -> EntropyResult | None:
    from scipy.stats import _multivariate as frozen

    if isinstance(dist, frozen.multivariate_normal_frozen):
        return closed(
            mvn_entropy(jnp.asarray(dist.cov)), "closed-form: multivariate_normal"
        )
    if isinstance(dist, frozen.multivariate_t_frozen):
        value = multivariate_t_entropy(jnp.asarray(dist.shape), dist.df)
        return closed(value, "closed-form: multivariate_t")
    if isinstance(dist, frozen.dirichlet_frozen):
        value = dirichlet_entropy(jnp.asarray(dist.alpha, float))
        return closed(value, "closed-form: dirichlet")
    if isinstance(dist, frozen.wishart_frozen):
        value = wishart_entropy(dist.df, jnp.asarray(dist.scale, float))
        return closed(value, "closed-form: wishart")
    return None


def _scipy_numerical(parts, dist) -> EntropyResult:
    """Quadrature for a SciPy family without a closed form, scaled by its IQR."""
    spread = float(dist.ppf(0.75) - dist.ppf(0.25))
    scale = spread if np.isfinite(spread) and spread > 0 else float(parts.scale)
    median = float(dist.median())
    support = parts.support
    modes = median if np.isfinite(median) else None
    result = logdensity_entropy(
        callback_logpdf(dist), support, args=(), modes=modes, scale=scale
    )
    method = f"quadrature of scipy.stats.{parts.name}.logpdf (mapped, mode search)"
    return EntropyResult(result.value, result.error, result.status, method)


def _adapted(found: Adapted, support, modes, scale) -> EntropyResult:
    """Entropy of a numpyro/TFP/distrax distribution (see :mod:`._adapters`)."""
    source = f"{found.library}.{found.cls}"
    if found.kind == "family":
        value = family_entropy(found.name, *found.shapes, scale=found.scale)
        value = jnp.broadcast_to(
            value, jnp.broadcast_shapes(value.shape, found.batch_shape)
        )
        return closed(value, f"closed-form: {found.name} (from {source})")
    if found.kind == "multivariate":
        fn = mvn_entropy if found.name == "multivariate_normal" else dirichlet_entropy
        return closed(fn(*found.shapes), f"closed-form: {found.name} (from {source})")
    support = found.support if support is None else support
    if support is None or found.batch_shape:
        raise TypeError(
            f"entropy: {source} has no closed form here; the quadrature path needs a "
            "distribution without batch dimensions and its support: "
            "entropy(dist, support=(lo, hi)) (ends may be infinite)."
        )
    assert found.logpdf is not None  # kind == "logpdf"
    result = logdensity_entropy(
        found.logpdf, support, args=(), modes=modes, scale=scale
    )
    method = f"{result.method} (log_prob of {source})"
    return EntropyResult(result.value, result.error, result.status, method)


def apply_mass_check(check, value, error, status, result=None):
    r"""The status and error once the mass verification is taken into account.

    A flagged (non-OK) result's ``error`` is also at least what its mass
    defect can do to the value: the density is normalised, so ``|mass - 1|`` plus
    the mass's own error bounds the mass the quadrature missed or misplaced, and
    that mass moves :math:`\int p\,g` by :func:`widening` of it. This is an
    independent floor under the engine's truncation/rounding estimate (a Cauchy
    bump of width 1e-4 at 1e4: the tail model's estimate was 1.5e-6 for an
    actual error of 1.9e-6; the mass defect of 2e-7 gives 9e-6). Traced results
    (under ``jit``) get the same floor.
    """
    if result is not None:  # the same arithmetic as widening, traceable
        defect = jnp.clip(jnp.abs(result.mass - 1) + result.mass_error, 0.0, 1.0)
        log_term = jnp.abs(jnp.log(jnp.where(defect > 0, defect, 1.0)))
        floor = 2 * defect * (jnp.abs(value) + log_term + 1)
        floor = jnp.where(jnp.isfinite(floor), floor, 0.0)
        flagged = status != RESULTS.successful
        error = jnp.where(flagged, jnp.maximum(error, floor), error)
    if check is None:
        return status, error
    if check.kind == "not_found":
        return RESULTS.mass_not_found, jnp.full_like(error, jnp.inf)
    error = error + widening(value, check.deviation)
    dtype = jnp.result_type(error)
    rtol, atol = tolerances(dtype)
    over = jnp.any(error > jnp.maximum(atol, rtol * jnp.abs(value)))
    status = status_where(
        over & (status == RESULTS.successful), RESULTS.tolerance_not_met, status
    )
    return status, error


def logdensity_entropy(logp, support, *, args, modes, scale) -> EntropyResult:
    r""":math:`-\int p\log p` of a 1-D log-density, its mass verified (see
    :mod:`._numerical`)."""
    result, check = density_integrals(
        logp,
        support,
        negative_log,
        args=args,
        modes=modes,
        scale=scale,
        where="entropy",
    )
    value, error, status = result.value, result.error, result.status
    status, error = apply_mass_check(check, value, error, status, result)
    if check is None and is_traced(result.mass):
        dtype = jnp.result_type(result.mass)
        _, atol = tolerances(dtype)
        off = jnp.abs(result.mass - 1) > 4 * result.mass_error + 64 * float(
            np.finfo(dtype).eps
        )
        status = status_where(off, RESULTS.mass_not_found, status)
        error = jnp.where(off, jnp.inf, error)
    method = "quadrature of -p log p (log space, mapped, mode search)"
    return EntropyResult(value, error, status, method)


def _dispatch(dist, support, modes, scale, args, key, n_samples) -> EntropyResult:
    found = adapt(dist)
    if found is not None:
        return _adapted(found, support, modes, scale)
    if callable(dist) and not is_scipy(dist) and support is not None:
        dims = multivariate_support("entropy", support)
        if dims is not None:
            return multivariate_entropy(
                dist, dims, args=args, key=key, n_samples=n_samples
            )
        support, modes, scale = density_arguments("entropy", support, modes, scale)
        return logdensity_entropy(dist, support, args=args, modes=modes, scale=scale)
    parts = scipy_parts(dist)
    if parts is not None:
        if parts.name in FAMILIES:
            value = family_entropy(parts.name, *parts.shapes, scale=parts.scale)
            return closed(value, f"closed-form: {parts.name}")
        if np.ndim(parts.scale) or any(np.ndim(s) for s in parts.shapes):
            raise ValueError(
                f"entropy: scipy.stats.{parts.name} has no closed form here, and the "
                "quadrature path takes scalar parameters; loop over the settings."
            )
        return _scipy_numerical(parts, dist)
    if is_scipy(dist):
        multivariate = _multivariate_scipy(dist)
        if multivariate is not None:
            return multivariate
    if callable(dist):
        raise TypeError(
            "entropy: a log-density needs its support: entropy(logpdf, "
            "support=(lo, hi)); use -inf/inf for unbounded ends (for a "
            "d-dimensional log-density, support=[(lo1, hi1), ..., (lod, hid)])."
        )
    raise TypeError(supported_message("entropy", dist))


def checked_base(where: str, base) -> float | None:
    """``None`` (nats) or the logarithm base: a finite number > 0, not 1."""
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(
        base, numbers.Real | np.floating | np.integer
    ):
        if not (hasattr(base, "shape") and np.ndim(base) == 0 and not is_traced(base)):
            raise TypeError(
                f"{where}: `base` must be None (nats) or a number > 0 other than 1 "
                f"(2 for bits); got {base!r}."
            )
    value = float(base)
    if not (math.isfinite(value) and value > 0 and value != 1):
        raise ValueError(
            f"{where}: `base` must be a finite number > 0 other than 1 (log of the "
            f"base divides the entropy; 2 gives bits); got {base!r}."
        )
    return value


def rebase(result: EntropyResult, base: float | None) -> EntropyResult:
    if base is None:
        return result
    log_base = math.log(base)
    interval = None if result.interval is None else result.interval / log_base
    return EntropyResult(
        result.value / log_base,
        result.error / abs(log_base),
        result.status,
        result.method,
        interval,
    )


def entropy(
    dist,
    base: float | None = None,
    full_output: bool = False,
    *,
    support=None,
    modes=None,
    scale=None,
    args: tuple = (),
    key: jax.Array | None = None,
    n_samples: int | None = None,
    throw: bool = True,
) -> jax.Array | EntropyResult:
    r"""Differential entropy :math:`H = -\int p\log p` of a distribution.

    How it is computed depends on ``dist``:

    * a frozen ``scipy.stats`` continuous distribution of one of the
      :data:`~calculax.information.FAMILIES`: its closed form in JAX
      (:func:`family_entropy`; parameters may be arrays: one vectorised evaluation);
    * any other frozen ``scipy.stats`` continuous distribution: quadrature of its
      ``logpdf`` (through ``jax.pure_callback``), as for a log-density below,
      with the median as a mode hint and the interquartile range as scale;
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
      :func:`calculax.integrate.expectation` of :math:`-\log p`, in log space,
      after a search for the modes of :math:`\log p` over every scale of the
      support (separated modes, weights down to ``1e-6``, a density concentrated
      in a width ``1e-8`` of its location, end singularities like
      :math:`x^{-0.999}`, heavy tails). The mass must come out ``1``: if it does
      not, a wider search and an independent quadrature look again, and only if
      they agree is the density declared not normalised (``ValueError`` with its
      integral); otherwise the status is ``mass_not_found``. Differentiable with
      respect to ``args`` (and values the log-density closes over);
    * a log-density of ``d`` variables, ``dist(x, *args)`` with ``x`` of shape
      ``(d,)`` and ``support=[(lo1, hi1), ..., (lod, hid)]``: adaptive cubature
      for ``d <= 3``, importance sampling with a confidence interval above (a
      ``key`` needed); see :mod:`calculax.information._multivariate_numerical`.

    Args:
        dist: the distribution (see above).
        base: logarithm base of the result (``None``: nats; ``2``: bits); a
            finite number > 0 other than 1.
        full_output: return an :class:`EntropyResult` (value, error, status,
            method) instead of the value.
        support: ``(lo, hi)`` of a 1-D log-density (Python numbers), a list of
            such pairs for a ``d``-dimensional one, or the support of a library
            distribution without a closed form.
        modes: points near the modes of a log-density (a number or a 1-D array):
            starts of the mode search (use it for a spike too narrow to be found
            on a broad density).
        scale: the typical width of the density (a positive number).
        args: extra arguments of the log-density (a tuple; differentiable).
        key: PRNG key for the importance-sampling path (``d > 3``).
        n_samples: sample size of that path (default ``2**16``).
        throw: raise on a non-OK status (default): ``calculax.NumericalError``
            (or an ``equinox`` runtime error under ``jit``) with the message.

    Returns:
        The entropy (shape of the distribution's broadcast parameters), or an
        :class:`EntropyResult` with ``full_output=True``.

    Raises:
        TypeError: an object that is not a supported distribution (the message
            lists what is), or a log-density without ``support``; arguments of
            the wrong type.
        ValueError: invalid ``base``, ``support``, ``modes``, ``scale``; a
            log-density that two independent methods agree does not integrate
            to 1 (the message gives its integral).
        calculax.NumericalError: with ``throw=True``, a non-OK status.

    Example:
        >>> import scipy.stats
        >>> from calculax.information import entropy
        >>> h = entropy(scipy.stats.beta(0.5, 0.5))  # log(pi/4)
        >>> print(f"{float(h):.4f}")
        -0.2416
        >>> r = entropy(scipy.stats.norm(0, 2), full_output=True)
        >>> print(f"{float(r.value):.6f} {r.method}")
        2.112086 closed-form: norm
    """
    base = checked_base("entropy", base)
    full_output = boolean("entropy", "full_output", full_output)
    throw = boolean("entropy", "throw", throw)
    result = rebase(_dispatch(dist, support, modes, scale, args, key, n_samples), base)
    result = finish(result, throw, "entropy")
    return result if full_output else result.value

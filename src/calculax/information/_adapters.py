r"""Distribution objects of numpyro, TensorFlow Probability (JAX substrate) and distrax.

Recognised by duck typing on the class's module (``numpyro.distributions...``,
``tensorflow_probability.substrates.jax...``, ``distrax...``), so none of these
libraries is imported by calculax. A recognised family is mapped to the SciPy family
with the same density and handed to calculax's own closed form
(:func:`calculax.information.family_entropy`, tested against mpmath at extreme
parameters), not to the library's ``entropy()``: TFP's, for instance, returns ``0``
for a ``Beta(2, 1e20)``. The parameters stay JAX arrays, so the result is
differentiable in them and has the distribution's ``batch_shape``.

Any other univariate distribution of these libraries goes to the quadrature path
through its ``log_prob``, over ``support=`` if given, else the support read from a
numpyro distribution's ``support`` constraint (``real``, ``positive``,
``unit_interval``, ``interval``, ``greater_than``, ``less_than``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

__all__ = ["Adapted", "adapt", "LIBRARIES"]

LIBRARIES = {
    "numpyro": "numpyro.distributions",
    "tfp": "tensorflow_probability.substrates.jax.distributions",
    "distrax": "distrax.",
}


class Adapted(NamedTuple):
    """What :func:`adapt` read from a library distribution.

    ``kind`` is ``"family"`` (``name``, ``shapes``, ``scale``: a SciPy closed form),
    ``"multivariate"`` (``name`` among ``multivariate_normal``/``dirichlet`` and the
    JAX parameter in ``shapes``) or ``"logpdf"`` (``logpdf`` and ``support``, the
    latter ``None`` when unknown).
    """

    kind: str
    library: str
    cls: str
    name: str = ""
    shapes: tuple = ()
    scale: object = 1.0
    batch_shape: tuple = ()
    logpdf: Callable | None = None
    support: tuple[float, float] | None = None
    loc: object = 0.0


def _attr(dist, *names):
    """The first of ``names`` that ``dist`` has and is not ``None``."""
    for name in names:
        value = getattr(dist, name, None)
        if value is not None and not callable(value):
            return jnp.asarray(value)
    raise AttributeError(names)


def _inverse(x):
    return 1.0 / x


# class name -> (SciPy family, shapes getter, scale getter); `a` reads attributes.
_FAMILIES: dict[str, tuple[str, Callable, Callable]] = {
    "Normal": ("norm", lambda a: (), lambda a: a("scale")),
    "Cauchy": ("cauchy", lambda a: (), lambda a: a("scale")),
    "Laplace": ("laplace", lambda a: (), lambda a: a("scale")),
    "Logistic": ("logistic", lambda a: (), lambda a: a("scale")),
    "Gumbel": ("gumbel_r", lambda a: (), lambda a: a("scale")),
    "HalfNormal": ("halfnorm", lambda a: (), lambda a: a("scale")),
    "HalfCauchy": ("halfcauchy", lambda a: (), lambda a: a("scale")),
    "StudentT": ("t", lambda a: (a("df"),), lambda a: a("scale")),
    "Exponential": ("expon", lambda a: (), lambda a: _inverse(a("rate"))),
    "Gamma": (
        "gamma",
        lambda a: (a("concentration"),),
        lambda a: _inverse(a("rate")),
    ),
    "Chi2": ("chi2", lambda a: (a("df"),), lambda a: 1.0),
    "Beta": (
        "beta",
        lambda a: (a("concentration1", "alpha"), a("concentration0", "beta")),
        lambda a: 1.0,
    ),
    "Weibull": ("weibull_min", lambda a: (a("concentration"),), lambda a: a("scale")),
    "Pareto": (
        "pareto",
        lambda a: (a("alpha", "concentration"),),
        lambda a: a("scale"),
    ),
    "LogNormal": ("lognorm", lambda a: (a("scale"),), lambda a: jnp.exp(a("loc"))),
    "VonMises": ("vonmises", lambda a: (a("concentration"),), lambda a: 1.0),
    "Uniform": ("uniform", lambda a: (), lambda a: a("high") - a("low")),
}
# InverseGamma's second parameter is a rate in numpyro and a scale in TFP: both are
# SciPy's invgamma scale.
_FAMILIES["InverseGamma"] = (
    "invgamma",
    lambda a: (a("concentration"),),
    lambda a: a("rate", "scale"),
)


def _library(dist) -> str | None:
    module = type(dist).__module__ or ""
    for library, prefix in LIBRARIES.items():
        if module.startswith(prefix) or module == prefix.rstrip("."):
            return library
    return None


def _batch_shape(dist) -> tuple:
    shape = getattr(dist, "batch_shape", ())
    return tuple(int(n) for n in shape)


def _multivariate(dist, cls: str) -> tuple[str, object] | None:
    if cls.startswith("MultivariateNormal"):
        cov = getattr(dist, "covariance_matrix", None)
        if cov is None or callable(cov):
            cov = dist.covariance()
        return "multivariate_normal", jnp.asarray(cov)
    if cls == "Dirichlet":
        return "dirichlet", _attr(dist, "concentration")
    return None


def _numpyro_support(dist) -> tuple[float, float] | None:
    support = getattr(dist, "support", None)
    if support is None:
        return None
    name = type(support).__name__.lstrip("_")
    try:
        if name in ("Real", "RealVector"):
            return (-np.inf, np.inf)
        if name in ("Positive", "GreaterThan", "GreaterThanEq"):
            lo = float(getattr(support, "lower_bound", 0.0))
            return (lo, np.inf)
        if name == "LessThan":
            return (-np.inf, float(support.upper_bound))
        if name in ("UnitInterval", "OpenInterval", "Interval"):
            lo = float(getattr(support, "lower_bound", 0.0))
            return (lo, float(getattr(support, "upper_bound", 1.0)))
    except TypeError:  # traced bounds
        return None
    return None


def adapt(dist) -> Adapted | None:
    """Read a numpyro/TFP/distrax distribution; ``None`` for anything else."""
    library = _library(dist)
    if library is None:
        return None
    cls = type(dist).__name__
    batch = _batch_shape(dist)
    if cls in _FAMILIES and len(tuple(getattr(dist, "event_shape", ()))) == 0:
        name, shapes, scale = _FAMILIES[cls]

        def read(*names):
            return _attr(dist, *names)

        try:
            return Adapted(
                "family",
                library,
                cls,
                name,
                shapes(read),
                scale(read),
                batch,
                _LogProb(dist),
                _family_support(name, dist),
                _loc(dist),
            )
        except AttributeError:
            pass  # parametrised another way (TFP's log_rate, ...): quadrature
    multivariate = _multivariate(dist, cls)
    if multivariate is not None:
        name, param = multivariate
        return Adapted("multivariate", library, cls, name, (param,), batch_shape=batch)
    if len(tuple(getattr(dist, "event_shape", ()))) > 0:
        raise TypeError(
            f"entropy: {library}.{cls} is a multivariate distribution without a "
            "closed form here (supported: MultivariateNormal*, Dirichlet); the "
            "quadrature path is one-dimensional."
        )
    support = _numpyro_support(dist) if library == "numpyro" else None
    return Adapted(
        "logpdf",
        library,
        cls,
        logpdf=_LogProb(dist),
        support=support,
        batch_shape=batch,
    )


_LINE = ("norm", "cauchy", "laplace", "logistic", "gumbel_r", "t")


def _loc(dist):
    value = getattr(dist, "loc", None)
    return 0.0 if value is None or callable(value) else jnp.asarray(value)


def _family_support(name: str, dist) -> tuple[float, float] | None:
    """The support of a library family (``None`` when it depends on traced or
    batched parameters)."""
    try:
        if name in _LINE:
            return (-np.inf, np.inf)
        if name == "beta":
            return (0.0, 1.0)
        if name == "vonmises":
            loc = float(_loc(dist))
            return (loc - np.pi, loc + np.pi)
        if name == "uniform":
            return (float(dist.low), float(dist.high))
        if name == "pareto":
            return (float(_attr(dist, "scale")), np.inf)
        return (0.0, np.inf)
    except (TypeError, AttributeError, ValueError):  # traced or batched bounds
        return None


class _LogProb:
    """``x -> dist.log_prob(x)``, hashable by the distribution's identity."""

    def __init__(self, dist):
        self.dist = dist

    def __call__(self, x):
        return self.dist.log_prob(x)

    def __hash__(self):
        return id(self.dist)

    def __eq__(self, other):
        return isinstance(other, _LogProb) and other.dist is self.dist

"""Read a SciPy frozen distribution: its family, parameters and a log-density."""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._closed_form import FAMILIES

__all__ = [
    "ScipyParts",
    "scipy_parts",
    "is_scipy",
    "MULTIVARIATE",
    "supported_message",
]

MULTIVARIATE = ("multivariate_normal", "multivariate_t", "dirichlet", "wishart")


def supported_message(what: str, obj) -> str:
    return (
        f"{what}: cannot use an object of type {type(obj).__name__}. Supported: a "
        "frozen scipy.stats continuous distribution (closed forms for "
        f"{len(FAMILIES)} families: {', '.join(FAMILIES)}; any other continuous "
        "family by quadrature), a frozen scipy.stats "
        f"{', '.join(MULTIVARIATE)}, a numpyro, TensorFlow Probability (JAX "
        "substrate) or distrax distribution, or a JAX log-density passed as "
        "entropy(logpdf, support=(lo, hi)) (logpdf(x) -> log p(x), ends may be "
        "infinite)."
    )


class ScipyParts(NamedTuple):
    """What calculax needs from a univariate SciPy frozen distribution."""

    name: str
    shapes: tuple
    loc: float
    scale: float
    support: tuple[float, float]


def is_scipy(obj) -> bool:
    """Whether ``obj`` comes from ``scipy.stats`` (checked without importing it)."""
    return (type(obj).__module__ or "").startswith("scipy.stats")


def scipy_parts(dist) -> ScipyParts | None:
    """Family name, shapes, loc, scale and support; ``None`` if not univariate."""
    if not is_scipy(dist):
        return None
    from scipy import stats

    family = getattr(dist, "dist", None)
    if not isinstance(family, stats.rv_continuous):
        return None
    shapes, loc, scale = family._parse_args(*dist.args, **dist.kwds)
    lo, hi = dist.support()
    return ScipyParts(family.name, tuple(shapes), loc, scale, (lo, hi))


def callback_logpdf(dist):
    """``dist.logpdf`` as a JAX function (``pure_callback``, not differentiable)."""

    def logpdf(x):
        x = jnp.asarray(x, jnp.result_type(float))

        def host(y):
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SciPy's own overflow chatter
                values = dist.logpdf(np.asarray(y, np.float64))
                # A log-density beyond the dtype's range is -inf (or +inf) there:
                # cast inside the same silence (float32 overflows at 3.4e38).
                return np.asarray(values, x.dtype)

        out = jax.ShapeDtypeStruct(x.shape, x.dtype)
        return jax.pure_callback(host, out, x, vmap_method="expand_dims")

    return logpdf

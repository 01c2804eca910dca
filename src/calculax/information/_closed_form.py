"""``family_entropy``: the closed-form entropy of a SciPy family, JAX-traceable."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .._core.validate import error_if_traced, is_traced
from ._families._registry import REGISTRY

__all__ = ["family_entropy", "FAMILIES"]

FAMILIES: tuple[str, ...] = tuple(sorted(REGISTRY))


def _unknown(name: str) -> ValueError:
    return ValueError(
        f"family_entropy: no closed form for family {name!r}. Families with one: "
        f"{', '.join(FAMILIES)}. For any other density call "
        "calculax.entropy(logpdf, support=(lo, hi)) with a JAX log-density."
    )


def family_entropy(name: str, *shapes, scale=1.0) -> jax.Array:
    r"""Differential entropy (nats) of ``scipy.stats.<name>(*shapes, scale=scale)``.

    .. math:: H = H_{\text{standard}}(\text{shapes}) + \log(\text{scale})

    where :math:`H_{\text{standard}}` is the family's closed form at ``loc=0,
    scale=1`` (``loc`` never matters), written so that no term cancels at extreme
    parameters (see :mod:`calculax.information._families._special`). Traceable: works
    under ``jit``, ``vmap`` and ``grad`` with respect to every parameter; the
    parameters broadcast against each other.

    Args:
        name: a ``scipy.stats`` continuous family name in :data:`FAMILIES`.
        *shapes: the family's shape parameters, in SciPy's order (arrays).
        scale: the scale parameter (array), positive.

    Returns:
        The entropy, shape of the broadcast parameters, dtype
        ``result_type(float, *shapes, scale)``.

    Raises:
        ValueError: unknown family or wrong number of shape parameters.
        ValueError: parameters outside the family's domain (under ``jit``: an
            ``equinox.EquinoxRuntimeError`` with the same sentence).

    Example:
        >>> from calculax.information import family_entropy
        >>> print(f"{float(family_entropy('gamma', 1e10)):.6f}")
        12.931864
    """
    if name not in REGISTRY:
        raise _unknown(name)
    family = REGISTRY[name]
    if len(shapes) != len(family.shapes):
        raise ValueError(
            f"family_entropy: {name!r} takes {len(family.shapes)} shape parameter(s) "
            f"{family.shapes}, got {len(shapes)}."
        )
    dtype = jnp.result_type(float, *shapes, scale)
    params = [jnp.asarray(p, dtype) for p in (*shapes, scale)]
    shape = jnp.broadcast_shapes(*(p.shape for p in params))
    params = [jnp.broadcast_to(p, shape) for p in params]
    *arrays, scale = params
    valid = jnp.asarray(family.valid(*arrays)) & (scale > 0)
    received = ""
    if not any(is_traced(p) for p in params):
        shown = ", ".join(
            f"{n}={np.asarray(a).tolist()}" for n, a in zip(family.shapes, arrays)
        )
        prefix = shown + ", " if shown else ""
        received = f" Got {name}({prefix}scale={np.asarray(scale).tolist()})."
    scale = error_if_traced(
        scale,
        ~valid,
        f"family_entropy: parameters of {name}{family.shapes} or scale outside the "
        "family's domain (see the scipy.stats documentation of this family; the "
        f"scale must be > 0).{received}",
    )
    standard = jnp.broadcast_to(jnp.asarray(family.standard(*arrays), dtype), shape)
    return standard + jnp.log(scale)

"""Checks of the arguments a log-density comes with (support, modes, scale)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .._core.validate import is_traced, positive_float, real_points, support_pair

__all__ = ["density_arguments", "multivariate_support"]


def _is_pair_list(support) -> bool:
    if isinstance(support, str | bytes) or not hasattr(support, "__len__"):
        return False
    if len(support) == 0:
        return False
    first = support[0]
    return hasattr(first, "__len__") and not isinstance(first, str | bytes)


def multivariate_support(where: str, support) -> list | None:
    """``[(lo1, hi1), ..., (lod, hid)]`` for ``d >= 2``; ``None`` for one pair.

    An entry may also be a callable ``lim(x_prev) -> (lo, hi)`` of the
    coordinates before it (a non-box region, e.g. a simplex; ``d <= 3`` only).
    """
    if isinstance(support, str | bytes) or not hasattr(support, "__len__"):
        return None
    if not any(callable(s) for s in support) and not _is_pair_list(support):
        return None
    pairs = [
        entry if callable(entry) else support_pair(where, entry) for entry in support
    ]
    if len(pairs) == 1:
        return None
    if any(callable(p) for p in pairs) and len(pairs) > 3:
        raise ValueError(
            f"{where}: callable bounds in `support` are for d <= 3 (cubature); got "
            f"d = {len(pairs)}."
        )
    return pairs


def density_arguments(where: str, support, modes, scale):
    """``support`` as ``(lo, hi)``, ``modes`` as a 1-D array or ``None``, ``scale``
    as a positive float or ``None``; each checked with a message naming it."""
    if _is_pair_list(support):
        support = support[0]
    lo, hi = support_pair(where, support)
    if modes is not None:
        modes = real_points(where, "modes", modes, jnp.result_type(float))
        if (
            not is_traced(modes)
            and modes.size
            and not bool(jnp.all((modes >= lo) & (modes <= hi)))
        ):
            raise ValueError(
                f"{where}: `modes` must lie inside `support` {(lo, hi)}; got "
                f"{np.asarray(modes)!r}."
            )
    if scale is not None:
        scale = positive_float(where, "scale", scale)
    return (lo, hi), modes, scale

"""Argument checks of the curvature functions, with one-sentence messages.

Generic checks (numbers, ints, choices) come from ``calculax._core.validate``; what
is specific to curvature (random keys, budgets, meshes) lives here. Every check
runs at trace time on Python values, so that a wrong argument is a ``TypeError`` or
``ValueError`` naming the function and the argument, never an error from inside JAX.
"""

from __future__ import annotations

import numbers
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from .._core.results import RESULTS
from .._core.validate import boolean

__all__ = ["budget", "key", "mesh", "throw"]

AXIS = "probes"


def key(where: str, value: Any) -> jax.Array:
    """A single ``jax.random`` key: a typed key of shape ``()`` or raw ``uint32[2]``."""
    if isinstance(value, jax.Array | np.ndarray) or hasattr(value, "dtype"):
        dtype = value.dtype
        shape = tuple(np.shape(value))
        if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
            if shape == ():
                return value
            raise ValueError(
                f"{where}: `key` must be a single random key; got a batch of keys "
                f"of shape {shape}. Pass one key, or `jax.vmap` the call over keys."
            )
        if dtype == np.uint32 and shape == (2,):
            return value
    raise TypeError(
        f"{where}: `key` must be a jax random key, e.g. `jax.random.key(0)`; got "
        f"{_describe(value)}."
    )


def budget(where: str, value: Any, minimum: int, why: str) -> int:
    """``num_matvecs`` as a Python int ``>= minimum`` (it fixes array shapes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{where}: `num_matvecs` must be a Python int (it fixes array shapes); "
            f"got {_describe(value)}."
        )
    if value < minimum:
        raise ValueError(
            f"{where}: `num_matvecs` must be at least {minimum} ({why}); got "
            f"{int(value)}. Raise `num_matvecs`."
        )
    return int(value)


def mesh(where: str, value: Any) -> Mesh | None:
    """``None`` or a ``Mesh`` with an axis named ``"probes"``."""
    if value is None:
        return None
    if not isinstance(value, Mesh):
        raise TypeError(
            f"{where}: `mesh` must be None or a jax.sharding.Mesh with an axis "
            f"{AXIS!r} (use `probe_mesh()`); got {_describe(value)}."
        )
    if AXIS not in value.axis_names:
        raise ValueError(
            f"{where}: `mesh` must have an axis named {AXIS!r} (use `probe_mesh()`);"
            f" got axes {value.axis_names}."
        )
    return value


def throw(where: str, value: Any) -> bool:
    return boolean(where, "throw", value)


def _describe(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        shape = tuple(np.shape(value))
        return f"{type(value).__name__} of shape {shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def describe(value: Any) -> str:
    """A short description of ``value`` for messages."""
    return _describe(value)


def is_concrete(x: Any) -> bool:
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def working_dtype(dtype) -> np.dtype:
    """The dtype the estimators compute in: at least float32 (float16/bfloat16
    products are accumulated in float32)."""
    return np.dtype(jnp.promote_types(dtype, jnp.float32))


def where_status(condition, if_true, if_false):
    """``RESULTS.where`` (equinox types its items as ``str`` for mypy)."""
    return RESULTS.where(condition, if_true, if_false)

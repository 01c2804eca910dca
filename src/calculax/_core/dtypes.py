"""Input checking and dtype promotion shared by every ``calculax.numpy`` function.

The result dtype of each function is exactly the one ``jax.numpy`` gives for the same
inputs (computed with ``jax.eval_shape`` of the ``jax.numpy`` function, so weak types,
integer promotion and ``jax_enable_x64`` behave identically); the inputs are cast to it
before the stable rule runs.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax._src.lax.lax import _convert_element_type

__all__ = ["SUPPORTED_DTYPES", "prepare", "check_dtype"]

SUPPORTED_DTYPES = tuple(
    np.dtype(d)
    for d in (
        jnp.float16,
        jnp.bfloat16,
        jnp.float32,
        jnp.float64,
        jnp.complex64,
        jnp.complex128,
    )
)


def check_dtype(name: str, dtype) -> None:
    """Raise ``TypeError`` naming ``dtype`` unless it is one our rules support."""
    dtype = np.dtype(dtype)
    if dtype not in SUPPORTED_DTYPES:
        supported = ", ".join(str(d) for d in SUPPORTED_DTYPES)
        raise TypeError(
            f"calculax.numpy.{name} does not support dtype {dtype}: its derivative "
            f"rules are defined for {supported} (integer and boolean inputs are "
            "promoted to floating point as in jax.numpy)."
        )


def prepare(name: str, reference: Callable, *args) -> tuple[jax.Array, ...]:
    """Cast and broadcast ``args`` as ``reference`` (a ``jax.numpy`` function) would.

    Returns the arrays in the result dtype of ``reference(*args)``, broadcast to the
    result shape. Anything ``reference`` rejects is rejected with its own message.
    """
    for arg in args:
        dtype = getattr(arg, "dtype", None)
        if dtype is not None and jnp.issubdtype(dtype, jnp.inexact):
            check_dtype(name, dtype)
    result = jax.eval_shape(reference, *args)
    check_dtype(name, result.dtype)
    # Keep JAX's weak type (Python-scalar inputs stay weakly typed, as in jax.numpy);
    # the converter that takes weak_type is private, hence the pinned JAX range.
    return tuple(
        jnp.broadcast_to(
            _convert_element_type(a, result.dtype, weak_type=result.weak_type),
            result.shape,
        )
        for a in args
    )


def cast_like(value, dtype, weak_type: bool) -> jax.Array:
    """``value`` converted to ``dtype`` with the given weak type (JAX's private
    converter, the only one that sets ``weak_type``; hence the pinned JAX range)."""
    return _convert_element_type(value, dtype, weak_type=weak_type)

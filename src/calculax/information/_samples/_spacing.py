"""Shared machinery of the m-spacing estimators: padding and the window default."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def default_window(n: int) -> int:
    """SciPy's default window ``m = floor(sqrt(n) + 0.5)``."""
    return int(math.floor(math.sqrt(n) + 0.5))


def padded(x: jax.Array, m: int) -> jax.Array:
    """Sorted sample with ``m`` copies of its ends: ``x_(i)`` for ``i < 1`` or ``> n``.

    The convention ``x_(i) = x_(1)`` for ``i < 1`` and ``x_(n)`` for ``i > n`` of
    Vasicek (1976).
    """
    return jnp.concatenate([jnp.repeat(x[:1], m), x, jnp.repeat(x[-1:], m)])


def centred_spacings(x: jax.Array, m: int) -> jax.Array:
    """``x_(i+m) - x_(i-m)``, ``i = 1..n``, with the ends of :func:`padded`."""
    p = padded(x, m)
    return p[2 * m :] - p[: -2 * m]

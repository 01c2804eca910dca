"""Build a ``jax.custom_jvp`` function from a primal and a stable tangent rule.

Every function of ``calculax.numpy`` is a pair: the primal (usually the
``jax.numpy`` function itself, so values agree bit for bit) and a tangent rule
``rule(primals, out, tangents) -> tangent_out`` that

* reuses the primal output ``out`` instead of recomputing it,
* is linear in ``tangents`` and scales them only through
  :func:`~calculax._core.strong.strong_mul` / ``strong_div`` (so a zero tangent
  or cotangent stays exactly zero, even against an infinite partial), and
* is written with ``calculax.numpy`` functions, so that differentiating the rule
  again (second, third, ... order, forward or reverse) is stable too.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

__all__ = ["stable_rule", "constant"]


def stable_rule(primal: Callable, rule: Callable) -> Callable:
    """Return ``primal`` as a ``custom_jvp`` function whose tangent is ``rule``."""

    def function(*primals):
        return primal(*primals)

    # Named before wrapping: `custom_jvp` copies the name (functools.wraps).
    function.__name__ = getattr(primal, "__name__", "function")
    custom = jax.custom_jvp(function)

    def jvp(primals, tangents):
        out = custom(*primals)
        return out, rule(primals, out, tangents)

    custom.defjvp(jvp)
    return custom


def constant(value: float, like: jax.Array) -> jax.Array:
    """``value`` as a scalar in the dtype of ``like`` (constants stored as float64)."""
    return jnp.asarray(value, dtype=jnp.result_type(like))

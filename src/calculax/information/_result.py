"""The result every entropy-like function returns with ``full_output=True``."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp

from .._core.results import RESULTS, AbstractResult

__all__ = ["EntropyResult", "status_where"]


def status_where(pred, a, b):
    """``a`` where ``pred`` holds, else ``b``: :data:`RESULTS` items, elementwise
    over an array ``pred`` (``RESULTS.where`` takes a scalar predicate only)."""
    values = jnp.where(jnp.asarray(pred), a._value, b._value).astype(jnp.int32)
    return eqx.tree_at(lambda s: s._value, RESULTS.successful, values)


class EntropyResult(AbstractResult):
    """An entropy (or divergence) with its error, status and provenance.

    Attributes:
        value: the entropy in the requested base (nats by default); shape of the
            broadcast parameters.
        error: estimate of ``|value - truth|``: the quadrature's error bound, a
            standard error for a sample estimate (half-sampling), or
            the verified accuracy of a closed form (4096 ulp relative).
        status: a :data:`calculax.RESULTS` item; ``successful`` when the value
            met its tolerance. ``message`` says what went wrong otherwise.
        method: how it was computed: ``"closed-form: <family>"``,
            ``"quadrature: ..."``, or a sample estimator's name.
        interval: ``(lo, hi)`` confidence interval of a sample estimate, or
            ``None``.
    """

    value: jax.Array
    error: jax.Array
    status: Any
    method: str = eqx.field(static=True)
    interval: jax.Array | None = None

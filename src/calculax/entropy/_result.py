"""The result every entropy-like function returns with ``full_output=True``."""

from __future__ import annotations

import equinox as eqx
import jax


class EntropyResult(eqx.Module):
    """An entropy (or divergence) with its error estimate and provenance.

    Attributes:
        value: the entropy in the requested base (nats by default); shape of the
            broadcast parameters.
        error: estimated absolute error of ``value`` (``0`` for closed forms, whose
            error is a few ulp).
        method: which method produced it: ``"closed-form: <family>"``,
            ``"quadrature: ..."``, or a sample estimator's name.
        status: ``0`` when the method met its tolerance; otherwise a
            :data:`calculax.integrate.STATUS` code.
        reason: a human-readable note, e.g. why the entropy is infinite (``""``
            when there is nothing to add).
        interval: ``(lo, hi)`` confidence interval of a sample estimate, or
            ``None``.
    """

    value: jax.Array
    error: jax.Array
    method: str = eqx.field(static=True)
    status: jax.Array | int = 0
    reason: str = eqx.field(static=True, default="")
    interval: jax.Array | None = None

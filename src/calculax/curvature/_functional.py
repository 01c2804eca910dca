r"""The quantities that the trace-family estimators estimate, as probe averages.

Each is an expectation over random-sign probes :math:`g` of a *sample* computed from
a probe, its deflated copy :math:`g' = (I - QQ^\top) g` and :math:`y = A g'`, plus an
exact part on the range of an orthonormal :math:`Q` with :math:`Z = AQ`:

* trace: :math:`\operatorname{tr}(Q^\top A Q) + \mathbb{E}\,g'^\top A g'`;
* diagonal: :math:`\operatorname{diag}(AQQ^\top) + \mathbb{E}\,g \odot A g'`;
* squared Frobenius norm: :math:`\|AQ\|_F^2 + \mathbb{E}\,\|A g'\|^2`.

With :math:`Q` empty (:math:`g' = g`) these are Hutchinson's estimators; with
:math:`Q = I` the exact values. All hold for any square :math:`A`, symmetric or not.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

__all__ = ["AbstractFunctional", "Diagonal", "FrobeniusSquared", "Trace"]


class AbstractFunctional(eqx.Module):
    """A linear-in-samples quantity of an operator; see the module docstring."""

    name: ClassVar[str]

    @abc.abstractmethod
    def sample(self, g: jax.Array, gp: jax.Array, y: jax.Array) -> jax.Array:
        """Per-probe samples from ``(n, k)`` blocks; shape ``(..., k)``."""

    @abc.abstractmethod
    def exact(self, q: jax.Array, z: jax.Array) -> jax.Array:
        """The exact part on the range of ``q`` (``z = A q``)."""

    @abc.abstractmethod
    def residual_variance(self, variance, fraction, frobenius2):
        """Predicted per-probe variance after deflation (used by ``Auto``)."""


class Trace(AbstractFunctional):
    name: ClassVar[str] = "trace"

    def sample(self, g, gp, y):
        return jnp.sum(gp * y, axis=0)

    def exact(self, q, z):
        return jnp.sum(q * z)

    def residual_variance(self, variance, fraction, frobenius2):
        # Var(g'ᵀRg') = 2(‖R‖_F² - Σ r_ii²) ≤ 2‖(I-P)A‖_F² ≈ 2 fraction ‖A‖_F².
        return 2 * fraction * frobenius2


class Diagonal(AbstractFunctional):
    name: ClassVar[str] = "diagonal"

    def sample(self, g, gp, y):
        return g * y

    def exact(self, q, z):
        return jnp.sum(q * z, axis=1)

    def residual_variance(self, variance, fraction, frobenius2):
        # Σ_i Var(g_i (Rg)_i) = ‖R‖_F² - Σ r_ii² ≤ ‖A(I-P)‖_F² ≈ fraction ‖A‖_F².
        return fraction * frobenius2


class FrobeniusSquared(AbstractFunctional):
    name: ClassVar[str] = "frobenius2"

    def sample(self, g, gp, y):
        return jnp.sum(y * y, axis=0)

    def exact(self, q, z):
        return jnp.sum(z * z)

    def residual_variance(self, variance, fraction, frobenius2):
        # A fourth moment of the residual: scales like the square of its share.
        return fraction**2 * variance

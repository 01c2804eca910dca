"""The contract of a trace-family method, shared helpers, and the exact fallback."""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from .._functional import AbstractFunctional
from .._operator import AbstractOperator
from .._probes import apply

__all__ = ["AbstractMethod", "Exact", "Raw", "mean_and_error", "orthonormal"]


class Raw(eqx.Module):
    """A method's flat result: value, standard error, degrees of freedom, choice."""

    value: jax.Array
    error: jax.Array
    dof: jax.Array
    choice: jax.Array | None = None


class AbstractMethod(eqx.Module):
    """Estimate a functional of an operator from ``num_matvecs`` products.

    ``min_matvecs`` is the smallest budget that yields a standard error.
    """

    name: ClassVar[str]
    min_matvecs: ClassVar[int]
    functionals: ClassVar[tuple[type, ...]]

    @abc.abstractmethod
    def estimate(
        self,
        functional: AbstractFunctional,
        operator: AbstractOperator,
        num_matvecs: int,
        key: jax.Array,
        mesh: Mesh | None,
    ) -> Raw:
        """The estimate; the operator is applied exactly ``num_matvecs`` times."""


def mean_and_error(samples: jax.Array, dof_offset: int = 1):
    """Mean over the last axis and its standard error (sample std, ``ddof=1``)."""
    k = samples.shape[-1]
    mean = jnp.mean(samples, axis=-1)
    error = jnp.std(samples, axis=-1, ddof=1) / jnp.sqrt(jnp.asarray(k, mean.dtype))
    return mean, error, jnp.asarray(k - dof_offset)


def orthonormal(y: jax.Array) -> jax.Array:
    """An orthonormal basis ``(n, k)`` containing the range of ``y`` (reduced QR)."""
    return jnp.linalg.qr(y, mode="reduced")[0]


class Exact(AbstractMethod):
    r"""The exact value from ``n <= budget`` products with the identity's columns.

    Its ``error`` bounds the rounding of the sum over the products,
    :math:`(n + 2)\,\epsilon \sum |q_i z_i|` (the same functional of the
    magnitudes: a trace of ``A e_i`` sums ``n`` entries, each rounding once); the
    products' own rounding is the operator's. A 6 x 6 float32 trace has an actual
    error of 1.1e-7, which an error of 0 would not cover.
    """

    name: ClassVar[str] = "exact"
    min_matvecs: ClassVar[int] = 1
    functionals: ClassVar[tuple[type, ...]] = ()

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        n = operator.size
        eye = jnp.eye(n, dtype=operator.dtype)
        z = apply(operator, eye, mesh)
        value = functional.exact(eye, z)
        eps = jnp.finfo(value.dtype).eps
        error = (n + 2) * eps * functional.exact(eye, jnp.abs(z))
        return Raw(value, error, jnp.asarray(0))

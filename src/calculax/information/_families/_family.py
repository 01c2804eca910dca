"""The record each closed-form family registers: name, shapes, entropy, domain."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp


class Family(NamedTuple):
    """A SciPy continuous family with a closed-form differential entropy.

    Attributes:
        name: the ``scipy.stats`` name (``"gamma"``).
        shapes: SciPy's shape-parameter names, in SciPy's order (``("a",)``).
        standard: entropy at ``loc=0, scale=1`` as a function of the shapes (nats);
            the entropy at scale ``s`` is ``standard(*shapes) + log(s)``.
        valid: ``valid(*shapes) -> bool array``, SciPy's parameter domain.
        reference: where the formula comes from (or how it is derived).
    """

    name: str
    shapes: tuple[str, ...]
    standard: Callable[..., jax.Array]
    valid: Callable[..., jax.Array | bool]
    reference: str


def positive(*shapes) -> jax.Array:
    """Domain of families whose shapes must all be positive."""
    out = jnp.asarray(True)
    for s in shapes:
        out = out & (s > 0)
    return out


def always() -> bool:
    """Domain of families without shapes."""
    return True

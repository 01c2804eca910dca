"""The size guard: a derivative tensor's byte size, computed before it exists.

The full derivative of order ``k`` of ``f: R^n -> R^m`` has ``m * n**k`` entries; a
Hessian of a million-parameter loss is 8 TB in float64. ``derivative`` computes the
size from the shapes alone (``jax.eval_shape``) and refuses above a limit, naming the
size and the matrix-free product that answers the same question.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import numpy as np

from ._validate import dtype_of

__all__ = ["DEFAULT_MAX_BYTES", "DerivativeTooLargeError", "tensor_bytes", "guard"]

DEFAULT_MAX_BYTES = 2 * 1024**3


class DerivativeTooLargeError(ValueError):
    """A derivative tensor would exceed ``max_bytes``; nothing was computed."""


def _size(tree) -> int:
    return sum(math.prod(np.shape(leaf)) for leaf in jax.tree.leaves(tree))


def _itemsize(*trees) -> int:
    return max(dtype_of(leaf).itemsize for leaf in jax.tree.leaves(trees))


def tensor_bytes(out_shape, args: Sequence, steps: Sequence[int]) -> int:
    """Bytes of the derivative tensor: ``size(out) * prod(size(args[s]))`` entries.

    ``out_shape`` and ``args`` are pytrees of arrays or ``jax.ShapeDtypeStruct``;
    ``steps`` lists the argument differentiated at each step. Exact Python integers,
    so no overflow however large.
    """
    entries = _size(out_shape) * math.prod(_size(args[s]) for s in steps)
    return entries * _itemsize(out_shape, [args[s] for s in steps])


def _human(size: int) -> str:
    for unit, scale in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _suggestion(out_shape, steps: Sequence[int]) -> str:
    scalar = _size(out_shape) == 1
    if len(steps) == 1:
        return (
            "to apply the Jacobian without forming it, use jax.jvp(f, primals, "
            "tangents) for J @ v or jax.vjp(f, *primals) for u @ J"
        )
    if len(steps) == 2 and scalar and steps[0] == steps[1]:
        return "for Hessian-vector products use calculax.derivatives.hvp(f, x, v)"
    if len(steps) == 2 and scalar:
        return (
            "for the mixed product d/dx_j (grad_{x_i} f . v) use "
            f"calculax.derivatives.mixed_hvp(f, args, v, argnums={tuple(steps)})"
        )
    return (
        "contract the derivative with directions instead: nested jax.jvp, or "
        "jax.experimental.jet for a scalar direction"
    )


def guard(out_shape, args: Sequence, steps: Sequence[int], max_bytes: int) -> None:
    """Raise :class:`DerivativeTooLargeError` when the tensor exceeds ``max_bytes``."""
    size = tensor_bytes(out_shape, args, steps)
    if size <= max_bytes:
        return
    shapes = [leaf.shape for leaf in jax.tree.leaves(out_shape)]
    raise DerivativeTooLargeError(
        f"the derivative tensor (order {len(steps)} in argnums {tuple(steps)}, "
        f"output leaf shapes {shapes}) would take {_human(size)} ({size} bytes), "
        f"above max_bytes={max_bytes} ({_human(max_bytes)}); nothing was computed. "
        f"To avoid it: {_suggestion(out_shape, steps)}; or pass a larger max_bytes "
        "if the tensor really fits in memory."
    )

"""Checks on what a user passes to the derivative functions: trace-time errors.

Each message names the argument, what was expected, what was received and how to fix
it. Shared by ``derivative``, the matrix-free products and ``check_derivative``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import jax
import numpy as np

__all__ = [
    "MODES",
    "steps_of",
    "check_mode",
    "check_args",
    "output_shape",
    "dtype_of",
]

MODES = ("auto", "forward", "reverse", "taylor")


def dtype_of(leaf) -> np.dtype:
    """The dtype of an array, NumPy scalar or Python number."""
    return np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.result_type(leaf)


def _int(value, name: str) -> int:
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be an int, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an int or a sequence of ints, got {value!r} "
            f"({type(value).__name__})"
        ) from None


def steps_of(argnums, order) -> tuple[int, ...]:
    """The argument differentiated at each step: ``argnums[i]`` ``order[i]`` times.

    ``argnums=(0, 1), order=(1, 2)`` is ``(0, 1, 1)``: :math:`\\partial_y^2
    \\partial_x f`. An int ``order`` applies to every entry of ``argnums``.
    """
    nums = (argnums,) if not isinstance(argnums, Sequence) else tuple(argnums)
    if not nums:
        raise ValueError("argnums must name at least one argument, got ()")
    nums = tuple(_int(a, "argnums") for a in nums)
    if any(a < 0 for a in nums):
        raise ValueError(
            f"argnums must be non-negative positions of positional arguments, got "
            f"{argnums!r}"
        )
    if isinstance(order, Sequence):
        orders = tuple(_int(k, "order") for k in order)
        if len(orders) != len(nums):
            raise ValueError(
                f"order {order!r} needs one entry per argnum {nums!r}, or pass an int"
            )
    else:
        orders = (_int(order, "order"),) * len(nums)
    if any(k < 0 for k in orders):
        raise ValueError(
            f"order must be >= 0 (0 returns f itself), got order={order!r}; "
            "antiderivatives are not derivatives of negative order"
        )
    return tuple(a for a, k in zip(nums, orders) for _ in range(k))


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def check_args(args: Sequence, positions: Sequence[int], where: str) -> None:
    """Positions in range; differentiated leaves real floating arrays."""
    for position in sorted(set(positions)):
        if position >= len(args):
            raise ValueError(
                f"{where}: argnums {position} is out of range for a function called "
                f"with {len(args)} positional argument(s) (valid: 0 to "
                f"{len(args) - 1}); pass the argument positionally or fix argnums"
            )
        for path, leaf in jax.tree_util.tree_leaves_with_path(args[position]):
            dtype = dtype_of(leaf)
            if not np.issubdtype(dtype, np.floating):
                at = jax.tree_util.keystr(path) or "(the array itself)"
                raise TypeError(
                    f"{where}: argument {position} at {at} has dtype {dtype}; "
                    "derivatives need real floating inputs (integer and boolean "
                    "inputs have no derivative, complex ones are not supported): "
                    "pass e.g. jnp.asarray(x, dtype=float)"
                )


def _checked(f: Callable, where: str) -> Callable:
    def checked(*args):
        out = f(*args)
        for path, leaf in jax.tree_util.tree_leaves_with_path(out):
            at = jax.tree_util.keystr(path) or "(the output itself)"
            if not isinstance(leaf, jax.Array | np.ndarray | np.generic | float):
                raise TypeError(
                    f"{where}: f must return arrays (or pytrees of arrays), but the "
                    f"output at {at} is a {type(leaf).__name__}: {leaf!r:.60}"
                )
            dtype = dtype_of(leaf)
            if not np.issubdtype(dtype, np.floating):
                raise TypeError(
                    f"{where}: the output at {at} has dtype {dtype}; only real "
                    "floating outputs have derivatives: return a float array"
                )
        return out

    return checked


def output_shape(f: Callable, args: Sequence, where: str):
    """``jax.eval_shape`` of ``f(*args)``, refusing non-array or non-float outputs."""
    return jax.eval_shape(_checked(f, where), *args)

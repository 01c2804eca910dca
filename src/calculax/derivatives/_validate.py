"""Checks on what a user passes to the derivative functions: trace-time errors.

Each message names the argument, what was expected, what was received and how to fix
it. Shared by ``derivative``, the matrix-free products and ``check_derivative``.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "MODES",
    "check_args",
    "check_callable",
    "check_max_bytes",
    "check_mode",
    "check_symmetric",
    "distinct",
    "dtype_of",
    "output_shape",
    "steps_of",
]

MODES = ("auto", "forward", "reverse", "taylor")


def dtype_of(leaf) -> np.dtype:
    """The dtype of an array, NumPy scalar or Python number."""
    return np.dtype(leaf.dtype) if hasattr(leaf, "dtype") else np.result_type(leaf)


def _int(value, name: str, where: str) -> int:
    if isinstance(value, bool | np.bool_):
        raise TypeError(f"{where}: {name} must be an int, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{where}: {name} must be an int or a sequence of ints, got {value!r} "
            f"({type(value).__name__})"
        ) from None


def _positions(argnums, where: str) -> tuple[int, ...]:
    nums = (argnums,) if not isinstance(argnums, Sequence) else tuple(argnums)
    if not nums:
        raise ValueError(f"{where}: argnums must name at least one argument, got ()")
    nums = tuple(_int(a, "argnums", where) for a in nums)
    if any(a < 0 for a in nums):
        raise ValueError(
            f"{where}: argnums must be non-negative positions of positional "
            f"arguments, got {argnums!r}"
        )
    return nums


def steps_of(argnums, order, where: str = "derivative") -> tuple[int, ...]:
    """The argument differentiated at each step: ``argnums[i]`` ``order[i]`` times.

    ``argnums=(0, 1), order=(1, 2)`` is ``(0, 1, 1)``: :math:`\\partial_y^2
    \\partial_x f`. An int ``order`` applies to every entry of ``argnums``.
    """
    nums = _positions(argnums, where)
    if isinstance(order, Sequence):
        orders = tuple(_int(k, "order", where) for k in order)
        if len(orders) != len(nums):
            raise ValueError(
                f"{where}: order {order!r} needs one entry per argnum {nums!r}, or "
                "pass an int"
            )
    else:
        orders = (_int(order, "order", where),) * len(nums)
    if any(k < 0 for k in orders):
        raise ValueError(
            f"{where}: order must be >= 0 (0 returns f itself), got order={order!r}; "
            "antiderivatives are not derivatives of negative order"
        )
    return tuple(a for a, k in zip(nums, orders) for _ in range(k))


def distinct(argnums, where: str, advice: str) -> tuple[int, ...]:
    """``argnums`` as positions, refusing a repeated one (``advice`` says what to use
    instead)."""
    nums = _positions(argnums, where)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{where}: argnums {argnums!r} repeats an argument; {advice}")
    return nums


def check_mode(mode: str, where: str = "derivative") -> None:
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(f"{where}: mode must be one of {MODES}, got {mode!r}")


def check_callable(f, where: str) -> None:
    if not callable(f):
        raise TypeError(
            f"{where}: `f` must be a callable (a function of JAX arrays); got "
            f"{type(f).__name__} {f!r:.60}."
        )


def check_max_bytes(max_bytes, where: str) -> int:
    if isinstance(max_bytes, bool | np.bool_) or not isinstance(
        max_bytes, numbers.Integral
    ):
        raise TypeError(
            f"{where}: `max_bytes` must be a positive integer (bytes); got "
            f"{max_bytes!r}."
        )
    if max_bytes <= 0:
        raise ValueError(
            f"{where}: `max_bytes` must be a positive integer (bytes); got "
            f"{max_bytes!r}."
        )
    return int(max_bytes)


def check_symmetric(symmetric, where: str) -> tuple[int, ...]:
    if isinstance(symmetric, str) or not isinstance(symmetric, Sequence):
        raise TypeError(
            f"{where}: `symmetric` must be a sequence of argument positions (e.g. "
            f"(0,)); got {symmetric!r}."
        )
    positions = tuple(_int(i, "symmetric", where) for i in symmetric)
    if any(i < 0 for i in positions) or len(set(positions)) != len(positions):
        raise ValueError(
            f"{where}: `symmetric` must list distinct non-negative argument "
            f"positions; got {symmetric!r}."
        )
    return positions


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
            if not jnp.issubdtype(dtype, jnp.floating):  # bfloat16 is one
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
            if not jnp.issubdtype(dtype, jnp.floating):
                raise TypeError(
                    f"{where}: the output at {at} has dtype {dtype}; only real "
                    "floating outputs have derivatives: return a float array"
                )
        return out

    return checked


def output_shape(f: Callable, args: Sequence, where: str):
    """``jax.eval_shape`` of ``f(*args)``, refusing non-array or non-float outputs."""
    return jax.eval_shape(_checked(f, where), *args)

"""The checks of :func:`calculax.audit.audit`'s arguments: one sentence each."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np

from .._core.validate import positions

__all__ = ["MODES", "arguments", "dtype_of", "exponents_of", "sign_of", "swept"]

MODES = ("reverse", "forward")
DTYPES = ("float16", "bfloat16", "float32", "float64")


def _integer(name: str, value) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"audit: `{name}` must be an integer; got {value!r}.")
    return int(value)


def arguments(f: Callable, at) -> list[float]:
    """The values of all of ``f``'s arguments: ``at``, or 1 for each positional
    parameter of ``f``."""
    if at is None:
        try:
            parameters = inspect.signature(f).parameters.values()
        except (TypeError, ValueError):
            parameters = None
        kinds = (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        if parameters is None or any(p.kind == p.VAR_POSITIONAL for p in parameters):
            raise ValueError(
                "audit: cannot tell how many arguments f takes; pass `at`, the value "
                "of every argument (e.g. at=(1.0, 1.0))."
            )
        return [1.0 for p in parameters if p.kind in kinds]
    if isinstance(at, str) or not isinstance(at, Sequence | np.ndarray):
        raise TypeError(
            f"audit: `at` must be a sequence of numbers, one per argument of f; got "
            f"{at!r}."
        )
    values = []
    for i, v in enumerate(at):
        if isinstance(v, bool | np.bool_) or not isinstance(
            v, numbers.Real | np.ndarray
        ):
            raise TypeError(f"audit: `at[{i}]` must be a real number; got {v!r}.")
        number = float(v)
        if not math.isfinite(number):
            raise ValueError(f"audit: `at[{i}]` must be finite; got {v!r}.")
        values.append(number)
    return values


def swept(wrt, tie, count: int) -> list[int]:
    """``[wrt, *tie]``, each an argument index in range, none twice."""
    if isinstance(tie, str) or not isinstance(tie, Sequence | np.ndarray):
        raise TypeError(
            f"audit: `tie` must be a sequence of argument indices; got {tie!r}."
        )
    (wrt,) = positions("audit", "wrt", wrt, count)
    others = positions("audit", "tie", list(tie), count) if len(tie) else ()
    if wrt in others:
        raise ValueError(
            f"audit: `tie` must list other arguments than `wrt`, each once; got "
            f"wrt={wrt}, tie={list(tie)}."
        )
    return [wrt, *others]


def sign_of(sign) -> float:
    if (
        isinstance(sign, bool)
        or not isinstance(sign, numbers.Real)
        or sign
        not in (
            1,
            -1,
        )
    ):
        raise ValueError(f"audit: `sign` must be +1 or -1; got {sign!r}.")
    return float(sign)


def dtype_of(dtype) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"audit: `dtype` must be one of {', '.join(DTYPES)}; got {dtype!r}."
        ) from None
    if dtype.name not in DTYPES:
        raise ValueError(
            f"audit: `dtype` must be one of {', '.join(DTYPES)}; got {dtype.name}."
        )
    if jnp.zeros((), dtype).dtype != dtype:
        raise ValueError(
            f"audit: dtype {dtype.name} needs 64-bit JAX: enable it with "
            "jax.config.update('jax_enable_x64', True)."
        )
    return dtype


def exponents_of(exponents, dtype: np.dtype) -> list[int]:
    """The exponents ``k`` of the points ``10**k`` (default: the dtype's range)."""
    if exponents is None:
        info = np.finfo(dtype)
        return list(
            range(
                math.floor(math.log10(float(info.smallest_subnormal))),
                math.floor(math.log10(float(info.max))) + 1,
            )
        )
    try:
        items = list(exponents)
    except TypeError:
        raise TypeError(
            f"audit: `exponents` must be an iterable of integers; got {exponents!r}."
        ) from None
    values = [_integer("exponents", k) for k in items]
    if not values:
        raise ValueError("audit: `exponents` must hold at least one integer; got none.")
    return values

"""Argument checks shared by every public function.

Each check raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right kind,
wrong value) with one sentence in the form ``"<function>: `<argument>` must be
<expected>; got <received>."`` so that the user learns what was wrong and what to
pass instead. They run at trace time on Python values; a check of a traced array's
values goes through :func:`error_if_traced` (``equinox.error_if``, which survives
``jit`` and ``vmap``).

Example:
    >>> from calculax._core.validate import positive_float
    >>> positive_float("quad", "rtol", 1e-8)
    1e-08
    >>> positive_float("quad", "rtol", -1.0)
    Traceback (most recent call last):
    ...
    ValueError: quad: `rtol` must be a positive finite number; got -1.0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "boolean",
    "real_points",
    "real_scalar",
    "support_pair",
    "callable_",
    "choice",
    "error_if_traced",
    "staging",
    "in_open_interval",
    "is_traced",
    "nonnegative_float",
    "positive_float",
    "positive_int",
    "positions",
]


def is_traced(x: Any) -> bool:
    """Whether any leaf of ``x`` is a JAX tracer (under ``jit``, ``vmap``, ``grad``)."""
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def staging() -> bool:
    """Whether JAX is tracing a program here (inside ``jit``, or the body of a
    ``lax`` loop or branch): there, even a function of constants returns a tracer,
    so code that runs eagerly on concrete inputs must take its traced path too."""
    return isinstance(jnp.zeros(()), jax.core.Tracer)


def _real_number(where: str, name: str, value: Any, expected: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if hasattr(value, "shape") and np.ndim(value) == 0 and not is_traced(value):
            if np.issubdtype(
                np.asarray(value).dtype, np.number
            ) and not np.iscomplexobj(value):
                return float(value)
        raise TypeError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    return float(value)


def positive_float(where: str, name: str, value: Any) -> float:
    """``value`` as a Python float, checked ``0 < value < inf``."""
    expected = "a positive finite number"
    x = _real_number(where, name, value, expected)
    if not (x > 0 and math.isfinite(x)):
        raise ValueError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    return x


def nonnegative_float(where: str, name: str, value: Any) -> float:
    """``value`` as a Python float, checked ``0 <= value < inf``."""
    expected = "a non-negative finite number"
    x = _real_number(where, name, value, expected)
    if not (x >= 0 and math.isfinite(x)):
        raise ValueError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    return x


def in_open_interval(
    where: str, name: str, value: Any, low: float, high: float
) -> float:
    """``value`` as a Python float, checked ``low < value < high``."""
    expected = f"a number in ({low:g}, {high:g})"
    x = _real_number(where, name, value, expected)
    if not low < x < high:
        raise ValueError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    return x


def positive_int(where: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as a Python int, checked ``value >= minimum`` (bools refused)."""
    expected = f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    return int(value)


def boolean(where: str, name: str, value: Any) -> bool:
    """``value`` checked to be a Python (or NumPy) bool."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{where}: `{name}` must be True or False; got {value!r}.")
    return bool(value)


def choice(where: str, name: str, value: Any, options) -> Any:
    """``value`` checked to be one of ``options`` (listed in the message)."""
    if not isinstance(value, str | int | type(None)) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{where}: `{name}` must be one of {listed}; got {value!r}.")
    return value


def callable_(where: str, name: str, value: Any) -> Callable:
    """``value`` checked to be callable."""
    if not callable(value):
        raise TypeError(
            f"{where}: `{name}` must be a callable (a function); got "
            f"{type(value).__name__} {value!r}."
        )
    return value


def error_if_traced(x: Any, pred: Any, message: str) -> Any:
    """``x``, raising ``message`` at run time where ``pred`` holds.

    Concrete ``pred`` raises ``ValueError`` at once; traced ``pred`` threads an
    ``equinox.error_if`` through ``x`` (raised when the compiled program runs).
    """
    if not is_traced(pred):
        if bool(np.any(np.asarray(pred))):
            raise ValueError(message)
        return x
    import equinox as eqx  # on first use: calculax.numpy need not load equinox

    return eqx.error_if(x, pred, message)


def positions(where: str, name: str, value: Any, count: int) -> tuple[int, ...]:
    """``value`` (an int or a sequence of ints) as distinct argument positions in
    ``0 .. count - 1`` (bools refused)."""
    items = tuple(value) if isinstance(value, list | tuple) else (value,)
    expected = f"distinct argument positions from 0 to {count - 1}"
    for item in items:
        if isinstance(item, bool | np.bool_) or not isinstance(item, numbers.Integral):
            raise TypeError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    if not items:
        raise ValueError(f"{where}: `{name}` must be {expected}; got {value!r}.")
    out = tuple(int(i) for i in items)
    if not all(0 <= i < count for i in out):
        raise ValueError(
            f"{where}: `{name}` {value!r} is out of range for {count} argument(s): "
            f"it must be {expected}."
        )
    if len(set(out)) != len(out):
        raise ValueError(
            f"{where}: `{name}` must not repeat an argument; got {value!r}: it must "
            f"be {expected}."
        )
    return out


def real_scalar(where: str, name: str, value) -> Any:
    """``value`` as a real scalar array (not a bool, string or complex number)."""
    if isinstance(value, bool | np.bool_) or isinstance(value, str | bytes):
        raise TypeError(
            f"{where}: `{name}` must be a real number (a Python or NumPy float, or a "
            f"scalar JAX array); got {value!r}."
        )
    if isinstance(value, numbers.Number) and not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: `{name}` must be a real number; got {value!r}.")
    try:
        array = jnp.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{where}: `{name}` must be a real number; got {type(value).__name__} "
            f"{value!r}."
        ) from error
    if array.ndim != 0:
        raise ValueError(
            f"{where}: `{name}` must be a scalar; got shape {array.shape}. For "
            f"many values, jax.vmap over {where}."
        )
    if jnp.issubdtype(array.dtype, jnp.complexfloating) or jnp.issubdtype(
        array.dtype, jnp.bool_
    ):
        raise TypeError(
            f"{where}: `{name}` must be a real number; got dtype {array.dtype}."
        )
    return array


def support_pair(where: str, support) -> tuple[float, float]:
    """``support = (lo, hi)``: two Python numbers, ``lo < hi`` (ends may be inf)."""
    if isinstance(support, str) or not hasattr(support, "__len__"):
        raise TypeError(
            f"{where}: `support` must be a pair (lo, hi) of numbers (use -inf/inf "
            f"for unbounded ends); got {support!r}."
        )
    if len(support) != 2:
        raise ValueError(
            f"{where}: `support` must be a pair (lo, hi); got {len(support)} "
            f"entries: {support!r}."
        )
    ends = []
    for end in support:
        if is_traced(end):
            raise TypeError(
                f"{where}: `support` must be concrete numbers, not traced values "
                "(the pieces of the domain are chosen from it outside jit); pass "
                "what varies through `args`."
            )
        if isinstance(end, bool | np.bool_ | str | bytes) or not (
            isinstance(end, numbers.Real)
            or (hasattr(end, "dtype") and np.ndim(end) == 0)
        ):
            raise TypeError(
                f"{where}: `support` must be a pair (lo, hi) of real numbers; got "
                f"{support!r}."
            )
        array = np.asarray(end)
        if not (
            np.issubdtype(array.dtype, np.floating)
            or np.issubdtype(array.dtype, np.integer)
        ):
            raise TypeError(
                f"{where}: `support` must be a pair (lo, hi) of real numbers; got "
                f"{support!r}."
            )
        ends.append(float(array))
    lo, hi = ends
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{where}: `support` must not contain nan; got {support!r}.")
    if not lo < hi:
        raise ValueError(f"{where}: `support` must satisfy lo < hi; got {support!r}.")
    return lo, hi


def real_points(where: str, name: str, points, dtype) -> Any:
    """A 1-D array of finite numbers (empty when ``None``)."""
    if points is None:
        return jnp.zeros((0,), dtype)
    if isinstance(points, str | bytes):
        raise TypeError(f"{where}: `{name}` must be numbers; got {points!r}.")
    try:
        array = jnp.asarray(points)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{where}: `{name}` must be a number or a 1-D array of numbers; got "
            f"{points!r}."
        ) from error
    if array.ndim > 1:
        raise ValueError(
            f"{where}: `{name}` must be a number or a 1-D array; got shape "
            f"{array.shape}."
        )
    if not (
        jnp.issubdtype(array.dtype, jnp.floating)
        or jnp.issubdtype(array.dtype, jnp.integer)
    ):
        raise TypeError(
            f"{where}: `{name}` must be real numbers; got dtype {array.dtype}."
        )
    array = jnp.reshape(array, (-1,)).astype(dtype)
    if not is_traced(array) and not bool(jnp.all(jnp.isfinite(array))):
        raise ValueError(
            f"{where}: `{name}` must be finite numbers; got {np.asarray(points)!r}."
        )
    return array


# -- functions that JAX traces ------------------------------------------------------
_UNTRACEABLE = (
    (
        "NonConcreteBooleanIndexError",
        "indexes with a boolean mask of traced values (its size depends on them)",
        "jnp.where(mask, x, 0)",
    ),
    (
        "TracerBoolConversionError",
        "branches in Python on a traced value (`if`, `while`, `and`/`or`, `bool()`)",
        "jnp.where(condition, a, b) for values, or jax.lax.cond for branches",
    ),
    (
        "TracerIntegerConversionError",
        "turns a traced value into a Python int (`int()`, a list index, `range`)",
        "jnp indexing (x[i] with an array i) or jax.lax.dynamic_slice",
    ),
    (
        "TracerArrayConversionError",
        "calls NumPy (`np.array`, `np.sin`, `np.zeros_like`, ...) on a traced value",
        "jax.numpy: `import jax.numpy as jnp` and jnp.array, jnp.sin, ...",
    ),
    (
        "ConcretizationTypeError",
        "needs a concrete Python value from a traced one (`float()`, a shape, ...)",
        "jax.numpy operations on the array itself",
    ),
)


def untraceable(error: BaseException) -> tuple[str, str] | None:
    """``(construct, rewrite)`` when ``error`` is JAX refusing to trace a Python
    construct (the most specific match first), else ``None``."""
    for name, construct, rewrite in _UNTRACEABLE:
        cls = getattr(jax.errors, name, None)
        if cls is not None and isinstance(error, cls):
            return construct, rewrite
    return None


def _user_line(error: BaseException) -> str:
    """``line N of FILE, `source``` of the deepest frame outside JAX, NumPy,
    equinox and calculax, or ``""``."""
    import linecache
    import os
    import traceback

    skip = ("jax", "jaxlib", "numpy", "equinox", "calculax", "diffrax")
    found = ""
    for frame, line in traceback.walk_tb(error.__traceback__):
        path = frame.f_code.co_filename
        parts = set(os.path.normpath(path).split(os.sep))
        if parts & set(skip) or path.startswith("<frozen"):
            continue
        source = linecache.getline(path, line).strip()
        name = os.path.basename(path)
        found = f"line {line} of {name}" + (f", `{source}`," if source else ",")
    return found


def explain_untraceable(where: str, what: str, error: BaseException) -> str | None:
    """The sentence for a user function JAX could not trace, or ``None``.

    ``what`` names the function (e.g. "`fun`"). Example: "solve_ivp: calculax
    traces `fun` with JAX (compiled once, then run on arrays), and line 3 of
    model.py, `if t > 5:`, branches in Python on a traced value (...); write
    jnp.where(condition, a, b) ... instead."
    """
    found = untraceable(error)
    if found is None:
        return None
    construct, rewrite = found
    line = _user_line(error)
    subject = f"{line} " if line else f"{what} "
    return (
        f"{where}: calculax traces {what} with JAX (compiled once, then run on "
        f"arrays), and {subject}{construct}; write {rewrite} instead."
    )

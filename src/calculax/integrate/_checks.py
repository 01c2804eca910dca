"""Argument checks and preparation shared by ``quad`` and ``expectation``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS
from .._core.validate import (
    callable_,
    is_traced,
    real_points,
    real_scalar,
    support_pair,
)
from ._maps import UNIFORM

__all__ = [
    "scalar_limit",
    "support_pair",
    "checked_tolerances",
    "checked_points",
    "prepare",
    "status_item",
    "initial_slots",
    "differentiable",
    "host",
    "K_MAX",
]

_WIDTH_POINTS = 12
K_MAX = 12


def initial_slots(k_max: int = K_MAX, n_points: int = 0) -> int:
    """Intervals of the first mesh: ``(K + 1)`` pieces times their grid."""
    return (k_max + n_points + 1) * (UNIFORM + 1 + _WIDTH_POINTS)


def status_item(index) -> Any:
    """A :data:`RESULTS` item holding the integer array ``index``."""
    return eqx.tree_at(
        lambda s: s._value, RESULTS.successful, jnp.asarray(index, jnp.int32)
    )


def checked_points(where: str, points, dtype, name: str = "points"):
    """``points`` as a 1-D array of finite numbers of ``dtype`` (empty if None)."""
    return real_points(where, name, points, dtype)


def scalar_limit(where: str, a, b):
    """``a``, ``b`` as arrays of the working dtype; ``nan`` refused when concrete."""
    arrays = [real_scalar(where, n, v) for n, v in (("a", a), ("b", b))]
    dtype = jnp.result_type(float, *arrays)
    out = []
    for name, array in zip(("a", "b"), arrays):
        if not is_traced(array) and bool(jnp.isnan(array)):
            raise ValueError(
                f"{where}: the limit `{name}` must be a number or +-inf; got nan."
            )
        out.append(jnp.asarray(array, dtype))
    return out[0], out[1], dtype


def checked_tolerances(where: str, rtol, atol, dtype) -> tuple[float, float]:
    """Defaults ``max(eps**0.75, 1000 eps)`` and ``0``; each checked ``>= 0``."""
    eps = float(np.finfo(dtype).eps)
    values = []
    for name, value, default in (
        ("rtol", rtol, max(eps**0.75, 1000 * eps)),
        ("atol", atol, 0.0),
    ):
        if value is None:
            values.append(default)
            continue
        if is_traced(value):
            raise TypeError(
                f"{where}: `{name}` must be a Python number (it sets the program's "
                "stopping rule); got a traced value."
            )
        if isinstance(value, bool) or not isinstance(
            value, numbers.Real | np.floating | np.integer
        ):
            if not (hasattr(value, "shape") and np.ndim(value) == 0):
                raise TypeError(
                    f"{where}: `{name}` must be a non-negative number; got {value!r}."
                )
        number = float(value)
        if not (number >= 0 and math.isfinite(number)):
            raise ValueError(
                f"{where}: `{name}` must be a non-negative finite number; got "
                f"{value!r}."
            )
        if name == "rtol" and number >= 1:
            raise ValueError(
                f"{where}: `rtol` must be below 1 (a relative tolerance); got "
                f"{value!r}."
            )
        values.append(number)
    rtol_, atol_ = values
    if rtol_ == 0 and atol_ == 0:
        raise ValueError(
            f"{where}: `rtol` and `atol` cannot both be 0 (no tolerance could be "
            "met); pass a positive rtol or atol."
        )
    return rtol_, atol_


class Unpacked(eqx.Module):
    """``f(x, args)`` for ``f(x, *args)``."""

    f: Callable = eqx.field(static=True)

    def __call__(self, x, args):
        return self.f(x, *args)


class _Open(eqx.Module):
    g: Callable = eqx.field(static=True)

    def __call__(self, x, params):
        return self.g(x, params[0])


class _Closed(eqx.Module):
    g: Callable = eqx.field(static=True)

    def __call__(self, x, params):
        inner, consts = params
        return self.g(x, inner, *consts)


def prepare(where: str, f, args, dtype, name: str = "f"):
    """Check ``f(x, *args)`` and make closed-over tracers explicit parameters.

    A custom derivative rule sees only its explicit arguments; a value ``f``
    closes over (``lambda x: g(x, s)`` inside ``grad`` with respect to ``s``)
    would otherwise get no derivative. Returns ``(form, params, shape, dtype)``
    with ``form(x, params) == f(x, *args)``; when ``f`` closes over no tracer,
    ``form`` wraps ``f`` itself, so that repeated calls hit the same compilation.
    """
    callable_(where, name, f)
    if not isinstance(args, tuple):
        raise TypeError(
            f"{where}: `args` must be a tuple of the extra arguments of `{name}`; "
            f"got {type(args).__name__} {args!r}. For one argument write "
            "args=(value,)."
        )
    probe = jnp.zeros((), dtype)
    try:
        out = jax.eval_shape(lambda x: f(x, *args), probe)
    except Exception as error:  # the user's function failed: say where
        raise TypeError(
            f"{where}: calling `{name}(x, *args)` with a scalar {dtype} `x` failed "
            f"({type(error).__name__}: {error}). `{name}` must be a JAX-traceable "
            "function of a scalar."
        ) from error
    leaves = jax.tree.leaves(out)
    if len(leaves) != 1 or not hasattr(leaves[0], "dtype"):
        raise TypeError(
            f"{where}: `{name}(x, *args)` must return one array; got {out!r}."
        )
    (leaf,) = leaves
    if not (
        jnp.issubdtype(leaf.dtype, jnp.number) or jnp.issubdtype(leaf.dtype, jnp.bool_)
    ):
        raise TypeError(
            f"{where}: `{name}(x, *args)` must return numbers; got dtype {leaf.dtype}."
        )
    unpacked = Unpacked(f)
    converted, consts = jax.closure_convert(unpacked, probe, args)
    if consts:
        return _Closed(converted), (args, tuple(consts)), leaf.shape, leaf.dtype
    return _Open(unpacked), (args, ()), leaf.shape, leaf.dtype


def host(arrays, dtype) -> list:
    """Concrete arrays as NumPy arrays of ``dtype`` (for the NumPy backend)."""
    return [np.asarray(x, dtype) for x in arrays]


def differentiable(ell: Callable, params, dtype) -> bool:
    """Whether JAX can differentiate ``ell(x, params)`` in ``x`` (for the search)."""
    try:
        jax.eval_shape(jax.grad(lambda x: ell(x, params)), jnp.zeros((), dtype))
    except Exception:  # pure_callback, integer ops: a derivative-free search
        return False
    return True

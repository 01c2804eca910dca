r"""Where the algorithm runs: NumPy bookkeeping around the compiled integrand.

Every step of an integral (the peak search, the adaptive bisection, the tails) is
written once, against the array namespace ``xp`` and the few operations below,
and runs in NumPy; the user's function is evaluated by one compiled, vectorised
kernel (:func:`jax.jit` of its ``vmap``, cached per function) on fixed-size
batches of points. Under ``jit``/``vmap``/``grad`` the same host computation is
reached through ``jax.pure_callback`` (:func:`._solve.solve`).

Why: XLA compiles the whole algorithm as one program (search, bisection loop, tail
models: several hundred fused kernels) in 5 to 100 CPU-seconds on a 2-core
machine, depending on ``vmap``; the kernel of a typical log-density compiles in
about 0.1 s, so a one-off ``quad`` or ``entropy`` call costs about what importing
JAX does, and a call under ``jit`` compiles in about the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["numpy_backend", "Backend", "sigmoid", "softplus"]

CHUNK = 8192  # points per kernel call: one compiled shape per integrand


class Backend:
    """The operations the algorithm needs beyond the shared array namespace."""

    xp: Any

    def while_loop(self, cond, body, state):
        raise NotImplementedError

    def fori_loop(self, n, body, state):
        raise NotImplementedError

    def set_at(self, array, index, values):
        """``array`` with ``array[index] = values``; out-of-range indices dropped."""
        raise NotImplementedError

    def segment(self, op: str, data, ids, n):
        """``op`` in ``sum``/``max``/``min`` of ``data`` rows grouped by ``ids``."""
        raise NotImplementedError

    def first_true(self, mask, size, fill):
        """Indices of the first ``size`` entries of ``mask`` that are true."""
        raise NotImplementedError

    def evaluate(self, fn: Callable, x, params):
        """``fn(x_i, params)`` for every entry of ``x`` (any shape)."""
        raise NotImplementedError

    def derivatives(self, fn: Callable, x, params):
        """``(fn, fn', fn'')`` in ``x`` at every entry of ``x`` (1-D)."""
        raise NotImplementedError


def _value_slope_curvature(fn, x, params):
    def slope(z):
        return jax.jvp(lambda y: fn(y, params), (z,), (jnp.ones_like(z),))

    (value, g), (_, h) = jax.jvp(slope, (x,), (jnp.ones_like(x),))
    return value, g, h


@functools.partial(jax.jit, static_argnums=0)
def _kernel(fn, x, params):
    return jax.vmap(fn, (0, None))(x, params)


@functools.partial(jax.jit, static_argnums=0)
def _derivative_kernel(fn, x, params):
    return jax.vmap(lambda z: _value_slope_curvature(fn, z, params))(x)


class _NumPy(Backend):
    xp = np

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def while_loop(self, cond, body, state):
        while bool(cond(state)):
            state = body(state)
        return state

    def fori_loop(self, n, body, state):
        for i in range(n):
            state = body(i, state)
        return state

    def set_at(self, array, index, values):
        array = np.array(array, copy=True)
        index = np.asarray(index)
        keep = index < array.shape[0]
        array[index[keep]] = np.asarray(values)[keep]
        return array

    def segment(self, op, data, ids, n):
        data = np.asarray(data)
        fill = {"sum": 0, "max": -np.inf, "min": np.inf}[op]
        if np.issubdtype(data.dtype, np.integer) and op != "sum":
            fill = np.iinfo(data.dtype).min if op == "max" else np.iinfo(data.dtype).max
        out = np.full((n,) + data.shape[1:], fill, data.dtype)
        ufunc = {"sum": np.add, "max": np.maximum, "min": np.minimum}[op]
        ufunc.at(out, np.asarray(ids), data)
        return out

    def first_true(self, mask, size, fill):
        index = np.flatnonzero(mask)[:size]
        return np.concatenate([index, np.full(size - index.size, fill, index.dtype)])

    def _batched(self, kernel, fn, x, params):
        flat = np.reshape(np.asarray(x, self.dtype), (-1,))
        n = flat.shape[0]
        pieces = []
        for start in range(0, max(n, 1), CHUNK):
            chunk = flat[start : start + CHUNK]
            padded = np.concatenate(
                [chunk, np.full(CHUNK - chunk.shape[0], chunk[-1] if chunk.size else 0)]
            ).astype(self.dtype)
            out = kernel(fn, padded, params)
            pieces.append(
                jax.tree.map(lambda o, k=chunk.shape[0]: np.asarray(o)[:k], out)
            )
        out = jax.tree.map(lambda *p: np.concatenate(p), *pieces)
        return jax.tree.map(lambda o: np.reshape(o, np.shape(x) + o.shape[1:]), out)

    def evaluate(self, fn, x, params):
        return self._batched(_kernel, fn, x, params)

    def derivatives(self, fn, x, params):
        return self._batched(_derivative_kernel, fn, x, params)


def numpy_backend(dtype) -> Backend:
    """The NumPy backend computing in ``dtype`` (float32 or float64)."""
    return _NumPy(dtype)


def sigmoid(xp, t):
    """``1 / (1 + exp(-t))`` without overflow, in ``xp`` (NumPy or jax.numpy)."""
    e = xp.exp(-xp.abs(t))
    return xp.where(t >= 0, 1 / (1 + e), e / (1 + e))


def softplus(xp, t):
    """``log(1 + exp(t))`` without overflow."""
    return xp.maximum(t, 0) + xp.log1p(xp.exp(-xp.abs(t)))

"""Keys under which compiled solvers are reused: equal for re-created functions.

``jax.jit`` caches on the function *object*, so a ``lambda`` (or a closure) written
inside a loop or inside a user's function is a new object at every call and
``solve_ivp`` would recompile (seconds) each time. :class:`FunctionKey` wraps a
Python function and compares equal to another wrapper when both come from the
same source (the same code object), see the same module globals and have the same
defaults and closure: closure cells compare by value when they hold hashable
non-array values (numbers, strings, functions compared the same way) and by
identity otherwise (an array captured by a closure is baked into the compiled code,
so another array must recompile). Anything that is not a plain Python function
(a callable object, a ``functools.partial``, a jitted function) keys by itself.
"""

from __future__ import annotations

import types
from collections.abc import Callable

__all__ = ["FunctionKey", "function_key"]

_MISSING = object()


_MAX_DEPTH = 4  # functions nested deeper in closures (or recursive) key by identity


def _cell_key(cell, depth):
    try:
        value = cell.cell_contents
    except ValueError:  # an empty cell (a name assigned after the closure was made)
        return _MISSING
    return _value_key(value, depth)


def _value_key(value, depth):
    if isinstance(value, types.FunctionType) and depth < _MAX_DEPTH:
        return FunctionKey(value, depth + 1)
    if isinstance(value, (bool, int, float, complex, str, bytes, type(None))):
        return (type(value), value)
    if isinstance(value, tuple):
        return tuple(_value_key(v, depth) for v in value)
    return _Identity(value)


class _Identity:
    """Compares by identity (arrays and other unhashable or mutable values)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _Identity) and other.value is self.value

    def __hash__(self):
        return id(self.value)


class FunctionKey:
    """A callable wrapper of ``fn`` equal to any other wrapper of a function with
    the same code, globals, defaults and closure (module docstring)."""

    __slots__ = ("fn", "_key", "_hash")

    def __init__(self, fn: types.FunctionType, depth: int = 0):
        self.fn = fn
        closure = tuple(_cell_key(c, depth) for c in fn.__closure__ or ())
        defaults = tuple(_value_key(v, depth) for v in fn.__defaults__ or ())
        kwdefaults = tuple(
            (k, _value_key(v, depth)) for k, v in (fn.__kwdefaults__ or {}).items()
        )
        self._key: object = (
            fn.__code__,
            id(fn.__globals__),
            closure,
            defaults,
            kwdefaults,
        )
        try:
            self._hash = hash(self._key)
        except TypeError:  # an unhashable default somewhere: identity
            self._key = _Identity(fn)
            self._hash = hash(self._key)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __eq__(self, other):
        return isinstance(other, FunctionKey) and other._key == self._key

    def __hash__(self):
        return self._hash


def function_key(fn: Callable) -> Callable:
    """``fn`` wrapped in a :class:`FunctionKey` if it is a plain Python function,
    else ``fn`` itself."""
    if isinstance(fn, types.FunctionType):
        return FunctionKey(fn)
    return fn

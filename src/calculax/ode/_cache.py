"""Keys under which compiled solvers are reused: the same function, reading the
same values.

``jax.jit`` caches a compiled program per function *object*: a function that
reads a module global, a closure cell or an attribute of an object bakes the
value it saw at the first call into the program, so changing that value later
returns the old answer. :class:`FunctionKey` is the key ``solve_ivp`` and
``find_time`` compile under. Two keys are equal only when they wrap the same
function object **and** every value the function can read without being
re-created is equal:

- the contents of its closure cells and its default arguments;
- the module globals its code names (and, recursively, those of the functions
  it calls by global name, its nested ``lambda``s and comprehensions);
- for a bound method, the attributes of ``self``; for ``functools.partial``,
  the bound arguments; for another callable object, its attributes (with the
  class's ``__call__``).

Numbers, strings, ``None`` and frozen dataclasses compare by value; NumPy
arrays by identity and contents (they can change in place); JAX arrays
(immutable) and other objects by identity, with their attributes compared one
level down. Modules and classes
compare by identity. What cannot be seen this way (an object reached through a
dictionary more than three levels deep, a value that a called C extension reads
from its own state) is not tracked: values that change between solves belong in
``args``, which are traced and never recompile.

An ``equinox.Module`` is its own key: ``equinox.filter_jit`` traces its array
fields and compares the rest by value. A callable object whose class defines
``__calculax_key__()`` is keyed by what that returns (compared as above) instead
of its identity: a wrapper made afresh for every solve around the same function
(``second_order(f)``) then reuses the compiled program.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable

import equinox as eqx
import jax
import numpy as np

__all__ = ["FunctionKey", "function_key"]

_MAX_DEPTH = 3  # attribute/global chains followed this far; deeper: identity
_MAX_ITEMS = 64  # larger containers compare by identity
_SCALARS = (bool, int, float, complex, str, bytes, type(None))


class _Snapshot:
    """Collects the comparable snapshot of a callable and keeps every object it
    identifies by ``id`` alive (so that an ``id`` cannot be reused while the key
    exists). Only persistent objects are identified by ``id``."""

    def __init__(self):
        self.alive: list = []
        self.path: set[int] = set()  # objects being expanded (cycles)

    def ident(self, obj) -> tuple:
        self.alive.append(obj)
        return ("id", id(obj))

    def value(self, obj, depth: int) -> object:
        if isinstance(obj, _SCALARS):
            return (type(obj), obj)
        if isinstance(obj, np.generic):
            return (type(obj), obj.item())
        if isinstance(obj, np.ndarray):
            if obj.dtype == object:
                return self.ident(obj)
            return (*self.ident(obj), obj.shape, obj.dtype.str, hash(obj.tobytes()))
        if isinstance(obj, (jax.Array, types.ModuleType, type)):
            return self.ident(obj)
        if depth > _MAX_DEPTH or id(obj) in self.path:
            return self.ident(obj)
        self.path.add(id(obj))
        try:
            return self._expand(obj, depth)
        finally:
            self.path.discard(id(obj))

    def _expand(self, obj, depth: int) -> object:
        custom = getattr(type(obj), "__calculax_key__", None)
        if callable(custom):  # a wrapper that names what it computes with
            return ("custom", type(obj), self.value(obj.__calculax_key__(), depth))
        if isinstance(obj, types.FunctionType):
            return self.function(obj, depth)
        parameters = getattr(type(obj), "__dataclass_params__", None)
        if parameters is not None and parameters.frozen:  # immutable: by value
            return (
                type(obj),
                tuple(
                    self.value(getattr(obj, f.name), depth + 1)
                    for f in dataclasses.fields(obj)
                ),
            )
        if isinstance(obj, types.MethodType):
            return (
                "method",
                self.value(obj.__func__, depth),
                self.obj(obj.__self__, depth),
            )
        if isinstance(obj, functools.partial):
            return (
                "partial",
                self.value(obj.func, depth),
                self.value(obj.args, depth + 1),
                self.value(obj.keywords, depth + 1),
            )
        if isinstance(obj, (tuple, list)) and len(obj) <= _MAX_ITEMS:
            return (type(obj), tuple(self.value(v, depth + 1) for v in obj))
        if isinstance(obj, dict) and len(obj) <= _MAX_ITEMS:
            return (dict, self.items(obj, depth + 1))
        wrapped = getattr(obj, "__wrapped__", None)  # jax.jit, functools.wraps
        if callable(wrapped):
            return ("wrapped", self.ident(obj), self.value(wrapped, depth))
        return self.obj(obj, depth)

    def items(self, mapping: dict, depth: int) -> tuple:
        return tuple(
            (self.value(k, depth), self.value(v, depth)) for k, v in mapping.items()
        )

    def obj(self, obj, depth: int) -> tuple:
        """An object: its identity and its attributes, one level down."""
        attributes = getattr(obj, "__dict__", None)
        if not isinstance(attributes, dict) or len(attributes) > _MAX_ITEMS:
            return self.ident(obj)
        call = getattr(type(obj), "__call__", None)
        return (
            *self.ident(obj),
            self.items(attributes, depth + 1),
            self.value(call, depth + 1)
            if isinstance(call, types.FunctionType)
            else None,
        )

    def function(self, fn: types.FunctionType, depth: int) -> tuple:
        cells = []
        for cell in fn.__closure__ or ():
            try:
                cells.append(self.value(cell.cell_contents, depth + 1))
            except ValueError:  # an empty cell (assigned after the closure was made)
                cells.append(None)
        names = sorted(_global_names(fn.__code__))
        scope = fn.__globals__
        globals_ = tuple(
            (name, self.value(scope[name], depth + 1))
            for name in names
            if name in scope
        )
        defaults = None
        if fn.__defaults__ is not None:
            defaults = tuple(self.value(v, depth + 1) for v in fn.__defaults__)
        kwdefaults = None
        if fn.__kwdefaults__ is not None:
            kwdefaults = self.items(fn.__kwdefaults__, depth + 1)
        return ("fn", *self.ident(fn), tuple(cells), globals_, defaults, kwdefaults)


@functools.lru_cache(maxsize=1024)
def _global_names(code: types.CodeType) -> frozenset[str]:
    """Names a code object (and the code objects nested in it) may look up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return frozenset(names)


class FunctionKey:
    """A callable wrapper of ``fn`` equal to another wrapper only when both wrap
    the same function reading the same values (module docstring)."""

    __slots__ = ("fn", "_snapshot", "_hash", "_alive")

    def __init__(self, fn: Callable):
        snapshot = _Snapshot()
        self.fn = fn
        self._snapshot = snapshot.value(fn, 0)
        self._alive = snapshot.alive
        try:
            self._hash = hash(self._snapshot)
        except TypeError:  # pragma: no cover - every snapshot part is hashable
            self._snapshot = snapshot.ident(fn)
            self._hash = hash(self._snapshot)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __eq__(self, other):
        return (
            isinstance(other, FunctionKey)
            and other._hash == self._hash
            and other._snapshot == self._snapshot
        )

    def __hash__(self):
        return self._hash

    def __repr__(self):
        return f"FunctionKey({self.fn!r})"


def function_key(fn: Callable) -> Callable:
    """``fn`` wrapped in a :class:`FunctionKey`; an ``equinox.Module`` (whose
    arrays ``equinox.filter_jit`` traces) is returned as it is."""
    if isinstance(fn, (eqx.Module, FunctionKey)):
        return fn
    return FunctionKey(fn)

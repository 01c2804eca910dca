"""Checks of ``solve_ivp``'s arguments: wrong structure or type at trace time
(``TypeError``/``ValueError``), wrong values at once when they are concrete and
through ``equinox.error_if`` when they are traced."""

from __future__ import annotations

import numbers

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.validate import explain_untraceable, is_traced
from ._event import Event

__all__ = [
    "as_events",
    "check_args",
    "check_event_outputs",
    "check_fun_output",
    "check_jac",
    "check_options",
    "check_t_eval",
    "check_t_span",
    "check_tolerance",
    "check_y0",
    "state_dtype",
]

_W = "solve_ivp"


def _fail(kind, name: str, expected: str, got) -> None:
    raise kind(f"{_W}: `{name}` must be {expected}; got {got!r}.")


def state_dtype(y0) -> np.dtype:
    """The real floating dtype of the state: ``y0``'s, integers promoted."""
    try:
        leaves = jax.tree.leaves(y0)
    except Exception:  # pragma: no cover - jax.tree flattens anything
        leaves = []
    if not leaves:
        _fail(ValueError, "y0", "the initial state, an array or a pytree of arrays", y0)
    for leaf in leaves:
        if isinstance(leaf, (str, bytes)) or not (
            isinstance(leaf, numbers.Number) or hasattr(leaf, "dtype")
        ):
            _fail(TypeError, "y0", "numbers or arrays", y0)
    try:
        dtype = jnp.result_type(*leaves)
    except TypeError:
        _fail(TypeError, "y0", "numbers or arrays of one numeric kind", y0)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(
            f"{_W}: `y0` is complex ({dtype}); calculax.ode integrates real states. "
            "Split it into real and imaginary parts, or use "
            "calculax.scipy.integrate.solve_ivp, which does that for you."
        )
    if not (jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)):
        if dtype != jnp.bool_:
            _fail(TypeError, "y0", "real numbers", y0)
        _fail(TypeError, "y0", "real numbers, not booleans", y0)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return np.dtype(dtype)


def _xp(x):
    """``jax.numpy`` for traced values, NumPy for concrete ones (eager JAX
    operations would each compile a small program)."""
    return jnp if is_traced(x) else np


def _as(x, dtype):
    return _xp(x).asarray(x, dtype)


def check_y0(y0, dtype):
    """``y0`` as arrays of ``dtype``, checked finite and non-empty."""
    y0 = jax.tree.map(lambda x: _as(x, dtype), y0)
    if sum(np.size(x) for x in jax.tree.leaves(y0)) == 0:
        _fail(ValueError, "y0", "a non-empty state", y0)

    def finite(x):
        xp = _xp(x)
        return _values(x, ~xp.all(xp.isfinite(x)), "y0", "finite (no nan or inf)")

    return jax.tree.map(finite, y0)


def _values(x, bad, name: str, expected: str):
    """``x``, failing where ``bad``: at once when concrete, else under ``jit``."""
    message = f"{_W}: `{name}` must be {expected}."
    if not is_traced(bad):
        if bool(np.any(np.asarray(bad))):
            raise ValueError(f"{message[:-1]}; got {_short(x)}.")
        return x
    return eqx.error_if(x, bad, message)


def _short(x) -> str:
    try:
        arr = np.asarray(x)
    except Exception:  # pragma: no cover
        return repr(x)
    return np.array2string(arr, threshold=8) if arr.ndim else repr(arr.item())


def _real_array(name: str, value, expected: str):
    if isinstance(value, (str, bytes, bool)) or value is None:
        _fail(TypeError, name, expected, value)
    if is_traced(value):
        dtype = jnp.result_type(value)
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except Exception:
            _fail(TypeError, name, expected, value)
        dtype = arr.dtype
    real = np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)
    if not real or dtype == np.bool_:
        _fail(TypeError, name, expected, value)
    return arr


def check_t_span(t_span, dtype):
    """``(t0, t1)``: ``t0`` finite, ``t1`` not nan (``inf`` is allowed)."""
    expected = "a pair (t0, t1) of real numbers"
    if isinstance(t_span, (str, bytes, dict, set)) or not hasattr(t_span, "__len__"):
        _fail(TypeError, "t_span", expected, t_span)
    if len(t_span) != 2 or any(np.ndim(v) != 0 for v in t_span):
        _fail(ValueError, "t_span", expected, t_span)
    if is_traced(t_span):
        span = jnp.stack([jnp.asarray(v) for v in t_span])
    else:
        span = _real_array("t_span", [np.asarray(v) for v in t_span], expected)
    span = _as(span, dtype)
    xp = _xp(span)
    bad = ~xp.isfinite(span[0]) | xp.isnan(span[1])
    return _values(span, bad, "t_span", "(t0, t1) with t0 finite and t1 a number")


def check_tolerance(name: str, value, dtype, size: int, positive: bool):
    """A tolerance: a number or one per state component, ``> 0`` (``rtol``) or
    ``>= 0`` (``atol``), finite."""
    expected = (
        f"a {'positive' if positive else 'non-negative'} number (or {size} of them)"
    )
    arr = _as(_real_array(name, value, expected), dtype)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, size)):
        _fail(ValueError, name, expected, value)
    xp = _xp(arr)
    bad = ~xp.all(xp.isfinite(arr)) | xp.any(arr <= 0 if positive else arr < 0)
    return _values(arr, bad, name, expected)


def check_t_eval(t_eval, t_span, dtype):
    """1-D times, finite, inside ``t_span``, sorted in the direction of
    integration."""
    expected = "a 1-D array of times inside t_span, sorted in its direction"
    arr = _as(_real_array("t_eval", t_eval, expected), dtype)
    if arr.ndim != 1:
        _fail(ValueError, "t_eval", expected, t_eval)
    xp = _xp((arr, t_span))
    t0, t1 = t_span[0], t_span[1]
    d = xp.where(t1 >= t0, 1, -1).astype(dtype)
    s = d * arr
    bad = (
        ~xp.all(xp.isfinite(arr))
        | xp.any(s < d * t0)
        | xp.any(s > d * t1)
        | xp.any(xp.diff(s) < 0)
    )
    return _values(arr, bad, "t_eval", expected)


def _positive_int(name: str, value, minimum: int, allow_none: bool):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        _fail(
            TypeError,
            name,
            f"an integer >= {minimum}" + (" or None" if allow_none else ""),
            value,
        )
    if value < minimum:
        _fail(ValueError, name, f"an integer >= {minimum}", value)
    return int(value)


def _step_size(name: str, value, dtype, allow_inf: bool):
    expected = "a positive number" + (" (inf: no limit)" if allow_inf else "")
    if isinstance(value, (bool, str, bytes)) or value is None:
        _fail(TypeError, name, expected, value)
    arr = _as(_real_array(name, value, expected), dtype)
    if arr.ndim != 0:
        _fail(ValueError, name, expected, value)
    bad = ~(arr > 0) | (_xp(arr).isinf(arr) & (not allow_inf))
    return _values(arr, bad, name, expected)


def check_options(max_steps, max_step, first_step, interior_points, t_span, dtype):
    """``max_steps`` (``None`` or an int >= 1), ``max_step`` (> 0, ``inf`` by
    default), ``first_step`` (``None`` or within ``t_span``), ``interior_points``
    (an int >= 0)."""
    max_steps = _positive_int("max_steps", max_steps, 1, allow_none=True)
    interior_points = _positive_int("interior_points", interior_points, 0, False)
    max_step = _step_size("max_step", max_step, dtype, allow_inf=True)
    if first_step is None:
        first = np.asarray(np.nan, dtype)
    else:
        first = _step_size("first_step", first_step, dtype, allow_inf=False)
        length = abs(t_span[1] - t_span[0])
        first = _values(first, first > length, "first_step",
                        "at most the length of t_span")  # fmt: skip
    return max_steps, max_step, first, interior_points


def check_jac(jac, y0, dtype):
    """``None``, a callable ``jac(t, y, *args)``, or a constant ``(n, n)`` array
    (``y0`` a single array of ``n`` numbers)."""
    if jac is None:
        return "auto", None
    leaves = jax.tree.leaves(y0)
    if len(leaves) != 1:
        raise TypeError(
            f"{_W}: `jac` needs y0 to be a single array (the Jacobian is a matrix "
            "over its entries); got a pytree of "
            f"{len(leaves)} arrays. Leave jac=None (forward-mode differentiation)."
        )
    n = leaves[0].size
    if callable(jac):
        return "function", None
    expected = f"None, a callable jac(t, y, *args) or an array of shape ({n}, {n})"
    if isinstance(jac, (str, bytes, bool)):
        _fail(TypeError, "jac", expected, jac)
    if hasattr(jac, "toarray"):  # a SciPy sparse matrix
        jac = jac.toarray()
    arr = _as(_real_array("jac", jac, expected), dtype)
    if arr.size != n * n:
        _fail(ValueError, "jac", expected, f"an array of shape {arr.shape}")
    xp = _xp(arr)
    arr = _values(arr, ~xp.all(xp.isfinite(arr)), "jac", "finite")
    return "constant", arr.reshape(n, n)


def as_events(events) -> tuple[Event, ...]:
    """Normalise ``events``: an ``Event``, a callable, or a sequence of them.

    A bare callable becomes an ``Event``, reading SciPy's optional ``terminal`` and
    ``direction`` attributes.
    """
    if events is None:
        return ()
    if isinstance(events, Event) or callable(events):
        events = (events,)
    if not isinstance(events, (tuple, list)):
        raise TypeError(
            f"{_W}: `events` must be an Event, a callable or a sequence of them; "
            f"got {type(events).__name__}."
        )
    out = []
    for i, event in enumerate(events):
        if isinstance(event, Event):
            out.append(event)
        elif callable(event):
            terminal = getattr(event, "terminal", False)
            direction = getattr(event, "direction", 0)
            try:
                out.append(Event(event, terminal=terminal, direction=direction))
            except (TypeError, ValueError) as error:
                raise type(error)(f"{_W}: events[{i}]: {error}") from None
        else:
            raise TypeError(
                f"{_W}: `events[{i}]` must be an Event or a callable "
                f"fn(t, y, *args) -> scalar; got {type(event).__name__}."
            )
    return tuple(out)


def _trace(what: str, fn, *inputs):
    """``jax.eval_shape(fn, *inputs)`` with calculax's sentence when JAX cannot
    trace ``fn`` or ``fn`` fails on the initial values."""
    try:
        return jax.eval_shape(fn, *inputs)
    except Exception as error:
        sentence = explain_untraceable(_W, what, error)
        if sentence is not None:
            raise TypeError(sentence) from error
        raise (
            type(error)(
                f"{_W}: calling {what} at (t0, y0) failed: {error}"
            ).with_traceback(error.__traceback__)
            if _reconstructible(error)
            else error
        )


def _reconstructible(error) -> bool:
    try:
        type(error)("x")
    except Exception:
        return False
    return isinstance(error, (TypeError, ValueError, IndexError, KeyError))


def check_fun_output(fun, t, y0, args) -> None:
    """``fun(t, y0, *args)`` must have ``y0``'s structure, shapes and dtypes."""
    out = _trace("`fun`", lambda t, y: fun(t, y, *args), t, y0)
    expected = jax.tree.structure(y0)
    if isinstance(out, (list, tuple)) and not isinstance(y0, (list, tuple)):
        raise ValueError(
            f"{_W}: fun(t, y, *args) returned a {type(out).__name__}; return dy/dt "
            "as an array of y's shape (e.g. jnp.stack([...]) or jnp.array([...]))."
        )
    # jaxlib ships no stub for PyTreeDef, so mypy cannot type its `!=`.
    if jax.tree.structure(out) != expected:  # type: ignore[operator]
        raise ValueError(
            f"{_W}: fun(t, y, *args) must return dy/dt with y's structure "
            f"{expected}; got {jax.tree.structure(out)}."
        )
    for got, want in zip(jax.tree.leaves(out), jax.tree.leaves(y0)):
        if not hasattr(got, "shape"):
            raise TypeError(f"{_W}: fun(t, y, *args) returned {got!r}, not an array.")
        if got.shape != want.shape:
            raise ValueError(
                f"{_W}: fun(t, y, *args) returned shape {got.shape} where y has "
                f"shape {want.shape}; dy/dt must have the shape of y."
            )
        if got.dtype != want.dtype and not jnp.can_cast(got.dtype, want.dtype, "safe"):
            raise TypeError(
                f"{_W}: fun(t, y, *args) returned dtype {got.dtype} for a state "
                f"of dtype {want.dtype}; return dy/dt in y's dtype (e.g. "
                f"jnp.asarray(..., dtype={want.dtype}))."
            )


def check_event_outputs(fns, t, y0, args) -> None:
    """Every event function must return a real scalar."""
    for i, fn in enumerate(fns):
        out = _trace(f"`events[{i}]`", lambda t, y, fn=fn: fn(t, y, *args), t, y0)
        if not hasattr(out, "shape") or out.shape not in ((), (1,)):
            shape = getattr(out, "shape", type(out).__name__)
            raise ValueError(
                f"{_W}: events[{i}](t, y, *args) must return a scalar; got "
                f"{shape}. Reduce it to one number whose zeros are the events."
            )
        if jnp.issubdtype(out.dtype, jnp.complexfloating):
            raise TypeError(
                f"{_W}: events[{i}] returned complex {out.dtype}; events need a "
                "real function."
            )


def check_args(args) -> tuple:
    if not isinstance(args, tuple):
        raise TypeError(
            f"{_W}: `args` must be a tuple (as in SciPy); got {type(args).__name__}; "
            "write args=(value,)."
        )
    return args

"""Trace-time checks of ``solve_ivp``'s arguments (tier 1: wrong structure/type)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._event import Event

__all__ = ["as_events", "check_event_outputs", "check_fun_output", "state_dtype"]


def state_dtype(y0) -> np.dtype:
    """The real floating dtype of the state: ``y0``'s, integers promoted."""
    leaves = jax.tree.leaves(y0)
    if not leaves:
        raise ValueError("solve_ivp: y0 has no arrays; pass the initial state.")
    dtype = jnp.result_type(*leaves)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        raise TypeError(
            f"solve_ivp: complex y0 ({dtype}) is not supported; split it into real "
            "and imaginary parts."
        )
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return np.dtype(dtype)


def as_events(events) -> tuple[Event, ...]:
    """Normalise ``events``: an ``Event``, a callable, or a sequence of them.

    A bare callable becomes an ``Event``, reading SciPy's optional ``terminal`` and
    ``direction`` attributes.
    """
    if isinstance(events, Event) or callable(events):
        events = (events,)
    if not isinstance(events, (tuple, list)):
        raise TypeError(
            "solve_ivp: events must be an Event, a callable or a sequence of them, "
            f"got {type(events).__name__}."
        )
    out = []
    for i, event in enumerate(events):
        if isinstance(event, Event):
            out.append(event)
        elif callable(event):
            terminal = getattr(event, "terminal", False)
            direction = int(np.sign(getattr(event, "direction", 0)))
            out.append(Event(event, terminal=terminal, direction=direction))
        else:
            raise TypeError(
                f"solve_ivp: events[{i}] must be an Event or a callable "
                f"fn(t, y, *args) -> scalar, got {type(event).__name__}."
            )
    return tuple(out)


def check_fun_output(fun, t, y0, args) -> None:
    """``fun(t, y0, *args)`` must have ``y0``'s structure, shapes and dtypes."""
    out = jax.eval_shape(lambda: fun(t, y0, *args))
    expected = jax.tree.structure(y0)
    # jaxlib ships no stub for PyTreeDef, so mypy cannot type its `!=`.
    if jax.tree.structure(out) != expected:  # type: ignore[operator]
        raise ValueError(
            f"solve_ivp: fun(t, y, *args) must return dy/dt with y's structure "
            f"{expected}, got {jax.tree.structure(out)}."
        )
    for got, want in zip(jax.tree.leaves(out), jax.tree.leaves(y0)):
        if got.shape != want.shape:
            raise ValueError(
                f"solve_ivp: fun(t, y, *args) returned shape {got.shape} where y has "
                f"shape {want.shape}; dy/dt must have the shape of y."
            )
        if got.dtype != want.dtype and not jnp.can_cast(got.dtype, want.dtype, "safe"):
            raise TypeError(
                f"solve_ivp: fun(t, y, *args) returned dtype {got.dtype} for a state "
                f"of dtype {want.dtype}; return dy/dt in y's dtype (e.g. "
                f"jnp.asarray(..., dtype={want.dtype}))."
            )


def check_event_outputs(fns, t, y0, args) -> None:
    """Every event function must return a real scalar."""
    for i, fn in enumerate(fns):
        out = jax.eval_shape(lambda fn=fn: fn(t, y0, *args))
        if not hasattr(out, "shape") or out.shape != ():
            shape = getattr(out, "shape", type(out).__name__)
            raise ValueError(
                f"solve_ivp: events[{i}].fn(t, y, *args) must return a scalar, got "
                f"{shape}; reduce it to one number whose zeros are the events."
            )
        if jnp.issubdtype(out.dtype, jnp.complexfloating):
            raise TypeError(
                f"solve_ivp: events[{i}].fn returned complex {out.dtype}; events "
                "need a real function."
            )

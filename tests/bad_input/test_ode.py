"""Bad and edge inputs to ``calculax.ode`` and ``calculax.scipy.integrate``.

Each case states its expected outcome: a specific error (type and message), a right
value (against a closed form), or a flagged result (a non-OK status, raised as
``calculax.NumericalError`` with ``throw=True``). ``python -m
tests.bad_input.test_ode`` prints the outcome classes per entry point for
whichever calculax is importable (``PYTHONPATH=.../src``); the counts before and
after are in ``notes/ode.md``.

Most cases are argument checks that compile nothing; the solves share a few
module-level functions so that each compiles once.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import re
import sys
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
import calculax.ode as ode

if __name__ == "__main__":  # as in the test run (conftest.py): float64 available
    jax.config.update("jax_enable_x64", True)


@dataclasses.dataclass(frozen=True)
class Raises:
    kind: type | tuple
    match: str


@dataclasses.dataclass(frozen=True)
class Value:
    """A right value: ``check(result)`` is True."""

    check: Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class Flagged:
    """A non-OK status, raised (``NumericalError``) or returned."""


@dataclasses.dataclass(frozen=True)
class Case:
    entry: str
    name: str
    run: Callable[[], Any]
    expect: Any

    def __str__(self):
        return f"{self.entry}: {self.name}"


# -- shared problems (module level: each compiles once) ---------------------------


def decay(t, y):
    return -y


def growth(t, y, rate):
    return rate * y


def blowup(t, y):
    return y**2  # y = 1 / (1 - t)


def half(t, y):
    return y[0] - 0.5


def nan_later(t, y):
    return jnp.where(t > 1.0, jnp.nan, y[0] - 0.1)


def always_nan(t, y):
    return jnp.nan * y[0]


def infinite(t, y):
    return jnp.where(t > 0.5, jnp.inf, -1.0)


def switch(t, y):
    return (y[0] < 0.5) - 0.5  # a boolean event: y = e^-t crosses 1/2 at ln 2


def ramp(t, y):
    return jnp.ones_like(y)


def near_top(t, y):
    return jnp.sin(y[0]) - (1 - 1e-6)  # y = t: two roots 2.8e-3 apart at pi/2


Y1 = jnp.array([1.0])


def _solve(fun=decay, t_span=(0.0, 1.0), y0=Y1, **kw):
    return lambda: ode.solve_ivp(fun, t_span, y0, **kw)


def _final(result, truth, rel=1e-6):
    y = np.asarray(result.y)[-1]
    return bool(np.allclose(y, truth, rtol=rel, atol=0))


def _time(result, truth, k=0, rel=1e-8):
    times = np.asarray(result.t_events[k])
    return bool(abs(times[0] - truth) <= rel * abs(truth))


# -- the cache: values a function reads change between solves ----------------------

RATE = 1.0


def _global_rate(t, y):
    return -RATE * y


def _changed_global():
    global RATE
    out = []
    for rate in (1.0, 3.0):
        RATE = rate
        out.append(float(ode.solve_ivp(_global_rate, (0.0, 1.0), Y1).y[-1, 0]))
    RATE = 1.0
    return np.array(out)


def _changed_closure():
    rate = 1.0

    def fun(t, y):
        return -rate * y

    out = []
    for rate in (1.0, 3.0):  # noqa: B007 - the closure reads the rebound cell
        out.append(float(ode.solve_ivp(fun, (0.0, 1.0), Y1).y[-1, 0]))
    return np.array(out)


class _Model:
    def __init__(self):
        self.rate = 1.0

    def rhs(self, t, y):
        return -self.rate * y


def _changed_attribute():
    model, out = _Model(), []
    for rate in (1.0, 3.0):
        model.rate = rate
        out.append(float(ode.solve_ivp(model.rhs, (0.0, 1.0), Y1).y[-1, 0]))
    return np.array(out)


RATES = np.array([1.0])


def _array_rate(t, y):
    return -RATES[0] * y


def _changed_array_in_place():
    out = []
    for rate in (1.0, 3.0):
        RATES[0] = rate
        out.append(float(ode.solve_ivp(_array_rate, (0.0, 1.0), Y1).y[-1, 0]))
    RATES[0] = 1.0
    return np.array(out)


def _changed_partial():
    out = []
    for rate in (-1.0, -3.0):
        fun = functools.partial(growth, rate=rate)
        out.append(float(ode.solve_ivp(fun, (0.0, 1.0), Y1).y[-1, 0]))
    return np.array(out)


def _recreated_lambdas():
    out = []
    for k in (1.0, 3.0):
        out.append(float(ode.solve_ivp(lambda t, y: -k * y, (0.0, 1.0), Y1).y[-1, 0]))
    return np.array(out)


CACHE_TRUTH = np.exp([-1.0, -3.0])


def _cached(fn):
    return Value(lambda out: bool(np.allclose(out, CACHE_TRUTH, rtol=1e-5)))


# -- functions JAX cannot trace ----------------------------------------------------


def py_branch(t, y):
    if t > 5:
        return y
    return -y


def numpy_call(t, y):
    return np.array([-y[0]])


def to_float(t, y):
    return -float(y[0]) * y


def returns_list(t, y):
    return [y[0]]


def user_error(t, y):
    raise KeyError("no such parameter")


def branching_event(t, y):
    return 1.0 if y[0] > 0.5 else -1.0


# -- front (calculax.scipy.integrate) ---------------------------------------------


def _front(*args, **kw):
    def run():
        from calculax.scipy.integrate import solve_ivp  # absent before the front

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return solve_ivp(*args, **kw)

    return run


def np_decay(t, y):
    return -y


def terminal_event(value):
    def event(t, y):
        return y[0] - 0.5

    event.terminal = value
    return event


def _front_t0_event():
    from calculax.scipy.integrate import solve_ivp

    def at_start(t, y):
        return y[0] - 1.0

    at_start.terminal = True
    return solve_ivp(np_decay, (0, 1), [1.0], events=at_start)


def _front_infinite_span():
    from calculax.scipy.integrate import solve_ivp

    def hit(t, y):
        return y[0] - 0.5

    hit.terminal = True
    return solve_ivp(np_decay, (0, np.inf), [1.0], events=hit, rtol=1e-8, atol=1e-10)


def _front_complex():
    from calculax.scipy.integrate import solve_ivp

    return solve_ivp(lambda t, y: 1j * y, (0, 1), [1.0 + 0j], rtol=1e-9, atol=1e-12)


def _front_raises_from_fun():
    from calculax.scipy.integrate import solve_ivp

    def fun(t, y):
        if t > 0.5:
            raise ZeroDivisionError("the model is undefined after t = 0.5")
        return -y

    return solve_ivp(fun, (0, 1), [1.0])


# -- jit, vmap, grad ---------------------------------------------------------------


def _jit_nan_y0():
    run = jax.jit(lambda y0: ode.solve_ivp(decay, (0.0, 1.0), y0, max_steps=64).y)
    return run(jnp.array([jnp.nan]))


def _jit_bad_rtol():
    run = jax.jit(
        lambda r: ode.solve_ivp(decay, (0.0, 1.0), Y1, rtol=r, method="Dopri5").y
    )
    return run(jnp.asarray(-1.0))


def _jit_auto_rtol():
    run = jax.jit(lambda r: ode.solve_ivp(decay, (0.0, 1.0), Y1, rtol=r).y)
    return run(jnp.asarray(1e-6))


def _vmap_t_eval_outside():
    def run(t1):
        return ode.solve_ivp(decay, (0.0, t1), Y1, t_eval=jnp.array([0.5, 1.0])).y

    return jax.vmap(run)(jnp.array([1.0, 0.5]))


def _jit_unbounded_events():
    def run(y0):
        ev = ode.Event(half, max_events=None)
        return ode.solve_ivp(decay, (0.0, 1.0), y0, events=ev).y

    return jax.jit(run)(Y1)


def _grad_of_switch_time():
    def first(y0):
        sol = ode.solve_ivp(decay, (0.0, 3.0), y0, events=ode.Event(switch))
        return sol.t_events[0][0]

    return jax.grad(lambda y: first(y)[()])(Y1)


def _step_like_time():
    return ode.solve_ivp(decay, (0.0, 3.0), Y1, events=ode.Event(switch),
                         rtol=1e-10, atol=1e-12)  # fmt: skip


def _close_pair():
    return ode.solve_ivp(ramp, (0.0, 3.0), jnp.array([0.0]), events=ode.Event(near_top))


def _pair_truth(result):
    a = np.arcsin(1 - 1e-6)
    times = np.asarray(result.t_events[0])[: int(result.n_events[0])]
    return len(times) == 2 and bool(np.allclose(times, [a, np.pi - a], atol=1e-6))


def _find_time_never():
    return ode.find_time(decay, (0.0, 1.0), Y1, lambda t, y: y[0] - 2.0)


def _find_time_covers():
    result = ode.find_time(decay, (0.0, 3.0), Y1, half, rtol=1e-5, atol=1e-8)
    actual = abs(float(result.value) - np.log(2))
    return actual <= float(result.error) <= 1e-3


def _e(t, y):
    return y[0]


E = functools.partial(ode.Event, _e)

CASES: list[Case] = [
    # ---- solve_ivp: callables ----
    Case("solve_ivp", "fun not callable", _solve(fun=3.0),
         Raises(TypeError, "`fun` must be a callable")),
    Case("solve_ivp", "Python if on t", _solve(fun=py_branch),
         Raises(TypeError, r"calculax traces `fun`.*branches in Python.*jnp.where")),
    Case("solve_ivp", "np.array on y", _solve(fun=numpy_call),
         Raises(TypeError, r"calculax traces `fun`.*calls NumPy.*jax.numpy")),
    Case("solve_ivp", "float(y[0])", _solve(fun=to_float),
         Raises(TypeError, r"calculax traces `fun`.*concrete Python value")),
    Case("solve_ivp", "fun returns a list", _solve(fun=returns_list),
         Raises(ValueError, "returned a list")),
    Case("solve_ivp", "fun raises its own error", _solve(fun=user_error),
         Raises(KeyError, "no such parameter")),
    Case("solve_ivp", "fun wrong shape", _solve(fun=lambda t, y: jnp.zeros(3)),
         Raises(ValueError, r"returned shape \(3,\) where y has shape \(1,\)")),
    Case("solve_ivp", "fun float64 for float32 state",
         _solve(fun=lambda t, y: jnp.zeros(1, jnp.float64),
                y0=jnp.ones(1, jnp.float32)),
         Raises(TypeError, "returned dtype float64 for a state of dtype float32")),
    # ---- t_span ----
    Case("solve_ivp", "t_span of length 3", _solve(t_span=(0.0, 1.0, 2.0)),
         Raises(ValueError, r"`t_span` must be a pair")),
    Case("solve_ivp", "t_span a number", _solve(t_span=1.0),
         Raises(TypeError, r"`t_span` must be a pair")),
    Case("solve_ivp", "t_span a string", _solve(t_span="01"),
         Raises(TypeError, r"`t_span` must be a pair")),
    Case("solve_ivp", "t_span nested", _solve(t_span=((0.0, 1.0), 2.0)),
         Raises(ValueError, r"`t_span` must be a pair")),
    Case("solve_ivp", "t0 nan", _solve(t_span=(np.nan, 1.0)),
         Raises(ValueError, r"`t_span` must be .*t0 finite")),
    Case("solve_ivp", "t0 infinite", _solve(t_span=(-np.inf, 1.0)),
         Raises(ValueError, r"`t_span` must be .*t0 finite")),
    Case("solve_ivp", "t1 nan", _solve(t_span=(0.0, np.nan)),
         Raises(ValueError, r"`t_span` must be .*t1 a number")),
    Case("solve_ivp", "t_span of strings", _solve(t_span=("a", "b")),
         Raises(TypeError, r"`t_span` must be a pair")),
    Case("solve_ivp", "reversed t_span integrates backwards", _solve(t_span=(1.0, 0.0)),
         Value(lambda r: _final(r, [np.e]))),
    Case("solve_ivp", "empty interval", _solve(t_span=(0.5, 0.5)),
         Value(lambda r: _final(r, [1.0], rel=0))),
    Case("solve_ivp", "infinite t1 with a terminal event",
         _solve(t_span=(0.0, np.inf), events=ode.Event(half, terminal=True)),
         Value(lambda r: _time(r, np.log(2), rel=1e-5))),
    # ---- y0 ----
    Case("solve_ivp", "y0 empty", _solve(y0=jnp.zeros(0)),
         Raises(ValueError, "`y0` must be a non-empty state")),
    Case("solve_ivp", "y0 nan", _solve(y0=jnp.array([np.nan])),
         Raises(ValueError, "`y0` must be finite")),
    Case("solve_ivp", "y0 inf", _solve(y0=jnp.array([np.inf])),
         Raises(ValueError, "`y0` must be finite")),
    Case("solve_ivp", "y0 complex", _solve(y0=jnp.array([1j])),
         Raises(TypeError, "complex.*calculax.scipy.integrate.solve_ivp")),
    Case("solve_ivp", "y0 a string", _solve(y0="1"),
         Raises(TypeError, "`y0` must be numbers or arrays")),
    Case("solve_ivp", "y0 booleans", _solve(y0=jnp.array([True])),
         Raises(TypeError, "`y0` must be real numbers, not booleans")),
    Case("solve_ivp", "y0 None", _solve(y0=None),
         Raises(ValueError, "`y0` must be the initial state")),
    Case("solve_ivp", "integer y0 is promoted", _solve(y0=jnp.array([1])),
         Value(lambda r: _final(r, [np.exp(-1)]))),
    # ---- tolerances ----
    Case("solve_ivp", "rtol negative", _solve(rtol=-1e-6),
         Raises(ValueError, "`rtol` must be a positive number")),
    Case("solve_ivp", "rtol zero", _solve(rtol=0.0),
         Raises(ValueError, "`rtol` must be a positive number")),
    Case("solve_ivp", "rtol nan", _solve(rtol=np.nan),
         Raises(ValueError, "`rtol` must be a positive number")),
    Case("solve_ivp", "rtol a string", _solve(rtol="tight"),
         Raises(TypeError, "`rtol` must be a positive number")),
    Case("solve_ivp", "rtol a bool", _solve(rtol=True),
         Raises(TypeError, "`rtol` must be a positive number")),
    Case("solve_ivp", "atol negative", _solve(atol=-1.0),
         Raises(ValueError, "`atol` must be a non-negative number")),
    Case("solve_ivp", "atol infinite", _solve(atol=np.inf),
         Raises(ValueError, "`atol` must be a non-negative number")),
    Case("solve_ivp", "atol of the wrong length", _solve(atol=[1e-9, 1e-9, 1e-9]),
         Raises(ValueError, "`atol` must be a non-negative number \\(or 1 of them\\)")),
    # ---- method ----
    Case("solve_ivp", "unknown method", _solve(method="Euler"),
         Raises(ValueError, "`method` must be one of 'auto'")),
    Case("solve_ivp", "SciPy's method name", _solve(method="RK45"),
         Raises(ValueError, "SciPy's 'RK45' corresponds to 'Dopri5'")),
    Case("solve_ivp", "method None", _solve(method=None),
         Raises(TypeError, "`method` must be a string")),
    # ---- events ----
    Case("solve_ivp", "events a number", _solve(events=3),
         Raises(TypeError, "`events` must be an Event")),
    Case("solve_ivp", "events with a number", _solve(events=[half, 3]),
         Raises(TypeError, r"`events\[1\]` must be an Event")),
    Case("solve_ivp", "event returns a (2,) vector",
         _solve(events=lambda t, y: jnp.concatenate([y, y])),
         Raises(ValueError, r"events\[0\]\(t, y, \*args\) must return a scalar")),
    Case("solve_ivp", "event returns a (1,) vector: its one value",
         _solve(events=ode.Event(lambda t, y: y - 0.5, max_events=2)),
         Value(lambda r: abs(float(r.t_events[0][0]) - np.log(2)) < 1e-6)),
    Case("solve_ivp", "event returns complex", _solve(events=lambda t, y: y[0] * 1j),
         Raises(TypeError, "returned complex")),
    Case("solve_ivp", "event with Python if", _solve(events=branching_event),
         Raises(TypeError, r"calculax traces `events\[0\]`.*branches in Python")),
    Case("solve_ivp", "SciPy-style terminal attribute -1",
         _solve(events=terminal_event(-1)),
         Raises(ValueError, r"events\[0\]: Event: `terminal` must be")),
    Case("solve_ivp", "event nan after t = 1",
         _solve(t_span=(0.0, 3.0), events=ode.Event(nan_later)), Flagged()),
    Case("solve_ivp", "event always nan", _solve(events=ode.Event(always_nan)),
         Flagged()),
    Case("solve_ivp", "event infinite", _solve(events=ode.Event(infinite)),
         Flagged()),
    Case("solve_ivp", "boolean event at its switch", _step_like_time,
         Value(lambda r: _time(r, np.log(2), rel=1e-8))),
    Case("solve_ivp", "two roots 2.8e-3 apart in one step", _close_pair,
         Value(_pair_truth)),
    Case("solve_ivp", "Event(max_events=None) under jit", _jit_unbounded_events,
         Raises(ValueError, r"max_events=None\) needs concrete inputs")),
    # ---- the other arguments ----
    Case("solve_ivp", "args a float", _solve(fun=growth, args=1.0),
         Raises(TypeError, "`args` must be a tuple")),
    Case("solve_ivp", "args a list", _solve(fun=growth, args=[1.0]),
         Raises(TypeError, "`args` must be a tuple")),
    Case("solve_ivp", "dense_output a string", _solve(dense_output="yes"),
         Raises(TypeError, "`dense_output` must be True or False")),
    Case("solve_ivp", "throw an int", _solve(throw=1),
         Raises(TypeError, "`throw` must be True or False")),
    Case("solve_ivp", "t_eval 2-D", _solve(t_eval=np.zeros((2, 2))),
         Raises(ValueError, "`t_eval` must be a 1-D array")),
    Case("solve_ivp", "t_eval outside t_span", _solve(t_eval=[0.5, 2.0]),
         Raises(ValueError, "`t_eval` must be .*inside t_span")),
    Case("solve_ivp", "t_eval unsorted", _solve(t_eval=[0.5, 0.2]),
         Raises(ValueError, "`t_eval` must be .*sorted")),
    Case("solve_ivp", "t_eval with nan", _solve(t_eval=[0.5, np.nan]),
         Raises(ValueError, "`t_eval` must be")),
    Case("solve_ivp", "t_eval against a backward span",
         _solve(t_span=(1.0, 0.0), t_eval=[0.2, 0.5]),
         Raises(ValueError, "`t_eval` must be .*sorted in its direction")),
    Case("solve_ivp", "max_steps zero", _solve(max_steps=0),
         Raises(ValueError, "`max_steps` must be an integer >= 1")),
    Case("solve_ivp", "max_steps a float", _solve(max_steps=10.5),
         Raises(TypeError, "`max_steps` must be an integer >= 1")),
    Case("solve_ivp", "max_steps a bool", _solve(max_steps=True),
         Raises(TypeError, "`max_steps` must be an integer >= 1")),
    Case("solve_ivp", "max_step zero", _solve(max_step=0.0),
         Raises(ValueError, "`max_step` must be a positive number")),
    Case("solve_ivp", "max_step negative", _solve(max_step=-0.1),
         Raises(ValueError, "`max_step` must be a positive number")),
    Case("solve_ivp", "first_step negative", _solve(first_step=-0.1),
         Raises(ValueError, "`first_step` must be a positive number")),
    Case("solve_ivp", "first_step beyond t_span", _solve(first_step=2.0),
         Raises(ValueError, "`first_step` must be at most the length of t_span")),
    Case("solve_ivp", "interior_points negative", _solve(interior_points=-1),
         Raises(ValueError, "`interior_points` must be an integer >= 0")),
    Case("solve_ivp", "jac of the wrong shape", _solve(method="Radau", jac=np.eye(2)),
         Raises(ValueError, r"`jac` must be .*shape \(1, 1\)")),
    Case("solve_ivp", "jac returning the wrong shape",
         _solve(method="Radau", jac=lambda t, y: jnp.eye(3)),
         Raises(ValueError, r"jac\(t, y, \*args\) must return the \(1, 1\) Jacobian")),
    Case("solve_ivp", "jac with a pytree state",
         _solve(fun=lambda t, y: (y[0], y[1]), y0=(1.0, 2.0), jac=np.eye(2)),
         Raises(TypeError, "`jac` needs y0 to be a single array")),
    # ---- failures during the solve ----
    Case("solve_ivp", "blow-up at t = 1", _solve(fun=blowup, t_span=(0.0, 2.0)),
         Flagged()),
    Case("solve_ivp", "max_steps reached", _solve(fun=blowup, t_span=(0.0, 2.0),
         max_steps=5), Flagged()),
    Case("solve_ivp", "blow-up, throw=False returns the status",
         _solve(fun=blowup, t_span=(0.0, 2.0), throw=False), Flagged()),
    # ---- the compiled-program cache ----
    Case("solve_ivp", "a module global changes", _changed_global, _cached("global")),
    Case("solve_ivp", "a closure cell changes", _changed_closure, _cached("closure")),
    Case("solve_ivp", "an attribute of self changes", _changed_attribute,
         _cached("attribute")),
    Case("solve_ivp", "a NumPy array changes in place", _changed_array_in_place,
         _cached("array")),
    Case("solve_ivp", "functools.partial with another value", _changed_partial,
         _cached("partial")),
    Case("solve_ivp", "lambdas re-created with another value", _recreated_lambdas,
         _cached("lambda")),
    # ---- jit / vmap / grad ----
    Case("solve_ivp", "jit: y0 nan", _jit_nan_y0,
         Raises(Exception, "`y0` must be finite")),
    Case("solve_ivp", "jit: rtol negative", _jit_bad_rtol,
         Raises(Exception, "`rtol` must be a positive number")),
    Case("solve_ivp", "jit: traced rtol with method='auto'", _jit_auto_rtol,
         Raises(TypeError, "picks the method from rtol, which is traced")),
    Case("solve_ivp", "vmap: t_eval outside one member's t_span",
         _vmap_t_eval_outside, Raises(Exception, "`t_eval` must be")),
    Case("solve_ivp", "grad of a boolean event's time", _grad_of_switch_time,
         Value(lambda g: bool(np.all(np.isnan(np.asarray(g)))))),
    # ---- Event ----
    Case("Event", "fn not callable", lambda: ode.Event(1.0),
         Raises(TypeError, "`fn` must be callable")),
    Case("Event", "direction 2", lambda: E(direction=2),
         Raises(ValueError, r"`direction` must be -1, 0 or \+1")),
    Case("Event", "direction True", lambda: E(direction=True),
         Raises(ValueError, r"`direction` must be -1, 0 or \+1")),
    Case("Event", "direction a string", lambda: E(direction="up"),
         Raises(ValueError, r"`direction` must be -1, 0 or \+1")),
    Case("Event", "terminal -1", lambda: E(terminal=-1),
         Raises(ValueError, "`terminal` must be True, False or a positive integer")),
    Case("Event", "terminal 2.5", lambda: E(terminal=2.5),
         Raises(TypeError, "`terminal` must be True, False or a positive integer")),
    Case("Event", "terminal None", lambda: E(terminal=None),
         Raises(TypeError, "`terminal` must be True, False or a positive integer")),
    Case("Event", "terminal np.int64(2)", lambda: E(terminal=np.int64(2)),
         Value(lambda e: e.terminal_count == 2)),
    Case("Event", "max_events 0", lambda: E(max_events=0),
         Raises(ValueError, "`max_events` must be >= 1")),
    Case("Event", "max_events True", lambda: E(max_events=True),
         Raises(TypeError, "`max_events` must be a positive integer or None")),
    Case("Event", "terminal above max_events", lambda: E(terminal=5, max_events=2),
         Raises(ValueError, "exceeds `max_events`")),
    # ---- find_time / second_order ----
    Case("find_time", "condition not callable",
         lambda: ode.find_time(decay, (0.0, 1.0), Y1, 0.5),
         Raises(TypeError, "`condition` must be a callable")),
    Case("find_time", "first a string",
         lambda: ode.find_time(decay, (0.0, 1.0), Y1, half, first="yes"),
         Raises(TypeError, "`first` must be True or False")),
    Case("find_time", "direction 5",
         lambda: ode.find_time(decay, (0.0, 1.0), Y1, half, direction=5),
         Raises(ValueError, r"`direction` must be -1, 0 or \+1")),
    Case("find_time", "events passed", lambda: ode.find_time(
         decay, (0.0, 1.0), Y1, half, events=[half]),
         Raises(TypeError, "pass the event as `condition`")),
    Case("find_time", "the condition never holds", _find_time_never, Flagged()),
    Case("find_time", "its error covers the actual error", _find_time_covers,
         Value(bool)),
    Case("second_order", "f not callable", lambda: ode.second_order(None),
         Raises(TypeError, "f must be callable")),
    # ---- calculax.scipy.integrate.solve_ivp: SciPy's errors ----
    Case("scipy.solve_ivp", "unknown method",
         _front(np_decay, (0, 1), [1.0], method="X"),
         Raises(ValueError, "`method` must be one of")),
    Case("scipy.solve_ivp", "t_span of strings", _front(np_decay, ("a", "b"), [1.0]),
         Raises(ValueError, "could not convert")),
    Case("scipy.solve_ivp", "args=-1", _front(np_decay, (0, 1), [1.0], args=-1),
         Raises(TypeError, "Supplied 'args' cannot be unpacked")),
    Case("scipy.solve_ivp", "y0 2-D", _front(np_decay, (0, 1), [[1.0]]),
         Raises(ValueError, "`y0` must be 1-dimensional")),
    Case("scipy.solve_ivp", "y0 nan", _front(np_decay, (0, 1), [np.nan]),
         Raises(ValueError, "All components of the initial state `y0` must be finite")),
    Case("scipy.solve_ivp", "t_eval outside",
         _front(np_decay, (0, 1), [1.0], t_eval=[2.0]),
         Raises(ValueError, "Values in `t_eval` are not within `t_span`")),
    Case("scipy.solve_ivp", "t_eval unsorted",
         _front(np_decay, (0, 1), [1.0], t_eval=[0.5, 0.2]),
         Raises(ValueError, "Values in `t_eval` are not properly sorted")),
    Case("scipy.solve_ivp", "max_step 0", _front(np_decay, (0, 1), [1.0], max_step=0),
         Raises(ValueError, "`max_step` must be positive")),
    Case("scipy.solve_ivp", "first_step 0",
         _front(np_decay, (0, 1), [1.0], first_step=0),
         Raises(ValueError, "`first_step` must be positive")),
    Case("scipy.solve_ivp", "first_step beyond",
         _front(np_decay, (0, 1), [1.0], first_step=2),
         Raises(ValueError, "`first_step` exceeds bounds")),
    Case("scipy.solve_ivp", "atol negative",
         _front(np_decay, (0, 1), [1.0], atol=-1),
         Raises(ValueError, "`atol` must be positive")),
    Case("scipy.solve_ivp", "atol wrong shape",
         _front(np_decay, (0, 1), [1.0], atol=[1e-6, 1e-6]),
         Raises(ValueError, "`atol` has wrong shape")),
    Case("scipy.solve_ivp", "rtol below 100 eps warns",
         _front(np_decay, (0, 1), [1.0], rtol=1e-20),
         Raises(UserWarning, "At least one element of `rtol` is too small")),
    Case("scipy.solve_ivp", "terminal -1",
         _front(np_decay, (0, 1), [1.0], events=terminal_event(-1)),
         Raises(ValueError, "The `terminal` attribute of each event")),
    Case("scipy.solve_ivp", "terminal 3.5",
         _front(np_decay, (0, 1), [1.0], events=terminal_event(3.5)),
         Raises(ValueError, "The `terminal` attribute of each event")),
    Case("scipy.solve_ivp", "jac for an explicit method warns",
         _front(np_decay, (0, 1), [1.0], jac=np.eye(1)),
         Raises(UserWarning, "no effect for a chosen solver: `jac`")),
    Case("scipy.solve_ivp", "the user's exception comes through",
         _front_raises_from_fun, Raises(ZeroDivisionError, "undefined after t = 0.5")),
    Case("scipy.solve_ivp", "an event exactly 0 at t0 fires there", _front_t0_event,
         Value(lambda r: r.status == 1 and list(r.t_events[0]) == [0.0])),
    Case("scipy.solve_ivp", "infinite t_span with a terminal event",
         _front_infinite_span,
         Value(lambda r: r.status == 1 and abs(r.t[-1] - np.log(2)) < 1e-7)),
    Case("scipy.solve_ivp", "complex state",
         _front_complex, Value(lambda r: abs(r.y[0, -1] - np.exp(1j)) < 1e-7)),
]  # fmt: skip


def _from_calculax(error: BaseException) -> bool:
    message = str(error)
    return bool(re.match(r"(solve_ivp|find_time|Event|second_order)\b", message))


def classify(case: Case) -> str:
    """One of: right, specific error, flagged, silent wrong, crash, generic error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = case.run()
    except BaseException as error:  # noqa: BLE001 - classifying every outcome
        if isinstance(error, KeyboardInterrupt):
            raise
        message = str(error)
        if type(error).__name__ == "NumericalError" or (
            isinstance(case.expect, Flagged)
            and "EquinoxRuntimeError" in type(error).__name__
        ):
            return "flagged"
        expect = case.expect
        if isinstance(expect, Raises) and isinstance(error, expect.kind):
            if re.search(expect.match, message, re.S):
                return "specific error"
        if isinstance(error, (TypeError, ValueError)) and _from_calculax(error):
            return "generic error"
        return "crash"
    expect = case.expect
    if isinstance(expect, Value):
        try:
            return "right" if expect.check(result) else "silent wrong"
        except Exception:  # noqa: BLE001 - an unexpected result shape
            return "silent wrong"
    if isinstance(expect, Flagged):
        return "flagged" if not _ok(result) else "silent wrong"
    return "silent wrong"


def _ok(result) -> bool:
    status = getattr(result, "status", 0)
    if type(status).__name__ == "EnumerationItem":  # a calculax.RESULTS item
        ok = (calculax.RESULTS.successful, calculax.RESULTS.event_occurred)
        return bool(np.any([status == item for item in ok]))
    # integer codes (SciPy's, and the old tree's): negative is a failure
    return bool(np.all(np.asarray(status) >= 0))


def _expected_class(case: Case) -> str:
    return {Raises: "specific error", Value: "right", Flagged: "flagged"}[
        type(case.expect)
    ]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case):
    outcome = classify(case)
    assert outcome == _expected_class(case), outcome


def main() -> None:
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for case in CASES:
        outcome = classify(case)
        table[case.entry][outcome] += 1
        if "-v" in sys.argv:
            print(f"{outcome:>15}  {case}", flush=True)
    classes = ["right", "specific error", "flagged", "silent wrong", "crash",
               "generic error"]  # fmt: skip
    print(f"{'entry point':<18}" + "".join(f"{c:>16}" for c in classes))
    total: collections.Counter = collections.Counter()
    for entry, counts in table.items():
        total.update(counts)
        print(f"{entry:<18}" + "".join(f"{counts[c]:>16}" for c in classes))
    print(f"{'total':<18}" + "".join(f"{total[c]:>16}" for c in classes))


if __name__ == "__main__":
    main()

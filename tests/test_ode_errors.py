"""calculax.ode: event-time derivatives against closed forms and finite differences,
and bad input (tier 1 errors at trace time, statuses and raised runtime errors)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
import calculax.ode as ode
from calculax import RESULTS

from . import ode_problems as zoo

TIGHT = dict(rtol=1e-12, atol=1e-14)
# Forward sensitivities of the discrete solution converge like the solution itself:
# the 1e-10 bar for event times at rtol 1e-12 applies to them too.
GRAD_REL = 1e-10
# Central differences with h = 1e-4 (relative): truncation ~h**2 ~ 1e-8 plus solve
# noise ~rtol / h ~ 1e-8; 1e-6 leaves a factor 100.
FD_STEP, FD_REL = 1e-4, 1e-6


def logistic(t, y, rate):
    return rate * y * (1 - y)


def at_level(t, y, rate):
    return y[0] - 0.8


def clock(t, y, rate):
    return t - 20.0


# One solve gives both claims: the time of y = 0.8 (terminal) and the state at t = 20.
EVENTS = (ode.Event(clock, max_events=1), ode.Event(at_level, terminal=True))


@jax.jit
def _solve_jvp(y0, rate, tangents):
    def outputs(y0, rate):
        sol = ode.solve_ivp(
            logistic,
            (0.0, 2000.0),
            jnp.stack([y0]),
            events=EVENTS,
            args=(rate,),
            **TIGHT,
        )
        return sol.y_events[0][0, 0], sol.t_events[1][0]

    return jax.jvp(outputs, (y0, rate), tangents)


def _derivatives(y0, rate):
    """(y(20), t*) and their derivatives in y0 and in rate (one compiled jvp)."""
    y0, rate = jnp.asarray(y0), jnp.asarray(rate)
    one, zero = jnp.ones_like(y0), jnp.zeros_like(y0)
    values, d_y0 = _solve_jvp(y0, rate, (one, zero))
    _, d_rate = _solve_jvp(y0, rate, (zero, one))
    return values, d_y0, d_rate


def test_event_time_and_state_derivatives_match_closed_forms():
    y0, rate, level, t_clock = 0.3, 0.05, 0.8, 20.0
    (y_clock, t_star), d_y0, d_rate = _derivatives(y0, rate)
    # t* = ln[c (1 - y0) / (y0 (1 - c))] / r
    assert abs(float(t_star) - zoo.logistic_time(y0, level, rate)) <= 1e-10 * 45
    truth = {
        "dt*/dy0": -(1 / (1 - y0) + 1 / y0) / rate,
        "dt*/dr": -zoo.logistic_time(y0, level, rate) / rate,
    }
    # y(T) = 1 / (1 + q e^{-rT}), q = 1/y0 - 1: dy/dq = -y^2 e^{-rT}.
    decay = np.exp(-rate * t_clock)
    y_t = 1 / (1 + (1 / y0 - 1) * decay)
    truth["dy(T)/dy0"] = y_t**2 * decay / y0**2
    truth["dy(T)/dr"] = y_t**2 * (1 / y0 - 1) * decay * t_clock
    computed = {
        "dt*/dy0": d_y0[1],
        "dt*/dr": d_rate[1],
        "dy(T)/dy0": d_y0[0],
        "dy(T)/dr": d_rate[0],
    }
    for name, value in computed.items():
        assert abs(float(value) - truth[name]) <= GRAD_REL * abs(truth[name]), name


def test_event_time_derivative_matches_central_differences():
    y0, rate = 0.3, 0.05
    _, d_y0, _ = _derivatives(y0, rate)
    h = FD_STEP * y0
    zero = (jnp.asarray(0.0), jnp.asarray(0.0))
    plus = _solve_jvp(jnp.asarray(y0 + h), jnp.asarray(rate), zero)[0][1]
    minus = _solve_jvp(jnp.asarray(y0 - h), jnp.asarray(rate), zero)[0][1]
    fd = (float(plus) - float(minus)) / (2 * h)
    assert abs(fd - float(d_y0[1])) <= FD_REL * abs(float(d_y0[1]))


def wrong_shape(t, y):
    return jnp.zeros(3)


def wrong_dtype(t, y):
    return jnp.zeros(2, jnp.float64)


def vector_event(t, y):
    return y


def test_bad_structure_is_rejected_at_trace_time():
    y0 = jnp.zeros(2)
    with pytest.raises(ValueError, match=r"returned shape \(3,\) where y has shape"):
        ode.solve_ivp(wrong_shape, (0.0, 1.0), y0)
    with pytest.raises(TypeError, match="returned dtype float64 for a state of dtype"):
        ode.solve_ivp(wrong_dtype, (0.0, 1.0), jnp.zeros(2, jnp.float32))
    with pytest.raises(ValueError, match="`t_span` must be a pair \\(t0, t1\\)"):
        ode.solve_ivp(logistic, (0.0, 1.0, 2.0), y0, args=(1.0,))
    with pytest.raises(ValueError, match=r"events\[0\]\(t, y, \*args\) must return"):
        ode.solve_ivp(wrong_shape, (0.0, 1.0), jnp.zeros(3), events=vector_event)
    with pytest.raises(ValueError, match="SciPy's 'RK45' corresponds to 'Dopri5'"):
        ode.solve_ivp(logistic, (0.0, 1.0), y0, args=(1.0,), method="RK45")
    with pytest.raises(TypeError, match="`args` must be a tuple"):
        ode.solve_ivp(logistic, (0.0, 1.0), y0, args=1.0)
    with pytest.raises(ValueError, match="`direction` must be -1, 0 or \\+1"):
        ode.Event(clock, direction=2)
    with pytest.raises(ValueError, match="exceeds `max_events`"):
        ode.Event(clock, terminal=5, max_events=2)


def blowup(t, y):
    return y**2  # y = 1 / (1 - t): infinite at t = 1


def test_non_finite_state_stops_with_status_naming_the_time():
    sol = ode.solve_ivp(blowup, (0.0, 2.0), jnp.array([1.0]), throw=False)
    assert sol.status in (RESULTS.step_size_collapsed, RESULTS.nonfinite_state)
    assert abs(float(sol.t_final) - 1.0) < 1e-3
    assert f"stopped at t = {float(sol.t_final)!r}" in sol.message


def test_max_steps_exhausted_is_a_status_not_a_hang():
    sol = ode.solve_ivp(blowup, (0.0, 2.0), jnp.array([1.0]), max_steps=5, throw=False)
    assert sol.status == RESULTS.ode_max_steps_reached and int(sol.stats.n_steps) == 5
    assert "max_steps was reached" in sol.message


def test_failures_raise_by_default():
    with pytest.raises(calculax.NumericalError, match="max_steps was reached"):
        ode.solve_ivp(blowup, (0.0, 2.0), jnp.array([1.0]), max_steps=5)
    with pytest.raises(ValueError, match="`y0` must be finite"):
        ode.solve_ivp(blowup, (0.0, 2.0), jnp.array([jnp.nan]))
    # Traced: the same sentences from inside jit.
    run = eqx.filter_jit(
        lambda y0: ode.solve_ivp(blowup, (0.0, 2.0), y0, max_steps=5).y
    )
    with pytest.raises(eqx.EquinoxRuntimeError, match="max_steps was reached"):
        run(jnp.array([1.0]))
    with pytest.raises(eqx.EquinoxRuntimeError, match="`y0` must be finite"):
        run(jnp.array([jnp.nan]))

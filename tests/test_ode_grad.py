"""calculax.ode: reverse mode (jax.grad, jax.jacrev) of event times and states
against closed forms, and equal to forward mode (jax.jacfwd)."""

import jax
import jax.numpy as jnp
import numpy as np

import calculax.ode as ode

TOL = dict(rtol=1e-10, atol=1e-12)
# Sensitivities of the discrete solution converge like the solution: at rtol 1e-10
# they are good to ~1e-9 relative (measured 5e-10); 1e-8 leaves a factor 10.
REL = 1e-8


def logistic(t, y, rate):
    return rate * y * (1 - y)


def at_level(t, y, rate):
    return y[0] - 0.8


LEVEL = ode.Event(at_level, terminal=True)


def _event_time(y0, rate):
    sol = ode.solve_ivp(
        logistic,
        (0.0, 2000.0),
        jnp.stack([y0]),
        events=LEVEL,
        args=(rate,),
        method="Dopri8",
        **TOL,
    )
    return sol.t_events[0][0]


def test_grad_of_logistic_event_time_under_jit_and_vmap():
    """t* = log(0.8 (1 - y0) / (0.2 y0)) / r, so dt*/dy0 = -1 / (r y0 (1 - y0))
    and dt*/dr = -t* / r; jax.grad of the solve, under jit and vmap, gives them."""
    y0 = np.array([0.3, 0.05])
    rate = np.array([0.05, 0.01])
    grads = jax.jit(jax.vmap(jax.grad(_event_time, argnums=(0, 1))))
    d_y0, d_rate = grads(jnp.asarray(y0), jnp.asarray(rate))
    t_star = np.log(0.8 * (1 - y0) / (0.2 * y0)) / rate
    np.testing.assert_allclose(d_y0, -1 / (rate * y0 * (1 - y0)), rtol=REL)
    np.testing.assert_allclose(d_rate, -t_star / rate, rtol=REL)


def oscillator(t, y, omega):
    return jnp.stack([y[1], -(omega**2) * y[0]])


def down_crossing(t, y, omega):
    return y[0]


CROSSING = ode.Event(down_crossing, direction=-1, max_events=1)
HORIZON = 3.0


def _oscillator_outputs(inputs):
    """(first downward zero of x, x(T), v(T)) for inputs (x0, v0, omega)."""
    sol = ode.solve_ivp(
        oscillator,
        (0.0, HORIZON),
        inputs[:2],
        events=CROSSING,
        args=(inputs[2],),
        method="Tsit5",
        **TOL,
    )
    return jnp.stack([sol.t_events[0][0], sol.y[-1, 0], sol.y[-1, 1]])


def _oscillator_truth(inputs):
    """x = R cos(w t - phi), R = |(x0, v0 / w)|, phi = atan2(v0 / w, x0)."""
    x0, v0, omega = inputs[0], inputs[1], inputs[2]
    phi = jnp.arctan2(v0 / omega, x0)
    wt = omega * HORIZON
    return jnp.stack(
        [
            (jnp.pi / 2 + phi) / omega,
            x0 * jnp.cos(wt) + v0 / omega * jnp.sin(wt),
            -x0 * omega * jnp.sin(wt) + v0 * jnp.cos(wt),
        ]
    )


def test_jacrev_of_oscillator_crossing_and_final_state():
    """Reverse-mode Jacobian of (crossing time, final state) in (x0, v0, omega):
    equal to the closed form's and to forward mode."""
    inputs = jnp.array([0.6, 0.9, 1.7])
    truth = jax.jacfwd(_oscillator_truth)(inputs)

    @jax.jit
    def all_three(x):  # one compiled function: the values and both Jacobians
        f = _oscillator_outputs
        return f(x), jax.jacrev(f)(x), jax.jacfwd(f)(x)

    values, reverse, forward = all_three(inputs)
    np.testing.assert_allclose(values, _oscillator_truth(inputs), rtol=1e-9)
    np.testing.assert_allclose(reverse, truth, rtol=REL, atol=REL * np.abs(truth).max())
    np.testing.assert_allclose(reverse, forward, rtol=1e-12, atol=1e-12)

"""calculax.ode's written-out explicit Runge--Kutta steps (``_explicit.py``) against
diffrax's own steps, and the unit-interval interpolation the event samples use."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from calculax.ode._explicit import UnrolledERK
from calculax.ode._methods import make_solver

from .helpers import eps

EXPLICIT = ["Tsit5", "Dopri5", "Dopri8"]
WRITTEN_OUT = ["Tsit5", "Dopri5"]  # make_solver's choice (Dopri8: diffrax's loop)
# Same tableau, summed in another order: a few ulp of the stage magnitudes.
STEP_ULPS = 64


def spring(t, y, args):
    x, v = y[:3], y[3:]
    stretch = jnp.sqrt(jnp.sum(x**2))
    return jnp.concatenate([v, (1 / stretch - 1) * 250 * x - jnp.array([0, 0, 10.0])])


TERM = diffrax.ODETerm(spring)
Y0 = jnp.array([0.0, 0.0, 0.7, 0.1, 1.5, 0.0])


def _two_steps(solver, y0, h):
    """A first step (FSAL state not yet valid) and the step after it."""
    state = solver.init(TERM, 0.0, h, y0, None)
    first = solver.step(TERM, 0.0, h, y0, None, state, False)
    second = solver.step(TERM, h, 2 * h, first[0], None, first[3], False)
    return first[:4], second[:4]


@pytest.mark.parametrize("name", EXPLICIT)
def test_written_out_steps_equal_diffrax_steps(name):
    diffrax_solver = make_solver(name, 1e-8, 1e-10)
    assert isinstance(diffrax_solver, UnrolledERK) == (name in WRITTEN_OUT)
    ours = UnrolledERK(getattr(diffrax_solver, "solver", diffrax_solver))
    h = jnp.asarray(0.01)
    mine = jax.jit(lambda y0: _two_steps(ours, y0, h))(Y0)
    theirs = jax.jit(lambda y0: _two_steps(ours.solver, y0, h))(Y0)
    for step_mine, step_theirs in zip(mine, theirs):
        y1, err, info, state = step_mine
        y1_d, err_d, info_d, state_d = step_theirs
        scale = float(jnp.max(jnp.abs(info_d["k"]))) + float(jnp.max(jnp.abs(Y0)))
        tol = STEP_ULPS * eps(np.float64) * scale
        np.testing.assert_allclose(y1, y1_d, rtol=0, atol=tol)
        np.testing.assert_allclose(err, err_d, rtol=0, atol=tol)
        np.testing.assert_allclose(info["k"], info_d["k"], rtol=0, atol=tol)
        np.testing.assert_allclose(state[1], state_d[1], rtol=0, atol=tol / 0.01)
        assert not bool(state[0]) and not bool(state_d[0])


def test_written_out_steps_under_vmap_equal_single_steps():
    solver = make_solver("Tsit5", 1e-8, 1e-10)
    y0s = Y0[None, :] + jnp.linspace(0, 0.1, 4)[:, None] * jnp.array(
        [[0, 0, 0, 0, 1.0, 0]]
    )
    h = jnp.asarray(0.01)
    batched = jax.jit(jax.vmap(lambda y0: _two_steps(solver, y0, h)[1][0]))(y0s)
    for i in range(4):
        single = jax.jit(lambda y0: _two_steps(solver, y0, h)[1][0])(y0s[i])
        np.testing.assert_allclose(batched[i], single, rtol=0, atol=1e-15)


@pytest.mark.parametrize("name", [*EXPLICIT, "Kvaerno5"])
def test_interpolants_depend_on_time_only_through_the_step_fraction(name):
    """The event samples evaluate the interpolant on [0, 1] (``_loop._grid``)."""
    solver = make_solver(name, 1e-8, 1e-10)
    t0, t1 = jnp.asarray(0.3), jnp.asarray(0.31)
    state = solver.init(TERM, t0, t1, Y0, None)
    _, _, info, _, _ = solver.step(TERM, t0, t1, Y0, None, state, False)
    on_step = solver.interpolation_cls(t0=t0, t1=t1, **info)
    on_unit = solver.interpolation_cls(t0=jnp.asarray(0.0), t1=jnp.asarray(1.0), **info)
    for theta in (0.25, 0.5, 0.75):
        np.testing.assert_allclose(
            on_unit.evaluate(jnp.asarray(theta)),
            on_step.evaluate(t0 + theta * (t1 - t0)),
            rtol=1e-13,
            atol=1e-13,
        )

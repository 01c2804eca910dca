"""Event problems written the way SciPy users write them, through
``calculax.scipy.integrate.solve_ivp`` (and ``calculax.ode`` where it applies).

Truths: closed forms (mpmath where a formula needs it) or SciPy's own
``solve_ivp`` at a tighter tolerance. Functions are module-level and shared, so
that each compiles once; the NumPy-written ones run as host callbacks, which
compile once per state size and event count.
"""

import re

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.integrate

import calculax.ode as ode
from calculax.scipy.integrate import solve_ivp

G = 9.81


def fall(t, y):
    return [y[1], -G]


def ground(t, y):
    return y[0]


ground.terminal = True
ground.direction = -1


def bounce_times(h0: float, e: float, n: int) -> list[float]:
    """Impacts of a ball dropped from rest at ``h0``, speed times ``e`` at each
    impact: ``t1 = sqrt(2 h0 / g)``, then flights of ``2 e^k v1 / g``."""
    with mpmath.workdps(40):
        t = mpmath.sqrt(2 * mpmath.mpf(h0) / G)
        v = G * t
        times = [t]
        for k in range(1, n):
            v = v * mpmath.mpf(e)
            t = t + 2 * v / G
            times.append(t)
        return [float(x) for x in times]


def test_bouncing_ball_restarted_from_the_last_terminal_event():
    h0, e, n = 10.0, 0.8, 6
    t, y = 0.0, [h0, 0.0]
    found = []
    for _ in range(n):
        sol = solve_ivp(fall, (t, 100.0), y, events=ground, rtol=1e-10, atol=1e-12)
        assert sol.status == 1 and sol.success
        assert len(sol.t_events[0]) == 1  # only the event found, no padding
        t = sol.t_events[0][-1]
        y = sol.y_events[0][-1].copy()
        assert sol.t[-1] == t and np.allclose(sol.y[:, -1], y)
        assert abs(y[0]) < 1e-9
        found.append(t)
        y[0], y[1] = 0.0, -e * y[1]
    truth = bounce_times(h0, e, n)
    np.testing.assert_allclose(found, truth, rtol=1e-9)


def vdp(t, y):
    return [y[1], 1000.0 * ((1 - y[0] ** 2) * y[1]) - y[0]]


def vdp_jac(t, y):
    return [[0.0, 1.0], [-2000.0 * y[0] * y[1] - 1.0, 1000.0 * (1 - y[0] ** 2)]]


def vdp_zero(t, y):
    return y[0]


def test_van_der_pol_mu_1000_on_0_3000_at_rtol_1e10_needs_no_step_limit():
    kw = dict(rtol=1e-10, atol=1e-10, events=vdp_zero)
    sol = solve_ivp(vdp, (0.0, 3000.0), [2.0, 0.0], method="Radau", jac=vdp_jac, **kw)
    assert sol.status == 0, sol.message
    ref = scipy.integrate.solve_ivp(
        vdp,
        (0.0, 3000.0),
        [2.0, 0.0],
        method="Radau",
        jac=vdp_jac,
        rtol=1e-12,
        atol=1e-12,
        events=vdp_zero,
    )
    assert len(sol.t_events[0]) == len(ref.t_events[0]) >= 1
    # the crossings are sharp jumps (|y'| ~ 1e3): compare the times relatively
    np.testing.assert_allclose(sol.t_events[0], ref.t_events[0], rtol=1e-6)
    np.testing.assert_allclose(sol.y[0, -1], ref.y[0, -1], rtol=1e-5)


def robertson(t, y):
    y1, y2, y3 = y
    return [
        -0.04 * y1 + 1e4 * y2 * y3,
        0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2 * y2,
        3e7 * y2 * y2,
    ]


def test_robertson_on_0_1e8_at_rtol_1e10():
    sol = solve_ivp(
        robertson, (0.0, 1e8), [1.0, 0.0, 0.0], method="Radau", rtol=1e-10, atol=1e-14
    )
    assert sol.status == 0, sol.message
    ref = scipy.integrate.solve_ivp(
        robertson, (0.0, 1e8), [1.0, 0.0, 0.0], method="Radau", rtol=1e-12, atol=1e-16
    )
    np.testing.assert_allclose(sol.y[:, -1].sum(), 1.0, rtol=1e-9)  # mass conserved
    np.testing.assert_allclose(sol.y[[0, 2], -1], ref.y[[0, 2], -1], rtol=1e-7)
    np.testing.assert_allclose(sol.y[1, -1], ref.y[1, -1], rtol=1e-5)


LEVEL = 1 - 1e-6
HALF_GAP = float(mpmath.acos(mpmath.mpf(LEVEL)))  # sin t = LEVEL at pi/2 -+ this


def close_pair_truth() -> np.ndarray:
    centres = np.pi / 2 + 2 * np.pi * np.arange(6)
    return np.sort(np.concatenate([centres - HALF_GAP, centres + HALF_GAP]))


def sine(t, y):
    return [np.cos(t)]


def near_top(t, y):
    return np.sin(t) - LEVEL


def near_top_state(t, y):
    return y[0] - LEVEL


def test_six_close_root_pairs_are_found_through_the_front():
    assert 2 * HALF_GAP == pytest.approx(2.83e-3, rel=1e-2)
    sol = solve_ivp(
        sine,
        (0.0, 36.0),
        [0.0],
        events=[near_top, near_top_state],
        rtol=1e-10,
        atol=1e-12,
    )
    truth = close_pair_truth()
    assert len(sol.t_events[0]) == 12 and len(sol.t_events[1]) == 12
    np.testing.assert_allclose(sol.t_events[0], truth, atol=1e-12)
    # through the state, an error of ~1e-10 in y moves a root by ~1e-10 / |cos t|
    np.testing.assert_allclose(sol.t_events[1], truth, atol=1e-6)
    # SciPy misses them: each pair falls between two of its steps
    ref = scipy.integrate.solve_ivp(
        sine, (0.0, 36.0), [0.0], events=near_top, rtol=1e-10, atol=1e-12
    )
    assert len(ref.t_events[0]) < 12


def native_sine(t, y):
    return jnp.cos(t) * jnp.ones_like(y)


def native_near_top(t, y):
    return jnp.sin(t) - LEVEL


def test_six_close_root_pairs_are_found_by_calculax_ode():
    with jax.enable_x64(True):
        times = ode.find_time(
            native_sine,
            (0.0, 36.0),
            jnp.zeros(1),
            native_near_top,
            first=False,
            max_events=16,
            rtol=1e-10,
            atol=1e-12,
        )
        value = np.asarray(times.value)
    found = value[np.isfinite(value)]
    np.testing.assert_allclose(found, close_pair_truth(), atol=1e-12)


def oscillator(t, y):
    return [y[1], -y[0]]


def position(t, y):
    return y[0]


@pytest.fixture
def zero_crossing(monkeypatch):
    """``position`` with SciPy's event attributes set per test (they are data:
    one compiled program serves every count and direction)."""

    def configure(terminal=0, direction=0.0):
        monkeypatch.setattr(position, "terminal", terminal, raising=False)
        monkeypatch.setattr(position, "direction", direction, raising=False)
        return position

    return configure


@pytest.mark.parametrize("n", [1, 3, 4])
def test_terminal_count_stops_at_the_nth_zero(n, zero_crossing):
    sol = solve_ivp(
        oscillator,
        (0.0, 30.0),
        [1.0, 0.0],
        events=zero_crossing(n),
        rtol=1e-10,
        atol=1e-12,
    )
    zeros = np.pi / 2 + np.pi * np.arange(n)
    assert sol.status == 1
    np.testing.assert_allclose(sol.t_events[0], zeros, rtol=1e-9)
    assert sol.t[-1] == sol.t_events[0][-1]


@pytest.mark.parametrize("direction, first", [(1.0, 3 * np.pi / 2), (-1.0, np.pi / 2)])
def test_direction_selects_rising_or_falling_zeros(direction, first, zero_crossing):
    event = zero_crossing(0, direction)
    sol = solve_ivp(
        oscillator, (0.0, 10.0), [1.0, 0.0], events=event, rtol=1e-10, atol=1e-12
    )
    truth = first + 2 * np.pi * np.arange(2)
    truth = truth[truth < 10.0]
    np.testing.assert_allclose(sol.t_events[0], truth, rtol=1e-9)
    ref = scipy.integrate.solve_ivp(oscillator, (0.0, 10.0), [1.0, 0.0], events=event)
    assert len(ref.t_events[0]) == len(sol.t_events[0])


@pytest.mark.parametrize("terminal", [0, 1])
def test_event_exactly_zero_at_t0_fires_as_in_scipy(terminal, zero_crossing):
    event = zero_crossing(terminal)
    sol = solve_ivp(
        oscillator, (0.0, 4.0), [0.0, 1.0], events=event, rtol=1e-10, atol=1e-12
    )
    ref = scipy.integrate.solve_ivp(
        oscillator, (0.0, 4.0), [0.0, 1.0], events=event, rtol=1e-10, atol=1e-12
    )
    assert sol.status == ref.status == terminal
    assert sol.t_events[0][0] == 0.0 and np.all(sol.y_events[0][0] == [0.0, 1.0])
    np.testing.assert_allclose(sol.t_events[0], ref.t_events[0], rtol=1e-8)
    assert sol.t[-1] == ref.t[-1]


def test_t_eval_after_a_terminal_event_is_dropped(zero_crossing):
    t_eval = np.linspace(0.0, 10.0, 11)
    sol = solve_ivp(
        oscillator,
        (0.0, 10.0),
        [1.0, 0.0],
        t_eval=t_eval,
        events=zero_crossing(1),
        rtol=1e-10,
        atol=1e-12,
    )
    np.testing.assert_array_equal(sol.t, t_eval[t_eval <= np.pi / 2])
    np.testing.assert_allclose(sol.y[0], np.cos(sol.t), atol=1e-9)
    assert sol.y.shape == (2, 2)


def decay(t, y):
    return -y


def half(t, y):
    return y[0] - 0.5


half.terminal = True


def test_infinite_t_span_stops_at_the_terminal_event():
    sol = solve_ivp(decay, (0.0, np.inf), [1.0], events=half, rtol=1e-10, atol=1e-12)
    assert sol.status == 1
    np.testing.assert_allclose(sol.t_events[0], [np.log(2.0)], rtol=1e-10)
    assert np.isfinite(sol.t).all() and sol.t[-1] == sol.t_events[0][0]


def rotation(t, y):
    return 1j * y


def real_part(t, y):
    return y[0].real


def test_complex_state_and_its_events():
    sol = solve_ivp(
        rotation,
        (0.0, 7.0),
        [1.0 + 0j],
        events=real_part,
        rtol=1e-10,
        atol=1e-12,
        dense_output=True,
    )
    assert np.iscomplexobj(sol.y) and sol.y.shape[0] == 1
    np.testing.assert_allclose(sol.y[0], np.exp(1j * sol.t), atol=1e-8)
    np.testing.assert_allclose(sol.t_events[0], [np.pi / 2, 3 * np.pi / 2], rtol=1e-9)
    np.testing.assert_allclose(sol.sol(2.0), [np.exp(2j)], atol=1e-7)


def linear(t, y):
    return np.array([-2.0 * y[0] + y[1], y[0] - 2.0 * y[1]])


def test_jac_sparsity_max_step_first_step_vectorized_are_honoured():
    y0 = [1.0, 0.0]

    def truth(t):
        a, b = np.exp(-t), np.exp(-3 * t)
        return np.array([(a + b) / 2, (a - b) / 2])

    jac = np.array([[-2.0, 1.0], [1.0, -2.0]])
    for method, options in [
        ("Radau", dict(jac=jac)),
        ("BDF", dict(jac=lambda t, y: jac)),
        ("Radau", dict(jac_sparsity=np.ones((2, 2)))),
        ("RK45", dict(max_step=0.05)),
        ("RK45", dict(first_step=1e-3)),
        ("LSODA", dict(vectorized=True)),
    ]:
        sol = solve_ivp(
            linear, (0.0, 2.0), y0, method=method, rtol=1e-9, atol=1e-12, **options
        )
        assert sol.status == 0, (method, options)
        np.testing.assert_allclose(sol.y, truth(sol.t), atol=1e-7, err_msg=method)
        if "max_step" in options:
            assert np.diff(sol.t).max() <= 0.05 * (1 + 1e-12)
        if "first_step" in options:
            assert sol.t[1] - sol.t[0] <= 1e-3 * (1 + 1e-12)
        if "jac" in options:  # SciPy's counts: a constant array is no evaluation
            constant = isinstance(options["jac"], np.ndarray)
            assert (sol.njev == 0) if constant else (sol.njev >= 1)


def switched(t, y):
    if t > 1.0:  # Python control flow on t: JAX cannot trace this
        return np.array([-y[0]])
    rate = float(np.abs(y[0])) * 0.0 + 1.0
    return np.array([rate])


def threshold(t, y):
    if y[0] > 0.5:  # a Python branch on the state
        return y[0] - 0.9
    return -1.0


def test_numpy_functions_with_python_control_flow():
    sol = solve_ivp(
        switched,
        (0.0, 5.0),
        [0.0],
        events=threshold,
        rtol=1e-10,
        atol=1e-12,
        dense_output=True,
    )
    # y = t up to 1, then exp(-(t - 1)): 0.9 at t = 0.9 and at 1 + ln(10/9)
    assert sol.status == 0
    np.testing.assert_allclose(sol.t_events[0], [0.9, 1 + np.log(10 / 9)], rtol=1e-8)
    np.testing.assert_allclose(sol.sol(3.0), [np.exp(-2.0)], rtol=1e-7)
    level = solve_ivp(switched, (0.0, 5.0), [0.0], events=half, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(level.t_events[0], [0.5], rtol=1e-9)
    assert level.status == 1


def test_under_jit_the_front_returns_padded_arrays_and_status(zero_crossing):
    event = zero_crossing(1)

    @jax.jit
    def first_zero(y0):
        sol = solve_ivp(
            oscillator, (0.0, 10.0), y0, events=event, rtol=1e-10, atol=1e-12
        )
        return sol.status, sol.t_events[0]

    status, times = first_zero(jnp.array([1.0, 0.0]))
    assert int(status) == 1
    np.testing.assert_allclose(times[0], np.pi / 2, rtol=1e-9)
    assert np.isnan(times[1])  # padded


def test_under_jit_a_solve_of_constants_is_traced_too(zero_crossing):
    """Nothing traced among the inputs, but inside jit: the padded layout (the
    SciPy path would need concrete values and raised)."""
    event = zero_crossing(1)

    @jax.jit
    def first_zero():
        sol = solve_ivp(
            oscillator,
            (0.0, 10.0),
            np.array([1.0, 0.0]),
            events=event,
            rtol=1e-10,
            atol=1e-12,
        )
        return sol.status, sol.t_events[0]

    status, times = first_zero()
    assert int(status) == 1
    np.testing.assert_allclose(times[0], np.pi / 2, rtol=1e-8)


@pytest.mark.parametrize(
    "fun, events, fragment",
    [
        (
            lambda t, y: np.array([1.0]),
            None,
            "`fun` must return an array of shape (2,)",
        ),
        (lambda t, y: [y[0], y[1], 1.0], None, "got shape (3,)"),
        (lambda t, y: -y, lambda t, y: y, "an event function must return a scalar"),
    ],
    ids=["numpy-too-short", "list-too-long", "event-vector"],
)
def test_wrongly_shaped_outputs_are_a_value_error_naming_the_function(
    fun, events, fragment
):
    with pytest.raises(ValueError, match=re.escape(fragment)):
        solve_ivp(fun, (0.0, 1.0), [1.0, 2.0], events=events)

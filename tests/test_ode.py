"""calculax.ode.solve_ivp: event times against closed forms, and the event rules.

Truths come from ``tests/ode_problems.py`` (mpmath, 40 digits). Functions and events
are module-level so that each problem compiles once: directions, terminal counts,
``y0``, ``args`` and tolerances are data and do not recompile.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
import calculax.ode as ode
from calculax import RESULTS

from . import ode_problems as zoo
from .helpers import eps

SOLVE_RTOL = 1e-12  # the setting for the accuracy claims
SOLVE_ATOL = 1e-14
EVENT_REL = 1e-10  # the bar for event times at SOLVE_RTOL
# Dense output is diffrax's interpolant: for Dopri8 a degree-7 polynomial of local
# error O(h**7) against the step's O(h**9) ~ rtol, so ~rtol**(7/9) relative.
DENSE_REL = SOLVE_RTOL ** (7 / 9)
ROOT_ULPS = 16  # event located on the interpolant: |g(t*, y*)| in ulp of its scale
F64 = np.float64
TIGHT = dict(rtol=SOLVE_RTOL, atol=SOLVE_ATOL)


def logistic(t, y, rate, level):
    return rate * y * (1 - y)


def logistic_level(t, y, rate, level):
    return y[0] - level


LOGISTIC_HIT = ode.Event(logistic_level, terminal=True, max_events=1)


@pytest.mark.parametrize(
    "y0, level, rate",
    [(0.5, 0.8, 0.01), (0.1, 0.9, 1.0), (0.9, 0.2, 0.5), (1e-3, 0.5, 3.0)],
)
def test_logistic_first_time(y0, level, rate):
    sol = ode.solve_ivp(
        logistic,
        (0.0, 2000.0),
        jnp.array([y0]),
        events=LOGISTIC_HIT,
        args=(rate, level),
        method="Dopri8",  # "auto" would switch to Radau near y = 1 (a compile)
        **TIGHT,
    )
    truth = zoo.logistic_time(y0, level, rate) if level > y0 else None
    if truth is None:  # decreasing towards 0? logistic from 0.9 rises: never 0.2
        assert sol.status == RESULTS.successful and int(sol.n_events[0]) == 0
        return
    assert sol.status == RESULTS.event_occurred
    t_star = float(sol.t_events[0][0])
    assert abs(t_star - truth) <= EVENT_REL * truth
    assert float(sol.t_final) == t_star
    # The state at the event is the level to the solver's accuracy ...
    y_star = float(sol.y_events[0][0, 0])
    assert abs(y_star - level) <= 10 * SOLVE_RTOL
    # ... and the root of g on the interpolant to a few ulp.
    slope = rate * y_star * (1 - y_star)
    assert abs(y_star - level) <= ROOT_ULPS * eps(F64) * (slope * t_star + level) + (
        10 * SOLVE_RTOL
    )


def test_find_time_seed_question():
    """The seed's 'dy/dt = 0.01 y (1 - y), find t when y = 0.8' in one call."""
    t = ode.find_time(
        logistic,
        (0.0, 1000.0),
        jnp.array([0.5]),
        logistic_level,
        args=(0.01, 0.8),
        **TIGHT,
    )
    truth = zoo.logistic_time(0.5, 0.8, 0.01)  # 100 ln 4
    assert abs(float(t.value) - truth) <= EVENT_REL * truth
    # The error estimate (a solve at rtol / 16) covers the actual error.
    assert abs(float(t.value) - truth) <= float(t.error) <= 1e3 * EVENT_REL * truth


def test_restart_from_event_state_does_not_refire():
    """Continuing from an event's own state never re-detects that root."""
    first = ode.solve_ivp(
        logistic,
        (0.0, 2000.0),
        jnp.array([0.5]),
        events=LOGISTIC_HIT,
        args=(0.01, 0.8),
        **TIGHT,
    )
    t_star, y_star = first.t_events[0][0], first.y_events[0][0]
    again = ode.solve_ivp(
        logistic,
        (t_star, 2000.0),
        y_star,
        events=LOGISTIC_HIT,
        args=(0.01, 0.8),
        **TIGHT,
    )
    assert again.status == RESULTS.successful and int(again.n_events[0]) == 0


def decay(t, y, rate):
    return -rate * y


def test_decay_t_eval_dense_and_backwards():
    rate, t_eval = 0.7, np.linspace(0.0, 3.0, 7)
    sol = ode.solve_ivp(
        decay,
        (0.0, 3.0),
        jnp.array([2.0]),
        args=(rate,),
        t_eval=t_eval,
        dense_output=True,
        max_steps=256,
        **TIGHT,
    )
    truth = zoo.decay_state(2.0, rate, t_eval)
    tol = 100 * SOLVE_RTOL * np.abs(truth)
    np.testing.assert_array_less(np.abs(np.asarray(sol.y)[:, 0] - truth), tol)
    points = np.array([0.0, 0.123, 1.5, 2.99, 3.0])
    dense = np.asarray(sol.sol(points))[:, 0]
    truth = zoo.decay_state(2.0, rate, points)
    np.testing.assert_array_less(np.abs(dense - truth), DENSE_REL * truth)
    assert np.isnan(np.asarray(sol.sol(3.5))).all()
    # Backwards from t = 3 to 0 recovers y0 = 2 (the same compiled solver).
    back = ode.solve_ivp(
        decay,
        (3.0, 0.0),
        sol.y[-1],
        args=(rate,),
        t_eval=t_eval[::-1],
        dense_output=True,
        max_steps=256,
        **TIGHT,
    )
    assert abs(float(back.y[-1, 0]) - 2.0) <= 100 * SOLVE_RTOL * 2.0


def accelerate(t, x, v, spring, pendulum, gravity):
    """x'' = -spring x - pendulum sin x - gravity: the oscillator, the pendulum and
    the falling ball share one compiled solver (their constants are args)."""
    return -spring * x - pendulum * jnp.sin(x) - gravity


MECHANICS = ode.second_order(accelerate)


def position(t, y, *args):
    return y[0]


# Every crossing, rising ones, falling ones; terminal counts are set per solve.
POSITION_EVENTS = (0, 1, -1)


def _mechanics(args, t_span, state, terminal=(False, False, False)):
    events = tuple(
        ode.Event(position, direction=d, terminal=k)
        for d, k in zip(POSITION_EVENTS, terminal)
    )
    return ode.solve_ivp(MECHANICS, t_span, state, events=events, args=args, **TIGHT)


def _harmonic(omega, t_end, terminal=(False, False, False)):
    state = (jnp.array(1.0), jnp.array(0.0))
    return _mechanics((omega**2, 0.0, 0.0), (0.0, t_end), state, terminal)


@pytest.mark.parametrize("omega", [1.0, 7.3])
def test_harmonic_crossings_and_directions(omega):
    t_end = 20.0
    sol = _harmonic(omega, t_end)
    times, directions = zoo.harmonic_zeros(omega, t_end)
    assert sol.status == RESULTS.successful
    for k, wanted in enumerate((0, 1, -1)):
        chosen = times[(directions == wanted) | (wanted == 0)]
        n = int(sol.n_events[k])
        assert n == len(chosen), f"event {k}: {n} crossings, truth {len(chosen)}"
        found = np.asarray(sol.t_events[k])[:n]
        np.testing.assert_array_less(np.abs(found - chosen), EVENT_REL * chosen)
        assert np.isnan(np.asarray(sol.t_events[k])[n:]).all()


def test_terminal_count_stops_at_nth_occurrence():
    sol = _harmonic(1.0, 20.0, terminal=(False, 3, False))
    rising = zoo.harmonic_zeros(1.0, 20.0)[0][1::2]
    assert sol.status == RESULTS.event_occurred
    assert int(sol.n_events[1]) == 3
    assert abs(float(sol.t_final) - rising[2]) <= EVENT_REL * rising[2]
    # The other events saw exactly the crossings before the stop.
    assert int(sol.n_events[0]) == 6 and int(sol.n_events[2]) == 3


def test_event_overflow_raises_never_drops_silently():
    """omega = 20 on (0, 20): 127 zeros of cos(20 t), above the capacity of 100:
    the solve stops before the step that would overflow, and says so."""
    with pytest.raises(calculax.NumericalError, match="more often than its max_events"):
        _harmonic(20.0, 20.0)
    state = (jnp.array(1.0), jnp.array(0.0))
    events = tuple(ode.Event(position, direction=d) for d in POSITION_EVENTS)
    sol = ode.solve_ivp(
        MECHANICS, (0.0, 20.0), state, events=events, args=(400.0, 0.0, 0.0),
        throw=False, **TIGHT,
    )  # fmt: skip
    assert sol.status == RESULTS.max_events_exceeded
    assert int(sol.n_events[0]) <= 100
    times, _ = zoo.harmonic_zeros(20.0, 20.0)
    n = int(sol.n_events[0])
    # Every crossing before the stop is recorded, and none after it.
    assert n == int(np.sum(times < float(sol.t_final)))
    np.testing.assert_allclose(
        np.asarray(sol.t_events[0])[:n], times[:n], rtol=EVENT_REL
    )


def ramp(t, y):
    return jnp.ones_like(y)


def double(t, y):
    return (y[0] - 0.4) * (y[0] - 0.6)


def late(t, y):
    return y[0] - 0.6


def early(t, y):
    return y[0] - 0.4


def touch(t, y):
    return (y[0] - 0.5) ** 2


def near_miss(t, y):
    return (y[0] - 0.5) ** 2 + 1e-3


RAMP_EVENTS = (double, late, early, touch, near_miss)


def _ramp(y0, terminal, first_step=None):
    terminal = (*terminal, False, False)
    events = tuple(ode.Event(fn, terminal=k) for fn, k in zip(RAMP_EVENTS, terminal))
    return ode.solve_ivp(
        ramp,
        (0.0, 1.0),
        jnp.array([y0]),
        events=events,
        dense_output=True,
        max_steps=64,
        first_step=first_step,
        **TIGHT,
    )


# The first step [0, 0.35]: y' = 1 is integrated exactly, so the next step's error
# estimate is rounding and the controller makes it at least 0.9 times as long
# (to 1 when it grows 10x): it holds 0.4, 0.5 and 0.6 whatever the rounding.
ONE_STEP_OVER = 0.35


def _same_step(sol, times):
    boundaries = np.asarray(sol.sol.ts)
    steps = np.searchsorted(boundaries, times)
    return len(set(steps.tolist())) == 1


def test_double_crossing_inside_one_step_is_found():
    """y = t: (y - 0.4)(y - 0.6) has both roots in one step (ONE_STEP_OVER); both
    are found."""
    sol = _ramp(0.0, (False, False, False), ONE_STEP_OVER)
    n = int(sol.n_events[0])
    found = np.asarray(sol.t_events[0])[:n]
    assert n == 2 and _same_step(sol, found)
    np.testing.assert_allclose(found, [0.4, 0.6], rtol=4 * eps(F64))


def test_touch_without_sign_change_is_reported_and_near_miss_is_not():
    """(y - 0.5)**2 touches 0 at t = 0.5 inside a step (ONE_STEP_OVER); adding
    1e-3 it never reaches 0: one occurrence, and none."""
    sol = _ramp(0.0, (False, False, False), ONE_STEP_OVER)
    assert int(sol.n_events[3]) == 1 and int(sol.n_events[4]) == 0
    assert _same_step(sol, np.array([0.4, 0.5, 0.6]))
    # A touch time is ill-conditioned: rounding dg ~ eps |g|max (0.25 here) of g
    # moves the minimum of g = (t - 0.5)**2 (g'' = 2) by sqrt(2 dg / g'').
    conditioned = np.sqrt(2 * eps(F64) * 0.25 / 2)
    assert abs(float(sol.t_events[3][0]) - 0.5) <= conditioned


def test_touches_next_to_step_boundaries_are_found_under_vmap():
    """(y - 0.5)**2 touches at t = 0.5 - y0; across 46 starts the touch falls
    anywhere in a step, next to its ends too (where no triple of one step's
    samples brackets it; 13 of these 46 were missed before the end-slope rule).
    Under vmap the refinement runs for the whole batch when a member needs it;
    members without a touch still report none, and single solves agree."""
    y0s = jnp.concatenate([jnp.linspace(0.0, 0.45, 46), jnp.array([0.6])])

    def touches(y0):
        sol = _ramp(y0, (False, False, False))
        return sol.n_events[3], sol.n_events[4], sol.t_events[3][0]

    count, near_miss, found = jax.vmap(touches)(y0s)
    np.testing.assert_array_equal(count, [1] * 46 + [0])
    np.testing.assert_array_equal(near_miss, [0] * 47)
    conditioned = np.sqrt(2 * eps(F64) * 0.25 / 2)  # as in the test above
    np.testing.assert_allclose(found[:46], 0.5 - y0s[:46], rtol=0, atol=conditioned)
    for i in (0, 20, 46):
        single = touches(y0s[i])
        assert int(single[0]) == int(count[i])
        np.testing.assert_array_equal(single[2], found[i])


def test_earliest_event_wins_not_first_listed():
    # 'late' (0.6) is listed before 'early' (0.4); both in one step
    sol = _ramp(0.0, (False, True, True), ONE_STEP_OVER)
    assert sol.status == RESULTS.event_occurred
    assert _same_step(sol, np.array([0.4, 0.6]))
    np.testing.assert_allclose(float(sol.t_final), 0.4, rtol=4 * eps(F64))
    assert int(sol.n_events[2]) == 1 and int(sol.n_events[1]) == 0


def test_event_zero_at_t0_does_not_fire():
    sol = _ramp(0.4, (False, False, True))  # early = y - 0.4 = 0 at t0
    assert sol.status == RESULTS.successful and int(sol.n_events[2]) == 0
    # double = (y - 0.4)(y - 0.6) is 0 at t0 too: only its root at y = 0.6 fires.
    assert int(sol.n_events[0]) == 1
    np.testing.assert_allclose(float(sol.t_events[0][0]), 0.2, rtol=16 * eps(F64))


def test_bouncing_ball_with_restitution():
    h0, gravity, restitution, bounces = 10.0, 9.81, 0.8, 6
    truth = zoo.ball_impacts(h0, gravity, restitution, bounces)
    t, state = 0.0, (jnp.array(h0), jnp.array(0.0))
    impacts = []
    for _ in range(bounces):
        # Stop at the first falling zero of the height (event 2, terminal).
        sol = _mechanics((0.0, 0.0, gravity), (t, 100.0), state, (False, False, 1))
        assert sol.status == RESULTS.event_occurred
        t = float(sol.t_events[2][0])
        impacts.append(t)
        h, v = sol.y_events[2]
        # Restart from the event state itself (h ~ 0, either sign): no re-detection.
        state = (h[0], -restitution * v[0])
    np.testing.assert_array_less(np.abs(np.array(impacts) - truth), EVENT_REL * truth)


@pytest.mark.parametrize("theta0", [0.1, 1.0, 3.0])
def test_pendulum_zero_crossings_from_elliptic_period(theta0):
    gravity, length, n = 9.81, 2.0, 5
    truth = zoo.pendulum_zeros(theta0, gravity, length, n)
    state = (jnp.array(theta0), jnp.array(0.0))
    t_span = (0.0, float(truth[-1]) + 0.1)
    sol = _mechanics((0.0, gravity / length, 0.0), t_span, state)
    assert int(sol.n_events[0]) == n
    found = np.asarray(sol.t_events[0])[:n]
    np.testing.assert_array_less(np.abs(found - truth), EVENT_REL * truth)


def relax(t, y, lam):
    return -lam * (y - jnp.cos(t))


def relax_level(t, y, lam):
    return y[0] - 0.5


def test_stiff_relaxation_with_event_kvaerno5():
    """lambda = 1e4: an explicit method's stability (|h lambda| < ~3.5) would need
    more than lambda * T / 3.5 ~ 8600 steps; Kvaerno5 takes far fewer."""
    lam, rtol = 1e4, 1e-10
    sol = ode.solve_ivp(
        relax,
        (0.0, 3.0),
        jnp.array([0.0]),
        method="Kvaerno5",
        rtol=rtol,
        atol=1e-12,
        events=ode.Event(relax_level),
        args=(lam,),
    )
    truths = [zoo.relaxation_time(lam, 0.5, b) for b in ((1e-6, 1e-3), (0.9, 1.2))]
    n = int(sol.n_events[0])
    found = np.asarray(sol.t_events[0])[:n]
    assert n == 2 and int(sol.stats.n_steps) < lam * 3.0 / 3.5
    # Kvaerno5's interpolant is 3rd-order Hermite: ~rtol**(3/4) in t.
    np.testing.assert_allclose(found, truths, rtol=rtol ** (3 / 4))


def test_vmap_over_initial_conditions_and_parameters_equals_single_solves():
    y0s = jnp.array([0.5, 0.1, 0.3])
    rates = jnp.array([0.01, 1.0, 0.2])

    def first_time(y0, rate):
        sol = ode.solve_ivp(
            logistic,
            (0.0, 2000.0),
            y0[None],
            events=LOGISTIC_HIT,
            args=(rate, 0.8),
            **TIGHT,
        )
        return sol.t_events[0][0], sol.n_events[0]

    batched_t, batched_n = jax.vmap(first_time)(y0s, rates)
    for i in range(3):
        single_t, single_n = first_time(y0s[i], rates[i])
        assert int(batched_n[i]) == int(single_n) == 1
        assert abs(float(batched_t[i]) - float(single_t)) <= 4 * eps(F64) * float(
            single_t
        )


def test_no_interior_points_checks_step_ends_only():
    """interior_points=0: events are checked at step ends (no touch search needs
    three samples); a single crossing per step is still located to 1e-10."""
    sol = ode.solve_ivp(
        logistic,
        (0.0, 2000.0),
        jnp.array([0.5]),
        events=LOGISTIC_HIT,
        args=(0.01, 0.8),
        interior_points=0,
        **TIGHT,
    )
    truth = zoo.logistic_time(0.5, 0.8, 0.01)
    assert sol.status == RESULTS.event_occurred
    assert abs(float(sol.t_events[0][0]) - truth) <= EVENT_REL * truth


RATE = 0.5


def _growth(rate):
    return lambda t, y: rate * y  # a new function object at every call


def _global_growth(t, y):
    return RATE * y


def test_cache_reuses_a_program_only_for_the_same_function_reading_the_same_values():
    """A cached program is reused for the same function object reading the same
    values; a re-created lambda, a changed closure or a changed module global
    compiles again and gives the new answer (never the old one)."""
    global RATE
    from calculax.ode._cache import function_key

    f = _growth(1.0)
    assert function_key(f) == function_key(f)
    assert hash(function_key(f)) == hash(function_key(f))
    assert function_key(_growth(1.0)) != function_key(_growth(1.0))
    before = function_key(_global_growth)
    RATE = 0.75
    try:
        assert function_key(_global_growth) != before
        for rate in (0.5, 0.75):
            RATE = rate
            sol = ode.solve_ivp(_global_growth, (0.0, 1.0), jnp.array([1.0]), **TIGHT)
            assert abs(float(sol.y[-1, 0]) - np.exp(rate)) <= 100 * SOLVE_RTOL * np.exp(
                rate
            )
    finally:
        RATE = 0.5
    # The loop: a lambda reading a global that changes.
    answers = []
    for k in (1.0, 3.0):
        globals()["K"] = k
        sol = ode.solve_ivp(lambda t, y: -K * y, (0.0, 1.0), jnp.array([1.0]), **TIGHT)  # noqa: F821
        answers.append(float(sol.y[-1, 0]))
    np.testing.assert_allclose(answers, np.exp([-1.0, -3.0]), rtol=1e-9)
    cache = ode._compiled.solve_chunk.on_cpu._cached  # concrete inputs
    size = cache._cache_size()
    g = _growth(0.5)
    for t1 in (1.0, 2.0):  # the same function: one program for both intervals
        sol = ode.solve_ivp(g, (0.0, t1), jnp.array([1.0]), **TIGHT)
        truth = np.exp(0.5 * t1)
        assert abs(float(sol.y[-1, 0]) - truth) <= 100 * SOLVE_RTOL * truth
    assert cache._cache_size() == size + 1


def test_a_solve_of_constants_inside_jit_is_part_of_the_program():
    """Inside a user's jit, a solve whose inputs are all constants (no tracer among
    them) is traced into the user's program like any other (it used to take the
    eager path and fail converting a traced chunk to a Python int)."""

    def solve():
        sol = ode.solve_ivp(lambda t, y: -y, (0.0, 1.0), np.array([1.0]), **TIGHT)
        return sol.y[-1, 0]

    def half_life():
        hit = ode.find_time(
            lambda t, y: -y, (0.0, 5.0), np.array([1.0]), lambda t, y: y[0] - 0.5
        )
        return hit.value, hit.error

    np.testing.assert_allclose(jax.jit(solve)(), np.exp(-1.0), rtol=100 * SOLVE_RTOL)
    value, error = jax.jit(half_life)()
    assert abs(float(value) - np.log(2.0)) <= float(error) < 1e-5


def van_der_pol(t, u, mu):
    return jnp.stack([u[1], mu * (1 - u[0] ** 2) * u[1] - u[0]])


def robertson(t, y):
    a, b, c = y
    return jnp.stack(
        [-0.04 * a + 1e4 * b * c, 0.04 * a - 1e4 * b * c - 3e7 * b**2, 3e7 * b**2]
    )


def spring(t, x, v):
    f = jnp.sqrt(jnp.sum(x**2))
    return (1 / f - 1) * 250 * x - jnp.array([0.0, 0.0, 10.0])


def test_auto_switches_to_radau_when_the_problem_becomes_stiff():
    """Robertson on [0, 40] is not stiff at t = 0 (the Jacobian there has the one
    eigenvalue -0.04) and becomes stiff within ~1e-3: "auto" starts explicitly
    and continues with Radau (it evaluates Jacobians), in a few hundred steps
    where Tsit5 alone needs tens of thousands; the van der Pol oscillator with
    mu = 1 stays explicit (no Jacobian)."""
    sol = ode.solve_ivp(robertson, (0.0, 40.0), jnp.array([1.0, 0.0, 0.0]),
                        rtol=1e-6, atol=1e-10)  # fmt: skip
    assert sol.status == RESULTS.successful
    assert int(sol.stats.njev) > 0 and int(sol.stats.n_steps) < 1000
    # Reference: SciPy's Radau and BDF at rtol 1e-12 agree on y(40).
    np.testing.assert_allclose(
        sol.y[-1], [7.15827069e-01, 9.18553476e-06, 2.84163746e-01], rtol=1e-4
    )
    calm = ode.solve_ivp(van_der_pol, (0.0, 20.0), jnp.array([2.0, 0.0]), args=(1.0,))
    assert int(calm.stats.njev) == 0

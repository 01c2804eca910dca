"""Bad and edge inputs to ``calculax.integrate`` (``quad``, ``expectation``).

Each case states its expected outcome (``tests/bad_input/_outcomes.py``): a
specific error, a right value against a closed form, or a flagged result whose
error bound covers the actual error. ``python -m tests.bad_input.test_integrate``
prints the outcome classes per entry point for whichever calculax is importable
(``PYTHONPATH=.../src``); the counts before and after are in ``notes/quadent.md``.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calculax

from ._outcomes import Case, Flagged, Limited, Raises, Right, check, classify, tally

if __name__ == "__main__":  # as in the test run (conftest.py): float64 available
    jax.config.update("jax_enable_x64", True)

INF = np.inf
SQRT_PI = float(np.sqrt(np.pi))


def quad(*args, **kwargs):
    return calculax.integrate.quad(*args, **kwargs)


def expectation(*args, **kwargs):
    return calculax.integrate.expectation(*args, **kwargs)


def gauss(x):
    return jnp.exp(-x * x)


def square(x):
    return x * x


def quad_f(f, a, b, **kw):
    return lambda: quad(f, a, b, throw=False, **kw)


def _raises(fn):
    def call():
        fn()

    return call


CASES = [
    # --- arguments of quad ------------------------------------------------------
    Case(
        "f-none",
        "quad",
        lambda: quad(None, 0.0, 1.0),
        Raises(TypeError, "`f` must be a callable"),
    ),
    Case(
        "f-string",
        "quad",
        lambda: quad("sin", 0.0, 1.0),
        Raises(TypeError, "`f` must be a callable"),
    ),
    Case(
        "f-raises",
        "quad",
        lambda: quad(lambda x: x.nope, 0.0, 1.0),
        Raises(TypeError, r"calling `f\(x, \*args\)`"),
    ),
    Case(
        "f-tuple",
        "quad",
        lambda: quad(lambda x: (x, x), 0.0, 1.0),
        Raises(TypeError, "must return one array"),
    ),
    Case(
        "f-string-out",
        "quad",
        lambda: quad(lambda x: "x", 0.0, 1.0),
        Raises(TypeError, "quad: "),
    ),
    Case(
        "args-float",
        "quad",
        lambda: quad(lambda x, p: x * p, 0.0, 1.0, args=2.0),
        Raises(TypeError, "`args` must be a tuple"),
    ),
    Case(
        "args-wrong-count",
        "quad",
        lambda: quad(lambda x, p: x * p, 0.0, 1.0, args=()),
        Raises(TypeError, r"calling `f\(x, \*args\)`"),
    ),
    Case(
        "a-none",
        "quad",
        lambda: quad(gauss, None, 1.0),
        Raises(TypeError, "`a` must be a real number"),
    ),
    Case(
        "a-string",
        "quad",
        lambda: quad(gauss, "0", 1.0),
        Raises(TypeError, "`a` must be a real number"),
    ),
    Case(
        "a-complex",
        "quad",
        lambda: quad(gauss, 1 + 2j, 1.0),
        Raises(TypeError, "`a` must be a real number"),
    ),
    Case(
        "a-bool",
        "quad",
        lambda: quad(gauss, True, 1.0),
        Raises(TypeError, "`a` must be a real number"),
    ),
    Case(
        "a-vector",
        "quad",
        lambda: quad(gauss, jnp.zeros(2), 1.0),
        Raises(ValueError, "`a` must be a scalar"),
    ),
    Case(
        "a-nan",
        "quad",
        lambda: quad(gauss, np.nan, 1.0),
        Raises(ValueError, "limit `a` must be a number or"),
    ),
    Case(
        "b-nan",
        "quad",
        lambda: quad(gauss, 0.0, float("nan")),
        Raises(ValueError, "limit `b` must be a number or"),
    ),
    Case(
        "rtol-negative",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, rtol=-1e-3),
        Raises(ValueError, "`rtol` must be a non-negative"),
    ),
    Case(
        "rtol-nan",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, rtol=np.nan),
        Raises(ValueError, "`rtol` must be a non-negative"),
    ),
    Case(
        "rtol-inf",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, rtol=np.inf),
        Raises(ValueError, "`rtol` must be a non-negative"),
    ),
    Case(
        "rtol-above-1",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, rtol=1.5),
        Raises(ValueError, "`rtol` must be below 1"),
    ),
    Case(
        "tol-both-zero",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, rtol=0.0, atol=0.0),
        Raises(ValueError, "cannot both be 0"),
    ),
    Case(
        "atol-negative",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, atol=-1.0),
        Raises(ValueError, "`atol` must be a non-negative"),
    ),
    Case(
        "rtol-string",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, rtol="1e-6"),
        Raises(TypeError, "`rtol` must be a non-negative"),
    ),
    Case(
        "max-ninter-zero",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, max_ninter=0),
        Raises(ValueError, "`max_ninter` must be an integer >= 1"),
    ),
    Case(
        "max-ninter-bool",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, max_ninter=True),
        Raises(TypeError, "`max_ninter` must be an integer"),
    ),
    Case(
        "max-ninter-float",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, max_ninter=2.5),
        Raises(TypeError, "`max_ninter` must be an integer"),
    ),
    Case(
        "throw-string",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, throw="yes"),
        Raises(TypeError, "`throw` must be True or False"),
    ),
    Case(
        "points-2d",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, points=[[0.5]]),
        Raises(ValueError, "`points` must be a number or a 1-D"),
    ),
    Case(
        "points-nan",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, points=[np.nan]),
        Raises(ValueError, "`points` must be finite"),
    ),
    Case(
        "points-string",
        "quad",
        lambda: quad(gauss, 0.0, 1.0, points="a"),
        Raises(TypeError, "`points` must be numbers"),
    ),
    # --- semantics of quad ------------------------------------------------------
    Case("reversed", "quad", quad_f(square, 2.0, 0.0), Right(-8 / 3, 1e-10)),
    Case("reversed-infinite", "quad", quad_f(gauss, INF, -INF), Right(-SQRT_PI, 1e-10)),
    Case("empty", "quad", quad_f(lambda x: 1 / x, 1.0, 1.0), Right(0.0)),
    Case("empty-at-inf", "quad", quad_f(gauss, -INF, -INF), Right(0.0)),
    Case(
        "nan-integrand",
        "quad",
        quad_f(lambda x: jnp.where(x > 0.5, jnp.nan, x), 0.0, 1.0),
        Flagged(),
    ),
    Case("nan-everywhere", "quad", quad_f(lambda x: x * jnp.nan, 0.0, 1.0), Flagged()),
    Case("divergent-1/x", "quad", quad_f(lambda x: 1 / x, 0.0, 1.0), Flagged()),
    Case(
        "divergent-constant-line",
        "quad",
        quad_f(lambda x: 1.0 + 0 * x, -INF, INF),
        Flagged(),
    ),
    Case("zero-integrand", "quad", quad_f(lambda x: 0.0 * x, 0.0, 1.0), Flagged()),
    Case(
        "bump-at-1e6",
        "quad",
        quad_f(lambda x: jnp.exp(-((x - 1e6) ** 2) / 2), -INF, INF),
        Limited(np.sqrt(2 * np.pi), 1e-9),
    ),
    Case(
        "bump-at-m3.3e4",
        "quad",
        quad_f(lambda x: jnp.exp(-((x + 33333.3) ** 2)), -INF, INF),
        Limited(SQRT_PI, 1e-9),
    ),
    Case(
        "lorentz-spike",
        "quad",
        quad_f(lambda x: 1 / (1 + ((x - 0.3) / 1e-7) ** 2), 0.0, 1.0),
        Limited(1e-7 * (np.arctan(0.7e7) + np.arctan(0.3e7)), 1e-8),
    ),
    Case(
        "bump-underflows-everywhere",
        "quad",
        quad_f(lambda x: jnp.exp(-((x - 1.2345e6) ** 2)), -INF, INF),
        Flagged(SQRT_PI),
    ),
    Case(
        "inverse-sqrt", "quad", quad_f(lambda x: x**-0.5, 0.0, 1.0), Right(2.0, 1e-10)
    ),
    Case("log", "quad", quad_f(jnp.log, 0.0, 1.0), Right(-1.0, 1e-10)),
    Case(
        "sinc-100",
        "quad",
        quad_f(lambda x: jnp.sinc(x / jnp.pi), 0.0, 100.0),
        Right(1.5622254668890563, 1e-9),
    ),
    Case(
        "cauchy-line",
        "quad",
        quad_f(lambda x: 1 / (1 + x * x), -INF, INF),
        Right(np.pi, 1e-10),
    ),
    Case(
        "float32-limits",
        "quad",
        quad_f(lambda x: jnp.exp(-x), jnp.float32(0.0), jnp.float32(INF)),
        Right(1.0, 1e-3),
    ),
    Case(
        "complex",
        "quad",
        quad_f(lambda x: jnp.exp(1j * x), 0.0, np.pi),
        Right(2j, 1e-10),
    ),
    Case(
        "vector",
        "quad",
        quad_f(lambda x: jnp.stack([x, x * x]), 0.0, 1.0),
        Right(np.array([0.5, 1 / 3]), 1e-10),
    ),
    Case("int-output", "quad", quad_f(lambda x: 1, 0.0, 2.0), Right(2.0, 1e-12)),
    Case(
        "step-with-points",
        "quad",
        quad_f(lambda x: (x > 0.5).astype(float), 0.0, 1.0, points=[0.5]),
        Right(0.5, 1e-10),
    ),
    Case(
        "interior-pole",
        "quad",
        quad_f(lambda x: 1 / (x - 0.5), 0.0, 1.0, points=[0.5]),
        Flagged(),
    ),
    Case(
        "huge-values",
        "quad",
        quad_f(lambda x: 1e300 * jnp.exp(-x * x), -INF, INF),
        Right(1e300 * SQRT_PI, 1e-10),
    ),
    Case(
        "tiny-values",
        "quad",
        quad_f(lambda x: 1e-300 * jnp.exp(-x * x), -INF, INF),
        Right(1e-300 * SQRT_PI, 1e-10),
    ),
    Case(
        "jit-nan-limit",
        "quad",
        lambda: jax.jit(lambda b: quad(gauss, 0.0, b, throw=False))(jnp.nan),
        Flagged(),
    ),
    Case(
        "jit-throw-divergent",
        "quad",
        lambda: jax.jit(lambda b: quad(lambda x: 1 / x, 0.0, b).value)(1.0),
        Raises(Exception, "quad: The integral is probably divergent"),
    ),
    # --- expectation ------------------------------------------------------------
    Case(
        "support-reversed",
        "expectation",
        lambda: expectation(lambda x: -x * x, (1.0, 0.0)),
        Raises(ValueError, "`support` must satisfy lo < hi"),
    ),
    Case(
        "support-scalar",
        "expectation",
        lambda: expectation(lambda x: -x * x, 5.0),
        Raises(TypeError, "`support` must be a pair"),
    ),
    Case(
        "support-nan",
        "expectation",
        lambda: expectation(lambda x: -x * x, (0.0, np.nan)),
        Raises(ValueError, "`support` must not contain nan"),
    ),
    Case(
        "support-three",
        "expectation",
        lambda: expectation(lambda x: -x * x, (0.0, 1.0, 2.0)),
        Raises(ValueError, "`support` must be a pair"),
    ),
    Case(
        "logp-vector",
        "expectation",
        lambda: expectation(lambda x: jnp.stack([x, x]), (0.0, 1.0)),
        Raises(TypeError, "must return a real scalar"),
    ),
    Case(
        "fn-not-callable",
        "expectation",
        lambda: expectation(lambda x: -x, (0.0, 1.0), fn=3),
        Raises(TypeError, "`fn` must be a callable"),
    ),
    Case(
        "modes-2d",
        "expectation",
        lambda: expectation(lambda x: -x * x, (-INF, INF), modes=[[0.0]]),
        Raises(ValueError, "`modes` must be a number or a 1-D"),
    ),
    Case(
        "scale-negative",
        "expectation",
        lambda: expectation(lambda x: -x * x, (-INF, INF), scale=-1.0),
        Raises(ValueError, "`scale` must be a positive"),
    ),
    Case(
        "norm-unknown",
        "expectation",
        lambda: expectation(lambda x: -x * x, (-INF, INF), norm="l2"),
        Raises(ValueError, "`norm` must be 'max' or 'each'"),
    ),
    Case(
        "mass-of-gaussian",
        "expectation",
        lambda: expectation(lambda x: -x * x, (-INF, INF), throw=False),
        Right(SQRT_PI, 1e-10),
    ),
    Case(
        "nan-logp",
        "expectation",
        lambda: expectation(
            lambda x: jnp.where(x > 1, jnp.nan, -x * x), (-INF, INF), throw=False
        ),
        Flagged(),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case):
    check(case)


@settings(max_examples=20, deadline=None)
@given(
    a=st.floats(-5, 5, allow_nan=False),
    b=st.floats(-5, 5, allow_nan=False),
    p=st.floats(0.1, 3.0),
)
def test_swapping_the_limits_negates_the_integral(a, b, p):
    # One function object with p in args: one compiled kernel for every example.
    forward = quad(_shifted, a, b, args=(p,))
    backward = quad(_shifted, b, a, args=(p,))
    assert float(backward.value) == -float(forward.value)
    assert bool(forward.ok)


def _shifted(x, p):
    return jnp.exp(-p * x * x) * (1 + 0.5 * jnp.sin(3 * x))


@settings(max_examples=15, deadline=None)
@given(
    a=st.one_of(st.floats(-1e3, 1e3), st.sampled_from([-INF, INF])),
    b=st.one_of(st.floats(-1e3, 1e3), st.sampled_from([-INF, INF])),
    c=st.floats(-1e6, 1e6),
)
def test_every_result_is_finite_or_flagged(a, b, c):
    r = quad(_bump, a, b, args=(c,), throw=False)
    assert bool(np.isfinite(float(r.value))) or not bool(r.ok)
    assert bool(r.ok) or float(r.error) > 0


def _bump(x, c):
    return jnp.exp(-0.5 * (x - c) ** 2)


if __name__ == "__main__":
    print(tally(CASES, f"integrate bad-input cases ({calculax.__file__})"))
    if "-v" in sys.argv:
        for case in CASES:
            print(case.entry, case.id, classify(case))

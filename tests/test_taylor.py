"""Taylor mode equals nested autodiff and the truth, through calculax's stable rules.

Two engines (``_taylor``): the unrolled recurrences for functions of JAX primitives
(``derivative``'s fast path) and the fixed-point interpreter that follows
``custom_jvp`` rules (``taylor_coefficients``). Against nested forward mode
(``mode="forward"``) the tolerance is ``2**(4 + k)`` ulp of the largest derivative
of order ``<= k`` (both round the lower-order terms they combine); against the
mpmath truth (``tests.helpers``) the same, in float32, at points whose truth is
representable with the ``EDGE`` margin.
"""

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax
import calculax.numpy as cnp
from calculax.derivatives import derivative
from calculax.derivatives._series_interpreter import taylor_coefficients
from tests.helpers import EDGE, eps, representable, truth_partial

FUNCTIONS = {
    "rational": lambda x: jnp.tanh(x) * x**2 + 1 / (1 + x**2),
    "vector output": lambda x: jnp.stack([jnp.exp(-x * x), x**3, jnp.arctan2(x, 2)]),
}
ORDERS = (1, 2, 3, 4, 5)
POINTS = jnp.array([-1.3, 0.0, 0.4, 2.1])


def _tolerance(k, lower_orders, dtype):
    scale = max(np.max(np.abs(lower)) for lower in lower_orders)
    return 2 ** (4 + k) * eps(dtype) * scale


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_taylor_equals_nested_forward(name):
    f = FUNCTIONS[name]

    @jax.jit
    def all_ways(x):
        taylor = [derivative(f, order=k, mode="taylor")(x) for k in ORDERS]
        nested = [derivative(f, order=k, mode="forward")(x) for k in ORDERS]
        # The fixed-point interpreter too (order 4, one function: compile time).
        series = [
            taylor_coefficients(f, (x,), 0, k)[k] * math.factorial(k)
            for k in ((4,) if name == "rational" else ())
        ]
        return taylor, nested, series

    for x in POINTS:  # one compilation, four points
        taylor, nested, series = all_ways(x)
        for k, t, n in zip(ORDERS, taylor, nested):
            atol = _tolerance(k, nested[:k], np.float64)
            np.testing.assert_allclose(t, n, rtol=0, atol=atol)
        for k, s in zip((4,), series):
            atol = _tolerance(k, nested[:k], np.float64)
            np.testing.assert_allclose(s, nested[k - 1], rtol=0, atol=atol)


STABLE = {  # calculax.numpy functions, their mpmath truth
    "tanh": (cnp.tanh, mpmath.tanh),
    "expm1": (cnp.expm1, mpmath.expm1),
    "logaddexp": (
        lambda x: cnp.logaddexp(x, jnp.float32(0.3)),
        lambda x: mpmath.log(
            mpmath.exp(x) + mpmath.exp(mpmath.mpf(float(np.float32(0.3))))
        ),
    ),
}
STABLE_POINTS = np.array([-0.7, 0.1, 0.4, 2.5], np.float32)


@pytest.mark.parametrize("name", list(STABLE))
def test_stable_functions_order_4_against_nested_and_truth(name):
    """Taylor mode through the custom_jvp rules, float32 (order 4: compile time)."""
    f, mp_f = STABLE[name]
    k = 4

    @jax.jit
    @jax.vmap
    def both(x):
        taylor = derivative(f, order=k, mode="taylor")  # auto: Taylor from order 5
        return taylor(x), derivative(f, order=k, mode="forward")(x)

    taylor, nested = both(STABLE_POINTS)
    for x, t, n in zip(STABLE_POINTS, taylor, nested):
        truths = [truth_partial(mp_f, (float(x),), (j,)) for j in range(k + 1)]
        atol = _tolerance(k, [float(v) for v in truths], np.float32)
        assert abs(float(t) - float(truths[k])) <= atol, (x, t, truths[k])
        assert abs(float(t) - float(n)) <= 2 * atol, (x, t, n)


_A = np.array([1e-30, 1e-20, 1e-5, 1.0, 3e10, 1e30, 3e38, -2e-38], np.float32)
_B = np.array([1e-15, 1e-10, 1e-5, 0.3, 1.0, 7.0, 1e5, 1e10, 1e15, -1e-8], np.float32)


@pytest.mark.parametrize("k", [6])  # k = 3: test_derivative.py
def test_stabilized_quotient_across_the_float32_range(k):
    """d^k/db^k of stabilize(-a/b) wherever the truth -a (-1)^k k!/b^(k+1) is
    representable (JAX's own -a/b overflows in b**(k+1) for |b| < 1e-8 or so)."""
    f = calculax.stabilize(lambda a, b: -a / b)
    a, b = (g.ravel() for g in np.meshgrid(_A, _B))
    computed = jax.jit(jax.vmap(derivative(f, argnums=1, order=k)))(a, b)
    checked = 0
    for ai, bi, c in zip(a, b, np.asarray(computed)):
        a_mp, b_mp = mpmath.mpf(float(ai)), mpmath.mpf(float(bi))
        truth = -a_mp * (-1) ** k * math.factorial(k) / b_mp ** (k + 1)
        if not representable(truth, np.float32, EDGE):
            continue
        checked += 1
        assert abs(c - truth) <= 2 ** (4 + k) * eps(np.float32) * abs(truth), (
            ai,
            bi,
            c,
        )
    assert checked >= 30


def test_orders_up_to_12():
    """d^k (e^x sin x) = 2^(k/2) e^x sin(x + k pi/4), both engines, k = 12."""
    k, x = 12, 0.5
    truth = 2 ** (k / 2) * math.exp(x) * math.sin(x + k * math.pi / 4)
    f = lambda x: jnp.sin(x) * jnp.exp(x)  # noqa: E731
    fast = jax.jit(derivative(f, order=k))(x)
    series = jax.jit(lambda x: taylor_coefficients(f, (x,), 0, k)[k])(x)
    for value in (fast, series * math.factorial(k)):
        assert abs(float(value) - truth) <= 2 ** (4 + k) * eps(np.float64) * abs(truth)


def test_blocking_primitive_is_named_and_auto_falls_back():
    # lgamma: no series rule here, none in jax.experimental.jet.
    f = lambda x: jax.lax.lgamma(x) * cnp.exp(x)  # noqa: E731
    with pytest.raises(ValueError, match="'lgamma' has no Taylor-series rule"):
        derivative(f, order=3, mode="taylor")(1.5)
    third = jax.jit(derivative(f, order=3))(1.5)
    nested = jax.jit(jax.grad(jax.grad(jax.grad(f))))(1.5)
    np.testing.assert_allclose(third, nested, rtol=64 * eps(np.float64))


def test_explicit_taylor_mode_needs_one_scalar_argument():
    with pytest.raises(ValueError, match="one scalar"):
        derivative(jnp.sin, order=3, mode="taylor")(jnp.ones(3))


def _reciprocal_derivative(x, k):
    return (-1) ** k * mpmath.factorial(k) / x ** (k + 1)


HIGH_ORDER = {  # f, the point, its derivative of order k at x (mpmath closed form)
    "exp": (jnp.exp, 2.0, lambda x, k: mpmath.exp(x)),
    "sin": (jnp.sin, 2.0, lambda x, k: mpmath.sin(x + k * mpmath.pi / 2)),
    "cnp.exp": (cnp.exp, 2.0, lambda x, k: mpmath.exp(x)),
    "1/x": (lambda x: 1 / x, 2.0, _reciprocal_derivative),  # 35!/2**36 ~ 1e29
    "1/x overflowing": (lambda x: 1 / x, 1.0, _reciprocal_derivative),  # 35! ~ 1e40
}


@pytest.mark.parametrize("name", list(HIGH_ORDER))
def test_float32_orders_past_the_factorial_range(name):
    """Orders 35 and 40 in float32 (35! overflows float32, 1/35! underflows): right
    where the derivative is representable, inf where it is not; no cast warning
    (warnings are errors in this suite)."""
    f, point, truth_of = HIGH_ORDER[name]
    x = np.float32(point)
    for k in (35, 40):
        value = float(jax.jit(derivative(f, order=k))(x))
        truth = truth_of(mpmath.mpf(float(x)), k)
        if representable(truth, np.float32):
            bound = 2.0 ** (4 + k / 4) * eps(np.float32) * abs(truth)
            assert abs(value - truth) <= bound, (k, value, truth)
        else:
            assert value == (math.inf if truth > 0 else -math.inf), (k, value)


def test_checkpointed_code_stays_in_taylor_mode():
    """jax.checkpoint bodies are evaluated in place by both series engines."""
    plain = lambda x: jnp.sin(x) * jnp.exp(x)  # noqa: E731
    checked = jax.checkpoint(plain)
    stable = calculax.stabilize(jax.checkpoint(lambda x: cnp.tanh(x) * x))
    x = 0.5
    k = 6
    truth = 2 ** (k / 2) * math.exp(x) * math.sin(x + k * math.pi / 4)
    value = derivative(checked, order=k, mode="taylor")(x)
    assert abs(float(value) - truth) <= 2 ** (4 + k) * eps(np.float64) * abs(truth)
    tanh = derivative(stable, order=5, mode="taylor")(x)
    nested = derivative(lambda x: cnp.tanh(x) * x, order=5, mode="forward")(x)
    np.testing.assert_allclose(tanh, nested, rtol=2**9 * eps(np.float64))

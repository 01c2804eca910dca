"""``calculax.stabilize``: unmodified JAX code gets calculax.numpy's derivatives."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import calculax
from calculax._core.tolerance import tally
from calculax._tour import _stable_division as stable_division
from tests import helpers
from tests import test_numpy_elementary as elementary

# Every jax.numpy function of the elementary sweeps: those that lower to one
# primitive (or a custom_jvp) with a stable counterpart, and the compositions hypot
# and sinc, matched whole.
UNARY = elementary.UNARY
BINARY = elementary.BINARY


def _stabilized(case):
    return dataclasses.replace(case, function=calculax.stabilize(case.reference))


@pytest.mark.parametrize("order, expected", [(1, 75), (2, 39)])
def test_seed_ratio_with_the_plain_operator(order, expected):
    # The tour's sweep (d^k(-a/b)/db^k at a = b = float32(10**k), closed-form truths,
    # the same classification) with the plain operator, stabilized: every point
    # where the truth is a normal float32 is right (jax.grad: 37/75 and 25/39).
    _, points = stable_division.sweep_points(np.float32)
    g = calculax.stabilize(lambda a, b: -a / b)
    for _ in range(order):
        g = jax.grad(g, argnums=1)
    x = jnp.asarray(points)
    computed = np.asarray(jax.jit(jax.vmap(g))(x, x))
    truths = stable_division._truths(points, order)
    counts, _ = tally(computed, truths, np.dtype(np.float32), order)
    assert (counts.right, counts.representable) == (expected, expected)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", UNARY, ids=lambda c: c.name)
def test_stabilized_jax_numpy_unary_orders_1_to_3(case, dtype):
    stable = _stabilized(case)
    for order in range(1, 4):
        result = elementary.sweep_unary(stable, dtype, order)
        assert result.ok, elementary._report(stable, dtype, order, result)


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", BINARY, ids=lambda c: c.name)
def test_stabilized_jax_numpy_binary_orders_1_to_3(case, dtype):
    stable = _stabilized(case)
    points = elementary.binary_points(case, dtype)
    for order in range(1, 4):
        for orders in helpers.partial_orders(2, order):
            result = elementary.sweep_binary(stable, dtype, orders, points)
            assert result.ok, elementary._report(stable, dtype, orders, result)


def _program(x, y):
    z = jax.lax.cond(x > 0, lambda v: v / y, lambda v: v * y, x)

    def body(carry, t):
        return carry / t + jnp.sqrt(t), carry

    carry, _ = jax.lax.scan(body, z, jnp.arange(1.0, 4.0))
    w = jax.lax.fori_loop(0, 3, lambda i, v: v * 1.5 + jnp.exp(-v), carry)
    return (
        jax.nn.softplus(w)
        + jax.jit(lambda q: q**3)(x)
        + jax.checkpoint(jnp.tanh)(y)
        + jnp.arctan2(x, y)
    )


def test_control_flow_calls_and_transformations():
    stable = calculax.stabilize(_program, report=True)
    x, y = 1.3, 2.1
    assert stable(x, y) == _program(x, y)  # same primitives' values, bit for bit
    # Where JAX's own derivatives are accurate, they agree.
    for transform in (jax.grad, jax.jacfwd, jax.jacrev, jax.hessian):
        ours = transform(stable, argnums=(0, 1))(x, y)
        theirs = transform(_program, argnums=(0, 1))(x, y)
        np.testing.assert_allclose(
            np.asarray(jax.tree.leaves(ours)),
            np.asarray(jax.tree.leaves(theirs)),
            rtol=1e-12,
        )
    batch = jax.jit(jax.vmap(jax.grad(stable)))(
        jnp.array([1.0, 2.0]), jnp.array([0.5, 3.0])
    )
    reference = jax.vmap(jax.grad(_program))(
        jnp.array([1.0, 2.0]), jnp.array([0.5, 3.0])
    )
    np.testing.assert_allclose(batch, reference, rtol=1e-12)
    rewritten = stable.report.rewritten
    for name in ("div", "sqrt", "exp", "logaddexp", "integer_pow", "tanh", "atan2"):
        assert rewritten[name] >= 1, rewritten


def test_derivative_inside_control_flow_is_stable():
    # The seed's quotient inside a scan: its second derivative in b at b = 1e-15
    # (float32) is -2e30 with stabilize, -inf with jax.grad.
    def f(a, b):
        return jax.lax.scan(lambda c, _: (c - a / b, None), 0.0, None, length=1)[0]

    second = jax.grad(jax.grad(calculax.stabilize(f), argnums=1), argnums=1)
    value = float(second(jnp.float32(1e-15), jnp.float32(1e-15)))
    truth = -2 / mpmath.mpf(float(np.float32(1e-15))) ** 2
    assert abs(value - truth) <= helpers.ULPS[2] * helpers.eps(np.float32) * abs(truth)


def test_pytrees_keyword_and_static_arguments():
    @calculax.stabilize
    def f(d, scale, name="x"):
        return {"ratio": d["a"] / d["b"] * scale, "length": len(name)}

    out = f({"a": 1.0, "b": 2.0}, 3.0, name="abc")
    assert float(out["ratio"]) == 1.5 and int(out["length"]) == 3
    grad = jax.grad(lambda b: f({"a": 1e-30, "b": b}, 1.0)["ratio"])(jnp.float32(1e-30))
    assert float(grad) == pytest.approx(-1e30, rel=1e-6)  # jax.grad: -inf


def test_user_custom_rule_is_kept():
    @jax.custom_jvp
    def scaled(x):
        return x / 2.0

    scaled.defjvp(lambda p, t: (scaled(p[0]), 42.0 * t[0]))  # deliberately not 1/2
    stable = calculax.stabilize(scaled, report=True)
    assert float(jax.grad(stable)(1.0)) == 42.0
    assert stable.report.custom_rules == ["scaled"]


def test_user_custom_rule_is_evaluated_stably():
    # The user's rule for a / b, its primal factor written a / b**2 as users do:
    # kept (the factor 3 in the a-tangent shows it is the user's), and evaluated by
    # stabilize with rewrite=True, so the rule's value (b**2 underflows: -inf) and
    # its own derivative -- the second derivative -- are right. (Operations on the
    # tangents stay JAX's: they must remain linear for reverse mode.)
    @jax.custom_jvp
    def ratio(a, b):
        return a / b

    @ratio.defjvp
    def ratio_jvp(primals, tangents):
        (a, b), (da, db) = primals, tangents
        return ratio(a, b), 3.0 * da / b - db * (a / b**2)

    a, b = jnp.float32(1e-30), jnp.float32(1e-20)
    stable = calculax.stabilize(ratio, rewrite=True, report=True)
    first = jax.grad(stable, argnums=1)
    second = jax.grad(first, argnums=1)
    point = [float(a), float(b)]
    for order, ours in ((1, first), (2, second)):
        truth = helpers.truth_partial(lambda a, b: a / b, point, (0, order))
        tolerance = helpers.ULPS[order] * helpers.eps(np.float32) * abs(truth)
        assert abs(float(ours(a, b)) - truth) <= tolerance
    assert float(jax.grad(ratio, argnums=1)(a, b)) == float("-inf")
    assert float(jax.grad(stable)(a, b)) == pytest.approx(3e20)  # the user's rule
    assert stable.report.custom_rules == ["ratio"]


def test_jax_norm_is_replaced_whole():
    # jax.numpy.linalg.norm is sqrt(sum(x * x)): at x ~ 1e-20 in float32 the sum
    # underflows (value 0, Hessian nan), at 1e200 in float64 it overflows; the
    # stabilized norm and Hessian are right (truth: mpmath at 50 digits).
    stable = calculax.stabilize(jnp.linalg.norm, report=True)
    x = jnp.array([3e-20, 4e-20], jnp.float32)
    point = [float(v) for v in x]
    for i in range(2):
        orders = tuple(2 if j == i else 0 for j in range(2))
        truth = helpers.truth_partial(
            lambda a, b: mpmath.sqrt(a**2 + b**2), point, orders
        )
        ours = float(jax.hessian(stable)(x)[i, i])
        assert abs(ours - truth) <= helpers.ULPS[2] * helpers.eps(np.float32) * abs(
            truth
        )
        assert not np.isfinite(jax.hessian(jnp.linalg.norm)(x)[i, i])
    assert float(jnp.linalg.norm(x)) == 0.0
    assert stable.report.rewritten["norm"] >= 1
    assert float(stable(jnp.array([3e200, 4e200]))) == pytest.approx(5e200, rel=1e-15)
    matrix = jnp.array([[3.0, 4.0], [5.0, 12.0]])
    np.testing.assert_allclose(
        calculax.stabilize(lambda m: jnp.linalg.norm(m, axis=1))(matrix), [5.0, 13.0]
    )


def test_jax_logsumexp_derivatives_are_right():
    # JAX's logsumexp shifts by the maximum (under stop_gradient), so its derivatives
    # only meet exp and log of benign arguments: with exp/log re-bound they are right
    # where the truth is representable (softmax and its Jacobian at spread inputs).
    stable = calculax.stabilize(jax.nn.logsumexp)
    x = jnp.array([60.0, 0.0, -30.0], jnp.float32)
    point = [float(v) for v in x]

    def truth_fn(*v):
        return mpmath.log(sum(mpmath.exp(t) for t in v))

    gradient, hessian = jax.grad(stable)(x), jax.hessian(stable)(x)
    for i in range(3):
        for order, value in ((1, gradient[i]), (2, hessian[i, i])):
            orders = tuple(order if j == i else 0 for j in range(3))
            truth = helpers.truth_partial(truth_fn, point, orders)
            if helpers.representable(truth, np.float32, helpers.EDGE):
                tolerance = helpers.ULPS[order] * helpers.eps(np.float32)
                assert abs(float(value) - truth) <= tolerance * abs(truth)


def test_not_a_callable_is_a_type_error():
    with pytest.raises(TypeError, match="stabilize expects a callable"):
        calculax.stabilize(3.0)


def test_not_traceable_is_a_type_error():
    def to_python(x):
        return float(x) * 2.0

    with pytest.raises(TypeError, match="could not trace 'to_python'.*float"):
        calculax.stabilize(to_python)(1.0)
    with pytest.raises(TypeError, match="could not trace '<lambda>'.*NumPy"):
        calculax.stabilize(lambda x: np.sin(x))(1.0)


# Random compositions: (name, arity, jax function, mpmath function).
_OPS = [
    ("add", 2, lambda a, b: a + b, lambda a, b: a + b),
    ("mul", 2, lambda a, b: a * b, lambda a, b: a * b),
    ("div", 2, lambda a, b: a / b, lambda a, b: a / b),
    ("atan2", 2, jnp.arctan2, mpmath.atan2),
    ("sqrt", 1, lambda a: jnp.sqrt(jnp.abs(a)), lambda a: mpmath.sqrt(abs(a))),
    ("exp", 1, lambda a: jnp.exp(jnp.tanh(a)), lambda a: mpmath.exp(mpmath.tanh(a))),
    ("log", 1, lambda a: jnp.log1p(a * a), lambda a: mpmath.log1p(a * a)),
    ("cube", 1, lambda a: a**3, lambda a: a**3),
    ("recip", 1, lambda a: 1.0 / (1.0 + a * a), lambda a: 1 / (1 + a * a)),
]


@st.composite
def _expressions(draw, depth=3):
    """A random expression tree over the variables ``x`` and ``y``."""
    if depth == 0 or draw(st.booleans()):
        return ("var", draw(st.sampled_from([0, 1])))
    name, arity, _, _ = draw(st.sampled_from(_OPS))
    return (name, *[draw(_expressions(depth=depth - 1)) for _ in range(arity)])


def _build(tree, which):
    if tree[0] == "var":
        return lambda x, y: (x, y)[tree[1]]
    op = next(o for o in _OPS if o[0] == tree[0])
    children = [_build(child, which) for child in tree[1:]]
    return lambda x, y: op[which](*[c(x, y) for c in children])


@settings(max_examples=12, deadline=None)
@given(
    tree=_expressions(),
    x=st.floats(0.1, 3.0),
    y=st.floats(-3.0, -0.1),
)
def test_random_compositions_keep_values_and_right_derivatives(tree, x, y):
    plain, truth = _build(tree, 2), _build(tree, 3)
    stable = calculax.stabilize(plain)
    args = (jnp.float64(x), jnp.float64(y))  # JAX arrays: eager JAX, not NumPy
    value, stable_value = plain(*args), stable(*args)
    assert np.asarray(stable_value) == np.asarray(value)  # same values, bit for bit
    row = np.array([x, y])
    for argnum in (0, 1):
        orders = (1 - argnum, argnum)
        exact = helpers.truth_partial(truth, row, orders)
        if not helpers.representable(exact, np.float64, helpers.EDGE):
            continue
        theirs = float(jax.grad(plain, argnums=argnum)(*args))
        ours = float(jax.grad(stable, argnums=argnum)(*args))
        slope = sum(
            abs(row[i])
            * abs(helpers.truth_partial(truth, row, helpers._bump(orders, i)))
            for i in range(2)
        )
        if helpers.classify(theirs, exact, slope, row, np.float64, 1) == "right":
            assert helpers.classify(ours, exact, slope, row, np.float64, 1) == "right"

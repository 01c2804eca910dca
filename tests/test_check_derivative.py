"""check_derivative catches a deliberately wrong custom rule and passes a right one.

Rules are plain ``jax.custom_jvp``s: ``softplus`` with the sign of its derivative
flipped (wrong at order 1) and ``square`` whose tangent ``2 * stop_gradient(x) * t``
is right at order 1 and wrong at order 2 (its second derivative comes out 0); the
right rules are the textbook ones. Both references must catch both mistakes.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
from calculax.derivatives import (
    DerivativeMismatchError,
    check_derivative,
)


def _softplus_rule(sign):
    @jax.custom_jvp
    def softplus(x):
        return jnp.logaddexp(x, 0.0)

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), jax.nn.sigmoid(sign * x) * t

    return softplus


def _square_rule(second_order_right):
    @jax.custom_jvp
    def square(x):
        return x * x

    @square.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        slope = x if second_order_right else jax.lax.stop_gradient(x)
        return square(x), 2 * slope * t

    return square


RIGHT_SOFTPLUS, WRONG_SOFTPLUS = _softplus_rule(1.0), _softplus_rule(-1.0)
RIGHT_SQUARE, WRONG_SQUARE = _square_rule(True), _square_rule(False)
X = jnp.array([0.5, -1.5, 2.0])


def model(softplus, square):
    def f(x, y):
        return softplus(x * y) + square(x - y) * jnp.sin(y)

    return f


REFERENCES = ["truth", "finite-difference"]


@pytest.mark.parametrize("reference", REFERENCES)
def test_right_rules_pass_at_orders_1_and_2(reference):
    f = model(RIGHT_SOFTPLUS, RIGHT_SQUARE)
    y = jnp.array([1.0, 0.25, -0.5])
    for order in (1, 2):
        report = check_derivative(f, (X, y), order, reference=reference)
        assert report.ok and report.computed.shape == (3,) + (3,) * order
    mixed = check_derivative(f, (X, y), argnums=(0, 1), reference=reference)
    assert mixed.ok and mixed.computed.shape == (3, 3, 3)


@pytest.mark.parametrize("reference", REFERENCES)
def test_wrong_first_derivative_is_caught_with_the_worst_entries(reference):
    f = model(WRONG_SOFTPLUS, RIGHT_SQUARE)
    y = jnp.array([1.0, 0.25, -0.5])
    with pytest.raises(DerivativeMismatchError, match=r"3 of 9 entries disagree"):
        check_derivative(f, (X, y), reference=reference)
    report = check_derivative(f, (X, y), reference=reference, throw=False)
    assert not report.ok
    # Element-wise f: only the diagonal is wrong, and it is wrong by
    # y * (sigmoid(-xy) - sigmoid(xy)) (independent closed form).
    np.testing.assert_allclose(
        np.diag(report.computed - report.reference),
        y * (jax.nn.sigmoid(-X * y) - jax.nn.sigmoid(X * y)),
        rtol=1e-6,
    )
    assert {index for index, *_ in report.worst(3)} == {(0, 0), (1, 1), (2, 2)}
    assert "index (" in str(report) and "computed" in str(report)


@pytest.mark.parametrize("reference", REFERENCES)
def test_wrong_second_derivative_is_caught(reference):
    f = model(RIGHT_SOFTPLUS, WRONG_SQUARE)
    y = jnp.array([1.0, 0.25, -0.5])
    assert check_derivative(f, (X, y), reference=reference).ok  # order 1 is right
    with pytest.raises(DerivativeMismatchError, match="disagree"):
        check_derivative(f, (X, y), order=2, reference=reference)


def test_float32_arguments_use_float32_tolerances():
    f = model(RIGHT_SOFTPLUS, RIGHT_SQUARE)
    x, y = X.astype(np.float32), jnp.array([1.0, 0.25, -0.5], np.float32)
    report = check_derivative(f, (x, y), order=2)
    assert report.ok and report.rtol == 64 * float(np.finfo(np.float32).eps)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"reference": "exact"}, ValueError, "reference must be one of"),
        ({"order": 0}, ValueError, "at least 1"),
        ({"order": -2}, ValueError, ">= 0"),
        ({"argnums": 3}, ValueError, "out of range"),
        ({"args": X}, TypeError, "tuple"),
        ({"args": (jnp.arange(3), X)}, TypeError, "dtype int"),
        ({"f": lambda x, y: {"a": x * y}}, TypeError, "single array"),
        ({"args": (jnp.ones(30), jnp.ones(30)), "order": 3}, ValueError, "finite-d"),
    ],
)
def test_bad_input(kwargs, error, match):
    call = {"f": lambda x, y: x * y, "args": (X, X)} | kwargs
    with pytest.raises(error, match=match):
        check_derivative(**call)


@pytest.mark.parametrize("order", [3, 4])
def test_tensor_derivatives_of_orders_3_and_4_against_the_truth(order):
    def f(x):
        return jnp.concatenate([x[:1] * jnp.exp(x[1:]), jnp.sin(x[:1] * x[1:])])

    report = check_derivative(f, (jnp.array([0.7, -0.4]),), order)
    assert report.computed.shape == (2,) + (2,) * order
    assert report.ok


def test_truth_names_an_unsupported_primitive_and_the_alternative():
    def f(x):
        return jax.lax.erf_inv(x / 4)

    with pytest.raises(NotImplementedError, match="erf_inv.*finite-difference"):
        check_derivative(f, (X,))
    assert check_derivative(f, (X,), reference="finite-difference").ok


def _scaled_rule(error):
    # f(x) = (1e6 x0 x1, x1): the rule's entry d f1/d x1 is off by `error`, next to
    # entries of 1e6 (a tolerance relative to the tensor's scale would pass it).
    @jax.custom_jvp
    def f(x):
        return jnp.stack([1e6 * x[0] * x[1], x[1]])

    @f.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        row0 = 1e6 * (t[0] * x[1] + x[0] * t[1])
        return f(x), jnp.stack([row0, (1 + error) * t[1]])

    return f


@pytest.mark.parametrize("reference", REFERENCES)
def test_a_wrong_entry_next_to_large_ones_is_caught(reference):
    x = jnp.array([1.0, 2.0])
    assert check_derivative(_scaled_rule(0.0), (x,), reference=reference).ok
    report = check_derivative(
        _scaled_rule(1e-3), (x,), reference=reference, throw=False
    )
    assert report.failures == 1 and report.worst(1)[0][0] == (1, 1)
    assert report.status == calculax.RESULTS.derivative_mismatch


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("function", [jnp.sign, jnp.sqrt], ids=["sign", "sqrt"])
def test_where_the_derivative_does_not_exist_the_entry_is_unverified(
    function, reference
):
    # sign at 0 (a jump: differences grow like 1/h) and sqrt at 0 (the edge of the
    # domain: the reference is nan): flagged, never passed, never "disagree".
    x = jnp.array([0.0, 1.0])
    report = check_derivative(function, (x,), reference=reference, throw=False)
    assert report.verdict[0, 0] == 2 and report.unverified == 1
    assert report.failures == 0 and not report.ok
    assert report.status == calculax.RESULTS.derivative_unverified
    assert "could not be verified" in str(report)
    with pytest.raises(calculax.NumericalError, match="could not be verified"):
        check_derivative(function, (x,), reference=reference)


def test_the_result_model_prints_its_numbers():
    report = check_derivative(lambda x: x**3, (jnp.array([2.0]),))
    assert report.message == "" and bool(report.ok)
    np.testing.assert_array_equal(report.value, [[12.0]])
    assert report.error.shape == report.value.shape == report.allowed.shape
    assert "value=[[12.]]" in repr(report) and "status=successful" in repr(report)

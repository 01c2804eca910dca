"""calculax.derivatives.derivative: shapes, modes, values against the truth, errors.

Shapes: every combination of scalar / vector / matrix / pytree input and output, at
orders 1 and 2, against the convention ``out.shape + x.shape * k`` and against JAX's
own nested ``jax.jacrev`` (an independent composition). Values: orders 1-4 of
``sin(x) exp(x)`` and of calculax's ``log1p`` against closed forms evaluated in
mpmath, within ``ULPS[k]`` ulp (tests/helpers.py).
"""

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax.numpy as cnp
from calculax.derivatives import DerivativeTooLargeError, derivative
from calculax.derivatives._derivative import plan
from tests.helpers import ULPS, eps

INPUTS = {
    "scalar": jnp.float64(0.3),
    "vector": jnp.linspace(0.1, 0.5, 3),
    "matrix": jnp.linspace(-0.4, 0.7, 6).reshape(2, 3),
    "pytree": {"a": jnp.array([0.2, -0.1]), "b": jnp.float64(0.5)},
}


def _mix(x):
    leaves = jax.tree.leaves(x)
    return sum(jnp.sum(jnp.sin(leaf) * (1 + leaf)) for leaf in leaves)


OUTPUTS = {
    "scalar": lambda s: s**3,
    "vector": lambda s: jnp.stack([s, s**2, jnp.cos(s)]),
    "matrix": lambda s: jnp.stack([s, s**2, jnp.cos(s), jnp.exp(s)]).reshape(2, 2),
    "pytree": lambda s: {"u": jnp.stack([s, s**2]), "v": jnp.exp(s)},
}


def _leaf_shapes(tree):
    return [np.shape(leaf) for leaf in jax.tree.leaves(tree)]


def _reference(f, order):
    for _ in range(order):
        f = jax.jacrev(f)
    return f


def _function(out_kind):
    return lambda x: OUTPUTS[out_kind](_mix(x))


SHAPE_CASES = [(i, o, k) for i in INPUTS for o in OUTPUTS for k in (1, 2)] + [
    ("pytree", o, 3) for o in OUTPUTS
]


@pytest.mark.parametrize(("in_kind", "out_kind", "order"), SHAPE_CASES)
def test_shapes_for_every_kind(in_kind, out_kind, order):
    f, x = _function(out_kind), INPUTS[in_kind]
    result = jax.eval_shape(derivative(f, order=order), x)  # traced, not compiled
    expected = jax.eval_shape(_reference(f, order), x)
    assert jax.tree.structure(result) == jax.tree.structure(expected)
    # The convention, leaf by leaf: out.shape + x.shape * order, in tree order.
    shapes = [
        out + sum(combo, ())
        for out in _leaf_shapes(jax.eval_shape(f, x))
        for combo in _products(_leaf_shapes(x), order)
    ]
    assert _leaf_shapes(result) == shapes


VALUE_CASES = [  # every input and output kind at least once; shapes: all pairs above
    ("scalar", "pytree", 1),
    ("vector", "matrix", 1),
    ("matrix", "vector", 1),
    ("pytree", "scalar", 1),
    ("pytree", "pytree", 1),
    ("pytree", "pytree", 2),
    ("matrix", "matrix", 2),
    ("vector", "scalar", 3),
]


@pytest.mark.parametrize(("in_kind", "out_kind", "order"), VALUE_CASES)
def test_values_equal_nested_jacrev(in_kind, out_kind, order):
    f, x = _function(out_kind), INPUTS[in_kind]
    reference = _reference(f, order)
    both = jax.jit(lambda x: (derivative(f, order=order)(x), reference(x)))
    result, expected = both(x)  # one compilation for both
    for got, want in zip(jax.tree.leaves(result), jax.tree.leaves(expected)):
        np.testing.assert_allclose(got, want, rtol=64 * eps(np.float64), atol=1e-14)


def _products(shapes, order):
    if order == 0:
        return [()]
    return [(s,) + rest for s in shapes for rest in _products(shapes, order - 1)]


def test_mixed_partial_shape_and_order_of_differentiation():
    def f(x, y):
        return jnp.stack([jnp.sum(x) * y[0], jnp.sum(x**2 * y[1:]), y[2] ** 3])

    x, y = jnp.array([0.5, -1.0]), jnp.array([2.0, 0.3, 0.7])
    reference = jax.jacfwd(jax.jacrev(f, 0), 1)
    d, expected = jax.jit(lambda *a: (derivative(f, (0, 1))(*a), reference(*a)))(x, y)
    assert d.shape == (3, 2, 3)
    np.testing.assert_allclose(d, expected, rtol=1e-15)
    third = jax.eval_shape(derivative(f, argnums=(0, 1), order=(1, 2)), x, y)
    assert third.shape == (3, 2, 3, 3)


def _sin_exp_truth(k, x):
    # d^k/dx^k sin(x) e^x = 2^(k/2) e^x sin(x + k pi / 4)
    with mpmath.workdps(40):
        x = mpmath.mpf(float(x))
        return (
            mpmath.mpf(2) ** (mpmath.mpf(k) / 2)
            * mpmath.exp(x)
            * mpmath.sin(x + k * mpmath.pi / 4)
        )


def _log1p_truth(k, x):
    with mpmath.workdps(40):
        x = mpmath.mpf(float(x))
        return (-1) ** (k - 1) * mpmath.factorial(k - 1) / (1 + x) ** k


CASES = {
    "sin*exp": (lambda x: jnp.sin(x) * jnp.exp(x), _sin_exp_truth),
    "calculax log1p": (cnp.log1p, _log1p_truth),
}
POINTS = (-2.5, -0.5, 0.7, 3.0)


@pytest.mark.parametrize(
    ("case", "dtype", "mode"),
    [
        ("sin*exp", np.float32, "auto"),  # Taylor mode from order 3
        ("sin*exp", np.float64, "auto"),
        ("sin*exp", np.float64, "forward"),
        ("sin*exp", np.float64, "reverse"),
        ("calculax log1p", np.float32, "auto"),  # nested forward over custom rules
        ("calculax log1p", np.float64, "auto"),
        ("calculax log1p", np.float64, "reverse"),
    ],
)
def test_orders_1_to_4_against_the_truth(case, dtype, mode):
    fn, truth = CASES[case]
    points = [p for p in POINTS if case != "calculax log1p" or p > -1]
    orders = (1, 2, 3, 4)
    all_orders = jax.jit(
        lambda xs: [jax.vmap(derivative(fn, order=k, mode=mode))(xs) for k in orders]
    )
    for k, got in zip(orders, all_orders(jnp.asarray(points, dtype))):
        assert got.dtype == dtype
        for x, value in zip(points, got):
            x = float(dtype(x))
            exact, slope = truth(k, x), truth(k + 1, x)
            scale = abs(exact) + abs(x) * abs(slope)
            assert abs(float(value) - exact) <= ULPS[k] * eps(dtype) * scale, (k, x)


def test_stabilized_third_derivative_is_stable():
    import calculax

    a, b = jnp.float32(1e-30), jnp.float32(1e-15)
    third = derivative(calculax.stabilize(lambda a, b: -a / b), argnums=1, order=3)
    exact = 6 * mpmath.mpf(float(a)) / mpmath.mpf(float(b)) ** 4  # 6a/b^4 = 6e30
    got = float(third(a, b))
    assert abs(got - exact) <= ULPS[3] * eps(np.float32) * abs(exact)
    # Nested forward mode on the plain expression forms b**-4 = 1e60: inf.
    naive = derivative(lambda a, b: -a / b, argnums=1, order=3, mode="forward")
    assert np.isinf(naive(a, b))


def test_auto_mode_rule():
    def wide(x):  # R^10 -> R^1000
        return jnp.tile(jnp.sin(x), 100)

    def tall(x):  # R^1000 -> R^10
        return jnp.sin(x).reshape(10, 100).sum(axis=1)

    assert plan(wide, (jnp.ones(10),), (0,)) == ("forward",)
    assert plan(tall, (jnp.ones(1000),), (0,)) == ("reverse",)
    loss = lambda x: jnp.sum(x**2)  # noqa: E731
    assert plan(loss, (jnp.ones(5),), (0, 0)) == ("reverse", "forward")
    assert plan(tall, (jnp.ones(1000),), (0,), "forward") == ("forward",)
    assert plan(jnp.sin, (1.0,), (0, 0, 0)) == "taylor"
    # through its stable rule from order 5 (below, nested modes compile faster)
    assert plan(cnp.exp, (1.0,), (0, 0, 0)) == ("reverse", "forward", "forward")
    assert plan(cnp.exp, (1.0,), (0,) * 5) == "taylor"
    assert plan(cnp.exp, (1.0,), (0, 0, 0), "taylor") == "taylor"
    assert plan(jax.lax.lgamma, (1.5,), (0, 0, 0)) == ("reverse", "forward", "forward")


def test_order_zero_is_the_function():
    assert derivative(jnp.sin, order=0)(0.5) == jnp.sin(0.5)


def test_symmetric_option_is_the_derivative_along_symmetric_matrices():
    a = jnp.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.25, 1.0, -2.0]])

    def f(x):
        return jnp.sum(a * (x @ x))

    s = jnp.array([[1.0, 0.2, -0.3], [0.2, 2.0, 0.5], [-0.3, 0.5, 0.7]])
    v = jnp.array([[0.3, -1.0, 0.4], [-1.0, 0.1, 2.0], [0.4, 2.0, -0.6]])

    @jax.jit
    def all_three(s, v):
        # The directional derivative (forward mode along v) is the independent check.
        symmetric = derivative(f, symmetric=(0,))(s)
        return symmetric, jax.jvp(f, (s,), (v,))[1], jax.grad(f)(s)

    g, directional, full = all_three(s, v)
    np.testing.assert_allclose(g, g.T, rtol=1e-15)
    np.testing.assert_allclose(jnp.sum(g * v), directional, rtol=1e-14)
    np.testing.assert_allclose(g, (full + full.T) / 2, rtol=1e-14)
    with pytest.raises(ValueError, match="square matrices"):
        derivative(f, symmetric=(0,))(jnp.ones((2, 3)))


def test_size_guard_names_the_size_and_the_product():
    x = jnp.zeros(20_000)
    with pytest.raises(DerivativeTooLargeError, match=r"3\.0 GiB.*jax\.jvp"):
        derivative(lambda x: 2 * x)(x)
    with pytest.raises(DerivativeTooLargeError, match=r"hvp\(f, x, v\)"):
        derivative(lambda x: jnp.sum(x**2), order=2)(x)
    with pytest.raises(DerivativeTooLargeError, match=r"mixed_hvp"):
        derivative(lambda x, y: jnp.sum(x * y), argnums=(0, 1))(x, x)
    small = jnp.ones(4)
    with pytest.raises(DerivativeTooLargeError, match="128 bytes.*max_bytes=100"):
        derivative(lambda x: 2 * x, max_bytes=100)(small)
    assert derivative(lambda x: 2 * x, max_bytes=128)(small).shape == (4, 4)


def _two(x, y):
    return jnp.sum(x * y)


@pytest.mark.parametrize(
    ("make", "args", "error", "match"),
    [
        (lambda: derivative(_two, argnums=2), (1.0, 2.0), ValueError, "out of range"),
        (lambda: derivative(_two, argnums=-1), (1.0, 2.0), ValueError, "non-negat"),
        (lambda: derivative(_two, argnums=True), (1.0, 2.0), TypeError, "bool"),
        (lambda: derivative(_two, argnums=0.5), (1.0, 2.0), TypeError, "int"),
        (lambda: derivative(_two), (jnp.arange(3), 2.0), TypeError, "dtype int"),
        (lambda: derivative(_two), (jnp.ones(2, bool), 2.0), TypeError, "dtype bool"),
        (lambda: derivative(_two), (3, 2.0), TypeError, "real floating inputs"),
        (lambda: derivative(_two), (jnp.ones(2) * 1j, 2.0), TypeError, "complex"),
        (lambda: derivative(lambda x: "x"), (1.0,), TypeError, "must return arrays"),
        (lambda: derivative(lambda x: None is x), (1.0,), TypeError, "bool"),
        (lambda: derivative(lambda x: jnp.int32(x)), (1.0,), TypeError, "int32"),
        (lambda: derivative(jnp.sin, mode="taylor"), (jnp.ones(2),), ValueError, "sc"),
        (lambda: derivative(jax.lax.lgamma, mode="taylor"), (1.5,), ValueError, "lgam"),
    ],
)
def test_bad_input_is_a_specific_error(make, args, error, match):
    with pytest.raises(error, match=match):
        make()(*args)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"order": -1}, ValueError, "order must be >= 0"),
        ({"order": (1, 2)}, ValueError, "one entry per argnum"),
        ({"mode": "sideways"}, ValueError, "mode must be one of"),
        ({"argnums": ()}, ValueError, "at least one"),
    ],
)
def test_bad_options_fail_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        derivative(_two, **kwargs)

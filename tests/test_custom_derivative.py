"""``calculax.custom_derivative``: user partials, every order, both modes, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
import calculax.numpy as cnp
from tests import helpers


def _ratio_partials(a, b):
    return cnp.reciprocal(b), -cnp.divide(cnp.divide(a, b), b)


ratio = calculax.custom_derivative(lambda a, b: a / b, partials=_ratio_partials)


def test_seed_sweep_with_user_rule_is_right_at_orders_1_to_3():
    # The seed's newDivGrad, written once, differentiated three times.
    points = np.stack([helpers.magnitudes(np.float32)] * 2, axis=1)
    for order in range(1, 4):
        result = helpers.sweep(
            lambda a, b: -ratio(a, b),
            lambda a, b: -a / b,
            points,
            [0, order],
            np.float32,
            skip=lambda row: bool(np.any(row == 0)),
        )
        assert result.ok, result.failures[:5]


def test_forward_and_reverse_agree_and_compose_with_vmap():
    a = jnp.linspace(0.5, 2.0, 4)
    b = jnp.linspace(1.0, 3.0, 4)

    @jax.jit  # one compilation (op-by-op dispatch of the nested rules is slower)
    def both(a, b):
        reverse = jax.vmap(jax.grad(jax.grad(ratio, argnums=1), argnums=0))(a, b)
        forward = jax.vmap(jax.jacfwd(jax.jacfwd(ratio, argnums=1), argnums=0))(a, b)
        return reverse, forward

    reverse, forward = both(a, b)
    np.testing.assert_allclose(reverse, forward, rtol=1e-15)
    np.testing.assert_allclose(reverse, -1 / b**2, rtol=1e-15)


def test_partials_are_broadcast_against_the_output():
    scale = calculax.custom_derivative(lambda x, s: x * s, partials=lambda x, s: (s, x))
    x = jnp.arange(1.0, 4.0)
    grad_s = jax.jit(jax.grad(lambda s: scale(x, s).sum()))(2.0)
    assert grad_s == pytest.approx(6.0)


def test_zero_cotangent_stays_zero_against_infinite_partial():
    root = calculax.custom_derivative(
        jnp.sqrt, partials=lambda x: (cnp.divide(0.5, jnp.sqrt(x)),)
    )
    grad = jax.jit(jax.grad(lambda x: jnp.where(x > 0, root(x), 0.0)))(0.0)
    assert grad == 0.0


def test_wrong_number_of_partials_is_a_type_error():
    bad = calculax.custom_derivative(lambda a, b: a / b, partials=lambda a, b: (b,))
    with pytest.raises(TypeError, match="returned 1 value.*takes 2 argument"):
        jax.grad(bad)(1.0, 2.0)


def test_partial_of_wrong_shape_is_a_value_error():
    bad = calculax.custom_derivative(
        lambda x: 2 * x, partials=lambda x: (jnp.ones((5,)),)
    )
    with pytest.raises(ValueError, match="partial 0 .* shape \\(5,\\)"):
        jax.jvp(bad, (jnp.ones(3),), (jnp.ones(3),))


def test_non_callable_arguments_are_type_errors():
    with pytest.raises(TypeError, match="partials must be callable"):
        calculax.custom_derivative(jnp.sin, partials=3)
    with pytest.raises(TypeError, match="needs partials"):
        calculax.custom_derivative(jnp.sin)
    with pytest.raises(TypeError, match="function must be callable"):
        calculax.custom_derivative(3, partials=jnp.cos)


def test_truth_for_mixed_partial():
    value = float(jax.jit(jax.grad(jax.grad(ratio, argnums=1), argnums=1))(2.0, 1e-3))
    truth = helpers.truth_partial(lambda a, b: a / b, [2.0, 1e-3], [0, 2])
    assert abs(value - float(truth)) <= helpers.ULPS[2] * helpers.eps(np.float64) * abs(
        truth
    )

"""Taylor mode (jax.experimental.jet) equals nested autodiff; its limits are detected.

Orders 1-5 of jet-compatible functions by ``mode="taylor"`` against nested forward
mode (``mode="forward"``, the custom-rule route), against each other within the
``ULPS``-style tolerance ``2**(4 + k)`` ulp of the largest derivative of order ``<= k``
(both round the lower-order terms they combine; a true zero comes out as ~1e-16).
Taylor mode against the truth: ``test_derivative.py`` (sin(x) exp(x), orders 3-4).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax.numpy as cnp
from calculax.derivatives import derivative
from calculax.derivatives._taylor import jet_obstacle
from tests.helpers import eps

FUNCTIONS = {
    "rational": lambda x: jnp.tanh(x) * x**2 + 1 / (1 + x**2),
    "vector output": lambda x: jnp.stack([jnp.exp(-x * x), x**3, jnp.arctan2(x, 2)]),
}
ORDERS = (1, 2, 3, 4, 5)
POINTS = jnp.array([-1.3, 0.0, 0.4, 2.1])


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_taylor_equals_nested_forward(name):
    f = FUNCTIONS[name]

    @jax.jit
    def both(x):
        taylor = [derivative(f, order=k, mode="taylor")(x) for k in ORDERS]
        return taylor, [derivative(f, order=k, mode="forward")(x) for k in ORDERS]

    for x in POINTS:  # one compilation, four points
        taylor, nested = both(x)
        for k, t, n in zip(ORDERS, taylor, nested):
            # Both recurrences round the lower-order terms: scale by the largest.
            scale = max(np.max(np.abs(lower)) for lower in nested[:k])
            atol = 2 ** (4 + k) * eps(np.float64) * scale
            np.testing.assert_allclose(t, n, rtol=0, atol=atol)


def test_auto_uses_taylor_only_where_jet_follows_the_rules():
    assert jet_obstacle(lambda x: jnp.sin(x) * jnp.exp(x), (1.0,)) is None
    assert jet_obstacle(cnp.exp, (1.0,)) == "custom_jvp_call"
    # calculax's functions fall back to nested forward mode over their stable rules.
    f = lambda x: cnp.log1p(x) * jnp.sin(x)  # noqa: E731
    fourth = jax.jit(derivative(f, order=4))(0.5)
    nested = f
    for _ in range(4):
        nested = jax.grad(nested)
    np.testing.assert_allclose(fourth, jax.jit(nested)(0.5), rtol=256 * eps(np.float64))


def test_explicit_taylor_mode_names_the_obstacle():
    with pytest.raises(ValueError, match="custom_jvp_call.*no jax.experimental.jet"):
        derivative(cnp.exp, order=3, mode="taylor")(1.0)
    with pytest.raises(ValueError, match="one scalar"):
        derivative(jnp.sin, order=3, mode="taylor")(jnp.ones(3))

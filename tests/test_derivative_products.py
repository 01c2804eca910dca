"""hvp, vhp and mixed_hvp against the full tensors contracted with the direction.

The tensors come from ``jax.hessian`` and nested ``jax.jacfwd`` (independent of the
products' forward-over-reverse and reverse-over-reverse compositions).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from calculax.derivatives import hvp, mixed_hvp, vhp
from tests.helpers import eps

RTOL = 64 * eps(np.float64)


def loss(x, y):
    return jnp.sum(jnp.sin(x) * y**2) + jnp.dot(x, y) ** 2 + jnp.exp(x[0] * y[2])


X = jnp.array([0.3, -1.2, 0.8])
Y = jnp.array([1.5, 0.4, -0.7])
V = jnp.array([0.5, 2.0, -1.0])


@jax.jit
def _all(x, y, v):
    of_x = lambda x: loss(x, y)  # noqa: E731
    products = hvp(of_x, x, v), vhp(of_x, x, v), mixed_hvp(loss, (x, y), v)
    tensors = jax.hessian(of_x)(x), jax.jacfwd(jax.grad(loss, 0), 1)(x, y)
    return products, tensors


def test_products_equal_contracted_tensors():
    (hv, vh, mixed), (hessian, block) = _all(X, Y, V)
    np.testing.assert_allclose(hv, hessian @ V, rtol=RTOL)
    np.testing.assert_allclose(vh, V @ hessian, rtol=RTOL)
    # block[i, j] = d^2 f / dx_i dy_j; the product is d/dy (grad_x f . v).
    np.testing.assert_allclose(mixed, V @ block, rtol=RTOL)


def test_hvp_of_a_pytree():
    def f(p):
        return jnp.sum(p["w"] ** 3) * p["b"]

    p = {"w": jnp.array([1.0, 2.0]), "b": jnp.float64(0.5)}
    v = {"w": jnp.array([1.0, 0.0]), "b": jnp.float64(1.0)}
    out = hvp(f, p, v)
    # d/dw: 6 w b v_w + 3 w^2 v_b; d/db: 3 w^2 . v_w
    np.testing.assert_allclose(out["w"], [6 * 0.5 + 3, 12.0], rtol=RTOL)
    np.testing.assert_allclose(out["b"], 3.0, rtol=RTOL)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: hvp(jnp.sin, X, V), TypeError, "scalar"),
        (lambda: hvp(jnp.sum, X, V[:2]), ValueError, "structure and shapes"),
        (lambda: vhp(jnp.sum, jnp.arange(3), V), TypeError, "dtype int"),
        (lambda: mixed_hvp(loss, (X, Y), V, argnums=(0, 2)), ValueError, "range"),
        (lambda: mixed_hvp(loss, X, V), ValueError, "tuple"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()

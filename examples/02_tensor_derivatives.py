"""Seed question 2: "Mixed partial derivative w.r.t. tensor".

    "Given n by n symmetric matrices X, Y and matrix function
    Z(X, Y) = torch.mm(X.mm(X), Y) calculate d(dZ/dX)/dY. [...]
    loss = torch.linalg.norm(my_formula(X, Y), ord='fro') and I need to find
    d^2(loss)/d(Y^2) and d/dX[d(loss)/dY]."

Run ``python examples/02_tensor_derivatives.py [OUT_DIR]``: prints the shapes of
the three derivative tensors and their check against the analytic formula, then
chapter 3 of ``calculax tour`` (the checks against the mpmath truth, the "trace
trick", symmetric X), writing ``tensor_derivatives.png`` into OUT_DIR.
"""

import sys

import jax.numpy as jnp

from calculax import derivative
from calculax._tour import run

CHAPTERS = (3,)


def answer() -> dict[str, object]:
    """``d/dY d/dX Z`` against ``delta_ai X_jk delta_bl + X_ai delta_jk delta_bl``."""
    x = jnp.array([[1.0, 2.0], [3.0, 4.0]])
    y = jnp.array([[0.5, -1.0], [2.0, 1.5]])

    def z(x, y):
        return x @ x @ y

    def loss(x, y):
        return jnp.linalg.norm(z(x, y), ord="fro")

    mixed = derivative(z, argnums=(0, 1))(x, y)  # (n, p) + (n, n) + (n, p)
    eye_n, eye_p = jnp.eye(2), jnp.eye(2)
    formula = jnp.einsum("ai,jk,bl->abijkl", eye_n, x, eye_p) + jnp.einsum(
        "ai,jk,bl->abijkl", x, eye_n, eye_p
    )
    d2_yy = derivative(loss, argnums=1, order=2)(x, y)
    d2_xy = derivative(loss, argnums=(1, 0))(x, y)  # d/dX [d loss/dY]
    error = float(jnp.max(jnp.abs(mixed - formula)))
    print(f"d(dZ/dX)/dY: shape {mixed.shape}, max |calculax - formula| = {error:.3g}")
    print(f"d2 loss/dY2: shape {d2_yy.shape}; d/dX [d loss/dY]: shape {d2_xy.shape}")
    return {
        "mixed_shape": mixed.shape,
        "mixed_error": error,
        "d2_yy_shape": d2_yy.shape,
        "d2_xy_shape": d2_xy.shape,
    }


def main(out_dir: str = ".") -> dict[str, object]:
    result = answer()
    print()
    run(out_dir, only=CHAPTERS)
    return result


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Seed question 1: "How to calculate gradients in a numerically stable fashion".

    "I would like to compute derivatives of a ratio f = - a / b in a numerically
    stable fashion [...] but am running into problems when a and b are small (<1e-20
    when using 32-bit floating point representation). [...] I run into the same
    problem if I want to calculate a higher-order derivative."

Run ``python examples/01_stable_gradients.py [OUT_DIR]``: prints the answer at
``a = b = 1e-30`` (first derivative) and ``1e-15`` (second), then chapters 1 and 2
of ``calculax tour`` -- the sweep over the whole float32 range against mpmath and the
audit of a common workaround -- writing ``stable_division.png`` and
``audit_workaround.png`` into OUT_DIR (default: the current folder).
"""

import sys

import jax
import jax.numpy as jnp

import calculax
import calculax.numpy as cnp
from calculax._tour import run

CHAPTERS = (1, 2)  # the tour's stable-division sweep and its audit


def answer() -> dict[str, float]:
    """``d(-a/b)/db`` and ``d2(-a/b)/db2`` by naive JAX and by calculax."""
    a = b = jnp.float32(1e-30)
    first = {
        "jax": jax.grad(lambda b: -a / b)(b),
        "calculax": jax.grad(lambda b: -cnp.divide(a, b))(b),
    }
    x = jnp.float32(1e-15)

    def second(f):
        return jax.grad(jax.grad(f, argnums=1), argnums=1)(x, x)

    ratio = lambda a, b: -a / b  # noqa: E731 -- unmodified JAX code
    second_order = {
        "jax": second(ratio),
        "stabilize": second(calculax.stabilize(ratio)),
    }
    print("d(-a/b)/db at a = b = 1e-30 (truth 1/b = 1e+30):")
    for name, value in first.items():
        print(f"  {name:<10} {float(value):.7g}")
    print("d2(-a/b)/db2 at a = b = 1e-15 (truth -2/b**2 = -2e+30):")
    for name, value in second_order.items():
        print(f"  {name:<10} {float(value):.7g}")
    return {
        "first_jax": float(first["jax"]),
        "first_calculax": float(first["calculax"]),
        "second_jax": float(second_order["jax"]),
        "second_stabilize": float(second_order["stabilize"]),
    }


def main(out_dir: str = ".") -> dict[str, float]:
    result = answer()
    print()
    run(out_dir, only=CHAPTERS)
    return result


if __name__ == "__main__":
    main(*sys.argv[1:])

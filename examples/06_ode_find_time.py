"""Seed question 6: "On ordinary differential equations (ODE) and optimization".

    "dy/dt = 0.01*y*(1-y), find t when y = 0.8 (0<t<3000). I've tried the ode
    function in Python, but it can only calculate y when t is given. [...] My real
    problem is: F(t) = 0.85, F(t) = sqrt(x(t)^2+y(t)^2+z(t)^2), x''(t) =
    (1/F(t)-1)*250*x(t), [...] z''(t) = (1/F(t)-1)*250*z(t)-10, 0<t<5"

Run ``python examples/06_ode_find_time.py [OUT_DIR]``: prints ``find_time`` for the
logistic equation against ``100 ln 4``, then chapter 6 of ``calculax tour`` (every
crossing of ``F = 0.85`` by the spring, against SciPy's DOP853), writing
``ode_events.png`` into OUT_DIR.
"""

import math
import sys

import jax.numpy as jnp

import calculax.ode as ode
from calculax._tour import run

CHAPTERS = (6,)


def answer() -> dict[str, float]:
    """The first ``t`` with ``y(t) = 0.8``; ``y' = 0.01 y (1 - y)``, ``y(0) = 0.5``."""
    hit = ode.find_time(
        lambda t, y: 0.01 * y * (1 - y),
        (0.0, 3000.0),
        jnp.array([0.5]),
        lambda t, y: y[0] - 0.8,
    )
    truth = 100 * math.log(4)
    print(
        f"y = 0.8 at t = {float(hit.value):.6f} +- {float(hit.error):.1e}"
        f"  (100 ln 4 = {truth:.6f})"
    )
    return {"t": float(hit.value), "error": float(hit.error), "truth": truth}


def main(out_dir: str = ".") -> dict[str, float]:
    result = answer()
    print()
    run(out_dir, only=CHAPTERS)
    return result


if __name__ == "__main__":
    main(*sys.argv[1:])

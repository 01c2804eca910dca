"""Power laws near the edge of integrability: does ``quad``'s error cover?

Run ``PYTHONPATH=src python benchmarks/quad_power_tails.py`` (float64 and float32).
Integrates ``x**-p`` on ``[1, inf)`` and ``(-inf, -2]``, ``(1 + x)**-p`` on
``[0, inf)`` for ``p`` from 1.0005 to 2.5, and ``x**(a - 1)`` on ``(0, 1]`` for
``a`` from 0.001 to 0.3 (51 integrals per dtype), against the closed forms in mpmath
at the exponent as rounded to the dtype. Prints each integral whose ``error`` is
below the actual error (with its status) and, per dtype, how many were OK, flagged,
and under-covered: the promise is 0 under-covered, whatever the status.
"""

from __future__ import annotations

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402

from calculax.integrate import quad  # noqa: E402

POWERS = (1.0005, 1.001, 1.002, 1.003, 1.005, 1.007, 1.01, 1.02, 1.03, 1.05, 1.1)
POWERS = POWERS + (1.3, 1.7, 2.5)
ENDS = (0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.3)


def _right(x, p):
    return x**-p


def _left(x, p):
    return (-x) ** -p


def _shifted(x, p):
    return (1 + x) ** -p


def _end(x, e):
    return x**e


def cases(dtype):
    for p in POWERS:
        q = mp.mpf(float(dtype(p)))
        yield f"x**-{p} on [1, inf)", _right, 1.0, np.inf, p, 1 / (q - 1)
        left = 2 ** (1 - q) / (q - 1)
        yield f"(-x)**-{p} on (-inf, -2]", _left, -np.inf, -2.0, p, left
        yield f"(1 + x)**-{p} on [0, inf)", _shifted, 0.0, np.inf, p, 1 / (q - 1)
    for a in ENDS:
        e = dtype(dtype(a) - 1)  # the exponent as the dtype holds it
        yield f"x**({a} - 1) on (0, 1]", _end, 0.0, 1.0, e, 1 / (mp.mpf(float(e)) + 1)


def main() -> int:
    under_all = 0
    for dtype in (np.float64, np.float32):
        ok = flagged = under = 0
        for name, f, a, b, c, truth in cases(dtype):
            r = quad(f, dtype(a), dtype(b), args=(jnp.asarray(c, dtype),), throw=False)
            value, error = float(r.value), float(r.error)
            actual = float(abs(mp.mpf(value) - truth)) if np.isfinite(value) else np.inf
            ok, flagged = ok + bool(r.ok), flagged + (not r.ok)
            if actual > error:
                under += 1
                print(
                    f"  under-covered {np.dtype(dtype).name} {name}: error {error:.3g}"
                    f" actual {actual:.3g} ({r.message or 'successful'})"
                )
        print(
            f"{np.dtype(dtype).name}: {ok + flagged} integrals, {ok} OK, {flagged} "
            f"flagged, {under} with an error below the actual error"
        )
        under_all += under
    return 1 if under_all else 0


if __name__ == "__main__":
    raise SystemExit(main())

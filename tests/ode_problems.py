"""ODE problems with closed-form event times: the truth for ``tests/test_ode*.py``.

Each truth is evaluated with mpmath at 40 digits and rounded once to float64.

- Logistic growth :math:`y' = r y (1 - y)`: :math:`y(t) = 1 / (1 + (1/y_0 - 1)
  e^{-rt})`, so :math:`y = c` at :math:`t = \\ln[c (1 - y_0) / (y_0 (1 - c))] / r`
  (the seed's "dy/dt = 0.01 y (1 - y), find t when y = 0.8": ``100 ln 4`` from 0.5).
- Exponential decay :math:`y' = -k y`: :math:`y = y_0 e^{-kt}`.
- Harmonic oscillator :math:`x'' = -\\omega^2 x`, ``x(0) = 1, x'(0) = 0``:
  :math:`x = \\cos\\omega t`, zeros at :math:`(n + 1/2)\\pi/\\omega`, falling for even
  ``n``.
- Bouncing ball :math:`h'' = -g` from rest at ``h0``, speed multiplied by the
  restitution ``e`` at each impact: impacts at :math:`t_1 = \\sqrt{2h_0/g}` and
  :math:`t_{n+1} = t_n + 2 e^n g t_1 / g` (each flight is a parabola of launch speed
  :math:`e^n g t_1`).
- Pendulum :math:`\\theta'' = -(g/L) \\sin\\theta` from rest at :math:`\\theta_0`:
  period :math:`T = 4\\sqrt{L/g}\\,K(m)`, :math:`m = \\sin^2(\\theta_0/2)` (complete
  elliptic integral of the first kind, parameter convention; L. D. Landau and E. M.
  Lifshitz, *Mechanics*, section 11, problem 1); :math:`\\theta = 0` at
  :math:`T/4 + nT/2`.
- Stiff linear relaxation :math:`y' = -\\lambda (y - \\cos t)`, ``y(0) = 0``:
  :math:`y = \\lambda(\\lambda\\cos t + \\sin t)/(\\lambda^2 + 1) - \\lambda^2
  e^{-\\lambda t}/(\\lambda^2 + 1)` (variation of constants).
"""

from __future__ import annotations

import mpmath
import numpy as np

DIGITS = 40


def logistic_time(y0: float, level: float, rate: float) -> float:
    with mpmath.workdps(DIGITS):
        y0, c, r = (mpmath.mpf(v) for v in (y0, level, rate))
        return float(mpmath.log(c * (1 - y0) / (y0 * (1 - c))) / r)


def decay_state(y0: float, rate: float, t) -> np.ndarray:
    with mpmath.workdps(DIGITS):
        return np.array(
            [
                float(mpmath.mpf(y0) * mpmath.exp(-mpmath.mpf(rate) * mpmath.mpf(s)))
                for s in np.atleast_1d(t)
            ]
        )


def harmonic_zeros(omega: float, t_end: float) -> tuple[np.ndarray, np.ndarray]:
    """Zeros of ``cos(omega t)`` in ``(0, t_end)`` and their directions (+1/-1)."""
    with mpmath.workdps(DIGITS):
        times, directions = [], []
        n = 0
        while True:
            t = (n + mpmath.mpf(1) / 2) * mpmath.pi / mpmath.mpf(omega)
            if t >= t_end:
                break
            times.append(float(t))
            directions.append(-1 if n % 2 == 0 else 1)
            n += 1
    return np.array(times), np.array(directions)


def ball_impacts(h0: float, gravity: float, restitution: float, n: int) -> np.ndarray:
    with mpmath.workdps(DIGITS):
        h0, g, e = (mpmath.mpf(v) for v in (h0, gravity, restitution))
        t = mpmath.sqrt(2 * h0 / g)
        speed = g * t
        out = [t]
        for _ in range(n - 1):
            speed = e * speed
            t = t + 2 * speed / g
            out.append(t)
        return np.array([float(v) for v in out])


def pendulum_zeros(theta0: float, gravity: float, length: float, n: int) -> np.ndarray:
    with mpmath.workdps(DIGITS):
        m = mpmath.sin(mpmath.mpf(theta0) / 2) ** 2
        period = 4 * mpmath.sqrt(mpmath.mpf(length) / gravity) * mpmath.ellipk(m)
        return np.array([float(period / 4 + k * period / 2) for k in range(n)])


def relaxation_state(lam: float, t: mpmath.mpf) -> mpmath.mpf:
    lam = mpmath.mpf(lam)
    return (
        lam * (lam * mpmath.cos(t) + mpmath.sin(t)) - lam**2 * mpmath.exp(-lam * t)
    ) / (lam**2 + 1)


def relaxation_time(lam: float, level: float, bracket: tuple[float, float]) -> float:
    """The ``t`` in ``bracket`` (a sign change) with ``y(t) = level``."""
    with mpmath.workdps(DIGITS):
        f = lambda t: relaxation_state(lam, t) - level  # noqa: E731
        return float(mpmath.findroot(f, bracket, solver="anderson"))

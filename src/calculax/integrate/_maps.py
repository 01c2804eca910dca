r"""Maps of an interval onto the whole line that make its ends harmless.

With :math:`x = x(t)`, :math:`\int_a^b f(x)\,dx = \int_{-\infty}^{\infty}
f(x(t))\,x'(t)\,dt`, and each map turns the usual troubles at an end into an
exponentially decaying tail in :math:`t` (the idea of the double-exponential
rules, Takahasi & Mori 1974, used here only to the first level):

* ``finite`` :math:`[a, b]`: :math:`x = a + (b-a)\sigma(t)`, evaluated as
  :math:`b - (b-a)\sigma(-t)` for :math:`t > 0` so the upper end keeps its digits;
  an algebraic end singularity :math:`(x-a)^{\alpha}`, :math:`\alpha > -1`,
  becomes :math:`e^{(1+\alpha)t}`;
* ``right`` :math:`[a, \infty)`: :math:`x = a + e^t` (a :math:`x^{-\beta}` tail
  becomes :math:`e^{-(\beta-1)t}`); ``left`` :math:`(-\infty, b]`:
  :math:`x = b - e^t`;
* ``line`` :math:`(-\infty, \infty)`: :math:`x = c + s\sinh t` (centre ``c``,
  width ``s``).

The map is chosen under the trace from which ends are infinite
(:func:`jax.lax.switch`), so the limits may be traced. Written by hand because
quadax's own maps leave an end singularity singular and its epsilon extrapolation,
which would then be needed, costs about 20 s of compilation per integrand.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.nn import sigmoid, softplus

__all__ = ["mapped", "edge", "tail"]


def _finite(t, lo, hi, loc, scale):
    width = hi - lo
    x = jnp.where(t < 0, lo + width * sigmoid(t), hi - width * sigmoid(-t))
    return x, jnp.log(width) - softplus(t) - softplus(-t)


def _right(t, lo, hi, loc, scale):
    return lo + jnp.exp(t), t


def _left(t, lo, hi, loc, scale):
    return hi - jnp.exp(t), t


def _line(t, lo, hi, loc, scale):
    return loc + scale * jnp.sinh(t), jnp.log(scale) + jnp.logaddexp(t, -t) - jnp.log(
        2.0
    )


def mapped(t, lo, hi, loc, scale):
    """``x(t)`` and ``log x'(t)`` for the interval ``[lo, hi]`` (see module)."""
    index = 2 * jnp.isneginf(lo).astype(int) + jnp.isposinf(hi).astype(int)
    # index: 0 finite, 1 right (hi = inf), 2 left (lo = -inf), 3 line.
    return jax.lax.switch(index, (_finite, _right, _left, _line), t, lo, hi, loc, scale)


def edge(dtype) -> float:
    """``|t|`` beyond which some map leaves the dtype's range (``707`` in float64)."""
    return float(-np.log(np.finfo(dtype).tiny)) - 1.0


def tail(g, t_edge: float, dtype):
    r"""Estimate of :math:`\int` of the mapped integrand ``g`` beyond :math:`\pm t_e`.

    Past :math:`|t| = t_e` the map under- or overflows and the integrand reads as
    ``0``; a singularity as strong as :math:`(x-a)^{-0.999}` still carries most of
    its integral there. Fitting :math:`|g| \approx C e^{-\lambda |t|}` through
    :math:`|t| = t_e - 1` and :math:`t_e` gives the lost part
    :math:`|g(t_e)|/\lambda`, doubled as a margin for tails that decay slower than
    exponentially in :math:`t` (a :math:`1/t^2` tail is underestimated by exactly
    2), or ``inf`` where :math:`|g|` does not decay (:math:`\lambda \le 0`).
    Returns the sum over both ends (shape of ``g``'s output).
    """
    total = 0.0
    for sign in (-1.0, 1.0):
        outer = jnp.abs(g(jnp.asarray(sign * t_edge, dtype)))
        inner = jnp.abs(g(jnp.asarray(sign * (t_edge - 1.0), dtype)))
        rate = jnp.log(inner) - jnp.log(outer)
        lost = jnp.where(rate > 0, 2 * outer / jnp.where(rate > 0, rate, 1.0), jnp.inf)
        total = total + jnp.where(outer == 0, 0.0, lost)
    return total

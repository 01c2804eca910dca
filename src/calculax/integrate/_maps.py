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
    r"""Estimate of :math:`\int` of the mapped integrand ``g`` beyond :math:`\pm P`.

    Past :math:`|t| \approx t_e` the map under- or overflows and the integrand
    reads as ``0``; well before it, an integrand computed in linear space
    (:math:`f(x)\,x'` with :math:`f(x) \approx 10^{-310}`) is flushed to ``0``.
    A singularity as strong as :math:`(x-a)^{-0.999}`, or a tail as slow as
    :math:`1/(x\log^2 x)`, still carries much of its integral there. So the probes
    stop at :math:`P = t_e/2` (:math:`x \approx 10^{153}` in float64), and the
    estimate is of everything beyond :math:`P` (conservative: the quadrature
    integrated part of it). Two models of :math:`|g|` beyond :math:`P`:

    * algebraic, :math:`|g| \approx C|t|^{s}`, when the log-log slope :math:`s`
      of :math:`|g|` over the octave :math:`[P/2, P]` matches the one over
      :math:`[P/4, P/2]` (within ``0.1 |s| + 0.05``; an exponential doubles it).
      This is how a density :math:`1/(x\log^{\beta}x)` looks after the map,
      :math:`t = \log x`. The part beyond is :math:`|g(P)|\,P/(-s-1)`, and it
      is **infinite** when :math:`s \ge -1-\delta`, :math:`\delta = 4\log(P)/P`
      (``0.066`` in float64): the slope of a :math:`1/t` tail with its logarithmic
      corrections at :math:`P` (``-1.035`` for :math:`-p\log p` of
      :math:`1/(x\log^2 x)`), the boundary of integrability. So the entropy
      integrand :math:`-p\log p` of a density with tail :math:`1/(x\log^{\beta}
      x)`, :math:`\beta \le 2`, is found infinite; one with
      :math:`2 < \beta \lesssim 2 + \delta` is reported infinite too, and its
      entropy beyond :math:`x = e^{P}` alone exceeds :math:`P^{-\delta}/\delta`
      (``10`` nats in float64);
    * otherwise exponential, :math:`|g| \approx C e^{-\lambda|t|}` through
      :math:`|t| = P - 1` and :math:`P`: the part beyond is :math:`|g(P)|/\lambda`,
      doubled as a margin for tails that decay slower than exponentially.

    Either way ``inf`` where :math:`|g|` does not decay over the last octave
    (:math:`s \ge 0`). A ``nan`` in ``g`` (``inf * 0`` in :math:`x^2 e^{-x^2}` at
    :math:`x = 10^{307}`) reads as ``0``, as it does inside the quadrature.
    Returns the sum over both ends (shape of ``g``'s output); ``inf`` marks a
    divergent integral.
    """

    def size(t):
        y = jnp.abs(g(jnp.asarray(t, dtype)))
        return jnp.where(jnp.isnan(y), 0.0, y)

    probe = t_edge / 2
    delta = 4 * np.log(probe) / probe
    total = jnp.zeros(())
    for sign in (-1.0, 1.0):
        outer = size(sign * probe)
        inner = size(sign * (probe - 1.0))
        half, quarter = size(sign * probe / 2), size(sign * probe / 4)
        slope = (jnp.log(outer) - jnp.log(half)) / np.log(2.0)
        before = (jnp.log(half) - jnp.log(quarter)) / np.log(2.0)
        algebraic = jnp.abs(slope - before) <= 0.1 * jnp.abs(before) + 0.05
        divergent = (slope >= 0) | (algebraic & (slope >= -1 - delta))
        power = outer * probe / jnp.where(slope < -1, -slope - 1, 1.0)
        rate = jnp.log(inner) - jnp.log(outer)
        exponential = jnp.where(
            rate > 0, 2 * outer / jnp.where(rate > 0, rate, 1.0), jnp.inf
        )
        lost = jnp.where(divergent, jnp.inf, jnp.where(algebraic, power, exponential))
        total = total + jnp.where(outer == 0, 0.0, lost)
    return total

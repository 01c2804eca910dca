r"""The part of a piece beyond its ``t`` range, from a model fitted at the edge.

Past the edge :math:`t_e` of a piece's range (:func:`._maps.t_range`) :math:`x(t)`
is no longer representable apart from the end, or the integrand's own arithmetic
(``x * x`` at :math:`x = 10^{160}`) is no longer trusted. The integrand there is
:math:`e^{M(t)}\varphi(t)` with :math:`M` the log-weight (log-density plus
:math:`\log x'`) and :math:`\varphi` its slowly varying factor (``1`` and
:math:`-\log p` for the entropy, the sign for :func:`calculax.integrate.quad`).
Two models of what lies beyond, chosen by which one fits the probes better:

* **exponential**: :math:`M` linear in :math:`t` (decay rate :math:`\lambda` outward,
  from probes at :math:`t_e` and :math:`h`, :math:`2h` inside), :math:`\varphi` a
  quadratic through the three probes. This is exact for a power law
  :math:`(x-u)^{\alpha-1}` at a finite end (:math:`\lambda = \alpha`, however small)
  and a tail :math:`x^{-1-\alpha}` (:math:`\lambda = \alpha`), with :math:`\log p`
  linear in :math:`t` in both. The part beyond is, with :math:`s` the outward
  distance from :math:`t_e` and :math:`\varphi = c_0 + c_1 s + c_2 s^2`,

  .. math::

      T = e^{M(t_e)}\Big(\frac{c_0}{\lambda} + \frac{c_1}{\lambda^2}
      + \frac{2c_2}{\lambda^3}\Big),

  added to the value; its error is the difference from the same estimate with the
  rate from the next pair of probes and a linear :math:`\varphi`, plus the
  rounding of the rates. A rate :math:`\lambda \le 0` (the integrand does not
  decay outward) makes the integral infinite.
* **algebraic** in :math:`t`, :math:`e^{M} \approx C|t|^s` (slopes of :math:`M`
  against :math:`\log|t|` over the octaves :math:`[t_e/4, t_e/2]`,
  :math:`[t_e/2, t_e]`): how a density :math:`1/(x\log^\beta x)` looks after the
  map. Infinite when :math:`s \ge -1 - \delta`, :math:`\delta = 4\log|t_e|/|t_e|`
  (``0.066`` in float64: the slope of a :math:`1/t` tail with its logarithmic
  corrections at :math:`t_e`, the boundary of integrability); otherwise the part
  beyond, :math:`|G(t_e)|\,|t_e|/(-s-1)`, is too uncertain to add and goes into
  the error only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Tail", "tails"]

_LOG2 = float(np.log(2.0))
_BASELINES = (1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0)


class Tail(NamedTuple):
    value: Any  # (P, m) added to the integral
    error: Any  # (P, m) its uncertainty (the whole part, if not modelled)
    infinite: Any  # (P,) the integral diverges at this end
    sign: Any  # (P, m) sign of the divergence (+1/-1), where infinite


def _weight(xp, m):
    return xp.where(m == -xp.inf, 0.0, xp.exp(xp.where(xp.isfinite(m), m, 0.0)))


def _model(xp, s, m, phi, edge_slope):
    r"""Fit :math:`M = A - \lambda s + \mu_1 E + \mu_2 E^2` and
    :math:`\varphi = c_0 + c_1 s + c_2 E + c_3 E^2` (``E = exp(-(s - s_3))``: the
    analytic corrections of a power law, in powers of the offset from the end)
    through four probes; return the part beyond ``s = 0``, the size of the
    correction, the rate and whether the fit is usable.

    Where ``edge_slope`` (:math:`dM/ds` at the edge, from JAX's derivative of the
    log-density) is finite, the rate is taken from it,
    :math:`\lambda = -M'(0) - \mu_1 - 2\mu_2`: a slowly decaying end
    (:math:`\lambda = 10^{-3}`) then has its rate to rounding, where a
    difference quotient over a baseline :math:`h` would carry
    :math:`\epsilon|M|/h`.
    """
    e = xp.exp(-(s - s[:, 3:4]))
    rows = xp.stack([xp.ones_like(s), -s, e, e * e], axis=2)  # (P, 4, 4)
    rhs = xp.concatenate([m[:, :, None], phi], axis=2)  # (P, 4, 1 + m)
    ok = xp.all(xp.isfinite(rows), axis=(1, 2)) & xp.all(xp.isfinite(rhs), axis=(1, 2))
    safe_rows = xp.where(ok[:, None, None], rows, xp.eye(4, dtype=rows.dtype))
    safe_rhs = xp.where(ok[:, None, None], rhs, 0.0)
    det = xp.linalg.det(safe_rows)
    ok = ok & (det != 0)
    safe_rows = xp.where(ok[:, None, None], safe_rows, xp.eye(4, dtype=rows.dtype))
    coef = xp.linalg.solve(safe_rows, safe_rhs)
    a, rate = coef[:, 0, 0], coef[:, 1, 0]
    shift = xp.exp(s[:, 3])  # E(s) = shift * exp(-s)
    mu1 = coef[:, 2, 0] * shift
    mu2 = coef[:, 3, 0] * shift * shift
    # The derivative is used where it agrees with the fitted rate (JAX's
    # derivative of a function like 1/(1 + x*x) overflows to 0 at x = 1e150
    # where the function itself is fine).
    derived = -edge_slope - mu1 - 2 * mu2
    fitted = rate
    exact = xp.isfinite(edge_slope) & (
        xp.abs(derived - rate) <= 1e-3 * xp.abs(rate) + 1e-9
    )
    rate = xp.where(exact, derived, rate)
    # (the basis has -s in its second column: phi's slope is minus that column)
    c0, c1 = coef[:, 0, 1:], -coef[:, 1, 1:]
    c2, c3 = coef[:, 2, 1:] * shift[:, None], coef[:, 3, 1:] * (shift * shift)[:, None]
    safe_rate = xp.where(rate > 0, rate, 1.0)
    # exp(mu1 e^-s + mu2 e^-2s) = 1 + mu1 e^-s + (mu2 + mu1^2/2) e^-2s + O(e^-3s).
    weights = [xp.ones_like(mu1), mu1, mu2 + mu1 * mu1 / 2]
    total = xp.zeros_like(c0)
    for k, wk in enumerate(weights):
        lam = (safe_rate + k)[:, None]
        term = c0 / lam + c1 / lam**2
        term = term + c2 / (lam + 1) + c3 / (lam + 2)
        total = total + wk[:, None] * term
    value = _weight(xp, a)[:, None] * total
    size = xp.abs(mu1) + xp.sqrt(xp.abs(mu2))
    good = ok & (rate > 0) & (size <= 0.5) & xp.all(xp.isfinite(value), axis=1)
    return value, size, rate, good, exact, fitted


def _exponential(xp, m, phi, s, span, t_edge, eps, edge_slope, slope_size):
    """Tail estimate and error: the model at each baseline, the best agreeing pair.

    ``m`` (P, 1 + 3B), ``phi`` (P, 1 + 3B, m) and ``s`` (P, 1 + 3B, outward
    position of each probe relative to the edge, from the realised ``t``): the
    edge, then for each baseline the probes ``h``, ``2h`` and ``3h`` inside.
    """
    n_base = (m.shape[1] - 1) // 3
    models = []
    # Whether the derivative at the edge is off, as far as the fits can tell. The
    # rates fitted over the two longest usable baselines (the most precise: the
    # rounding of a fitted rate is 4 eps (|t| + |M| + 1) / h) each differ from
    # the derivative's by a gap. Where both gaps have one sign and the two fits
    # agree with each other to less than half the longer one's gap, the
    # derivative is off, by at most that gap plus the fits' disagreement and
    # rounding. It can be off by far more than the few ulp of its own rounding:
    # the rule of x**y evaluates x**(y - 1), whose rounded exponent enters as
    # (y - 1) log x (x**-1.003 at x = 1e150: an error of 7.7e-14 in the rate
    # 0.003 where the two fits agree to 4e-15, measured; 4.2e-6 of the rate
    # 0.005 in float32, fits 1.3e-6 apart). Where the derivative is exact the
    # longest fit's gap is its own error (model error at 3h inside the edge:
    # 2e-12 for a power-law density's end, with the next fit's gap 3e-16).
    gaps = []
    for j in range(n_base):
        cols = [0, 1 + 3 * j, 2 + 3 * j, 3 + 3 * j]
        value, mu, rate, good, exact, fitted = _model(
            xp, s[:, cols], m[:, cols], phi[:, cols], edge_slope
        )
        inside = -s[:, 3 + 3 * j] <= span * (1 + 1e-9)
        h = xp.maximum(-s[:, 1 + 3 * j], 1e-300)
        # Rounding of the log-weights (magnitude ~|t| + |M|) in a fitted rate.
        rounding = 4 * eps * (xp.abs(t_edge) + xp.abs(m[:, 0]) + 1.0) / h
        usable = exact & good & inside & (mu <= 1e-3)
        gaps.append(xp.where(usable, rate - fitted, xp.nan))
        models.append((value, mu, rate, good & inside, exact, rounding))
    last = xp.full_like(t_edge, xp.nan)  # gap of the longest usable baseline
    before = xp.full_like(t_edge, xp.nan)  # and of the one before it
    least = xp.full_like(t_edge, xp.inf)
    for g, (*_, r) in zip(gaps, models):
        have = ~xp.isnan(g)
        before = xp.where(have, last, before)
        last = xp.where(have, g, last)
        least = xp.where(have, r, least)
    apart = xp.abs(last - before)
    off = (last * before > 0) & (apart < 0.5 * xp.abs(last))
    bound = xp.abs(last) + apart + least
    fits = []
    for value, mu, rate, good, exact, rounding in models:
        # The rate's error relative to itself, and the first neglected term of
        # the expansion in mu.
        safe_rate = xp.where(rate > 0, rate, 1.0)
        noise = xp.where(
            exact,
            # three roundings of size <= 1 ulp, or the bound where it is off
            (1.5 * eps * slope_size + xp.where(off, bound, 0.0)) / safe_rate,
            rounding / safe_rate,
        )
        spread = (noise + mu**3 + 8 * eps)[:, None] * xp.abs(value)
        fits.append((value, spread, good))
    best_value = xp.zeros_like(phi[:, 0])
    best_error = xp.full_like(phi[:, 0], xp.inf)
    for j in range(n_base):
        value, spread, good = fits[j]
        for i in (j - 1, j + 1):
            if not 0 <= i < n_base:
                continue
            other, _, other_good = fits[i]
            both = good & other_good
            # The whole disagreement counts: a noisy neighbour cannot vouch for
            # an estimate (a float32 tail 97% off had a neighbour whose noise
            # "explained" the difference).
            gap = xp.abs(value - other)
            error = gap + spread
            better = both & (xp.max(error, axis=1) < xp.max(best_error, axis=1))
            best_value = xp.where(better[:, None], value, best_value)
            best_error = xp.where(better[:, None], error, best_error)
    # Whether the integrand decays outward: the slope over the shortest baseline
    # whose probes the rounding of x kept apart.
    decays = xp.zeros(m.shape[:1], bool)
    for j in reversed(range(n_base)):
        step = s[:, 0] - s[:, 1 + 3 * j]
        usable = (step > 0) & (-s[:, 3 + 3 * j] <= span * (1 + 1e-9))
        rising = (m[:, 1 + 3 * j] - m[:, 0]) > 0
        decays = xp.where(usable, rising, decays)
    return best_value, best_error, decays


def tails(
    xp, mapped: Callable, t_edge, outward: float, span, edge_slope, slope_size
) -> Tail:
    """The part beyond ``t_edge`` of every piece (``outward`` = ``+-1``).

    ``mapped(t, k) -> (M, phi, t_realised)`` on arrays; ``t_edge``, ``span``
    (the length of each piece's ``t`` range, inside which the probes stay) and
    ``edge_slope`` (``dM/dt`` outward at the edge, ``nan`` where unknown, with
    ``slope_size`` the magnitude of its terms) have shape ``(P,)``.
    """
    dtype = t_edge.dtype
    eps = float(np.finfo(dtype).eps)
    n = t_edge.shape[0]
    hs = [xp.minimum(h, span / (6 * _BASELINES[-1] / h)) for h in _BASELINES]
    inward = [t_edge - outward * k * h for h in hs for k in (1, 2, 3)]
    ts = xp.stack([t_edge, *inward, t_edge / 2, t_edge / 4], axis=1)
    ks = xp.broadcast_to(xp.arange(n)[:, None], ts.shape)
    m, phi, t_real = mapped(ts, ks)
    m = xp.where(xp.isnan(m), -xp.inf, m)
    phi = xp.where(xp.isfinite(phi), phi, 0.0)
    position = outward * (t_real - t_edge[:, None])
    m0, mh, mq = m[:, 0], m[:, -2], m[:, -1]
    w0 = _weight(xp, m0)
    size0 = w0 * xp.max(xp.abs(phi[:, 0]), axis=1)
    vanished = size0 == 0
    # The integrand is exactly 0 at the edge but not just inside: the function
    # broke there (x * x overflowing), not the density. What lies beyond is not
    # known: bound it by the inner probe's size times the remaining t range.
    w1 = _weight(xp, m[:, 1])
    size1 = w1 * xp.max(xp.abs(phi[:, 1]), axis=1)
    broke = vanished & (size1 > 0)

    value, error, decays = _exponential(
        xp,
        m[:, :-2],
        phi[:, :-2],
        position[:, :-2],
        span,
        t_edge,
        eps,
        edge_slope,
        slope_size,
    )

    # Algebraic model (meaningful only far out, on the side away from t = 0).
    te, th, tq = t_real[:, 0], t_real[:, -2], t_real[:, -1]
    far = (
        (xp.abs(t_edge) >= 16) & (xp.sign(t_edge) == outward) & (xp.abs(t_edge) <= span)
    )
    log_t = xp.log(xp.maximum(xp.abs(te), 1.0))
    lte = xp.log(xp.maximum(xp.abs(te), 1e-300))
    lth = xp.log(xp.maximum(xp.abs(th), 1e-300))
    ltq = xp.log(xp.maximum(xp.abs(tq), 1e-300))
    slope = (m0 - mh) / xp.where(lte != lth, lte - lth, 1.0)
    before = (mh - mq) / xp.where(lth != ltq, lth - ltq, 1.0)
    alg_misfit = xp.abs(slope - before) / xp.maximum(xp.abs(before), 1e-3)
    rate_far = (mh - m0) / xp.where(te != th, xp.abs(te - th), 1.0)
    rate_near = (mq - mh) / xp.where(th != tq, xp.abs(th - tq), 1.0)
    exp_misfit = xp.abs(rate_far - rate_near) / xp.maximum(xp.abs(rate_far), 1e-300)
    algebraic = far & (alg_misfit < exp_misfit) & (alg_misfit <= 0.5)
    delta = 4 * log_t / xp.maximum(xp.abs(te), 1.0)
    # Each component's own slope: the entropy's -p log p carries a factor log x
    # (|t|) that the density does not.
    log_phi = xp.log(xp.maximum(xp.abs(phi), 1e-300))
    slope_c = (
        (m0[:, None] + log_phi[:, 0]) - (mh[:, None] + log_phi[:, -2])
    ) / xp.where(lte != lth, lte - lth, 1.0)[:, None]
    present = xp.abs(phi[:, 0]) > 0
    divergent_c = present & (slope_c >= -1 - delta[:, None])
    alg_divergent = xp.any(divergent_c, axis=1) | (slope >= -1 - delta)
    # The part beyond, |G(t_e)| |t_e| / (-s - 1), doubled: the logarithmic
    # corrections of such tails (1/(x log(x)**3) has -p log p ~ (t + 3 log t)/t**3)
    # make the local slope an overestimate of the decay.
    alg_lost = (
        2
        * w0[:, None]
        * xp.abs(phi[:, 0])
        * xp.abs(te)[:, None]
        / xp.where(slope_c < -1, -slope_c - 1, 1.0)
    )

    infinite = ~vanished & xp.where(algebraic, alg_divergent, ~decays)
    use_exp = (~vanished & ~algebraic & decays)[:, None]
    value = xp.where(use_exp, value, 0.0)
    error = xp.where(use_exp, error, 0.0)
    # Components that do not diverge carry their part beyond as error.
    lost = (~vanished & algebraic)[:, None] & ~divergent_c
    error = xp.where(lost, alg_lost, error)
    broke_bound = (w1 * (xp.abs(t_edge) + 1.0))[:, None] * xp.abs(phi[:, 1])
    error = xp.where(broke[:, None], broke_bound, error)
    sign = xp.where(phi[:, 0] < 0, -1.0, 1.0).astype(dtype)
    # Under the algebraic model, only the components that diverge are infinite.
    sign = xp.where(
        algebraic[:, None] & ~divergent_c & ~(slope >= -1 - delta)[:, None], 0.0, sign
    )
    return Tail(value, error, infinite, sign)

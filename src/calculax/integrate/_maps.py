r"""Pieces of the domain and the maps that make their ends harmless.

The domain :math:`[a, b]` is cut at breakpoints (the peaks that
:mod:`._search` found) into pieces, each with at least one finite end. With
:math:`x = x(t)`, :math:`\int_u^v f\,dx = \int f(x(t))\,x'(t)\,dt`, and each map
turns the troubles at an end into an exponentially decaying tail in :math:`t`
(the first level of the double-exponential idea, Takahasi & Mori 1974):

* finite :math:`[u, v]`: :math:`x = u + L\sigma(t)`, evaluated as
  :math:`v - L\sigma(-t)` for :math:`t > 0` so that the upper end keeps its digits
  (:math:`L = v - u`); an end behaviour :math:`(x-u)^{\alpha-1}` becomes
  :math:`e^{\alpha t}`, and a peak of width :math:`w` at :math:`u` sits near
  :math:`t = \log(w/L)`;
* :math:`[u, \infty)`: :math:`x = u + w e^t`; :math:`(-\infty, v]`:
  :math:`x = v - w e^{-t}`, with :math:`w` the width of the peak at the finite end;
  a tail :math:`x^{-1-\alpha}` becomes :math:`e^{-\alpha t}`.

Each piece is integrated over the range of :math:`t` where :math:`x` is
representable and distinct from the end (:func:`t_range`); beyond it,
:mod:`._tails` integrates a model of the integrand fitted at the edge.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._backend import sigmoid, softplus

__all__ = [
    "Pieces",
    "pieces",
    "x_of_t",
    "edge",
    "initial_intervals",
    "resolution",
    "end_cut",
    "slope_parts",
    "UNIFORM",
]

UNIFORM = 11  # interior points of the uniform part of each piece's initial mesh
_WIDTH_OFFSETS = (-8.0, -4.0, -2.0, 0.0, 2.0, 4.0)


def edge(dtype) -> float:
    """``|t|`` beyond which ``exp(t)`` leaves the dtype's normal range (``707``)."""
    return float(-np.log(np.finfo(dtype).tiny)) - 1.0


def resolution(xp, x, dtype):
    """The smallest offset from ``x`` that is representable and safely normal."""
    finfo = np.finfo(dtype)
    return xp.maximum(4 * float(finfo.tiny), 4 * float(finfo.eps) * xp.abs(x))


# Every piece stops at an offset of 2**20 ulp from its finite ends: closer in, the
# rounding of x displaces the nodes by more than 1e-6 in t, which a slowly
# decaying integrand (x**-0.99 at 1 - x = 1e-15), or the flank of a peak, turns
# into noise that the error estimate cannot get below. The tail model
# (:mod:`._tails`, exact for a power law with two orders of analytic corrections)
# integrates the rest. In float32, whose tolerance is 1e-4, 2**8 ulp: 2**20 ulp
# would be an eighth of |x| there.
_SHARP = {True: 2.0**20, False: 2.0**8}


def _far(dtype) -> float:
    """How far out an infinite piece is integrated: ``e^(t_e/2 - 8)`` (``1e150``
    in float64), where ``x * x`` divided by a small number still fits."""
    return float(np.exp(edge(dtype) / 2 - 8))


# At an end at 0 the rule stops 2**60 normal-range units out (1e-289 in float64):
# a user's ``x / scale`` with a scale up to 1e18 is still a normal number there
# (``gamma.logpdf(x, 0.005, scale=1e3)`` at 1e-307 divides into the subnormals,
# and at 5e-324 rounds to log(0) = +inf). The tail model integrates the rest
# exactly for a power law (x**(a-1), a = 1e-3: half the mass lies below 1e-289).
_FLOOR = {True: 2.0**60, False: 4.0}


def end_cut(xp, x, dtype):
    """Offset from ``x`` at which the rule stops (see ``_SHARP``, ``_FLOOR``)."""
    finfo = np.finfo(dtype)
    wide = float(finfo.eps) < 1e-10
    return xp.maximum(
        _FLOOR[wide] * float(finfo.tiny), _SHARP[wide] * float(finfo.eps) * xp.abs(x)
    )


class Pieces(NamedTuple):
    """``P`` pieces ``[u, v]`` with width hints and their ``t`` ranges."""

    u: Any
    v: Any
    wu: Any  # width of the feature at u (the map's scale at an infinite piece)
    wv: Any
    t_lo: Any
    t_hi: Any
    su: Any  # whether the integrand may be singular at u (see end_cut)
    sv: Any


def x_of_t(xp, t, u, v, wu, wv):
    """``x(t)``, ``log x'`` and the realised ``t`` of the piece ``[u, v]``.

    ``x`` is rounded to the floating-point grid, and near a finite end that
    rounding is large relative to the offset from the end (``1 - x`` at ``1e-15``
    is off by up to 6%). So ``log x'`` and the returned ``t`` are those of the
    rounded point itself, computed from its exact offsets ``x - u`` and ``v - x``
    (``x' = (x-u)(v-x)/L`` on a finite piece, ``x - u`` on ``[u, inf)``): the
    integrand is then evaluated consistently at a slightly displaced node, whose
    effect is the integrand's slope in ``t`` times the displacement (small, since
    the map makes the integrand slowly varying in ``t``), not the log-density's
    slope in ``x``.
    """
    right = xp.isposinf(v)
    left = xp.isneginf(u)
    # Finite stand-ins for the infinite ends (only the finite branch reads them).
    fu = xp.where(left, v - 1, u)
    fv = xp.where(right, u + 1, v)
    width = fv - fu
    x_fin = xp.where(t < 0, fu + width * sigmoid(xp, t), fv - width * sigmoid(xp, -t))
    w = xp.where(right, wu, wv)
    signed = xp.where(right, t, -t)
    x_inf = xp.where(right, fu + w * xp.exp(signed), fv - w * xp.exp(signed))
    infinite = right | left
    x = xp.where(infinite, x_inf, x_fin)
    below = x - fu  # exact near u
    above = fv - x  # exact near v
    log_below, log_above = xp.log(below), xp.log(above)
    log_fin = log_below + log_above - xp.log(width)
    t_fin = log_below - log_above
    log_inf = xp.where(right, log_below, log_above)
    t_inf = xp.where(right, log_below - xp.log(w), xp.log(w) - log_above)
    # Where rounding put x on an end (an offset of 0), fall back to the nominal t.
    bad = ~xp.isfinite(xp.where(infinite, log_inf, log_fin))
    log_nominal = xp.where(
        infinite,
        xp.log(w) + signed,
        xp.log(width) - softplus(xp, t) - softplus(xp, -t),
    )
    log_dx = xp.where(bad, log_nominal, xp.where(infinite, log_inf, log_fin))
    t_real = xp.where(bad, t, xp.where(infinite, t_inf, t_fin))
    return x, log_dx, t_real


def slope_parts(xp, x, u, v):
    """``x'(t)`` and ``d log x'/dt`` at the realised point ``x`` of ``[u, v]``.

    From the exact offsets (products, no ``exp`` of a large logarithm), so that
    ``dM/dt = ell'(x) x' + d log x'/dt`` keeps its digits when the two terms
    nearly cancel (``x**(a-1)`` at ``0`` with ``a = 1e-3``).
    """
    right = xp.isposinf(v)
    left = xp.isneginf(u)
    width = xp.where(right | left, 1.0, v - u)
    below = x - xp.where(left, 0.0, u)
    above = xp.where(right, 0.0, v) - x
    dx = xp.where(right, below, xp.where(left, above, below * above / width))
    dlog = xp.where(right, 1.0, xp.where(left, -1.0, (above - below) / width))
    return dx, dlog


def _t_range(xp, u, v, wu, wv, dtype):
    """The ``t`` range of each piece where ``x(t)`` is representable and off the
    ends (empty, ``t_lo = t_hi``, for an empty piece)."""
    cap = edge(dtype)
    big = _far(dtype)
    right = xp.isposinf(v)
    left = xp.isneginf(u)
    safe_u = xp.where(left, 0.0, u)
    safe_v = xp.where(right, 0.0, v)
    finite = ~(left | right)
    width = xp.where(finite & (v > u), v - u, 1.0)
    res_u, res_v = end_cut(xp, safe_u, dtype), end_cut(xp, safe_v, dtype)
    lo_f = xp.log(res_u / width)
    hi_f = -xp.log(res_v / width)
    far_r = xp.maximum(big, 16 * xp.abs(safe_u))
    far_l = xp.maximum(big, 16 * xp.abs(safe_v))
    lo = xp.where(right, xp.log(res_u / wu), xp.where(left, -xp.log(far_l / wv), lo_f))
    hi = xp.where(right, xp.log(far_r / wu), xp.where(left, -xp.log(res_v / wv), hi_f))
    lo, hi = xp.clip(lo, -cap, cap), xp.clip(hi, -cap, cap)
    degenerate = ~(hi > lo) | ~(v > u)
    mid = xp.where(degenerate, 0.0, 0.5 * (lo + hi))
    return xp.where(degenerate, mid, lo), xp.where(degenerate, mid, hi)


def pieces(be, a, b, breaks, widths, sharp, width_a, width_b, dtype) -> Pieces:
    """Pieces of ``[a, b]`` cut at ``breaks`` (``nan`` entries unused).

    ``widths[i]`` is the width of the feature at ``breaks[i]``, ``sharp[i]``
    whether the integrand may be singular there (the support's ends always may);
    ``width_a`` and ``width_b`` the widths at the support's ends. Unused breaks
    give empty pieces (``t_lo = t_hi``), so the number of pieces is static:
    ``len(breaks) + 1``.
    """
    xp = be.xp
    valid = xp.isfinite(breaks) & (breaks > a) & (breaks < b)
    order = xp.argsort(xp.where(valid, breaks, xp.inf), stable=True)
    # Unused breaks go to b: they make zero-length pieces at the end.
    cut = xp.where(valid, breaks, b)[order]
    wcut = xp.where(valid, widths, 1.0)[order]
    scut = (valid & sharp)[order]
    ends = xp.concatenate([xp.reshape(a, (1,)), cut, xp.reshape(b, (1,))])
    yes = xp.ones((1,), bool)
    s_ends = xp.concatenate([yes, scut, yes])
    w_ends = xp.concatenate(
        [xp.reshape(width_a, (1,)), wcut, xp.reshape(width_b, (1,))]
    )
    count = xp.sum(valid)
    # The last used piece ends at b: its width there is width_b.
    index = xp.arange(w_ends.shape[0])
    w_ends = xp.where(index > count, width_b, w_ends)
    u, v = ends[:-1], ends[1:]
    wu, wv = w_ends[:-1], w_ends[1:]
    s_ends = xp.where(index > count, True, s_ends)
    su, sv = s_ends[:-1], s_ends[1:]
    # A piece reaching an infinite end takes the width at its finite end, within
    # the range where x = u + w e^t reaches both the end's resolution and far out.
    cap = edge(dtype)
    far = xp.maximum(_far(dtype), 16 * xp.abs(xp.where(xp.isfinite(u), u, v)))
    wu = xp.where(xp.isneginf(u), wv, wu)
    wv = xp.where(xp.isposinf(v), wu, wv)
    infinite = xp.isneginf(u) | xp.isposinf(v)
    low, high = far * float(np.exp(-cap)), far / 16
    wu = xp.where(infinite, xp.clip(wu, low, high), wu)
    wv = xp.where(infinite, xp.clip(wv, low, high), wv)
    lo, hi = _t_range(xp, u, v, wu, wv, dtype)
    return Pieces(u, v, wu, wv, lo, hi, su, sv)


def initial_intervals(xp, p: Pieces):
    """The first mesh: per piece a uniform grid plus points around the peak widths.

    Returns ``(lo, hi, piece)`` of shape ``(P * S,)``.
    """
    dtype = p.u.dtype
    n_pieces = p.u.shape[0]
    uniform = xp.linspace(0.0, 1.0, UNIFORM + 2, dtype=dtype)
    offsets = xp.asarray(_WIDTH_OFFSETS, dtype)
    right = xp.isposinf(p.v)
    left = xp.isneginf(p.u)
    finite = ~(right | left)
    width = xp.where(finite & (p.v > p.u), p.v - p.u, 1.0)
    at_u = xp.where(right, 0.0, xp.log(p.wu / width))
    at_v = xp.where(left, 0.0, -xp.log(p.wv / width))
    lo, hi = p.t_lo[:, None], p.t_hi[:, None]
    grid = lo + (hi - lo) * uniform[None, :]
    extra = xp.concatenate([at_u[:, None] + offsets, at_v[:, None] + offsets], axis=1)
    points = xp.sort(xp.concatenate([grid, xp.clip(extra, lo, hi)], axis=1), axis=1)
    piece = xp.repeat(xp.arange(n_pieces), points.shape[1] - 1)
    return (
        xp.reshape(points[:, :-1], (-1,)),
        xp.reshape(points[:, 1:], (-1,)),
        piece,
    )

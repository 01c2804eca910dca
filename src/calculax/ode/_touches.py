r"""Touches and close pairs: roots that samples of one sign do not reveal.

A sign check cannot see :math:`g(t) = (t - 1/2)^2`, nor the two roots of
:math:`\sin t - (1 - 10^{-6})`, 2.8e-3 apart, when no sample falls between
them. A minimum of :math:`|g|` between samples of one sign is bracketed where
three consecutive samples of a step have one sign and the middle one is the
smallest in magnitude, or, next to a step boundary, by the end sample, its
neighbour and the slope :math:`dg/ds` at the end (carried from step to step, so
an extremum straddling two steps is seen once). The extremum of
:math:`\sigma g` (:math:`\sigma` the samples' sign) is located on the
interpolant by successive parabolic interpolation, keeping the bracket (a fixed
number of iterations, no derivatives: cheaper to compile than a root find of
:math:`dg/dt`). Where :math:`\sigma g` there is negative, the step holds a pair
of roots, each bracketed by the extremum and a sample, and both are located as
crossings. Otherwise it is a *touch* (a time that is ill-conditioned anyway,
:math:`\delta t \sim \sqrt{2\,\delta g / g''}`) when :math:`|g|`
there is within the solver's own accuracy,
:math:`|g| \le \sum_i |\partial g / \partial y_i| (\text{atol} + \text{rtol}
|y_i|)`: a numerical solution cannot tell such a point from a root.

Only plausible candidates are refined: the extremum of a quadratic model through
the bracket must reach zero or come within ten times the model's error at one
more sample (plus twice the bound above) of it. A smooth event function sampled
as finely as the step resolves the solution is near its quadratic model there,
and most minima of :math:`|g|` are far from zero, so most steps skip the
refinement (for a whole ``vmap`` batch unless a member needs it:
``_ensemble.any_member``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from ._ensemble import any_member

__all__ = ["Near", "find_touches"]

_ITERATIONS = 8  # superlinear from a quarter step: ample
# A candidate is refined only when its quadratic model's minimum comes within this
# many times the model's error at one more sample (plus the touch bound) of 0.
_SCREEN_MARGIN = 10.0


class Near(NamedTuple):
    """Per event ``(E,)``: a touch at ``m`` (``touch``), or a close pair of roots
    bracketed by ``[a, m]`` and ``[m, b]`` (``pair``), with the event's values
    there (``g_a``, ``g_b`` on the samples' side of 0, ``g_m`` on the other)."""

    touch: jax.Array
    pair: jax.Array
    a: jax.Array
    m: jax.Array
    b: jax.Array
    g_a: jax.Array
    g_m: jax.Array
    g_b: jax.Array


def find_touches(view, g_all: Callable, lo, grid, slopes, tolerance: Callable) -> Near:
    r"""Per event: the first touch or close pair of roots after ``lo`` (neither
    with fewer than three samples).

    ``grid`` is ``(grid_s, grid_g, grid_y)`` as in ``candidates``; ``slopes`` is
    :math:`dg/ds` at the step's ends, ``(E,)`` each. Candidates, in time order:
    an extremum of :math:`g` towards 0 just after the start (``|g|`` falls at
    :math:`s_0` and has risen again by the next sample), around each sample
    smaller in magnitude than both neighbours, and just before the end (``|g|``
    falls into :math:`s_1` and no longer falls there); the end rules find touches
    next to step boundaries, which no triple of one step's samples brackets.
    The extremum is refined on the interpolant by successive parabolic
    interpolation of :math:`\sigma g`, :math:`\sigma` the samples' sign: where
    it crosses 0 the step holds two roots between samples (a pair, each then
    located like any crossing); where it stays within the solver's accuracy of
    0, a touch.
    """
    grid_s, grid_g, grid_y = grid
    points, e = grid_s.shape[0], lo.shape[0]
    inf = jnp.full_like(lo, jnp.inf)
    no = jnp.zeros(e, bool)
    if points < 3:
        return Near(no, no, inf, inf, inf, inf, inf, inf)
    rows = jnp.arange(e)
    size, sign = jnp.abs(grid_g), jnp.sign(grid_g)
    same = (sign[:, :-1] == sign[:, 1:]) & (sign[:, 1:] != 0)  # per interval
    start = same[:, 0] & (size[:, 1] >= size[:, 0]) & (sign[:, 0] * slopes[0] < 0)
    around = (
        same[:, :-1]
        & same[:, 1:]
        & (size[:, 1:-1] < size[:, :-2])
        & (size[:, 1:-1] <= size[:, 2:])
    )
    end = same[:, -1] & (size[:, -2] > size[:, -1]) & (sign[:, -1] * slopes[1] >= 0)
    # Candidate k's bracket is samples (lower[k], upper[k]).
    lower = jnp.array([0, *range(points - 2), points - 2])
    upper = jnp.array([1, *range(2, points), points - 1])
    candidate = jnp.concatenate([start[:, None], around, end[:, None]], axis=1)
    candidate = candidate & (grid_s[lower][None, :] >= lo[:, None])
    candidate = candidate & jnp.all(jnp.isfinite(grid_g), axis=1, keepdims=True)
    has = candidate.any(axis=1)
    k = jnp.argmax(candidate, axis=1)
    a, b = grid_s[lower[k]], grid_s[upper[k]]
    g_a, g_b = grid_g[rows, lower[k]], grid_g[rows, upper[k]]
    sigma = jnp.where(has, jnp.sign(g_a), 1)
    s_vertex, g_vertex, fit_error = _estimate(grid_s, grid_g, slopes, k)
    states = jnp.concatenate([view.y0[None], grid_y, view.y1[None]])
    interpolation = jax.tree.map(lax.stop_gradient, view.interpolation)

    def bound(j, s, y):
        """|g| that the solver cannot tell from 0: sum |dg/dy| tolerance(y)."""
        g, grad = jax.value_and_grad(lambda y: g_all(s, y)[j])(y)
        return g, _sum(jnp.abs(grad) * tolerance(y))

    near_state = lax.stop_gradient(states[k])  # (E, n): the state at sample k
    _, near_bound = jax.vmap(bound)(rows, grid_s[k], near_state)
    # The quadratic model's extremum reaches (or crosses) 0 within its error.
    plausible = has & (sigma * g_vertex <= _SCREEN_MARGIN * fit_error + 2 * near_bound)
    # The refinement starts from sample k, or at the ends from the estimate.
    inset = (b - a) / 16
    m = jnp.where(
        (k == 0) | (k == points - 1),
        jnp.clip(s_vertex, a + inset, b - inset),
        grid_s[k],
    )

    def one(j, a, m, b, g_a, g_b, sigma, plausible):
        def g_along(s):
            return g_all(s, interpolation.evaluate(s))[j]

        def towards_zero(s):
            return sigma * g_along(s)

        def refine(_, triple):
            crossed = triple[4] < 0  # a sign change is found: keep it
            new = _parabolic_step(towards_zero, *triple)
            return jax.tree.map(lambda x, y: jnp.where(crossed, x, y), triple, new)

        triple = (a, m, b, sigma * g_a, towards_zero(m), sigma * g_b)
        _, m, _, _, _, _ = lax.fori_loop(0, _ITERATIONS, refine, triple)
        g_m, within = bound(j, m, interpolation.evaluate(m))
        pair = plausible & (sigma * g_m < 0)
        touch = plausible & ~pair & (jnp.abs(g_m) <= within)
        return touch, pair, g_m, m

    operands = (rows, a, m, b, g_a, g_b, sigma, plausible)
    # Most steps have no plausible candidate: skip the refinement, for the whole
    # batch under vmap unless some member needs it (any_member).
    touch, pair, g_m, m = lax.cond(
        any_member(plausible.any()),
        lambda: jax.vmap(one)(*operands),
        lambda: (no, no, jnp.zeros_like(lo), inf),
    )
    m = jnp.where(touch | pair, m, jnp.inf)
    return Near(touch, pair, a, m, b, g_a, g_m, g_b)


def _sum(v):
    """``jnp.sum`` of a 1-D array, as a chain of additions when it is short: under
    ``jax.vmap`` on CPU, XLA hands small reductions to a fused kernel that costs
    more than the rest of this module's per-step work."""
    if v.shape[0] > 16:
        return jnp.sum(v)
    return functools.reduce(operator.add, [v[i] for i in range(v.shape[0])])


def _estimate(grid_s, grid_g, slopes, k):
    r"""Per event: a quadratic model :math:`q` of :math:`g` at candidate ``k``, its
    vertex (time and value) and its error at one more sample (``inf`` when there
    is none: then every candidate is refined).

    At the start, :math:`q` matches :math:`g(s_0)`, :math:`g'(s_0)` and
    :math:`g(s_1)`; at the end, likewise from :math:`s_{P-1}` back to
    :math:`s_{P-2}`; around sample ``k``, the three samples ``k - 1, k, k + 1``.
    """
    points = grid_s.shape[0]
    rows = jnp.arange(k.shape[0])
    first, last = k == 0, k == points - 1
    # Expansion point x0 of q(s) = g0 + d (s - x0) + c (s - x0)^2, and the others.
    i0 = jnp.where(first, 0, jnp.where(last, points - 1, k - 1))
    i1 = jnp.where(first, 1, jnp.where(last, points - 2, k))
    i2 = jnp.where(first, 0, jnp.where(last, points - 1, k + 1))  # (ends: unused)
    x0, x1, x2 = grid_s[i0], grid_s[i1], grid_s[i2]
    g0, g1, g2 = grid_g[rows, i0], grid_g[rows, i1], grid_g[rows, i2]
    d1 = (g1 - g0) / (x1 - x0)
    # Three samples: Newton's form, d2 the second divided difference.
    d2 = ((g2 - g1) / jnp.where(x2 == x1, 1, x2 - x1) - d1) / jnp.where(
        x2 == x0, 1, x2 - x0
    )
    slope = jnp.where(first, slopes[0], slopes[1])
    ends = first | last
    c = jnp.where(ends, (d1 - slope) / (x1 - x0), d2)
    d = jnp.where(ends, slope, d1 - d2 * (x1 - x0))
    curved = c != 0
    safe_c = jnp.where(curved, c, 1)
    s_vertex = jnp.where(curved, x0 - d / (2 * safe_c), x1)
    g_vertex = jnp.where(curved, g0 - d**2 / (4 * safe_c), g1)
    # One more sample: beyond the bracket on the side with room.
    check = jnp.where(
        first, 2, jnp.where(last, points - 3, jnp.where(k >= 2, k - 2, k + 2))
    )
    exists = ends | (points >= 4)
    check = jnp.clip(check, 0, points - 1)
    x3 = grid_s[check]
    q3 = g0 + d * (x3 - x0) + c * (x3 - x0) ** 2
    fit_error = jnp.where(exists, jnp.abs(q3 - grid_g[rows, check]), jnp.inf)
    return s_vertex, g_vertex, fit_error


def _parabolic_step(f, a, m, b, fa, fm, fb):
    """One step of successive parabolic interpolation minimising ``f``, keeping
    ``a < m < b`` with ``f(m)`` the smallest (R. P. Brent, *Algorithms for
    Minimization without Derivatives*, 1973, ch. 5)."""
    p = (m - a) ** 2 * (fm - fb) - (m - b) ** 2 * (fm - fa)
    q = (m - a) * (fm - fb) - (m - b) * (fm - fa)
    # Double-where: q = 0 for collinear values (a flat f); then bisect the
    # larger side, as also when the vertex falls outside the bracket.
    safe = q != 0
    v = m - 0.5 * p / jnp.where(safe, q, 1)
    mid_larger = jnp.where(b - m > m - a, 0.5 * (m + b), 0.5 * (a + m))
    v = jnp.where(safe & (v > a) & (v < b) & (v != m), v, mid_larger)
    fv = f(v)
    better = fv < fm
    left = v < m
    new_a = jnp.where(better, jnp.where(left, a, m), jnp.where(left, v, a))
    new_b = jnp.where(better, jnp.where(left, m, b), jnp.where(left, b, v))
    new_m = jnp.where(better, v, m)
    new_fa = jnp.where(better, jnp.where(left, fa, fm), jnp.where(left, fv, fa))
    new_fb = jnp.where(better, jnp.where(left, fm, fb), jnp.where(left, fb, fv))
    new_fm = jnp.where(better, fv, fm)
    return new_a, new_m, new_b, new_fa, new_fm, new_fb

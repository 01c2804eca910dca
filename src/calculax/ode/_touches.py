r"""Touches: roots where an event function reaches zero without changing sign.

A sign check cannot see :math:`g(t) = (t - 1/2)^2`. A minimum of :math:`|g|`
without a sign change is bracketed where three consecutive samples of a step have
one sign and the middle one is the smallest in magnitude, or, next to a step
boundary, by the end sample, its neighbour and the slope :math:`dg/ds` at the end
(carried from step to step, so a minimum straddling two steps is seen once). It is
located on the interpolant by successive parabolic interpolation, keeping the
bracket (a fixed number of iterations, no derivatives: cheaper to compile than a
root find of :math:`dg/dt`, and a touch time is ill-conditioned anyway,
:math:`\delta t \sim \sqrt{2\,\delta g / g''}`); it is a *touch* when :math:`|g|`
there is within the solver's own accuracy,
:math:`|g| \le \sum_i |\partial g / \partial y_i| (\text{atol} + \text{rtol}
|y_i|)`: a numerical solution cannot tell such a point from a root.

Only plausible candidates are refined: the minimum of a quadratic model through
the bracket must come within ten times the model's error at one more sample
(plus twice the bound above) of zero. A smooth event function sampled as finely
as the step resolves the solution is near its quadratic model there, and most
minima of :math:`|g|` are far from zero, so most steps skip the refinement (for
a whole ``vmap`` batch unless a member needs it: ``_ensemble.any_member``).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from ._ensemble import any_member

__all__ = ["find_touches"]

_ITERATIONS = 8  # superlinear from a quarter step: ample
# A candidate is refined only when its quadratic model's minimum comes within this
# many times the model's error at one more sample (plus the touch bound) of 0.
_SCREEN_MARGIN = 10.0


def find_touches(
    view, g_all: Callable, lo, grid, slopes, tolerance: Callable
) -> jax.Array:
    """Per event ``(E,)``: the time of the first touch after ``lo``, ``inf`` if none
    (and always with fewer than three samples).

    ``grid`` is ``(grid_s, grid_g, grid_y)`` as in ``candidates``; ``slopes`` is
    :math:`dg/ds` at the step's ends, ``(E,)`` each. Candidates, in time order:
    a minimum of :math:`|g|` just after the start (``|g|`` falls at
    :math:`s_0` and has risen again by the next sample), around each sample
    smaller in magnitude than both neighbours, and just before the end (``|g|``
    falls into :math:`s_1` and no longer falls there); the end rules find touches
    next to step boundaries, which no triple of one step's samples brackets.
    """
    grid_s, grid_g, grid_y = grid
    points = grid_s.shape[0]
    if points < 3:
        return jnp.full_like(lo, jnp.inf)
    rows = jnp.arange(lo.shape[0])
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
    has = candidate.any(axis=1)
    k = jnp.argmax(candidate, axis=1)
    a, b = grid_s[lower[k]], grid_s[upper[k]]
    g_a, g_b = grid_g[rows, lower[k]], grid_g[rows, upper[k]]
    s_vertex, g_vertex, fit_error = _estimate(grid_s, grid_g, slopes, k)
    states = jnp.concatenate([view.y0[None], grid_y, view.y1[None]])
    interpolation = jax.tree.map(lax.stop_gradient, view.interpolation)

    def bound(j, s, y):
        """|g| that the solver cannot tell from 0: sum |dg/dy| tolerance(y)."""
        g, grad = jax.value_and_grad(lambda y: g_all(s, y)[j])(y)
        return g, _sum(jnp.abs(grad) * tolerance(y))

    near = lax.stop_gradient(states[k])  # (E, n): the state at sample k
    _, near_bound = jax.vmap(bound)(rows, grid_s[k], near)
    plausible = has & (jnp.abs(g_vertex) <= _SCREEN_MARGIN * fit_error + 2 * near_bound)
    # The refinement starts from sample k, or at the ends from the estimate.
    inset = (b - a) / 16
    m = jnp.where(
        (k == 0) | (k == points - 1),
        jnp.clip(s_vertex, a + inset, b - inset),
        grid_s[k],
    )

    def one(j, a, m, b, g_a, g_b, plausible):
        def g_along(s):
            return g_all(s, interpolation.evaluate(s))[j]

        def refine(_, triple):
            return _parabolic_step(g_along, *triple)

        triple = (a, m, b, jnp.abs(g_a), jnp.abs(g_along(m)), jnp.abs(g_b))
        _, m, _, _, _, _ = lax.fori_loop(0, _ITERATIONS, refine, triple)
        g_m, within = bound(j, m, interpolation.evaluate(m))
        return jnp.where(plausible & (jnp.abs(g_m) <= within), m, jnp.inf)

    operands = (rows, a, m, b, g_a, g_b, plausible)
    # Most steps have no plausible touch: skip the refinement, for the whole batch
    # under vmap unless some member needs it (any_member).
    return lax.cond(
        any_member(plausible.any()),
        lambda: jax.vmap(one)(*operands),
        lambda: jnp.full_like(lo, jnp.inf),
    )


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
    """One step of successive parabolic interpolation on ``|f|`` keeping
    ``a < m < b`` with ``|f(m)|`` the smallest (R. P. Brent, *Algorithms for
    Minimization without Derivatives*, 1973, ch. 5)."""
    p = (m - a) ** 2 * (fm - fb) - (m - b) ** 2 * (fm - fa)
    q = (m - a) * (fm - fb) - (m - b) * (fm - fa)
    # Double-where: q = 0 for collinear values (a flat |f|); then bisect the
    # larger side, as also when the vertex falls outside the bracket.
    safe = q != 0
    v = m - 0.5 * p / jnp.where(safe, q, 1)
    mid_larger = jnp.where(b - m > m - a, 0.5 * (m + b), 0.5 * (a + m))
    v = jnp.where(safe & (v > a) & (v < b) & (v != m), v, mid_larger)
    fv = jnp.abs(f(v))
    better = fv < fm
    left = v < m
    new_a = jnp.where(better, jnp.where(left, a, m), jnp.where(left, v, a))
    new_b = jnp.where(better, jnp.where(left, m, b), jnp.where(left, b, v))
    new_m = jnp.where(better, v, m)
    new_fa = jnp.where(better, jnp.where(left, fa, fm), jnp.where(left, fv, fa))
    new_fb = jnp.where(better, jnp.where(left, fm, fb), jnp.where(left, fb, fv))
    new_fm = jnp.where(better, fv, fm)
    return new_a, new_m, new_b, new_fa, new_fm, new_fb

r"""Touches: roots where an event function reaches zero without changing sign.

A sign check cannot see :math:`g(t) = (t - 1/2)^2`. Where three consecutive samples
of a step have one sign and the middle one is the smallest in magnitude, the
extremum of :math:`|g|` between them is located on the interpolant by successive
parabolic interpolation, keeping the bracket (a fixed number of iterations, no
derivatives: cheaper to compile than a root find of :math:`dg/dt`, and a touch time
is ill-conditioned anyway, :math:`\delta t \sim \sqrt{2\,\delta g / g''}`); it is a
*touch* when :math:`|g|` there is within the solver's own accuracy,
:math:`|g| \le \sum_i |\partial g / \partial y_i| (\text{atol} + \text{rtol}
|y_i|)`: a numerical solution cannot tell such a point from a root.
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
# A dip is refined only when the parabola through its three samples comes within
# this many times its own error at a fourth sample (plus the touch bound) of 0.
_SCREEN_MARGIN = 10.0


def find_touches(
    view, g_all: Callable, lo, grid_s, grid_g, grid_y, tolerance: Callable
):
    """Per event ``(E,)``: the time of the first touch after ``lo``, ``inf`` if none
    (and always with fewer than three samples). ``grid_y`` ``(P - 2, n)``: the
    states at the interior samples."""
    if grid_s.shape[0] < 3:
        return jnp.full_like(lo, jnp.inf)
    left, mid, right = grid_g[:, :-2], grid_g[:, 1:-1], grid_g[:, 2:]
    sign = jnp.sign(mid)
    same = (jnp.sign(left) == sign) & (jnp.sign(right) == sign) & (sign != 0)
    dip = (jnp.abs(mid) < jnp.abs(left)) & (jnp.abs(mid) <= jnp.abs(right))
    candidate = same & dip & (grid_s[None, :-2] >= lo[:, None])
    has = candidate.any(axis=1)
    i = jnp.argmax(candidate, axis=1)
    rows = jnp.arange(lo.shape[0])
    interpolation = jax.tree.map(lax.stop_gradient, view.interpolation)
    brackets = (grid_s[i], grid_s[i + 1], grid_s[i + 2])
    values = (left[rows, i], mid[rows, i], right[rows, i])
    y_mid = lax.stop_gradient(grid_y[i])  # (E, n): the middle sample is interior

    def bound(j, s, y):
        """|g| that the solver cannot tell from 0: sum |dg/dy| tolerance(y)."""
        g, grad = jax.value_and_grad(lambda y: g_all(s, y)[j])(y)
        return g, _sum(jnp.abs(grad) * tolerance(y))

    _, mid_bound = jax.vmap(bound)(rows, brackets[1], y_mid)
    plausible = has & _screen(grid_s, grid_g, i, brackets, values, mid_bound)

    def one(j, a, m, b, g_a, g_m, g_b, plausible):
        def g_along(s):
            return g_all(s, interpolation.evaluate(s))[j]

        def refine(_, triple):
            return _parabolic_step(g_along, *triple)

        triple = (a, m, b, jnp.abs(g_a), jnp.abs(g_m), jnp.abs(g_b))
        _, m, _, _, _, _ = lax.fori_loop(0, _ITERATIONS, refine, triple)
        g_m, within = bound(j, m, interpolation.evaluate(m))
        return jnp.where(plausible & (jnp.abs(g_m) <= within), m, jnp.inf)

    operands = (rows, *brackets, *values, plausible)
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


def _screen(grid_s, grid_g, i, brackets, values, touch_bound):
    r"""Whether a dip can hold a touch: the parabola :math:`p` through the three
    samples has its vertex value within ``_SCREEN_MARGIN`` times its error at a
    fourth sample, plus twice ``touch_bound``, of zero. A smooth event function
    sampled finely enough for the step is near a parabola there; with only three
    samples every dip is refined."""
    if grid_s.shape[0] < 4:
        return jnp.ones(i.shape, bool)
    (a, m, b), (g_a, g_m, g_b) = brackets, values
    d1 = (g_m - g_a) / (m - a)
    d2 = ((g_b - g_m) / (b - m) - d1) / (b - a)

    def p(s):  # Newton form
        return g_a + d1 * (s - a) + d2 * (s - a) * (s - m)

    curved = d2 != 0
    vertex = 0.5 * (a + m) - d1 / (2 * jnp.where(curved, d2, 1))
    g_vertex = jnp.where(curved, p(vertex), g_m)
    k = jnp.where(i > 0, i - 1, i + 3)  # P >= 4: one of them exists
    rows = jnp.arange(i.shape[0])
    fit_error = jnp.abs(p(grid_s[k]) - grid_g[rows, k])
    return jnp.abs(g_vertex) <= _SCREEN_MARGIN * fit_error + 2 * touch_bound


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

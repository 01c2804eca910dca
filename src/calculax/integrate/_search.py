r"""Where a function lives: the peaks of :math:`\ell = \log|f|` (or of a log-density).

A multi-start ascent over the support's scales. The starts are a geometric grid:
:math:`c \pm w\,10^{k/d}` for :math:`|k| \le 40d` on the line (centre :math:`c`, scale
:math:`w`, ``d`` starts per decade), :math:`a + w\,10^{k/d}` on a half-line, and
:math:`a + L\sigma(t)` on a grid of :math:`t` (log-spaced towards both ends) on
:math:`[a, b]`, plus any hinted modes. From every start, at once, each step tries the
Newton point (where :math:`\ell'' < 0`, from JAX's derivatives) and a ladder of
steps along :math:`\ell'` of sizes :math:`|x|\,4^k` and :math:`w\,4^k`, and keeps
the best. A mode is found when some start lies in its basin, so modes ``10`` to
``1e6`` widths apart, and a density concentrated in a width ``1e-8`` of its
location anywhere between ``1e-40`` and ``1e40``, are found. A mode whose basin
holds no start (a spike narrower than the grid's spacing sitting on a broad
density) is not; that is what ``modes=`` hints are for.

The converged points are merged (within a quarter of their width), and the ``K``
with the largest :math:`\ell + \log w` (the log of their mass, for a density) are
kept. Each peak's width :math:`w` is the smallest ladder step on either side over
which :math:`\ell` drops by 1. Peaks at the support's ends only set the width
there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._backend import Backend, sigmoid
from ._maps import resolution

__all__ = ["Peaks", "find_peaks"]

_ITERATIONS = 40
_DECADES = 40
_STEPS_X = 4.0 ** np.arange(-26, 7)  # step sizes relative to |x|
_STEPS_W = 4.0 ** np.arange(-40, 21)  # and relative to the scale w
_APPROACH = 4.0 ** -np.arange(1, 27)  # geometric approach to a finite end


class Peaks(NamedTuple):
    """Interior peaks (sorted, ``nan`` where unused), their widths, end widths."""

    x: Any  # (K,)
    width: Any  # (K,)
    value: Any  # (K,) ell at the peak
    width_a: Any
    width_b: Any


def _starts(xp, a, b, centre, scale, hints, per_decade: int, dtype):
    k = np.arange(-_DECADES * per_decade, _DECADES * per_decade + 1) / per_decade
    ladder = xp.asarray(10.0**k, dtype)  # (S,)
    line = xp.concatenate(
        [
            centre - scale * ladder[::-1],
            xp.reshape(centre, (1,)),
            centre + scale * ladder,
        ]
    )
    n = line.shape[0]
    pad = n - ladder.shape[0]
    # Half-lines: from the finite end outward.
    right = xp.concatenate(
        [a + scale * ladder, xp.full((pad,), 1.0, dtype) * (a + scale)]
    )
    left = xp.concatenate(
        [b - scale * ladder, xp.full((pad,), 1.0, dtype) * (b - scale)]
    )
    # Finite: a sigma grid, log-spaced towards both ends.
    t = xp.linspace(-np.log(10.0) * _DECADES, np.log(10.0) * _DECADES, n, dtype=dtype)
    finite_ab = xp.isfinite(a) & xp.isfinite(b)
    width = xp.where(finite_ab, b - a, 1.0)
    lo = xp.where(finite_ab, a, 0.0)
    hi = xp.where(finite_ab, b, 1.0)
    finite = xp.where(t < 0, lo + width * sigmoid(xp, t), hi - width * sigmoid(xp, -t))
    on_line = xp.isneginf(a) & xp.isposinf(b)
    starts = xp.where(
        on_line,
        line,
        xp.where(xp.isposinf(b), right, xp.where(xp.isneginf(a), left, finite)),
    )
    return xp.concatenate([starts, hints])


def find_peaks(
    be: Backend,
    ell: Callable,
    params,
    a,
    b,
    *,
    hints,
    scale,
    k_max: int,
    per_decade: int,
    differentiable: bool,
) -> Peaks:
    """The peaks of ``ell(x, params)`` on ``(a, b)`` (see module)."""
    xp = be.xp
    dtype = a.dtype
    centre = hints[0] if hints.shape[0] else xp.zeros((), dtype)
    centre = xp.where(xp.isfinite(centre), centre, 0.0)
    starts = _starts(xp, a, b, centre, scale, hints, per_decade, dtype)
    starts = xp.where(xp.isfinite(starts), starts, centre)
    inside_at = xp.where(xp.isfinite(a), a, b)
    steps_x = xp.asarray(_STEPS_X, dtype)
    steps_w = xp.asarray(_STEPS_W, dtype)
    approach = xp.asarray(_APPROACH, dtype)

    def value(x):
        inside = (x > a) & (x < b)
        v = be.evaluate(ell, xp.where(inside, x, inside_at), params)
        return xp.where(inside & ~xp.isnan(v), v, -xp.inf)

    def derivatives(x):
        if not differentiable:
            return xp.zeros_like(x), xp.zeros_like(x)
        _, g, h = be.derivatives(ell, x, params)
        ok = xp.isfinite(g) & xp.isfinite(h)
        return xp.where(ok, g, 0.0), xp.where(ok, h, 0.0)

    def ray(x, v, points, distance, use):
        """Best point before the first descent along a ray of sorted points, and
        the distance of that first descent (a local ascent never crosses a valley:
        a far jump to the global peak would lose every other mode)."""
        values = xp.where(use[:, None], value(points), -xp.inf)
        previous = xp.concatenate([v[:, None], values[:, :-1]], axis=1)
        # (equal values, a step below the spacing of x or a plateau, do not stop it)
        rising = xp.cumprod(values >= previous, axis=1).astype(bool)
        masked = xp.where(rising, values, -xp.inf)
        j = xp.argmax(masked, axis=1)
        best_v = xp.take_along_axis(masked, j[:, None], axis=1)[:, 0]
        best_x = xp.take_along_axis(points, j[:, None], axis=1)[:, 0]
        # First sample that did not rise: how far the local rise may extend.
        stop = xp.argmin(rising, axis=1)
        reach = xp.where(
            xp.all(rising, axis=1),
            distance[:, -1],
            xp.take_along_axis(distance, stop[:, None], axis=1)[:, 0],
        )
        return best_x, best_v, reach

    def step(_, state):
        x, v, moved = state
        g, h = derivatives(x)
        known = g != 0
        base = xp.sort(
            xp.concatenate(
                [xp.abs(x)[:, None] * steps_x, scale * steps_w + 0 * x[:, None]], axis=1
            ),
            axis=1,
        )
        # Where the gradient is unknown (an integrand that underflows has a nan
        # gradient in log space), both ways.
        go_up = ~known | (g > 0)
        go_down = ~known | (g < 0)
        best_x, best_v = x, v
        reach_up = reach_down = xp.zeros_like(x)
        rays = [
            (x[:, None] + base, base, go_up, "up"),
            (x[:, None] - base, base, go_down, "down"),
        ]
        to_a = a + (x[:, None] - a) * approach
        to_b = b - (b - x[:, None]) * approach
        rays.append((to_a, xp.abs(x[:, None] - to_a), go_down & xp.isfinite(a), "down"))
        rays.append((to_b, xp.abs(to_b - x[:, None]), go_up & xp.isfinite(b), "up"))
        for points, distance, use, side in rays:
            rx, rv, reach = ray(x, v, points, distance, use)
            better = rv > best_v
            best_x = xp.where(better, rx, best_x)
            best_v = xp.where(better, rv, best_v)
            if side == "up":
                reach_up = xp.maximum(reach_up, xp.where(use, reach, 0.0))
            else:
                reach_down = xp.maximum(reach_down, xp.where(use, reach, 0.0))
        # The Newton point, where it stays inside the first rise of its side.
        newton = xp.where(h < 0, x - g / xp.where(h < 0, h, -1.0), x)
        step_len = newton - x
        inside = xp.where(step_len > 0, step_len <= reach_up, -step_len <= reach_down)
        nv = xp.where(inside & (h < 0), value(newton[:, None])[:, 0], -xp.inf)
        better = nv > best_v
        best_x = xp.where(better, newton, best_x)
        best_v = xp.where(better, nv, best_v)
        return best_x, best_v, best_x != x

    state = (starts, value(starts), xp.ones(starts.shape, bool))
    for i in range(_ITERATIONS):  # most starts settle in a few steps
        state = step(i, state)
        if not xp.any(state[2]):
            break
    x, v, moved = state
    width = _width(xp, value, x, v, scale, steps_x, steps_w, dtype)
    # A point still moving after the last step has not converged to a peak (it
    # may be climbing towards an end): it only counts if it reached an end.
    return _select(be, x, v, width, moved, a, b, scale, k_max, dtype)


def _width(xp, value, x, v, scale, steps_x, steps_w, dtype):
    """Smallest ladder step on either side over which ``ell`` drops by 1."""
    base = xp.concatenate(
        [xp.abs(x)[:, None] * steps_x, scale * steps_w + 0 * x[:, None]], axis=1
    )
    base = xp.maximum(base, resolution(xp, x, dtype)[:, None])
    both = xp.concatenate([x[:, None] - base, x[:, None] + base], axis=1)
    values = value(both)
    # Leaving the support (value -inf there) is not a drop of the function.
    fell = (values < v[:, None] - 1) & (values > -xp.inf)
    offsets = xp.concatenate([base, base], axis=1)
    width = xp.min(xp.where(fell, offsets, xp.inf), axis=1)
    return xp.where(xp.isfinite(width), width, scale * 4.0**10)


def _select(be, x, v, width, moved, a, b, scale, k_max, dtype) -> Peaks:
    xp = be.xp
    found = v > -xp.inf
    res = resolution(xp, x, dtype)
    at_a = found & (xp.abs(x - a) <= 4 * res + 0.25 * width)
    at_b = found & (xp.abs(x - b) <= 4 * res + 0.25 * width)
    width_a = xp.min(xp.where(at_a, width, xp.inf))
    width_b = xp.min(xp.where(at_b, width, xp.inf))
    interior = found & ~at_a & ~at_b & ~moved
    order = xp.argsort(xp.where(interior, x, xp.inf), stable=True)
    xs, vs, ws, ins, rs = x[order], v[order], width[order], interior[order], res[order]
    n = xs.shape[0]
    gap = xs[1:] - xs[:-1]
    near = gap <= 0.25 * xp.minimum(ws[1:], ws[:-1]) + 4 * rs[1:]
    same = ins[1:] & ins[:-1] & near
    run = xp.concatenate([xp.zeros((1,), int), xp.cumsum(~same)])
    vals = xp.where(ins, vs, -xp.inf)
    best = be.segment("max", vals, run, n)[run]
    index = xp.arange(n)
    first = be.segment("min", xp.where(vals >= best, index, n), run, n)[run]
    keep = ins & (index == first)
    score = xp.where(keep, vs + xp.log(ws), -xp.inf)
    score = xp.where(xp.isnan(score), xp.inf, score)
    top = xp.argsort(-score, stable=True)[:k_max]
    chosen = keep[top]
    px = xp.where(chosen, xs[top], xp.inf)
    pw = xp.where(chosen, ws[top], 1.0)
    pv = xp.where(chosen, vs[top], -xp.inf)
    order = xp.argsort(px, stable=True)
    px, pw, pv, chosen = px[order], pw[order], pv[order], chosen[order]
    count = xp.sum(chosen)
    first_w = xp.where(count > 0, pw[0], scale)
    last_w = xp.where(count > 0, pw[xp.maximum(count - 1, 0)], scale)
    width_a = xp.where(xp.isfinite(width_a), width_a, first_w)
    width_b = xp.where(xp.isfinite(width_b), width_b, last_w)
    px = xp.where(chosen, px, xp.nan)
    return Peaks(px, pw, pv, width_a, width_b)

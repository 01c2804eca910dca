r"""Globally adaptive bisection over a buffer of intervals, many at a time.

All pieces of an integral (see :mod:`._maps`) share one buffer of ``capacity``
intervals. Each pass bisects up to ``batch`` intervals, those whose error is
within a factor 8 of the worst (relative to each component's tolerance), and
evaluates the 21-point rule on the ``2 * batch`` halves at once: the parallel form
of QUADPACK's one-at-a-time bisection of the worst interval. It stops when every
component meets

.. math:: \sum_i E_{i,c} \le \max(\text{atol}_c,\ \text{rtol}\,|I_c|,\ F_c)

with :math:`F_c` the rounding floor of the sum (below it no tolerance can be met,
and the status says ``roundoff``).

Written by hand rather than calling :func:`quadax.quadgk`: quadax reads a
non-finite integrand value as ``0`` (so ``nan`` in the integrand went unreported),
takes one interval map for the whole domain, and its program compiles in about
1.3 s on a 2-core machine against about 0.7 s for this loop (``jax_log_compiles``,
same integrand): the difference counts for a one-off call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._backend import Backend
from ._rule import gauss_kronrod

__all__ = ["Outcome", "adaptive", "tolerance", "CODES"]

# Termination codes (mapped onto calculax.RESULTS by the caller).
CODES = {
    "converged": 0,
    "nonfinite": 1,
    "infinite": 2,
    "roundoff": 3,
    "unresolved": 4,  # intervals at the dtype's resolution without the tolerance
    "capacity": 5,
}


class Outcome(NamedTuple):
    value: Any  # (m,)
    error: Any  # (m,)
    code: Any  # int
    intervals: Any  # int: intervals used
    all_zero: Any  # bool: every node of every interval was exactly 0
    per_piece: Any  # (P, m): integral of |integrand| over each piece


def tolerance(xp, value, rtol, atol, norm: str):
    """``max(atol, rtol |I|)`` per component (``each``) or on the max-norm."""
    size = xp.abs(value) if norm == "each" else xp.max(xp.abs(value)) + 0 * value
    return xp.maximum(atol, rtol * size)


def adaptive(
    be: Backend,
    mapped: Callable,
    lo,
    hi,
    piece,
    *,
    rtol,
    atol,
    norm: str,
    capacity: int,
    batch: int,
    n_pieces: int,
    conditioning=None,
) -> Outcome:
    """Integrate ``exp(ell) * phi`` over the union of ``[lo_i, hi_i]`` (see module).

    ``conditioning`` (per piece): the relative accuracy the abscissae allow there
    (:func:`._solve._conditioning`); part of the floor below which no tolerance
    is asked.
    """
    xp = be.xp
    n0 = lo.shape[0]
    dtype = lo.dtype
    eps = float(np.finfo(dtype).eps)

    def pad(x):
        fill = xp.zeros((capacity - n0,) + x.shape[1:], x.dtype)
        return xp.concatenate([x, fill])

    # Empty intervals (of empty pieces) go to the end, out of the live range.
    order = xp.argsort(hi <= lo, stable=True)
    lo, hi, piece = lo[order], hi[order], piece[order]
    n_live = xp.sum(hi > lo)
    a, b, k = pad(lo), pad(hi), pad(piece)
    first = gauss_kronrod(xp, mapped, lo, hi, piece)
    val, err, flo = pad(first.value), pad(first.error), pad(first.floor)
    nan, inf = xp.any(first.nan), xp.any(first.inf)
    zero = xp.all(first.zero)

    cond = xp.zeros((n_pieces,), dtype) if conditioning is None else conditioning

    def totals(val, err, flo, k=None):
        value = xp.sum(val, axis=0)
        # Below twice the summed rounding floors no tolerance can be met, nor below
        # what the rounding of the abscissae allows.
        floor = 2 * xp.sum(flo, axis=0)
        if k is not None:
            floor = floor + xp.sum(xp.abs(val) * cond[k][:, None], axis=0)
        tol = xp.maximum(tolerance(xp, value, rtol, atol, norm), floor)
        return value, xp.sum(err, axis=0), tol

    def splittable(a, b):
        width = b - a
        return width > 64 * eps * xp.maximum(xp.abs(a), xp.abs(b)) + 1e-300

    def finished(state):
        a, b, k, val, err, flo, n, nan, inf, zero, stuck = state
        _, total, tol = totals(val, err, flo, k)
        return xp.all(total <= tol) | nan | inf | stuck

    def body(state):
        a, b, k, val, err, flo, n, nan, inf, zero, _ = state
        _, _, tol = totals(val, err, flo, k)
        priority = xp.max(err / tol, axis=1)
        live = xp.arange(capacity) < n
        can = splittable(a, b) & live & (priority > 0)
        priority = xp.where(can, priority, 0.0)
        mark = can & (priority >= xp.max(priority) / 8)
        index = be.first_true(mark, batch, capacity)
        slots = n + xp.arange(batch)
        use = (index < capacity) & (slots < capacity)
        index = xp.where(use, index, capacity)
        slots = xp.where(use, slots, capacity)
        ia = xp.minimum(index, capacity - 1)
        left, right, kk = a[ia], b[ia], k[ia]
        mid = 0.5 * (left + right)
        halves = gauss_kronrod(
            xp,
            mapped,
            xp.concatenate([left, mid]),
            xp.concatenate([mid, right]),
            xp.concatenate([kk, kk]),
        )
        used = xp.concatenate([use, use])
        nan = nan | xp.any(halves.nan & used)
        inf = inf | xp.any(halves.inf & used)
        a = be.set_at(a, slots, mid)
        b = be.set_at(be.set_at(b, index, mid), slots, right)
        k = be.set_at(k, slots, kk)
        val = be.set_at(
            be.set_at(val, index, halves.value[:batch]), slots, halves.value[batch:]
        )
        err = be.set_at(
            be.set_at(err, index, halves.error[:batch]), slots, halves.error[batch:]
        )
        flo = be.set_at(
            be.set_at(flo, index, halves.floor[:batch]), slots, halves.floor[batch:]
        )
        zero = zero & xp.all(halves.zero | ~used)
        n = n + xp.sum(use)
        state = (a, b, k, val, err, flo, n, nan, inf, zero, ~xp.any(use))
        return state[:-1] + (finished(state),)

    init = (a, b, k, val, err, flo, n_live, nan, inf, zero, False)
    init = init[:-1] + (finished(init),)
    state = be.while_loop(lambda s: ~s[-1], body, init)
    a, b, k, val, err, flo, n, nan, inf, zero, _ = state
    value, total, tol = totals(val, err, flo, k)
    met = xp.all(total <= tol)
    requested = tolerance(xp, value, rtol, atol, norm)
    roundoff = met & xp.any(total > requested)
    live = xp.arange(capacity) < n
    exhausted = xp.all(~splittable(a, b) | ~live | (xp.max(err, axis=1) == 0))
    code = xp.select(
        [nan, inf, roundoff, met, exhausted],
        [
            CODES["nonfinite"],
            CODES["infinite"],
            CODES["roundoff"],
            CODES["converged"],
            CODES["unresolved"],
        ],
        CODES["capacity"],
    )
    live_val = xp.where(live[:, None], xp.abs(val), 0.0)
    per_piece = be.segment("sum", live_val, xp.where(live, k, 0), n_pieces)
    return Outcome(value, total, code, n, zero, per_piece)

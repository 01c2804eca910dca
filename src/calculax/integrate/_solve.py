r"""One integral: find the peaks, cut and map the domain, integrate, add the tails.

The integrand is given in log form, ``logform(x, params) -> (ell, phi)`` with
integrand :math:`e^{\ell(x)}\varphi(x)` (:math:`\varphi` a vector): for
:func:`calculax.integrate.quad`, :math:`\ell = \log\max_c|f_c|` and
:math:`\varphi = f/\max|f|`; for an expectation under a log-density
:math:`\ell = \log p` and :math:`\varphi = [1, g]`. The solve is

1. :func:`._search.find_peaks` on :math:`\ell` (under ``stop_gradient``: where
   the peaks are is a choice of coordinates, the integral does not depend on it);
2. :func:`._maps.pieces`: the domain cut at the peaks, each piece mapped;
3. :func:`._adaptive.adaptive` over all pieces at once, in log form
   (:math:`e^{\ell + \log x'}\varphi`, so that nothing under- or overflows before
   the product);
4. :func:`._tails.tails` at both ends of every piece.

Under ``jit``/``vmap``/``grad`` the solve runs on the host through
``jax.pure_callback`` (:func:`solve`). Derivatives in the parameters and the limits
are a :func:`calculax._core.linear_jvp` rule whose Jacobian is another solve of
this kind, on the same pieces, of the
integrand's Jacobian :math:`e^{\ell}(\varphi\,\partial\ell + \partial\varphi)`
(with its absolute value alongside, so that a derivative that integrates to ``0``
by symmetry is resolved relative to the size of its integrand), plus the Leibniz
terms :math:`\pm f` at finite limits: so every order is available, in both modes.
A derivative integral that misses its tolerance makes the tangent ``nan`` (or
raises, with ``throw``), never a silent number.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.linear_jvp import linear_jvp, selected, with_selected
from .._core.results import RESULTS
from .._core.validate import is_traced
from ._adaptive import CODES, adaptive, tolerance
from ._backend import Backend, numpy_backend
from ._maps import Pieces, initial_intervals, pieces, slope_parts, x_of_t
from ._search import Peaks, find_peaks
from ._tails import tails

__all__ = [
    "Options",
    "Structure",
    "Solution",
    "structure",
    "solve",
    "host_solve",
    "status_index",
]


class Options(NamedTuple):
    """Static options of a solve (hashable: part of the compilation key)."""

    rtol: float
    atol: float
    norm: str = "max"  # tolerance on the max-norm ("max") or per component ("each")
    capacity: int = 2048
    batch: int = 48
    k_max: int = 12
    per_decade: int = 4
    differentiable: bool = True


class Structure(NamedTuple):
    """Where the integrand lives: its peaks and the pieces cut at them."""

    peaks: Peaks
    pieces: Pieces


class Solution(NamedTuple):
    value: Any  # (m,)
    error: Any  # (m,)
    status: Any  # int: a RESULTS index
    intervals: Any  # int


def status_index(item) -> int:
    """The integer index of a :data:`RESULTS` item."""
    return int(item._value)


def structure(
    be: Backend,
    ell: Callable,
    params,
    a,
    b,
    hints,
    scale,
    options: Options,
    forced=None,
) -> Structure:
    """Peaks of ``ell(x, params)`` on ``(a, b)`` and the pieces cut there.

    ``hints`` are extra starts of the search; ``forced`` points are cuts whatever
    the search finds (a singular point or a jump the user knows of).
    """
    xp = be.xp
    dtype = a.dtype
    found = find_peaks(
        be,
        ell,
        params,
        a,
        b,
        hints=hints,
        scale=scale,
        k_max=options.k_max,
        per_decade=options.per_decade,
        differentiable=options.differentiable,
    )
    breaks, widths = found.x, found.width
    sharp = found.value == xp.inf  # a peak where the function is infinite
    # The line needs a cut even where no peak was found (each piece has a finite end).
    on_line = xp.isneginf(a) & xp.isposinf(b)
    centre = hints[0] if hints.shape[0] else xp.zeros((), dtype)
    none = ~xp.any(xp.isfinite(breaks))
    first = xp.arange(breaks.shape[0]) == 0
    breaks = xp.where(first & on_line & none, centre, breaks)
    widths = xp.where(first & on_line & none, scale, widths)
    sharp = sharp & ~(first & on_line & none)
    if forced is not None and forced.shape[0]:
        # A forced cut replaces a found peak within a quarter width of it.
        near = xp.any(
            xp.abs(breaks[:, None] - forced[None, :]) <= 0.25 * widths[:, None],
            axis=1,
        )
        breaks = xp.concatenate([xp.where(near, xp.nan, breaks), forced])
        widths = xp.concatenate([widths, xp.full(forced.shape, scale, dtype)])
        sharp = xp.concatenate([sharp, xp.ones(forced.shape, bool)])
    cut = pieces(be, a, b, breaks, widths, sharp, found.width_a, found.width_b, dtype)
    return Structure(found, cut)


def _mapped(be: Backend, logform, params, cut: Pieces):
    xp = be.xp

    def at(t, k):
        """``(ell + log x', phi, realised t)`` at the nodes ``t`` of pieces ``k``."""
        x, log_dx, t_real = x_of_t(xp, t, cut.u[k], cut.v[k], cut.wu[k], cut.wv[k])
        ell, phi = be.evaluate(logform, x, params)
        return ell + log_dx, xp.reshape(phi, t.shape + (-1,)), t_real

    return at


_STATUS = {
    CODES["converged"]: RESULTS.successful,
    CODES["nonfinite"]: RESULTS.nonfinite,
    CODES["infinite"]: RESULTS.nonfinite,
    CODES["roundoff"]: RESULTS.roundoff,
    CODES["unresolved"]: RESULTS.bad_integrand,
    CODES["capacity"]: RESULTS.max_subintervals,
}
_CODES = np.asarray(list(_STATUS.keys()))
_INDICES = np.asarray([status_index(s) for s in _STATUS.values()])


def _conditioning(xp, cut: Pieces):
    r"""``eps |x| / (8 w)`` at each piece's finite ends (the larger of the two).

    Abscissae near :math:`x` carry an absolute rounding :math:`\epsilon|x|`; a
    feature of width :math:`w` there is located to :math:`\epsilon|x|/w` only.
    The node errors are independent, so the sum's relative error is about
    :math:`\epsilon|x|/(w\sqrt N)` with :math:`N \sim 100` nodes across the
    feature: an eighth of :math:`\epsilon|x|/w` covers it (measured: 1/15 for a
    unit Gaussian at ``1e6``).
    """
    eps = float(np.finfo(cut.u.dtype).eps)
    # At a possibly singular end the width found there is no feature's (the
    # function climbs to the end): the scale is the piece's length instead.
    finite = xp.isfinite(cut.u) & xp.isfinite(cut.v)
    length = xp.where(finite, cut.v - cut.u, xp.inf)
    wu = xp.where(cut.su, xp.minimum(length, xp.where(finite, length, cut.wu)), cut.wu)
    wv = xp.where(cut.sv, xp.minimum(length, xp.where(finite, length, cut.wv)), cut.wv)
    live = cut.t_hi > cut.t_lo
    wu, wv = xp.where(live, wu, 1.0), xp.where(live, wv, 1.0)
    at_u = xp.where(xp.isfinite(cut.u) & live, xp.abs(cut.u) / wu, 0.0)
    at_v = xp.where(xp.isfinite(cut.v) & live, xp.abs(cut.v) / wv, 0.0)
    return 0.125 * eps * xp.maximum(at_u, at_v)


def _edge_slopes(be: Backend, ell, params, cut: Pieces, options: Options):
    """``dM/dt`` outward at both edges of each piece and the size of its terms
    (``nan`` without ``ell``)."""
    xp = be.xp
    if ell is None or not options.differentiable:
        nan = xp.full(cut.t_lo.shape, xp.nan, cut.t_lo.dtype)
        return (nan, nan), (nan, nan)
    slopes, sizes = [], []
    for edge, outward in ((cut.t_lo, -1.0), (cut.t_hi, 1.0)):
        x, _, _ = x_of_t(xp, edge, cut.u, cut.v, cut.wu, cut.wv)
        _, g, _ = be.derivatives(ell, x, params)
        dx, dlog = slope_parts(xp, x, cut.u, cut.v)
        slopes.append(outward * (g * dx + dlog))
        sizes.append(xp.abs(g * dx) + xp.abs(dlog))
    return (slopes[0], slopes[1]), (sizes[0], sizes[1])


def solve_once(
    be: Backend, logform, params, cut: Pieces, options: Options, ell=None
) -> Solution:
    """The integral over the pieces (no derivative rule): see the module.

    ``ell(x, params)``, the log-weight alone, gives the tails their exact decay
    rate at the edges (:mod:`._tails`) when JAX can differentiate it.
    """
    xp = be.xp
    at = _mapped(be, logform, params, cut)
    lo, hi, piece = initial_intervals(xp, cut)
    n_pieces = cut.u.shape[0]
    out = adaptive(
        be,
        at,
        lo,
        hi,
        piece,
        rtol=options.rtol,
        atol=options.atol,
        norm=options.norm,
        capacity=options.capacity,
        batch=options.batch,
        n_pieces=n_pieces,
        conditioning=_conditioning(xp, cut),
    )
    spans = cut.t_hi - cut.t_lo
    (slope_lo, slope_hi), (size_lo, size_hi) = _edge_slopes(
        be, ell, params, cut, options
    )
    left = tails(xp, at, cut.t_lo, -1.0, spans, slope_lo, size_lo)
    right = tails(xp, at, cut.t_hi, 1.0, spans, slope_hi, size_hi)
    live = spans > 0
    tail_value = xp.sum(xp.where(live[:, None], left.value + right.value, 0.0), axis=0)
    tail_error = xp.sum(xp.where(live[:, None], left.error + right.error, 0.0), axis=0)
    infinite = (left.infinite | right.infinite) & live
    divergent = xp.any(infinite)
    # Per component: +inf from some end, -inf from another, or both (nan).
    signs = xp.concatenate(
        [
            xp.where((left.infinite & live)[:, None], left.sign, 0.0),
            xp.where((right.infinite & live)[:, None], right.sign, 0.0),
        ]
    )
    up, down = xp.any(signs > 0, axis=0), xp.any(signs < 0, axis=0)
    value = out.value + tail_value
    floor = xp.sum(out.per_piece * _conditioning(xp, cut)[:, None], axis=0)
    error = out.error + tail_error + floor
    # Only the components that diverge are infinite (the mass of a density whose
    # entropy diverges is finite); +inf and -inf together are no number.
    value = xp.where(up & ~down, xp.inf, xp.where(down & ~up, -xp.inf, value))
    value = xp.where(up & down, xp.nan, value)
    error = xp.where(up | down, xp.inf, error)
    tol = tolerance(xp, value, options.rtol, options.atol, options.norm)
    status = xp.sum(xp.where(xp.asarray(_CODES) == out.code, xp.asarray(_INDICES), 0))
    ok = status == status_index(RESULTS.successful)
    missed = ok & xp.any(error > tol)
    limited = missed & xp.all(error - floor <= tol)
    status = xp.where(missed, status_index(RESULTS.truncation), status)
    status = xp.where(limited, status_index(RESULTS.roundoff), status)
    status = xp.where(divergent, status_index(RESULTS.divergent), status)
    # Every node exactly zero: the value 0 is a claim nothing verified.
    unseen = out.all_zero & xp.all(tail_value == 0) & ~divergent
    unverified = status_index(RESULTS.unverified)
    status = xp.where(unseen & (status == 0), unverified, status)
    error = xp.where(unseen, xp.inf, error)
    nonfinite = status == status_index(RESULTS.nonfinite)
    value = xp.where(nonfinite, xp.nan, value)
    error = xp.where(nonfinite, xp.inf, error)
    return Solution(value, error, status, out.intervals)


class _Jacobian(eqx.Module):
    """``(x, params) -> (ell, [phi (x) d ell + d phi, |...|])`` over chosen leaves."""

    logform: Callable
    select: tuple = eqx.field(static=True)

    def __call__(self, x, params):
        chosen = selected(params, self.select)

        def of(chosen_):
            return self.logform(x, with_selected(params, self.select, chosen_))

        ell, phi = of(chosen)
        jac_ell, jac_phi = jax.jacfwd(of)(chosen)
        ell_flat = jnp.concatenate([jnp.reshape(j, (-1,)) for j in jac_ell])
        phi = jnp.reshape(phi, (-1,))
        phi_flat = jnp.concatenate(
            [jnp.reshape(j, (phi.shape[0], -1)) for j in jac_phi], axis=1
        )
        ell_flat = jnp.where(jnp.isfinite(ell), ell_flat, 0.0)
        full = jnp.reshape(phi[:, None] * ell_flat[None, :] + phi_flat, (-1,))
        # Where the weight is zero (the integrand underflowed) so is its Jacobian
        # (whose log-space form would read 0/0 there).
        full = jnp.where(ell == -jnp.inf, 0.0, full)
        return ell, jnp.concatenate([full, jnp.abs(full)])


def host_solve(logform, ell, options: Options, a, b, params, hints, forced, scale):
    """The whole solve on concrete inputs, in NumPy around the compiled integrand:
    ``(value, error, status, intervals, peaks, widths)``."""
    dtype = np.asarray(a).dtype
    be = numpy_backend(dtype)
    a, b = np.asarray(a, dtype), np.asarray(b, dtype)
    hints = np.asarray(hints, dtype).reshape(-1)
    forced = np.asarray(forced, dtype).reshape(-1)
    scale = np.asarray(scale, dtype)
    with np.errstate(all="ignore"):  # inf/nan are part of the bookkeeping
        cut = structure(be, ell, params, a, b, hints, scale, options, forced)
        out = solve_once(be, logform, params, cut.pieces, options, ell)
    return (
        np.asarray(out.value, dtype),
        np.asarray(out.error, dtype),
        np.asarray(out.status, np.int32),
        np.asarray(out.intervals, np.int32),
        np.asarray(cut.peaks.x, dtype),
        np.asarray(cut.peaks.width, dtype),
    )


def solve(
    logform, ell, options: Options, throw: bool, a, b, params, hints, forced, scale
):
    """The integral, with derivatives in ``a``, ``b`` and ``params`` (module).

    Concrete inputs run :func:`host_solve` directly. Traced ones (``jit``,
    ``vmap``, ``grad``) run it through ``jax.pure_callback`` (one callback per
    batch element under ``vmap``): the program around it stays a few operations,
    so it compiles in a fraction of a second, and the numbers are those of a
    plain call.
    """
    inputs = (a, b, params, hints, forced, scale)
    if not is_traced(inputs):
        return host_solve(logform, ell, options, *inputs)
    return _integral(logform, ell, options, throw)(*inputs)


def _callback(logform, ell, options: Options, a, b, params, hints, forced, scale):
    dtype = jnp.result_type(a)
    size = int(np.prod(jax.eval_shape(lambda: logform(a, params)[1]).shape))
    k = options.k_max
    shapes = (
        jax.ShapeDtypeStruct((size,), dtype),
        jax.ShapeDtypeStruct((size,), dtype),
        jax.ShapeDtypeStruct((), jnp.int32),
        jax.ShapeDtypeStruct((), jnp.int32),
        jax.ShapeDtypeStruct((k,), dtype),
        jax.ShapeDtypeStruct((k,), dtype),
    )
    host = functools.partial(host_solve, logform, ell, options)
    return jax.pure_callback(
        host, shapes, a, b, params, hints, forced, scale, vmap_method="sequential"
    )


def _integral(logform, ell, options: Options, throw: bool):
    def primal(a, b, params, hints, forced, scale):
        return _callback(logform, ell, options, a, b, params, hints, forced, scale)

    def jacobian(inputs, select):
        a, b, params, hints, forced, scale = inputs
        shapes = jax.eval_shape(primal, *inputs)
        size = shapes[0].shape[0]
        param_select = select[2 : 2 + len(jax.tree.leaves(params))]
        columns = []
        if select[0]:
            columns.append(-_at_limit(logform, a, params)[:, None])
        if select[1]:
            columns.append(_at_limit(logform, b, params)[:, None])
        if any(param_select):
            jac_form = _Jacobian(logform, tuple(param_select))
            j_options = options._replace(norm="max")
            out = _integral(jac_form, ell, j_options, throw)(*inputs)
            jv, js = out[0], out[2]
            j = jnp.reshape(jv[: jv.shape[0] // 2], (size, -1))
            # (An integrand that does not depend on the parameter has a Jacobian
            # that is 0 at every node: "unverified" is then the exact 0.)
            failed = (js != status_index(RESULTS.successful)) & (
                js != status_index(RESULTS.unverified)
            )
            if throw:
                j = eqx.error_if(
                    j,
                    failed,
                    "the integral of the integrand's derivative did not meet its "
                    "tolerance; the derivative is not reliable (pass throw=False "
                    "to get nan instead).",
                )
            columns.append(jnp.where(failed, jnp.nan, j))
        jac = jnp.concatenate(columns, axis=1)
        zeros = jnp.zeros((size, jac.shape[1]), jac.dtype)
        peaks = jnp.zeros(shapes[4].shape + (jac.shape[1],), jac.dtype)
        return jac, zeros, None, None, peaks, peaks

    return linear_jvp(primal, jacobian, nondiff=(3, 4, 5))


def _at_limit(logform, limit, params):
    """``f(limit)`` (flattened) at a finite limit, ``0`` at an infinite one."""
    finite = jnp.isfinite(limit)
    ell, phi = logform(jnp.where(finite, limit, jnp.zeros_like(limit)), params)
    phi = jnp.reshape(phi, (-1,))
    safe = jnp.where(jnp.isfinite(ell), ell, 0.0)
    weight = jnp.where(ell == -jnp.inf, 0.0, jnp.exp(safe))
    weight = jnp.where(ell == jnp.inf, jnp.inf, weight)
    return jnp.where(finite & (weight != 0), weight * phi, 0.0)

r"""Entropy of a log-density by adaptive quadrature of :math:`-p\log p` in log space.

The integrand is :math:`-e^{\ell(x)}\ell(x)` with :math:`\ell = \log p`, set to ``0``
where :math:`\ell = -\infty` (no ``0 * log 0``, no underflow of :math:`p` before the
product). The support is first mapped onto the whole line, :math:`x = x(t)`
(:mod:`calculax.integrate._maps`), so that endpoint singularities and heavy tails
become exponentially decaying ends:

* :math:`(-\infty, \infty)`: :math:`x = c + s\sinh t`, with :math:`c` the mode of
  :math:`\ell` (probe grid over every decade, then Newton steps) and
  :math:`s = 1/p(c)` unless ``loc``/``scale`` are given; a narrow density far from
  the origin is found (SciPy's generic path gives ``0.0`` for a normal with
  :math:`\sigma = 10^{-6}`), and a :math:`1/x^2` tail decays like :math:`e^{-|t|}`;
* :math:`[a, \infty)`: :math:`x = a + e^t` (and its mirror for :math:`(-\infty, b]`);
* :math:`[a, b]`: :math:`x = a + (b-a)\,\sigma(t)`, evaluated from the nearer end.

Then :math:`Z = \int p(x(t))x'(t)\,dt` and
:math:`H = -\int e^{\ell}\ell\,x'(t)\,dt` come from one
:func:`calculax.integrate._line.line_integral` call (:func:`quadax.quadgk`,
21-point Gauss-Kronrod, global adaptive), split at the mode of the mapped
integrand; the part beyond the range the map can represent is estimated
(:func:`calculax.integrate._maps.tail`) and added to the error, with status
``truncation`` when it exceeds the tolerance. :math:`Z` must be ``1`` to ``1e-6``
(beyond what that unreachable part explains), else the density is not normalised
and an error reports :math:`Z`. Infinite entropy is returned as ``inf`` with the
reason: where the quadrature diverges, or where the tail of :math:`-p\log p` in
the mapped coordinate decays no faster than :math:`1/t` (log-log slope
:math:`\ge -1-\delta`; the rule and its margin are in
:func:`calculax.integrate._maps.tail`), which is the case for a density with tails
like :math:`1/(x\log^{\beta}x)`, :math:`\beta \le 2`. A slow tail that is
finite comes back with status ``truncation``, the reason, and the part beyond the
map's range in ``error``. ``error`` is the quadrature's estimate plus
the unreachable part.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..integrate import STATUS
from ..integrate._line import hoist, line_integral
from ..integrate._maps import edge, mapped, tail
from ..integrate._quad import BY_CODE
from ._result import EntropyResult

__all__ = ["logpdf_entropy"]

_NORMALISATION_RTOL = 1e-6
_NEWTON_STEPS = 30
_T_GRID = np.linspace(-40.0, 40.0, 321)
_DECADES = np.linspace(-40.0, 40.0, 321)


def _x_grid(dtype) -> np.ndarray:
    """Search grid for the mode: 0 and +-10**d for the decades d the dtype holds.

    Decades beyond the dtype's normal range would overflow (or flush) in the cast:
    in float32 the grid spans 1e-37..1e37 instead of 1e-40..1e40.
    """
    top = np.floor(np.log10(np.finfo(dtype).max)) - 1.0
    magnitudes = 10.0 ** _DECADES[np.abs(_DECADES) <= top]
    return np.concatenate([-magnitudes[::-1], [0.0], magnitudes])


_TRUNCATED = (
    "part of the distribution lies beyond the range the quadrature map can reach "
    "in this dtype (estimated mass {:.3g}, entropy contribution {:.3g}, included in "
    "`error`): the tail is slow (like 1/(x log(x)**beta) with beta > 2, whose "
    "entropy is finite; beta <= 2 is detected and returned as inf)."
)
_INFINITE = (
    "the entropy is infinite: the quadrature of -p log p diverges, or its tail "
    "decays no faster than 1/t in the mapped coordinate t ~ log x (a density with "
    "tails like 1/(x log(x)**beta), beta <= 2; see calculax.integrate._maps.tail "
    "for the rule and its margin)."
)


def _newton(logpdf, args, x0):
    """Damped 1-D Newton ascent on ``logpdf`` from ``x0`` (cheap to compile)."""
    d1 = jax.grad(lambda x: logpdf(x, *args))
    d2 = jax.grad(d1)

    def step(_, x):
        g, h = d1(x), d2(x)
        new = jnp.where(h < 0, x - g / jnp.where(h < 0, h, -1.0), x)
        ok = jnp.isfinite(new) & (logpdf(new, *args) >= logpdf(x, *args))
        return jnp.where(ok, new, x)

    return jax.lax.fori_loop(0, _NEWTON_STEPS, step, x0)


@eqx.filter_jit
def _locate(logpdf, args, refine):
    """Mode of ``logpdf`` on the whole line and the width ``1 / p(mode)``.

    Jitted with ``logpdf`` static, so repeated calls with one log-density compile
    once.
    """
    dtype = jnp.result_type(float, *jax.tree_util.tree_leaves(args))
    grid = jnp.asarray(_x_grid(dtype), dtype)
    values = jax.vmap(lambda x: logpdf(x, *args))(grid)
    loc = grid[jnp.argmax(jnp.where(jnp.isnan(values), -jnp.inf, values))]
    if refine:
        loc = _newton(logpdf, args, loc)
    peak = jnp.clip(logpdf(loc, *args), -700.0, 700.0)
    return loc, jnp.exp(-peak)


def negative_log(x, lp, args):
    """The entropy functional: ``-log p``."""
    return -lp


def _integrand(logpdf, functional, t, lo, hi, loc, scale, args, fargs):
    x, log_dx = mapped(t, lo, hi, loc, scale)
    lp = logpdf(x, *args)
    finite = jnp.isfinite(lp) & jnp.isfinite(log_dx)
    safe = jnp.where(finite, lp, 0.0)
    w = jnp.where(finite, jnp.exp(jnp.where(finite, safe + log_dx, 0.0)), 0.0)
    g = functional(x, safe, fargs)
    return jnp.stack([w, jnp.where(w > 0, w * g, 0.0)])


def logpdf_entropy(
    logpdf: Callable,
    support,
    *,
    args: tuple = (),
    loc=None,
    scale=None,
    rtol=None,
    refine: bool = True,
    max_ninter: int = 400,
    functional: Callable = negative_log,
    fargs: tuple = (),
    method: str = "quadrature: quadax.quadgk of -exp(logp) * logp, mapped to the line",
) -> EntropyResult:
    """Entropy of ``exp(logpdf)`` over ``support`` (see module docstring).

    ``support`` must be concrete (Python floats); ``loc``, ``scale`` and
    ``args`` may be traced. ``refine=False`` skips the Newton steps (for a
    log-density JAX cannot differentiate). ``functional(x, logp, fargs)`` replaces
    ``-log p`` to compute other expectations under ``p`` (KL divergence,
    cross-entropy).
    """
    lo, hi = (float(s) for s in support)
    if not lo < hi:
        raise ValueError(f"entropy: `support` must satisfy lo < hi, got {support}.")
    on_line = np.isneginf(lo) and np.isposinf(hi)
    dtype = jnp.result_type(float, *jax.tree_util.tree_leaves(args))
    eps = float(np.finfo(dtype).eps)
    rtol = max(eps**0.75, 1000 * eps) if rtol is None else rtol
    if on_line and (loc is None or scale is None):
        found_loc, found_scale = _locate(logpdf, args, refine)
        loc = found_loc if loc is None else loc
        scale = found_scale if scale is None else scale
    loc = jnp.asarray(0.0 if loc is None else loc, dtype)
    scale = jnp.asarray(1.0 if scale is None else scale, dtype)
    # The map (ends, centre, width) is a choice of coordinates: the integral does
    # not depend on it, so neither does its derivative.
    hints = jax.lax.stop_gradient(
        (jnp.asarray(lo, dtype), jnp.asarray(hi, dtype), loc, scale)
    )
    g, params = hoist(
        _Integrand(logpdf, functional), jnp.zeros((), dtype), (hints, args, fargs)
    )
    grid = jnp.asarray(_T_GRID, dtype)
    masses = jax.vmap(lambda t: g(t, params)[0])(grid)
    split = grid[jnp.argmax(jnp.where(jnp.isnan(masses), -1.0, masses))]
    (mass, value), error, status, _ = line_integral(
        g, params, split=split, rtol=rtol, atol=rtol, max_ninter=max_ninter
    )
    lost = jax.lax.stop_gradient(tail(lambda t: g(t, params), edge(dtype), dtype))
    return _finish(mass, value, error, status, lost, rtol, method)


class _Integrand(eqx.Module):
    """``(t, ((lo, hi, loc, scale), args, fargs)) -> [w, w * functional]``."""

    logpdf: Callable = eqx.field(static=True)
    functional: Callable = eqx.field(static=True)

    def __call__(self, t, params):
        hints, args, fargs = params
        return _integrand(self.logpdf, self.functional, t, *hints, args, fargs)


def _normalisation_message(mass: float, status: int) -> str:
    tail = (
        ""
        if status == STATUS.normal
        else " The quadrature did not converge either ("
        + BY_CODE[status].name
        + "): the tails may be too heavy to integrate, and the entropy may be "
        "infinite."
    )
    return (
        f"entropy: the density integrates to {mass!r} over `support`, not 1. Pass a "
        f"normalised log-density (subtract log({mass!r}) from it) or the right "
        "`support`." + tail
    )


def _finish(mass, value, error, status, lost, rtol, method) -> EntropyResult:
    lost_mass, lost_value = lost[0], lost[1]
    divergent = (status == STATUS.divergent) | jnp.isinf(lost_value)
    value = jnp.where(divergent, jnp.inf, value)
    tolerance = max(_NORMALISATION_RTOL, 100 * rtol)
    # A mass deficit that the unreachable tail explains is not a normalisation error.
    off = ~divergent & (jnp.abs(mass - 1) > tolerance + lost_mass)
    reason = ""
    if not isinstance(mass, jax.core.Tracer):
        if bool(off):
            raise ValueError(_normalisation_message(float(mass), int(status)))
        if bool(divergent):
            reason = _INFINITE
        elif int(status) == STATUS.truncation:
            reason = _TRUNCATED.format(float(lost_mass), float(lost_value))
    else:
        mass = eqx.error_if(
            mass,
            off,
            "entropy: the density does not integrate to 1 over `support`; pass a "
            "normalised log-density (evaluate outside jit to see its integral).",
        )
    return EntropyResult(
        value,
        jax.lax.stop_gradient(error).astype(value.dtype) + jnp.zeros_like(mass),
        method,
        status,
        reason,
    )

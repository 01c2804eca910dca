r"""Integrals of a 1-D log-density, with its mass verified before any accusation.

:func:`calculax.integrate.expectation` computes :math:`\int p\,g` and
:math:`\int p` in log space after a search for the modes of :math:`\log p` over
every scale of the support (see its docstring). A density given to ``entropy``
or ``kl_divergence`` must be normalised, so the mass is the check that the search
found everything:

1. the first solve's mass is ``1`` within its error: done;
2. otherwise a second, wider search (starts around every mode found, across
   ``1e-10`` to ``1e10`` of its width, and a grid four times as fine over the
   support's scales) and a second solve; if its mass is ``1``, that is the answer;
3. a mass within ``small_deviation`` of 1 is rounding in the density's formula
   (or a sliver of mass): the value is kept and its error widened;
4. otherwise an independent method, importance sampling (``2**15`` draws, a
   fixed seed) from a mixture of Student-t laws at the modes found and a broad
   law over the whole support, estimates the mass with its standard error. Only
   if it confirms the quadratures' mass, away from 1, is the density declared not
   normalised (``ValueError``, with the integral); else the status is
   ``mass_not_found`` and ``error`` is ``inf``: part of the mass may lie where
   no method looked.

Under ``jit`` the first solve alone runs; a mass away from ``1`` gives the status
``mass_not_found``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from .._core.validate import is_traced
from ..integrate import ExpectationResult, expectation

__all__ = [
    "density_integrals",
    "tolerances",
    "MassCheck",
    "widening",
    "small_deviation",
]

_LOCAL_DECADES = np.arange(-20, 21) / 2.0  # offsets w * 10**k around each mode


def tolerances(dtype) -> tuple[float, float]:
    """``(rtol, atol)`` for entropies: ``1e-12`` relative, ``1e-10`` absolute.

    The absolute part keeps an entropy near ``0`` meaningful, and is what the
    rounding of the abscissae allows for a mode ``1e6`` widths from ``0``
    (about ``2e-11``); the relative part is what float64 allows for a large
    ``|H|`` (``-999.57`` for beta(0.001, 1000) is good to about ``5e-10``). In
    float32, ``1.2e-4`` both.
    """
    eps = float(np.finfo(dtype).eps)
    default = max(eps**0.75, 1000 * eps)
    return (1e-12, 1e-10) if eps < 1e-10 else (default, default)


class MassCheck:
    """What the mass verification concluded.

    ``kind`` is ``"inexact"`` (the mass is 1 to within ``SMALL``: the density is
    normalised only to that accuracy, from rounding in its formula or a
    truncated normalising constant, or a sliver of mass was missed: ``error``
    widens by :func:`widening`) or ``"not_found"`` (part of the mass was not
    found and no second method confirmed the integral: ``error`` is ``inf``).
    """

    def __init__(self, kind: str, deviation: float, searched: str):
        self.kind = kind
        self.deviation = deviation
        self.searched = searched


def small_deviation(dtype) -> float:
    """Mass deviations up to this are rounding, not a wrong density (1e-6 in
    float64, 1e-3 in float32)."""
    return 1e-6 if float(np.finfo(dtype).eps) < 1e-10 else 1e-3


def widening(value, deviation: float):
    r"""The error a mass off by :math:`\delta` adds to :math:`\int p\,g`:
    :math:`2\delta(|v| + |\log\delta| + 1)` (a missed sliver of weight
    :math:`\delta` changes :math:`-\int p\log p` by about
    :math:`\delta(|\log\delta| + |H|)`; a relative error :math:`\delta` in
    :math:`p` by :math:`\delta(|H| + 1)`)."""
    log_term = abs(float(np.log(deviation))) if deviation > 0 else 0.0
    return 2 * deviation * (jnp.abs(value) + log_term + 1)


def _mass_off(result: ExpectationResult, dtype) -> float:
    """``|mass - 1|`` beyond what the quadrature's own error explains (0 if not)."""
    eps = float(np.finfo(dtype).eps)
    tol = 4 * float(result.mass_error) + 64 * eps
    off = abs(float(result.mass) - 1.0)
    return 0.0 if off <= tol else off


def _local_hints(result: ExpectationResult, user, dtype):
    modes = np.asarray(result.modes, dtype)
    widths = np.asarray(result.widths, dtype)
    keep = np.isfinite(modes)
    modes, widths = modes[keep], widths[keep]
    offsets = widths[:, None] * 10.0 ** _LOCAL_DECADES[None, :]
    around = np.concatenate([modes[:, None] - offsets, modes[:, None] + offsets], 1)
    centre = modes[:1] if modes.size else np.zeros(1, dtype)
    grid = 10.0 ** (np.arange(-160, 161) / 16.0)
    fine = np.concatenate([centre - grid, centre + grid])
    hints = [np.asarray(user, dtype).reshape(-1), modes, around.reshape(-1), fine]
    return np.concatenate(hints).astype(dtype)


_DRAWS = 2**15


def _sampled_mass(logp, support, args, result: ExpectationResult, dtype):
    """Importance-sampling estimate of ``int p`` and its standard error.

    Proposal: an equal mixture of Student t laws (3 degrees of freedom) at the
    modes found, scaled by their widths, and a broad law over the support (Cauchy
    on the line, log-logistic offsets on a half-line, logistic in the logit of a
    finite interval). Independent of the quadrature's partition and error model.
    """
    import jax

    lo, hi = support
    modes = np.asarray(result.modes, np.float64)
    widths = np.asarray(result.widths, np.float64)
    keep = np.isfinite(modes)
    modes, widths = modes[keep], np.maximum(widths[keep], 1e-300)
    rng = np.random.default_rng(0)
    n = _DRAWS
    k = modes.size
    parts = []
    # The broad law.
    if np.isfinite(lo) and np.isfinite(hi):
        t = rng.logistic(0.0, 3.0, n)
        x_broad = lo + (hi - lo) / (1 + np.exp(-t))

        def broad_logq(x):
            u = np.clip((x - lo) / (hi - lo), 1e-300, 1 - 1e-16)
            tt = np.log(u) - np.log1p(-u)
            log_dens_t = (
                -np.abs(tt) / 3 - 2 * np.log1p(np.exp(-np.abs(tt) / 3)) - np.log(3)
            )
            return log_dens_t - np.log(hi - lo) - np.log(u) - np.log1p(-u)

    elif np.isfinite(lo) or np.isfinite(hi):
        end, sign = (lo, 1.0) if np.isfinite(lo) else (hi, -1.0)
        centre = np.log(np.abs(modes - end).max()) if k else 0.0
        s_ = rng.logistic(centre, 3.0, n)
        x_broad = end + sign * np.exp(s_)

        def broad_logq(x):
            off = np.maximum(sign * (x - end), 1e-300)
            ss = np.log(off) - centre
            return (
                -np.abs(ss) / 3
                - 2 * np.log1p(np.exp(-np.abs(ss) / 3))
                - np.log(3)
                - np.log(off)
            )

    else:
        centre = float(np.median(modes)) if k else 0.0
        spread = float(
            max(np.ptp(modes) if k else 1.0, widths.max() if k else 1.0, 1.0)
        )
        x_broad = centre + spread * rng.standard_cauchy(n)

        def broad_logq(x):
            z = (x - centre) / spread
            return -np.log(np.pi * spread) - np.log1p(z * z)

    parts.append(x_broad)
    for m, w in zip(modes, widths):
        parts.append(m + w * rng.standard_t(3, n // max(k, 1)))
    x = np.concatenate(parts)

    def log_q(x):
        terms = [broad_logq(x)]
        for m, w in zip(modes, widths):
            z = (x - m) / w
            terms.append(
                float(np.log(2 / (np.pi * np.sqrt(3))))
                - 2 * np.log1p(z * z / 3)
                - np.log(w)
            )
        terms = np.stack(terms)
        top = terms.max(0)
        return top + np.log(np.mean(np.exp(terms - top), 0))

    inside = (x > lo) & (x < hi)
    safe = np.where(inside, x, 0.5 * (lo + hi) if np.isfinite(lo + hi) else 0.0)
    safe = np.where(np.isfinite(safe), safe, 0.0)
    logp_vals = np.asarray(
        jax.jit(jax.vmap(lambda z: logp(z, *args)))(safe.astype(dtype)), np.float64
    )
    with np.errstate(all="ignore"):
        log_w = np.where(inside, logp_vals - log_q(x), -np.inf)
        log_w = np.where(np.isnan(log_w), -np.inf, log_w)
        w = np.exp(log_w)
    if not np.all(np.isfinite(w)):
        return float("nan"), float("inf")
    return float(np.mean(w)), float(np.std(w) / np.sqrt(w.size))


def density_integrals(
    logp: Callable,
    support,
    fn: Callable | None,
    *,
    args: tuple,
    modes,
    scale,
    where: str,
) -> tuple[ExpectationResult, MassCheck | None]:
    """``expectation`` of a density that must be normalised (see module).

    Returns the accepted result and, when the mass is not ``1``, what the
    verification found (``None`` when the mass checked out). Raises
    ``ValueError`` when two independent methods agree the density does not
    integrate to 1 (by more than :func:`small_deviation`).
    """
    dtype = jnp.dtype(jnp.result_type(float))
    rtol, atol = tolerances(dtype)

    def run(hints, points=None):
        return expectation(
            logp,
            support,
            fn,
            args=args,
            modes=hints,
            scale=scale,
            rtol=rtol,
            atol=atol,
            norm="each",
            points=points,
            throw=False,
        )

    first = run(modes)
    if is_traced((args, modes)) or is_traced(first.mass):
        return first, None
    if _usable(first) and _mass_off(first, dtype) == 0:
        return first, None
    user = np.zeros(0) if modes is None else np.asarray(modes, dtype)
    second = run(_local_hints(first, user, dtype))
    best = min((second, first), key=lambda r: abs(float(r.mass) - 1))
    if _usable(best) and _mass_off(best, dtype) == 0:
        return best, None
    searched = _searched(best, support)
    deviation = abs(float(best.mass) - 1)
    if _usable(best) and deviation <= small_deviation(dtype):
        return best, MassCheck("inexact", deviation, searched)
    sampled, standard_error = _sampled_mass(logp, support, args, best, dtype)
    mass = float(best.mass)
    confirmed = (
        np.isfinite(mass)
        and _usable(best)
        and abs(sampled - mass) <= 4 * standard_error + 4 * float(best.mass_error)
        and abs(sampled - 1) > 4 * standard_error
    )
    if confirmed:
        raise ValueError(_accusation(where, mass, searched))
    return best, MassCheck("not_found", deviation, searched)


def _usable(result: ExpectationResult) -> bool:
    """A solve whose mass means something: finite, with a finite error (its own
    status, a divergent entropy say, is the caller's to report)."""
    mass, error = float(result.mass), float(result.mass_error)
    return bool(np.isfinite(mass) and np.isfinite(error))


def _searched(result: ExpectationResult, support) -> str:
    modes = np.asarray(result.modes)
    modes = modes[np.isfinite(modes)]
    found = ", ".join(f"{m:.6g}" for m in modes[:8]) or "none"
    return (
        f"support {tuple(support)}; starts at every scale from 1e-40 to 1e40 of the "
        f"search's scale around the centre, then around each mode found (modes: "
        f"{found})"
    )


def _accusation(where: str, mass: float, searched: str) -> str:
    return (
        f"{where}: the density integrates to {mass!r} over `support`, not 1 "
        "(confirmed by an independent importance-sampling estimate of its "
        "integral). Pass a normalised log-density "
        f"(subtract log({mass!r}) from it) or the right `support`. Searched: "
        f"{searched}."
    )

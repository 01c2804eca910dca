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
3. otherwise a third solve by an independent partition (the support cut at a
   fixed log-spaced grid of points, no search) measures the mass again. Only if
   it agrees with the searched solves is the density declared not normalised
   (``ValueError``, with the integral), else the status is ``mass_not_found``
   and ``error`` is ``inf``: part of the mass may lie where no method looked.

Under ``jit`` the first solve alone runs; a mass away from ``1`` gives the status
``mass_not_found``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS
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


def _grid_points(support, result: ExpectationResult, dtype):
    lo, hi = support
    grid = 10.0 ** (np.arange(-80, 81) / 4.0)
    if np.isfinite(lo) and np.isfinite(hi):
        t = np.linspace(-35.0, 35.0, 161)
        return lo + (hi - lo) / (1 + np.exp(-t))
    if np.isfinite(lo):
        return lo + grid
    if np.isfinite(hi):
        return hi - grid
    modes = np.asarray(result.modes)
    centre = float(modes[np.isfinite(modes)][0]) if np.any(np.isfinite(modes)) else 0
    return np.concatenate([centre - grid, [centre], centre + grid])


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
    third = run(user, points=_grid_points(support, best, dtype))
    if _usable(third) and _mass_off(third, dtype) == 0:
        return third, None
    masses = [float(r.mass) for r in (best, third)]
    errors = [float(r.mass_error) for r in (best, third)]
    agree = abs(masses[1] - masses[0]) <= 4 * sum(errors) + 1e-9 * max(
        1.0, abs(masses[0])
    )
    if agree and all(np.isfinite(masses)) and _usable(best) and _usable(third):
        raise ValueError(_accusation(where, masses[0], searched))
    return best, MassCheck("not_found", deviation, searched)


def _usable(result: ExpectationResult) -> bool:
    """A solve whose numbers mean something: met its tolerance, or stopped at the
    rounding floor or the sub-interval budget with a finite error."""
    if bool(result.ok):
        return True
    finite = bool(np.isfinite(float(result.mass))) and bool(
        np.isfinite(float(result.mass_error))
    )
    bounded = (RESULTS.roundoff, RESULTS.max_subintervals, RESULTS.truncation)
    return finite and any(bool(result.status == item) for item in bounded)


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
        "(confirmed by two independent quadratures: one cut at the modes a search "
        "found, one on a fixed log-spaced grid). Pass a normalised log-density "
        f"(subtract log({mass!r}) from it) or the right `support`. Searched: "
        f"{searched}."
    )


def not_found_status():
    """The status of a density whose mass the search could not account for."""
    return RESULTS.mass_not_found

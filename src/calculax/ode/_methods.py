"""The ODE methods ``solve_ivp`` offers: diffrax solvers, and the ``"auto"`` rule."""

from __future__ import annotations

import functools

import diffrax
import jax
import numpy as np
import optimistix as optx
from jax.flatten_util import ravel_pytree

from ._explicit import UnrolledERK

__all__ = ["METHODS", "make_solver", "resolve_method", "stiffness"]

# name -> (diffrax class, stiff?)
METHODS: dict[str, tuple[type[diffrax.AbstractRungeKutta], bool]] = {
    "Tsit5": (diffrax.Tsit5, False),
    "Dopri5": (diffrax.Dopri5, False),
    "Dopri8": (diffrax.Dopri8, False),
    "Kvaerno5": (diffrax.Kvaerno5, True),
}
# SciPy's names, for the error message only (no second names for one method).
_SCIPY_NAMES = {
    "RK45": "'Dopri5' (the same Dormand-Prince 5(4) pair)",
    "DOP853": "'Dopri8' (the same Dormand-Prince 8(5,3) method)",
    "Radau": "'Kvaerno5' (an L-stable ESDIRK method for stiff problems)",
    "BDF": "'Kvaerno5' (an L-stable ESDIRK method for stiff problems)",
    "LSODA": "'Kvaerno5' for stiff problems or 'auto' otherwise",
}
# Below this rtol "auto" takes the 8th-order method: Tsit5's 4th-order interpolant
# then limits event times to ~rtol**(5/6) (1e-10 at rtol 1e-12).
AUTO_HIGH_ORDER_RTOL = 1e-8
# "auto" takes the stiff method when max(-Re lambda) |t1 - t0| exceeds this: an
# explicit method (stability interval ~3.3 |h lambda|) would then need ~300 steps
# for stability alone, which an L-stable implicit method does not.
STIFFNESS_THRESHOLD = 1e3
# Explicit methods with at most this many stages run with their stages written out
# (_explicit.py): Tsit5 and Dopri5. Dopri8's 14 written-out stages compiled ~4.5 s
# slower in forward mode (jax.jvp of an event time: 17.9 s against 13.1 s with
# diffrax's stage loop, 2 CPU cores) for run times within 20%.
_MAX_WRITTEN_OUT_STAGES = 7
_MAX_DETECTION_SIZE = 512  # larger states: no eigenvalue test (O(n^3))


def stiffness(fun, t_span, y0, args) -> float | None:
    r"""Stiffness index :math:`\max(0, \max_i -\mathrm{Re}\,\lambda_i)\,|t_1 - t_0|`
    of the Jacobian :math:`\partial f / \partial y` at :math:`(t_0, y_0)`.

    ``None`` when it cannot be computed before compiling: traced inputs (under
    ``jit``/``vmap``), a state larger than 512, or a Jacobian that is not finite
    or fails to evaluate. Computed with a jitted ``jax.jacfwd`` (cached per
    function) and ``numpy.linalg.eigvals``.
    """
    leaves = jax.tree.leaves((t_span, y0, args))
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        return None
    size = ravel_pytree(y0)[0].size
    if size > _MAX_DETECTION_SIZE:
        return None
    t0, t1 = float(t_span[0]), float(t_span[1])
    try:
        jac = np.asarray(_jacobian(fun, t0, y0, args), dtype=np.float64)
    except Exception:  # best effort: solve_ivp's own checks report bad functions
        return None
    if jac.shape != (size, size) or not np.all(np.isfinite(jac)):
        return None
    decay = float(np.max(-np.linalg.eigvals(jac).real, initial=0.0))
    return max(decay, 0.0) * abs(t1 - t0)


@functools.partial(jax.jit, static_argnums=0)
def _jacobian(fun, t0, y0, args):
    """``df/dy`` at ``(t0, y0)``, flattened; compiled once per function (keyed as
    ``solve_ivp``'s cache keys it)."""
    flat, unravel = ravel_pytree(y0)
    return jax.jacfwd(lambda y: ravel_pytree(fun(t0, unravel(y), *args))[0])(flat)


def resolve_method(method: str, rtol: float, stiff_index: float | None = None) -> str:
    """The method name ``method`` stands for.

    ``"auto"``: ``"Kvaerno5"`` when the stiffness index (see :func:`stiffness`,
    evaluated at the start only) exceeds ``STIFFNESS_THRESHOLD = 1e3``; otherwise
    ``"Dopri8"`` when ``rtol < 1e-8``, else ``"Tsit5"``. Without an index (traced
    inputs) only the ``rtol`` rule applies: pass ``"Kvaerno5"`` (or SciPy's
    ``"Radau"``/``"BDF"``) for stiff problems under ``jit``/``vmap``.
    """
    if not isinstance(method, str):
        raise TypeError(f"solve_ivp: method must be a string, got {method!r}.")
    if method == "auto":
        if stiff_index is not None and stiff_index > STIFFNESS_THRESHOLD:
            return "Kvaerno5"
        return "Dopri8" if rtol < AUTO_HIGH_ORDER_RTOL else "Tsit5"
    if method not in METHODS:
        choices = ", ".join(repr(m) for m in ("auto", *METHODS))
        hint = (
            f" SciPy's {method!r} corresponds to {_SCIPY_NAMES[method]}."
            if (method in _SCIPY_NAMES)
            else ""
        )
        raise ValueError(
            f"solve_ivp: unknown method {method!r}; expected one of {choices}.{hint}"
        )
    return method


def make_solver(name: str, rtol, atol):
    """The diffrax solver; implicit ones solve their stages to the step tolerances.

    Stages run in a plain ``lax.scan`` (diffrax's default is a checkpointed scan,
    a ``custom_vjp`` that forward mode, and so ``jax.jacfwd`` of events, cannot
    differentiate).
    """
    cls, stiff = METHODS[name]
    if stiff:
        finder = diffrax.VeryChord(rtol=rtol, atol=atol, norm=optx.rms_norm)
        # The stiff classes are implicit (a root_finder field), which equinox's
        # dataclass __init__ does not show on their common base AbstractRungeKutta.
        return cls(root_finder=finder, scan_kind="lax")  # type: ignore[call-arg]
    solver = cls(scan_kind="lax")
    tableau = solver.tableau
    if (
        isinstance(solver, diffrax.AbstractERK)
        and isinstance(tableau, diffrax.ButcherTableau)
        and tableau.fsal
        and tableau.c1 == 0
        and tableau.num_stages <= _MAX_WRITTEN_OUT_STAGES
    ):
        return UnrolledERK(solver)  # the same steps, stages written out (_explicit)
    return solver

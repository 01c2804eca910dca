"""The ODE methods ``solve_ivp`` offers, and the ``"auto"`` rule."""

from __future__ import annotations

import functools

import diffrax
import jax
import numpy as np
import optimistix as optx

from ._explicit import UnrolledERK
from ._radau import Radau
from ._steppers import DiffraxStepper, stiffness_ratio_pair

__all__ = [
    "METHODS",
    "STIFF_METHOD",
    "explicit_method",
    "jacobian_of",
    "make_solver",
    "make_stepper",
    "resolve_method",
    "stability_limit",
]

# name -> (diffrax class or None for Radau, stiff?)
METHODS: dict[str, tuple[type | None, bool]] = {
    "Tsit5": (diffrax.Tsit5, False),
    "Dopri5": (diffrax.Dopri5, False),
    "Dopri8": (diffrax.Dopri8, False),
    "Bosh3": (diffrax.Bosh3, False),
    "Radau": (None, True),
    "Kvaerno5": (diffrax.Kvaerno5, True),
}
STIFF_METHOD = "Radau"
# SciPy's names, for the error message only (no second names for one method).
_SCIPY_NAMES = {
    "RK45": "'Dopri5' (the same Dormand-Prince 5(4) pair)",
    "DOP853": "'Dopri8' (the same Dormand-Prince 8(5,3) method)",
    "RK23": "'Bosh3' (the same Bogacki-Shampine 3(2) pair)",
    "BDF": "'Radau' (an L-stable implicit method for stiff problems)",
    "LSODA": "'auto' (switches between explicit and implicit during the solve)",
}
# Below this rtol "auto" takes the 8th-order method: Tsit5's 4th-order interpolant
# then limits event times to ~rtol**(5/6) (1e-10 at rtol 1e-12).
AUTO_HIGH_ORDER_RTOL = 1e-8
# Explicit methods with at most this many stages run with their stages written out
# (_explicit.py): Tsit5, Dopri5 and Bosh3. Dopri8's 14 written-out stages compiled
# ~4.5 s slower in forward mode (jax.jvp of an event time: 17.9 s against 13.1 s
# with diffrax's stage loop, 2 CPU cores) for run times within 20%.
_MAX_WRITTEN_OUT_STAGES = 7


def explicit_method(rtol: float) -> str:
    """The explicit method ``"auto"`` starts with: ``"Dopri8"`` when
    ``rtol < 1e-8``, else ``"Tsit5"``."""
    return "Dopri8" if rtol < AUTO_HIGH_ORDER_RTOL else "Tsit5"


def resolve_method(method: str, rtol: float) -> str:
    """The method name ``method`` stands for (``"auto"``: :func:`explicit_method`,
    switching to ``"Radau"`` during the solve when it meets stiffness)."""
    if not isinstance(method, str):
        raise TypeError(f"solve_ivp: `method` must be a string; got {method!r}.")
    if method == "auto":
        return explicit_method(rtol)
    if method not in METHODS:
        choices = ", ".join(repr(m) for m in ("auto", *METHODS))
        hint = (
            f" SciPy's {method!r} corresponds to {_SCIPY_NAMES[method]}."
            if method in _SCIPY_NAMES
            else ""
        )
        raise ValueError(
            f"solve_ivp: `method` must be one of {choices}; got {method!r}.{hint}"
        )
    return method


@functools.cache
def stability_limit(name: str) -> float:
    r"""The explicit method's stability interval on the negative real axis: the
    largest :math:`x` with :math:`|R(-u)| \le 1` for :math:`0 \le u \le x`,
    :math:`R(z) = 1 + z b^T (I - zA)^{-1} \mathbf 1` (3.3 for Dopri5)."""
    cls, stiff = METHODS[name]
    if stiff or cls is None:
        return float("inf")
    tableau = cls().tableau
    s = tableau.num_stages
    a = np.zeros((s, s))
    for i, row in enumerate(tableau.a_lower):
        a[i + 1, : len(row)] = np.asarray(row, dtype=float)
    b = np.asarray(tableau.b_sol, dtype=float)
    limit = 0.0
    for x in np.arange(0.01, 20.0, 0.01):
        r = 1 - x * b @ np.linalg.solve(np.eye(s) + x * a, np.ones(s))
        if abs(r) > 1:
            break
        limit = x
    return limit


def make_solver(name: str, rtol, atol):
    """The diffrax solver of method ``name`` (not ``"Radau"``); implicit ones solve
    their stages to the step tolerances.

    Stages run in a plain ``lax.scan`` (diffrax's default is a checkpointed scan,
    a ``custom_vjp`` that forward mode, and so ``jax.jacfwd`` of events, cannot
    differentiate).
    """
    cls, stiff = METHODS[name]
    if cls is None:
        raise ValueError(f"solve_ivp: {name!r} is not a diffrax solver")
    if stiff:
        finder = diffrax.VeryChord(rtol=rtol, atol=atol, norm=optx.rms_norm)
        # The stiff classes are implicit (a root_finder field), which equinox's
        # dataclass __init__ does not show on their common base AbstractRungeKutta.
        return cls(root_finder=finder, scan_kind="lax")
    solver = cls(scan_kind="lax")
    tableau = solver.tableau
    if (
        isinstance(solver, diffrax.AbstractERK)
        and isinstance(tableau, diffrax.ButcherTableau)
        and tableau.fsal
        and tableau.c1 == 0
        and tableau.num_stages <= _MAX_WRITTEN_OUT_STAGES
    ):
        return UnrolledERK(solver)  # the same steps, stages written out
    return solver


def make_stepper(name: str, rtol, atol, max_step, jacobian, constant_jac: bool):
    """The stepper of method ``name`` (``_steppers.py``)."""
    cls, _ = METHODS[name]
    if cls is None:  # Radau
        return Radau(rtol, atol, max_step, jacobian, constant_jac)
    controller = diffrax.PIDController(rtol=rtol, atol=atol, dtmax=max_step)
    solver = make_solver(name, rtol, atol)
    tableau = getattr(solver, "solver", solver).tableau
    if not isinstance(tableau, diffrax.ButcherTableau):  # a multi-tableau (IMEX)
        raise TypeError(f"solve_ivp: no stage count for method {name!r}")
    rows = tuple(tuple(float(w) for w in np.asarray(r)) for r in tableau.a_lower)
    return DiffraxStepper(
        solver,
        controller,
        stages=tableau.num_stages,
        fsal=bool(tableau.fsal),
        pair=stiffness_ratio_pair(tableau),
        a_rows=rows,
    )


def jacobian_of(field, user_jac, size: int):
    """``(s, y, args) -> df/dy`` in the solver's flattened, forward-time form:
    the user's ``jac`` (already flattened and oriented) or forward mode."""
    if user_jac is not None:
        return user_jac

    def forward_mode(s, y, args):
        return jax.jacfwd(lambda y: field(s, y, args))(y)

    del size
    return forward_mode

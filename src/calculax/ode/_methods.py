"""The ODE methods ``solve_ivp`` offers: diffrax solvers, and the ``"auto"`` rule."""

from __future__ import annotations

import diffrax
import optimistix as optx

__all__ = ["METHODS", "make_solver", "resolve_method"]

# name -> (diffrax class, stiff?)
METHODS = {
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


def resolve_method(method: str, rtol: float) -> str:
    """The method name ``method`` stands for.

    ``"auto"``: ``"Dopri8"`` when ``rtol < 1e-8``, else ``"Tsit5"``. It does not
    detect stiffness: pass ``"Kvaerno5"`` (or SciPy's ``"Radau"``/``"BDF"``) for
    stiff problems.
    """
    if not isinstance(method, str):
        raise TypeError(f"solve_ivp: method must be a string, got {method!r}.")
    if method == "auto":
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
        return cls(root_finder=finder, scan_kind="lax")
    return cls(scan_kind="lax")

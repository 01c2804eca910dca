"""SciPy's interfaces on calculax: change one import.

``calculax.scipy.integrate.solve_ivp`` takes SciPy's arguments and returns SciPy's
result layout, computed by :func:`calculax.ode.solve_ivp` (every event crossing
found and located, stiff problems by Radau IIA with stiffness switching).
"""

from . import integrate as integrate

__all__ = ["integrate"]

"""``scipy.integrate``'s ``solve_ivp``, computed by :mod:`calculax.ode`.

``from calculax.scipy.integrate import solve_ivp`` in place of
``from scipy.integrate import solve_ivp``: the same arguments, defaults, result
layout, status codes, messages and exceptions. See the docs page "From SciPy" for
what differs.
"""

from ._ivp import solve_ivp as solve_ivp
from ._result import OdeResult as OdeResult
from ._result import OdeSolution as OdeSolution

__all__ = ["OdeResult", "OdeSolution", "solve_ivp"]

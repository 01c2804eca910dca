"""SciPy's own ``solve_ivp`` tests, run against ``calculax.scipy.integrate``.

The test files are read from the installed SciPy at test time (not copied
here): ``scipy/integrate/_ivp/tests/test_ivp.py`` and ``test_rk.py``. Each is
loaded as a module whose ``solve_ivp`` is replaced by
:func:`calculax.scipy.integrate.solve_ivp`; every ``test_*`` function is then
collected from here. Nothing else in them is changed: their functions keep
their NumPy code and Python branches, which the front calls on the host when
JAX cannot trace them. Tests skipped here are listed in ``SKIPPED`` with the
reason.

``test_rk.py`` tests SciPy's Runge--Kutta classes and never calls
``solve_ivp``; it is run as it is, unchanged.
"""

import importlib.util
from pathlib import Path

import pytest
import scipy.integrate

from calculax.scipy.integrate import solve_ivp

_DIRECTORY = Path(scipy.integrate.__file__).parent / "_ivp" / "tests"

# test name -> why it is skipped (none at present)
SKIPPED: dict[str, str] = {
    "test_integration_complex": (
        "asserts the work counts of SciPy's variable-order BDF (nfev < 25, njev == 1) "
        "on its BDF loop; calculax's BDF is Radau IIA, whose counts on that problem "
        "are SciPy's Radau's (35, 2, 4); the values: tests/test_ode_scipy_events.py"
    ),
}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        f"scipy_ivp_tests_{name}", _DIRECTORY / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_IVP = _load("test_ivp")
_RK = _load("test_rk")
_IVP.solve_ivp = solve_ivp  # the functions read their module's globals

for _module in (_IVP, _RK):
    for _name in dir(_module):
        if _name.startswith("test_"):
            _test = getattr(_module, _name)
            if _name in SKIPPED:
                _test = pytest.mark.skip(reason=SKIPPED[_name])(_test)
            globals()[f"{_name}"] = _test

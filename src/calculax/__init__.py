"""calculax: calculus done right in JAX.

Derivatives of any order that stay finite and accurate across the whole floating-point
range, and the calculus built on them:

- ``calculax.numpy``: stable functions; ``custom_derivative``: your own stable rules;
  ``stabilize``: unmodified JAX code with the stable rules.
- ``calculax.audit`` checks derivatives against a high-precision truth;
  ``explain(f)(*args)`` shows how a derivative is computed, rule by rule.
- ``derivative`` (``jacobian``, ``hessian``, ``mixed``, matrix-free ``hvp``, ``vhp``,
  ``mixed_hvp``): full derivative tensors; ``check_derivative`` checks them.
- ``calculax.curvature``: Hessian trace, diagonal, norms, eigenvalues and spectral
  density, matrix-free, with error bars.
- ``entropy(dist)``, ``kl_divergence``, ``cross_entropy``, ``entropy_from_samples``:
  differential entropy and divergences (``calculax.information`` holds them and the
  rest: ``family_entropy``, ``EntropyResult``, ...);
  ``calculax.integrate``: ``quad`` over finite and infinite intervals and
  ``expectation`` under a log-density.
- ``calculax.ode``: ``solve_ivp`` with events that find every crossing.

``import calculax`` loads nothing else: each name below is imported the first time it
is used (PEP 562), so a script pays only for the parts it calls; ``import
calculax.ode`` and ``from calculax import derivative`` work as usual.
"""

import importlib as _importlib
import typing as _typing

# name -> (module, attribute of the module; None: the module itself)
_EXPORTS: dict[str, tuple[str, str | None]] = {
    "audit": ("calculax.audit", None),
    "curvature": ("calculax.curvature", None),
    "derivatives": ("calculax.derivatives", None),
    "information": ("calculax.information", None),
    "integrate": ("calculax.integrate", None),
    "numpy": ("calculax.numpy", None),
    "ode": ("calculax.ode", None),
    "RESULTS": ("calculax._core.results", "RESULTS"),
    "NumericalError": ("calculax._core.results", "NumericalError"),
    "explain": ("calculax.audit", "explain"),
    "check_derivative": ("calculax.derivatives", "check_derivative"),
    "custom_derivative": ("calculax.derivatives", "custom_derivative"),
    "derivative": ("calculax.derivatives", "derivative"),
    "hessian": ("calculax.derivatives", "hessian"),
    "hvp": ("calculax.derivatives", "hvp"),
    "jacobian": ("calculax.derivatives", "jacobian"),
    "mixed": ("calculax.derivatives", "mixed"),
    "mixed_hvp": ("calculax.derivatives", "mixed_hvp"),
    "stabilize": ("calculax.derivatives", "stabilize"),
    "vhp": ("calculax.derivatives", "vhp"),
    "cross_entropy": ("calculax.information", "cross_entropy"),
    "entropy": ("calculax.information", "entropy"),
    "entropy_from_samples": ("calculax.information", "entropy_from_samples"),
    "kl_divergence": ("calculax.information", "kl_divergence"),
    "solve_ivp": ("calculax.ode", "solve_ivp"),
}

if (
    _typing.TYPE_CHECKING
):  # what type checkers and editors see; the same names as _EXPORTS
    from . import audit as audit
    from . import curvature as curvature
    from . import derivatives as derivatives
    from . import information as information
    from . import integrate as integrate
    from . import numpy as numpy
    from . import ode as ode
    from ._core.results import RESULTS as RESULTS
    from ._core.results import NumericalError as NumericalError
    from .audit import explain as explain
    from .derivatives import check_derivative as check_derivative
    from .derivatives import custom_derivative as custom_derivative
    from .derivatives import derivative as derivative
    from .derivatives import hessian as hessian
    from .derivatives import hvp as hvp
    from .derivatives import jacobian as jacobian
    from .derivatives import mixed as mixed
    from .derivatives import mixed_hvp as mixed_hvp
    from .derivatives import stabilize as stabilize
    from .derivatives import vhp as vhp
    from .information import cross_entropy as cross_entropy
    from .information import entropy as entropy
    from .information import entropy_from_samples as entropy_from_samples
    from .information import kl_divergence as kl_divergence
    from .ode import solve_ivp as solve_ivp

    __version__: str

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> _typing.Any:
    """Import ``name`` on first use and keep it (later lookups are plain globals)."""
    value: _typing.Any
    if name == "__version__":
        from importlib import metadata

        try:
            value = metadata.version("calculax")
        except metadata.PackageNotFoundError:  # a source tree never installed
            value = "0+unknown"
    elif name in _EXPORTS:
        module_name, attribute = _EXPORTS[name]
        module = _importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
    else:
        raise AttributeError(f"module 'calculax' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | {"__version__"})

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
"""

from importlib import metadata as _metadata

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

try:
    __version__: str = _metadata.version("calculax")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "RESULTS",
    "NumericalError",
    "audit",
    "check_derivative",
    "cross_entropy",
    "curvature",
    "custom_derivative",
    "derivative",
    "derivatives",
    "entropy",
    "entropy_from_samples",
    "explain",
    "hessian",
    "hvp",
    "information",
    "integrate",
    "jacobian",
    "kl_divergence",
    "mixed",
    "mixed_hvp",
    "numpy",
    "ode",
    "solve_ivp",
    "stabilize",
    "vhp",
]

"""calculax: calculus done right in JAX.

Derivatives of any order that stay finite and accurate across the whole floating-point
range. ``calculax.numpy`` holds the stable functions; ``calculax.custom_derivative``
lets you write your own stable rules; ``calculax.stabilize`` gives unmodified JAX code
the stable rules; ``calculax.audit`` checks derivatives against a high-precision
truth, and ``calculax.explain(f)(*args)`` shows how a derivative is computed, rule by
rule, against finite differences; ``calculax.derivative`` gives full derivative
tensors of any order (``jacobian``, ``hessian``, ``mixed``, matrix-free ``hvp``,
``vhp``, ``mixed_hvp``) and ``calculax.check_derivative`` checks them;
``calculax.curvature`` estimates Hessian trace, diagonal, norms, extreme eigenvalues
and spectral density matrix-free, with error bars; ``calculax.ode.solve_ivp`` solves
ODEs and finds every time an event happens.
"""

from . import audit as audit
from . import curvature as curvature
from . import derivatives as derivatives
from . import numpy as numpy
from . import ode as ode
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
from .ode import solve_ivp as solve_ivp

__version__ = "0.1.0"

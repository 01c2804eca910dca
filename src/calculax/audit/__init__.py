"""Checking derivatives against the truth: a high-precision interpreter of JAX code.

``high_precision(f)`` evaluates ``f``'s jaxpr with mpmath; ``true_derivative`` gives
the true partial derivatives of a scalar function; ``audit(f, ...)`` sweeps an
argument and classifies JAX's and ``stabilize(f)``'s derivatives against that truth;
``explain(f)(*args)`` shows how a derivative is computed, rule by rule, against
finite differences.
"""

from .._core.truth import SUPPORTED as SUPPORTED
from .._core.truth import high_precision as high_precision
from .._core.truth import true_derivative as true_derivative
from ._audit import AuditReport as AuditReport
from ._audit import audit as audit
from ._explain import explain as explain
from ._explain_report import ExplainReport as ExplainReport
from ._explain_report import FiniteDifference as FiniteDifference
from ._explain_report import Step as Step

__all__ = [
    "AuditReport",
    "ExplainReport",
    "FiniteDifference",
    "SUPPORTED",
    "Step",
    "audit",
    "explain",
    "high_precision",
    "true_derivative",
]

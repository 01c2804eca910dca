"""The result of a stochastic estimator: value, standard error, status, interval."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np

from .._core.results import AbstractResult
from .._core.validate import in_open_interval

__all__ = ["Estimate", "t_quantile"]


def t_quantile(level: float, dof) -> np.ndarray:
    r"""The two-sided Student-t factor :math:`t_{(1+\text{level})/2,\,\nu}`.

    ``dof = 0`` (an exact value, whose error bounds its rounding) gives 1.
    SciPy's ``stdtrit`` is imported here, on the first call, so that
    ``import calculax`` does not pay for SciPy.
    """
    from scipy.special import stdtrit

    dof = np.asarray(dof, dtype=np.float64)
    q = stdtrit(np.maximum(dof, 1.0), (1.0 + level) / 2.0)
    return np.where(dof > 0, q, 1.0)


class Estimate(AbstractResult):
    r"""An estimate with its standard error and status.

    ``value`` and ``error`` are pytrees of the same structure (a scalar for a trace
    or norm, the parameters' structure for a diagonal). ``error`` is a standard
    error: :math:`(\text{value} - \text{truth})/\text{error}` is approximately
    Student-t with ``dof`` degrees of freedom (``dof = 0``: computed exactly, and
    ``error`` bounds the rounding of the sum; the interval is ``value +- error``).
    How each method's error is made, and how well its intervals
    cover, is stated on the method (``calculax.curvature.methods``).

    Attributes:
        value: the estimate.
        error: its standard error.
        status: ``RESULTS.successful``, or ``RESULTS.nonfinite`` when the operator
            returned nan or inf for a finite probe (then ``value`` is nan).
        dof: degrees of freedom of ``error``.
        num_matvecs: operator applications spent (static).
        method: the method's name (for ``method="auto"``: see ``choice``).
        choice: for ``auto``, the branch taken: 0 Hutchinson, 1 exchangeable
            low-rank (XTrace/XDiag).
    """

    value: object
    error: object
    status: object
    dof: jax.Array
    num_matvecs: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    choice: jax.Array | None = None

    def interval(self, level: float = 0.95):
        r"""Two-sided confidence interval ``(low, high)`` at ``level``.

        :math:`\text{value} \pm t_{(1+\text{level})/2,\,\text{dof}}\,\text{error}`,
        computed on concrete values (call it outside ``jit``); pytrees like
        ``value``.

        Raises:
            ValueError: ``level`` not in ``(0, 1)``.
            TypeError: ``level`` is not a real number.
        """
        level = in_open_interval("Estimate.interval", "level", level, 0.0, 1.0)
        q = t_quantile(level, self.dof)

        def width(value, error):
            value, error = np.asarray(value), np.asarray(error)
            return np.reshape(q, q.shape + (1,) * (value.ndim - q.ndim)) * error

        widths = jax.tree_util.tree_map(width, self.value, self.error)
        low = jax.tree_util.tree_map(lambda v, w: np.asarray(v) - w, self.value, widths)
        high = jax.tree_util.tree_map(
            lambda v, w: np.asarray(v) + w, self.value, widths
        )
        return low, high

"""The result of a stochastic estimator: value, standard error, confidence interval."""

from __future__ import annotations

import equinox as eqx
import jax
import numpy as np
import scipy.stats

__all__ = ["Estimate"]


class Estimate(eqx.Module):
    r"""An estimate with its standard error.

    ``value`` and ``stderr`` are pytrees of the same structure (a scalar for a trace
    or norm, the parameters' structure for a diagonal). The error is a Student-t with
    ``dof`` degrees of freedom (``dof = 0``: computed exactly, ``stderr = 0``). The
    interval is a central-limit approximation: with few probes and skewed per-probe
    samples (a spectrum dominated by a few eigenvalues) it covers a little less than
    ``level`` (0.91-0.93 measured at 0.95 with 30 products; ``XTrace``: 0.85-0.92).

    Attributes:
        value: the estimate.
        stderr: its estimated standard error.
        dof: degrees of freedom of ``stderr`` (number of independent samples - 1).
        num_matvecs: operator applications spent (static).
        method: the method's name (for ``method="auto"``: see ``choice``).
        choice: for ``auto``, 1 where the low-rank branch was taken, else 0.
    """

    value: object
    stderr: object
    dof: jax.Array
    num_matvecs: int = eqx.field(static=True)
    method: str = eqx.field(static=True)
    choice: jax.Array | None = None

    def interval(self, level: float = 0.95):
        r"""Two-sided confidence interval ``(low, high)`` at ``level``.

        :math:`\text{value} \pm t_{(1+\text{level})/2,\,\text{dof}}\,\text{stderr}`.
        Computed with SciPy on concrete values: call it outside ``jit``.

        Raises:
            ValueError: ``level`` not in ``(0, 1)``.
        """
        if not 0.0 < level < 1.0:
            raise ValueError(f"`level` must be in (0, 1); got {level}.")
        dof = np.asarray(self.dof, dtype=np.float64)
        q = np.where(dof > 0, scipy.stats.t.ppf((1 + level) / 2, np.maximum(dof, 1)), 0)

        def width(value, stderr):
            value, stderr = np.asarray(value), np.asarray(stderr)
            return np.reshape(q, q.shape + (1,) * (value.ndim - q.ndim)) * stderr

        widths = jax.tree_util.tree_map(width, self.value, self.stderr)
        low = jax.tree_util.tree_map(lambda v, w: np.asarray(v) - w, self.value, widths)
        high = jax.tree_util.tree_map(
            lambda v, w: np.asarray(v) + w, self.value, widths
        )
        return low, high

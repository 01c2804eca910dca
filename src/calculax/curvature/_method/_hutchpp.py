"""Hutch++: an exact low-rank part from a sketch plus Hutchinson on the rest."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from .._functional import Diagonal, FrobeniusSquared, Trace
from .._probes import apply, rademacher
from ._base import AbstractMethod, Raw, mean_and_error, orthonormal

__all__ = ["HutchPlusPlus", "deflated"]


def deflated(functional, operator, q, g, mesh):
    """Exact part on ``range(q)`` plus Hutchinson on the deflated probes ``g``.

    One block of ``q.shape[1] + g.shape[1]`` products; standard error from the
    residual samples, conditional on ``q`` (the exact part has no variance).
    """
    gp = g - q @ (q.T @ g)
    w = apply(operator, jnp.concatenate([q, gp], axis=1), mesh)
    s = q.shape[1]
    exact = functional.exact(q, w[:, :s])
    mean, error, dof = mean_and_error(functional.sample(g, gp, w[:, s:]))
    return exact + mean, error, dof


class HutchPlusPlus(AbstractMethod):
    r"""Hutch++ with the budget split in thirds.

    :math:`k = \lfloor m/3 \rfloor` sketch products :math:`Y = AS`, :math:`Q =
    \operatorname{orth}(Y)`, :math:`k` products :math:`AQ` for the exact part, and
    :math:`m - 2k` deflated Hutchinson probes. Error :math:`O(1/m)` on operators with
    decaying spectra; on flat spectra up to :math:`\sqrt 3` times Hutchinson's.

    References:
        Meyer, R. A., Musco, C., Musco, C., Woodruff, D. P. (2021). Hutch++: Optimal
        stochastic trace estimation. SOSA 2021, 142-155. arXiv:2010.09649.
    """

    name: ClassVar[str] = "hutch++"
    min_matvecs: ClassVar[int] = 4
    functionals: ClassVar[tuple[type, ...]] = (Trace, Diagonal, FrobeniusSquared)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        k = num_matvecs // 3
        # One draw for sketch and probes: each random draw costs seconds to compile.
        signs = rademacher(key, operator.size, num_matvecs - k, operator.dtype)
        q = orthonormal(apply(operator, signs[:, :k], mesh))
        return Raw(*deflated(functional, operator, q, signs[:, k:], mesh))

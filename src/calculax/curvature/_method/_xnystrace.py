"""XNysTrace: the exchangeable Nyström estimator, for symmetric operators."""

from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp

from .._functional import Diagonal, Trace
from .._probes import apply, rademacher
from ._base import AbstractMethod, Raw
from ._jackknife import jackknife
from ._nystrom import nystrom_core, nystrom_samples, nystrom_subset

__all__ = ["XNysTrace"]


class XNysTrace(AbstractMethod):
    r"""XNysTrace with :math:`m` random-sign probes: one product each, no second pass.

    The mean of the :math:`m` leave-one-out samples :math:`t_i = \operatorname{tr}
    \hat A_{(i)} + \omega_i^\top (A - \hat A_{(i)})\omega_i` with the Nyström
    approximation :math:`\hat A_{(i)}` from the other probes (``_nystrom``; the
    diagonal analogue for ``diagonal``). Every product serves both the
    approximation and the residual, so on a positive semi-definite operator with a
    decaying spectrum its sketch is twice XTrace's for the same budget. Unbiased for
    any symmetric operator; on an indefinite one with much mass in its tail the
    Nyström approximation is unstable and the error large (``auto`` measures this
    before using it). Standard error: the bias-corrected jackknife (``_jackknife``).

    References:
        Epperly, E. N., Tropp, J. A., Webber, R. J. (2024). XTrace: Making the most
        of every sample in stochastic trace estimation. SIMAX 45(1). (Section 3.)
    """

    name: ClassVar[str] = "xnystrace"
    min_matvecs: ClassVar[int] = 3
    functionals: ClassVar[tuple[type, ...]] = (Trace, Diagonal)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        m = num_matvecs
        vectors = isinstance(functional, Diagonal)
        omega = rademacher(key, operator.size, m, operator.dtype)
        c = nystrom_core(omega, apply(operator, omega, mesh), vectors)
        value = jnp.mean(nystrom_samples(functional, c), axis=-1)
        variance, dof, _ = jackknife(
            lambda index: jnp.mean(
                nystrom_samples(functional, nystrom_subset(c, index)), axis=-1
            ),
            m,
            scalar=jnp.sum if vectors else None,
        )
        return Raw(value, jnp.sqrt(variance), jnp.asarray(dof))

"""XTrace (matfree): exchangeable leave-one-out Hutch++ for the trace."""

from __future__ import annotations

from typing import ClassVar

import jax
from jax.sharding import NamedSharding, PartitionSpec
from matfree import stochtrace

from .._functional import Trace
from .._probes import AXIS, check_finite
from ._base import AbstractMethod, Raw, mean_and_stderr

__all__ = ["XTrace"]


class XTrace(AbstractMethod):
    r"""XTrace with :math:`m/2` Gaussian probes (``matfree.stochtrace``, resphered).

    Every probe serves both the sketch and the residual: the estimate averages the
    :math:`m/2` leave-one-out Hutch++ estimates; the standard error is their sample
    std over :math:`\sqrt{m/2}` (the paper's error estimate; it is not a variance of
    independent samples and is optimistic: a nominal 95% interval covered
    85-92% of 400 keys on our test spectra at 30 products, its standard error
    being 0.7-0.9 of the actual spread). Trace only.
    Sharded when :math:`m/2` is a multiple of the device count.

    References:
        Epperly, E. N., Tropp, J. A., Webber, R. J. (2024). XTrace: Making the most of
        every sample in stochastic trace estimation. SIMAX 45(1). arXiv:2301.07825.
    """

    name: ClassVar[str] = "xtrace"
    min_matvecs: ClassVar[int] = 4
    functionals: ClassVar[tuple[type, ...]] = (Trace,)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        k = num_matvecs // 2
        samples = jax.random.normal(key, (k, operator.size), operator.dtype)
        if mesh is not None and mesh.size > 1 and k % mesh.shape[AXIS] == 0:
            spec = NamedSharding(mesh, PartitionSpec(AXIS, None))
            samples = jax.lax.with_sharding_constraint(samples, spec)

        def matvec(v):
            return check_finite(operator.flat_matvec(v), v)

        # matfree broadcasts (k, k) / (k,) internally; allow it whatever the user's
        # `jax_numpy_rank_promotion` setting.
        with jax.numpy_rank_promotion("allow"):
            loo = stochtrace.leave_one_out_xtrace()(matvec, samples)
        return Raw(*mean_and_stderr(loo))

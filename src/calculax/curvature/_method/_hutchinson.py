"""Hutchinson's estimator with random-sign probes."""

from __future__ import annotations

from typing import ClassVar

from .._functional import Diagonal, FrobeniusSquared, Trace
from .._probes import apply, rademacher
from ._base import AbstractMethod, Raw, mean_and_error

__all__ = ["Hutchinson"]


class Hutchinson(AbstractMethod):
    r"""The mean of :math:`m` independent probe samples, e.g. :math:`g^\top A g`.

    Error :math:`O(m^{-1/2})`: for the trace with random signs the variance per probe
    is :math:`2(\|A\|_F^2 - \sum_i a_{ii}^2)`, so it wins on flat spectra and
    diagonally dominant operators. Standard error: sample std over :math:`\sqrt m`.

    References:
        Hutchinson, M. F. (1990). A stochastic estimator of the trace of the influence
        matrix for Laplacian smoothing splines. Commun. Stat. Simul. Comput. 19(2).
    """

    name: ClassVar[str] = "hutchinson"
    min_matvecs: ClassVar[int] = 2
    functionals: ClassVar[tuple[type, ...]] = (Trace, Diagonal, FrobeniusSquared)

    def estimate(self, functional, operator, num_matvecs, key, mesh):
        g = rademacher(key, operator.size, num_matvecs, operator.dtype)
        samples = functional.sample(g, g, apply(operator, g, mesh))
        return Raw(*mean_and_error(samples))

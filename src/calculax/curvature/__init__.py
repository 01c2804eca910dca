"""Curvature of losses over parameter pytrees, matrix-free, with error bars.

Operators (``hessian_operator``, ``gauss_newton_operator``, ``fisher_operator``,
``finite_difference_hessian_operator``, ``linear_operator``; dense arrays work too)
and estimators with a common signature ``estimator(operator, *, num_matvecs, key,
method="auto", throw=True)``: ``trace``, ``diagonal``, ``frobenius_norm``,
``spectral_norm``, ``eigenvalues``, ``spectral_density``. Every result has
``value``, ``error``, ``status`` and ``message`` (``calculax.RESULTS``).
"""

from . import methods as methods
from ._density import SpectralDensity as SpectralDensity
from ._density import spectral_density as spectral_density
from ._eigenvalues import Eigenvalues as Eigenvalues
from ._eigenvalues import eigenvalues as eigenvalues
from ._eigenvalues import spectral_norm as spectral_norm
from ._estimate import Estimate as Estimate
from ._estimators import diagonal as diagonal
from ._estimators import frobenius_norm as frobenius_norm
from ._estimators import trace as trace
from ._hessian import FiniteDifferenceHessian as FiniteDifferenceHessian
from ._hessian import FisherOperator as FisherOperator
from ._hessian import GaussNewtonOperator as GaussNewtonOperator
from ._hessian import HessianOperator as HessianOperator
from ._hessian import (
    finite_difference_hessian_operator as finite_difference_hessian_operator,
)
from ._hessian import fisher_operator as fisher_operator
from ._hessian import gauss_newton_operator as gauss_newton_operator
from ._hessian import hessian_operator as hessian_operator
from ._operator import AbstractOperator as AbstractOperator
from ._operator import DenseOperator as DenseOperator
from ._operator import MatvecOperator as MatvecOperator
from ._operator import as_operator as as_operator
from ._operator import linear_operator as linear_operator
from ._probes import probe_mesh as probe_mesh

__all__ = [
    "AbstractOperator",
    "DenseOperator",
    "Eigenvalues",
    "Estimate",
    "FiniteDifferenceHessian",
    "FisherOperator",
    "GaussNewtonOperator",
    "HessianOperator",
    "MatvecOperator",
    "SpectralDensity",
    "as_operator",
    "diagonal",
    "eigenvalues",
    "finite_difference_hessian_operator",
    "fisher_operator",
    "frobenius_norm",
    "gauss_newton_operator",
    "hessian_operator",
    "linear_operator",
    "methods",
    "probe_mesh",
    "spectral_density",
    "spectral_norm",
    "trace",
]

"""Differential entropy, KL divergence and cross-entropy: closed forms, quadrature of
log-densities and sample estimators.

(The subpackage is ``calculax.information``; ``calculax.entropy`` is the function.)
"""

from ._closed_form import FAMILIES as FAMILIES
from ._closed_form import family_entropy as family_entropy
from ._divergence import cross_entropy as cross_entropy
from ._divergence import kl_divergence as kl_divergence
from ._entropy import entropy as entropy
from ._result import EntropyResult as EntropyResult
from ._samples._api import entropy_from_samples as entropy_from_samples

__all__ = [
    "EntropyResult",
    "FAMILIES",
    "cross_entropy",
    "entropy",
    "entropy_from_samples",
    "family_entropy",
    "kl_divergence",
]

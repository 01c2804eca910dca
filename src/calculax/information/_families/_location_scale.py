r"""Families without shape parameters: the entropy is a constant plus :math:`\log s`.

Each constant is the textbook value (Cover & Thomas, *Elements of Information
Theory*, table 17.1; Lazo & Rathie 1978) or follows from a change of variables
noted beside it; every one is checked against mpmath quadrature of
:math:`-p\log p` in the tests.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._family import Family, always
from ._special import EULER

_LOG_2PI = float(np.log(2 * np.pi))
_LOG2 = float(np.log(2.0))

_CONSTANTS = {
    "norm": 0.5 * (_LOG_2PI + 1),
    "uniform": 0.0,
    "expon": 1.0,
    "laplace": 1 + _LOG2,
    "logistic": 2.0,
    "cauchy": float(np.log(4 * np.pi)),
    "gumbel_r": 1 + EULER,
    "gumbel_l": 1 + EULER,
    "hypsecant": _LOG_2PI,  # pdf 1 / (pi cosh x)
    "semicircular": float(np.log(np.pi)) - 0.5,
    "arcsine": float(np.log(np.pi / 4)),
    "anglit": 1 - _LOG2,
    "cosine": float(np.log(4 * np.pi)) - 1,
    "moyal": 0.5 * (1 + EULER + float(np.log(4 * np.pi))),
    "levy": 0.5 * (1 + 3 * EULER + float(np.log(16 * np.pi))),
    "levy_l": 0.5 * (1 + 3 * EULER + float(np.log(16 * np.pi))),
    "halfnorm": 0.5 * float(np.log(np.pi * np.e / 2)),  # chi(1)
    "halfcauchy": _LOG_2PI,  # folded cauchy: minus log 2
    "halflogistic": 2 - _LOG2,
    "rayleigh": 1 + EULER / 2 - _LOG2 / 2,  # chi(2)
    "maxwell": 0.5 * _LOG_2PI + EULER - 0.5,  # chi(3)
    "gibrat": 0.5 * (_LOG_2PI + 1),  # lognorm(1)
}


def _constant(value: float):
    def standard():
        return jnp.asarray(value)

    return standard


FAMILIES = tuple(
    Family(name, (), _constant(value), always, "Cover & Thomas table 17.1")
    for name, value in _CONSTANTS.items()
)

r"""Exponential and power transforms: Weibull, Frechet, GEV, GPD, Pareto, Burr, ...

Each is :math:`X = g(E)` for :math:`E \sim \mathrm{Exp}(1)` (or a Lomax/logistic
variable), so :math:`H(X) = H(E) + E\log|g'(E)|` with :math:`E\log E = -\gamma`;
the results are short closed forms with no cancellation.

References:
    Lazo & Rathie (1978); Johnson, Kotz & Balakrishnan, *Continuous Univariate
    Distributions* vol. 1 (Burr XII: chapter 20).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._family import Family, positive
from ._special import EULER, digamma_stable

_LOG2 = float(np.log(2.0))


def _weibull(c):
    # E**(1/c): gamma (1 - 1/c) + 1 - log c.
    return EULER * (1 - 1 / c) + 1 - jnp.log(c)


def _invweibull(c):
    # E**(-1/c): 1 + gamma (1 + 1/c) - log c.
    return 1 + EULER * (1 + 1 / c) - jnp.log(c)


def _burr12(c, d):
    # (Lomax(d))**(1/c); E log Lomax(d) = psi(1) - psi(d):
    # 1 + 1/d - log(cd) + (1 - 1/c)(gamma + psi(d)), with psi(d) = psi(d+1) - 1/d
    # so that the 1/d pole cancels analytically: 1 + 1/(cd) - log(cd) + ....
    return (
        1
        + 1 / (c * d)
        - jnp.log(c)
        - jnp.log(d)
        + (1 - 1 / c) * (EULER + digamma_stable(d + 1))
    )


def _burr(c, d):
    # Burr III = 1 / Burr XII: add -2 E log(BurrXII) = 2 (gamma + psi(d)) / c,
    # again with psi(d) = psi(d + 1) - 1/d.
    return (
        1
        - 1 / (c * d)
        - jnp.log(c)
        - jnp.log(d)
        + (1 + 1 / c) * (EULER + digamma_stable(d + 1))
    )


def _any(c):
    return jnp.isfinite(c)


FAMILIES = (
    Family("weibull_min", ("c",), _weibull, positive, "E**(1/c)"),
    Family("weibull_max", ("c",), _weibull, positive, "-E**(1/c)"),
    Family("dweibull", ("c",), lambda c: _weibull(c) + _LOG2, positive, "two-sided"),
    Family("invweibull", ("c",), _invweibull, positive, "E**(-1/c)"),
    Family("genextreme", ("c",), lambda c: 1 + EULER * (1 - c), _any, "(1-E^c)/c"),
    Family("genpareto", ("c",), lambda c: 1 + c, _any, "(exp(cE)-1)/c"),
    Family("pareto", ("b",), lambda b: 1 + 1 / b - jnp.log(b), positive, "e^(E/b)"),
    Family("lomax", ("c",), lambda c: 1 + 1 / c - jnp.log(c), positive, "e^(E/c)-1"),
    Family("burr12", ("c", "d"), _burr12, positive, "Lomax(d)**(1/c)"),
    Family("burr", ("c", "d"), _burr, positive, "1 / burr12(c, d)"),
    Family("fisk", ("c",), lambda c: 2 - jnp.log(c), positive, "burr(c, 1)"),
    Family(
        "loglaplace",
        ("c",),
        lambda c: 1 + _LOG2 - jnp.log(c),
        positive,
        "exp(Laplace(1/c))",
    ),
)

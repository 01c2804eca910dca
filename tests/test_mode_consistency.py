"""Every mode right: the catalog's compositions, differentiated every way.

A compact part of ``tests/catalog.py`` (the whole catalog: ``python -m
tests.catalog_report``, counts in ``notes/numpy.md``): each entry at each of its points,
order 1 forward and reverse, order 2 in the four nestings (forward over forward,
forward over reverse, reverse over forward, reverse over reverse), and for a few
entries orders 3 and 4 nested both ways, must be right against mpmath wherever the
truth is a normal number of the dtype. The entries are the failures this suite was
written for: products such as ``x * log(x)``, quotients of composites at the range
edges (``a / b**2`` at ``b = 1e-15`` in float32), log-densities, norms of
differences, and the overflowing tails of softplus, logsumexp and sigmoid.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import catalog

_BY_NAME = {entry.name: entry for entry in catalog.CATALOG}

# (entry, variant, dtype, orders)
CHECKS = [
    ("x*log(x)", "stabilize", np.float32, (1, 2, 3, 4)),
    ("a/b**2", "stabilize", np.float32, (1, 2, 3)),
    ("log(1+exp(x))", "stabilize", np.float32, (1, 2)),
    ("logsumexp naive", "stabilize", np.float64, (1, 2)),
    ("softmax naive", "stabilize", np.float32, (1, 2)),
    ("log(sigmoid)", "stabilize", np.float32, (1, 2)),
    ("log(1-exp(x))", "stabilize", np.float64, (1, 2)),
    ("sqrt(x**2+eps)", "stabilize", np.float32, (1, 2)),
    ("sqrt(1-x**2)", "stabilize", np.float64, (1, 2)),
    ("||x-c|| (sum)", "stabilize", np.float64, (1,)),
    ("norm.logpdf", "stabilize", np.float32, (1, 2)),
    ("norm logpdf (jax's form)", "rewrite", np.float64, (1, 2)),
    ("tanh(x)/x", "stabilize", np.float32, (1, 2)),
    ("x*sqrt(x)", "stabilize", np.float64, (1, 2)),
    ("gelu_tanh", "cnp", np.float32, (1, 2)),
    ("squareplus", "cnp", np.float64, (1, 2)),
    ("rel_entr", "cnp", np.float32, (1, 2)),
    ("kl_div", "stabilize", np.float64, (1,)),
    ("digamma", "cnp", np.float32, (1, 2)),
]


@pytest.mark.parametrize(
    "name, variant, dtype, orders",
    CHECKS,
    ids=[f"{c[0]}-{c[1]}-{np.dtype(c[2]).name}" for c in CHECKS],
)
def test_every_mode_is_right(name, variant, dtype, orders):
    outcomes = catalog.evaluate(_BY_NAME[name], variant, dtype, orders)
    assert outcomes, "no point with a representable truth"
    wrong = [(o.point, o.order, o.labels) for o in outcomes if _wrong(o)]
    assert not wrong, f"{len(wrong)}/{len(outcomes)} wrong, e.g. {wrong[:4]}"


def _wrong(outcome) -> bool:
    return any(label != "right" for label in outcome.labels.values())


def test_the_modes_of_each_order():
    assert catalog.modes_of(1) == ("f", "r")
    assert catalog.modes_of(2) == ("ff", "fr", "rf", "rr")
    assert catalog.modes_of(3) == ("fff", "rrr")

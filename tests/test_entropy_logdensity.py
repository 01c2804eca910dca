"""Entropy of adversarial log-densities (``tests/entropy_cases.py``) against mpmath.

Separated modes 10 to 1e6 widths apart, weights down to 1e-6, end singularities
``x**(a-1)`` with ``a`` down to 1e-3, heavy tails, densities concentrated in a
width 1e-8 of their location. Every case is right (within 1e-9, status
successful, error covering the actual error) or flagged (a non-OK status whose
error covers the actual error). Which of the two is asserted per case: the flagged
ones are those float64 cannot resolve from the user's own formula (the abscissae
near 1e6 are 1.2e-10 apart, gamma.logpdf at a = 1e6 cancels 1e7-sized terms).

Each case compiles its own small integrand kernel (about a second); ``FAST``
covers every kind of difficulty in the default run, and the whole table runs with
``-m slow`` (``benchmarks/entropy_cases.py`` prints it).
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

import calculax

from . import entropy_references as refs
from .entropy_cases import CASES

NAMES = list(CASES)
TOL = 1e-9  # the bound
EPS64 = float(np.finfo(np.float64).eps)
# Limited by float64 itself (the flag and a covering error are the right answer).
FLAGGED = {
    "beta_0.002_3_on_5_6",  # 5 + 1e-300 is 5: the singular end's rounding
    "beta_2_0.005_on_m1_1",  # (x + 1) / 2 rounds 1 - u at the singular end
    "norm_at_1e6_sd1e-2",  # width 1e-8 of the location: abscissae 1e-8 apart
    "norm_at_m3.7e5_sd3.7e-3",
    "logistic_at_1e8",
    "gamma_1e6",  # gamma.logpdf at a = 1e6 cancels terms of size 1e7
    "beta_1e6_1e6",  # likewise betaln(1e6, 1e6)
    "expon_1e-6_from_100",
    "truncnorm_20_21",  # its log normaliser from log_ndtr differences, to 1e-8
}


# One of each kind: separated modes (1e6 widths, weight 1e-6, close pair), end
# singularities (a = 1e-3 at 0 and at a nonzero end), heavy tails (df 0.05),
# concentrated (sd 1e-8) and a case float64 cannot resolve (flagged).
FAST = (
    "mix_1e6_widths",
    "mix_weight_1e-6_far_narrow",
    "mix_100_widths_close",
    "beta_0.001_1000",
    "beta_0.5_0.5_at_1e6",
    "t_0.05",
    "norm_sd1e-8",
    "norm_at_1e6_sd1e-2",
)


@pytest.mark.parametrize(
    "name",
    [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in NAMES],
)
def test_right_or_flagged_with_a_covering_error(name):
    logpdf, support = CASES[name]
    result = calculax.entropy(logpdf, support=support, full_output=True, throw=False)
    truth = refs.logdensity_truth(name)
    actual = float(abs(mp.mpf(float(result.value)) - truth))
    error = float(result.error)
    if name in FLAGGED and not result.ok:
        assert error >= actual, (name, actual, error, result.message)
        return
    assert result.ok, (name, result.message)
    assert actual <= TOL, (name, actual)
    assert actual <= error + 8 * EPS64 * max(1.0, abs(float(truth))), (name, error)

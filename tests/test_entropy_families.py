"""Closed-form entropies of the SciPy families against mpmath at 50 digits.

One jitted, vmapped ``value_and_grad`` per family covers its whole grid (extreme
parameters included); truths come from ``tests/entropy_references.py`` (textbook
formulas in mpmath, cached). The formulas themselves are checked against SciPy's
quadrature of its own ``logpdf`` at one moderate point per family.
"""

from __future__ import annotations

import functools
import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
import scipy.integrate
import scipy.stats

import calculax
from calculax.information import FAMILIES, entropy, family_entropy

from . import entropy_references as refs

EPS64 = float(np.finfo(np.float64).eps)
EPS32 = float(np.finfo(np.float32).eps)
# Closed forms: 4096 ulp (9.1e-13) relative, or absolute where |H| < 1 (issue: 1e-12).
VALUE_TOL = 4096 * EPS64
# Gradients of the same forms by autodiff: 2**20 ulp (2.3e-10).
GRAD_TOL = 2**20 * EPS64
# Shape parameters where gradients are claimed to GRAD_TOL (below 1e-3 the 1/a poles
# of digamma cancel between terms and cost up to ~1e-9 relative in the gradient).
GRADIENT_RANGE = (1e-3, 1e12)
SCALES = (1e-300, 1e-3, 1.0, 7.0, 1e300)
# SciPy's quad of -p log p at its default accuracy, used only to check derivations.
QUAD_TOL = 1e-8


GRID_SIZE = 64  # every grid padded to this length: one shape for all families


def _padded(columns):
    return [
        jnp.asarray(np.resize(np.asarray(c, np.float64), GRID_SIZE)) for c in columns
    ]


@functools.cache
def _evaluated(name: str, gradients: bool):
    """Values (and gradients) of ``name`` over its padded grid, computed once.

    ``vmap`` without ``jit``: the forms are long elementwise programs whose
    whole-program XLA compilation costs up to 13 s per family, while op-by-op
    execution reuses the per-primitive compilations of every other family (all
    grids share one padded shape).
    """
    grid = refs.GRIDS[name]
    if not grid[0]:
        fn = jax.value_and_grad(lambda s: family_entropy(name, scale=s))
        return jax.vmap(fn)(_padded([SCALES])[0])
    n = len(grid[0])
    columns = _padded(zip(*grid))
    if not gradients:
        return jax.vmap(lambda *p: family_entropy(name, *p))(*columns), None
    fn = jax.value_and_grad(
        lambda *p: family_entropy(name, *p), argnums=tuple(range(n))
    )
    return jax.vmap(fn)(*columns)


def _relative(computed, truth) -> float:
    return float(abs(mp.mpf(float(computed)) - truth) / max(1, abs(truth)))


def test_at_least_forty_families_all_with_references():
    assert len(FAMILIES) >= 40
    assert set(FAMILIES) == set(refs.MP)


@pytest.mark.parametrize("name", sorted(refs.GRIDS))
def test_closed_form_matches_mpmath_over_grid(name):
    grid = refs.GRIDS[name]
    values, grads = _evaluated(name, False)
    if not grid[0]:
        for s, v, g in zip(SCALES, values, grads):
            truth = refs.truth(name, ()) + mp.log(s)
            assert _relative(v, truth) <= VALUE_TOL, (s, float(v), truth)
            assert abs(float(g) * s - 1) <= GRAD_TOL
        return
    worst = []
    for i, point in enumerate(grid):
        truth = refs.truth(name, point)
        error = _relative(values[i], truth)
        if error > VALUE_TOL:
            worst.append((point, float(values[i]), float(truth), error))
    assert not worst, worst


WITH_SHAPES = sorted(n for n in refs.GRIDS if refs.GRIDS[n][0])
# Representatives of every building block (gamma/beta remainders, digamma
# differences, erfcx, Bessel, pole-separated forms); the rest run with -m slow.
GRADIENT_FAST = ("gamma", "beta", "t", "betaprime", "truncnorm", "vonmises", "burr")


@pytest.mark.parametrize(
    "name",
    [
        n if n in GRADIENT_FAST else pytest.param(n, marks=pytest.mark.slow)
        for n in WITH_SHAPES
    ],
)
def test_gradient_matches_mpmath(name):
    _, grads = _evaluated(name, True)
    worst = []
    for i, point in enumerate(refs.GRIDS[name]):
        if not all(GRADIENT_RANGE[0] <= abs(x) <= GRADIENT_RANGE[1] for x in point):
            continue  # gradients are claimed in GRADIENT_RANGE only
        for j, truth in enumerate(refs.truth_gradient(name, point)):
            error = _relative(grads[j][i], truth)
            if error > GRAD_TOL:
                worst.append((point, j, float(grads[j][i]), float(truth), error))
    assert not worst, worst


def _scipy_quadrature_entropy(dist) -> float:
    lo, hi = dist.support()
    if dist.dist.name == "vonmises":  # SciPy reports (-inf, inf) for the circle
        lo, hi = -np.pi, np.pi

    def integrand(x):
        lp = dist.logpdf(x)
        return 0.0 if not np.isfinite(lp) else -np.exp(lp) * lp

    # Split at the median: SciPy's quad misses narrow or distant mass otherwise.
    middle = float(dist.median())
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return sum(
            scipy.integrate.quad(integrand, a, b, limit=500, epsabs=1e-13)[0]
            for a, b in ((lo, middle), (middle, hi))
        )


@pytest.mark.parametrize("name", sorted(refs.BENIGN))
def test_formula_agrees_with_scipy_quadrature(name):
    shapes = refs.BENIGN[name]
    dist = getattr(scipy.stats, name)(*shapes)
    expected = _scipy_quadrature_entropy(dist)
    assert abs(float(refs.truth(name, shapes)) - expected) <= QUAD_TOL


def test_scipy_frozen_arrays_are_one_vectorised_evaluation():
    a = np.array([0.3, 2.0, 1e10])
    result = entropy(scipy.stats.gamma(a, scale=2.0), full_output=True)
    assert result.method == "closed-form: gamma"
    for ai, v in zip(a, result.value):
        assert _relative(v, refs.truth("gamma", (ai,)) + mp.log(2)) <= VALUE_TOL
    bits = entropy(scipy.stats.norm(0, 1), base=2)
    assert abs(float(bits) - float(refs.truth("norm", ())) / np.log(2)) <= VALUE_TOL


def test_float32_in_float32_out():
    h = family_entropy("gamma", jnp.float32(2.5), scale=jnp.float32(3.0))
    assert h.dtype == jnp.float32
    truth = refs.truth("gamma", (2.5,)) + mp.log(3)
    assert _relative(h, truth) <= 64 * EPS32


def test_unknown_family_lists_supported_and_logpdf_route():
    with pytest.raises(ValueError, match="no closed form for family 'kappa9'.*logpdf"):
        family_entropy("kappa9", 1.0)
    with pytest.raises(ValueError, match="takes 2 shape parameter"):
        family_entropy("beta", 1.0)


def test_parameters_outside_domain_raise_under_jit():
    f = eqx.filter_jit(lambda a: family_entropy("gamma", a))
    with pytest.raises(eqx.EquinoxRuntimeError, match="outside the family's domain"):
        f(jnp.asarray(-1.0))


@pytest.mark.parametrize(
    "dist, received",
    [
        (scipy.stats.norm(0, -1.0), "norm(scale=-1.0)"),
        (scipy.stats.gamma(np.nan), "gamma(a=nan, scale=1.0)"),
        (scipy.stats.beta(-1, 2), "beta(a=-1.0, b=2.0, scale=1.0)"),
    ],
)
def test_parameters_outside_domain_are_a_value_error_naming_them(dist, received):
    with pytest.raises(ValueError, match="outside the family's domain") as error:
        entropy(dist)
    assert received in str(error.value)


def test_closed_form_beyond_the_float_range_is_inf_with_reason():
    # burr12(1e-300, 1e-300) has entropy 1.0e600 (mpmath), beyond float64.
    with mp.workdps(40):
        assert refs.truth("burr12", (1e-300, 1e-300)) > mp.mpf("1e599")
    result = entropy(scipy.stats.burr12(1e-300, 1e-300), full_output=True, throw=False)
    assert float(result.value) == np.inf
    assert result.status == calculax.RESULTS.divergent
    assert "divergent" in result.message
    with pytest.raises(calculax.NumericalError, match="entropy: The integral is"):
        entropy(scipy.stats.burr12(1e-300, 1e-300))
    assert entropy(scipy.stats.norm(0, 1), full_output=True).ok

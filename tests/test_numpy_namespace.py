"""``calculax.numpy`` is a drop-in ``jax.numpy``: every public name, each accounted for.

Against the installed JAX: every public name of ``jax.numpy``, ``jax.numpy.linalg``,
``jax.scipy.special`` and ``jax.nn`` is present in ``calculax.numpy``, ``.linalg``,
``.special`` and ``.nn``; each is either calculax's own (a stable rule) or JAX's own
object, classified in ``calculax.numpy._kept.KEPT`` (no derivative, linear, smooth
and tested, not covered). The smooth ones JAX's rules already handle are swept here
against mpmath in forward and reverse mode.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax.numpy as cnp
from calculax.numpy import _kept
from tests import catalog, helpers

NAMESPACES = [
    ("jax.numpy", "calculax.numpy"),
    ("jax.numpy.linalg", "calculax.numpy.linalg"),
    ("jax.scipy.special", "calculax.numpy.special"),
    ("jax.nn", "calculax.numpy.nn"),
]


@pytest.mark.parametrize("jax_name, ours", NAMESPACES)
def test_every_public_name_is_present_and_classified(jax_name, ours):
    module = importlib.import_module(ours)
    names = _kept.public_names(jax_name)
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"{ours} lacks {missing}"
    own = set(module.__all__)
    kept = set(_kept.KEPT[jax_name])
    unclassified = [n for n in names if n not in own and n not in kept]
    assert not unclassified, (
        f"{jax_name} names neither stable nor classified: {unclassified}"
    )
    both = sorted(own & kept)
    assert not both, f"{both} are defined by calculax and listed as kept"
    stale = sorted(kept - set(names))
    assert not stale, f"classified names {stale} are not in the installed {jax_name}"
    assert set(dir(module)) >= set(names)


@pytest.mark.parametrize("jax_name, ours", NAMESPACES)
def test_kept_names_are_jax_objects(jax_name, ours):
    module, reference = importlib.import_module(ours), importlib.import_module(jax_name)
    for name in _kept.KEPT[jax_name]:
        if name == "linalg":
            continue
        assert getattr(module, name) is getattr(reference, name), name


def test_unknown_name_is_an_attribute_error_naming_the_package():
    with pytest.raises(AttributeError, match="calculax.numpy' has no attribute 'nope'"):
        cnp.nope  # noqa: B018
    with pytest.raises(AttributeError, match="calculax.numpy.nn"):
        cnp.nn._private  # noqa: B018


def test_import_stays_cheap():
    # The kept names are JAX's, looked up on first use: importing calculax.numpy
    # and using them loads no package beyond what `import jax` already has.
    code = (
        "import sys, jax, calculax; before = set(sys.modules); "
        "import calculax.numpy as cnp; cnp.sum; cnp.linalg.det; "
        "cnp.special.gammaln; cnp.nn.relu; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert set(eval(out.stdout)) <= {"jax", "jaxlib", "calculax"}, out.stdout


def test_drop_in_program():
    # A program written for jax.numpy runs unchanged on calculax.numpy.
    def program(np_, x):
        y = np_.where(x > 0, np_.sqrt(np_.abs(x)), np_.sin(x))
        return np_.sum(np_.mean(np_.stack([y, np_.cumsum(y)]), axis=0)) + np_.std(x)

    x = jnp.linspace(-2.0, 2.0, 7)
    np.testing.assert_allclose(program(cnp, x), program(jnp, x), rtol=1e-12)
    np.testing.assert_allclose(
        jax.grad(lambda v: program(cnp, v))(x),
        jax.grad(lambda v: program(jnp, v))(x),
        rtol=1e-12,
    )


# The smooth kept functions, swept like the catalog (orders 1-2, every mode pair).
SMOOTH = {
    "jax.numpy": {
        "sin": (lambda xp, x: xp.sin(x), mpmath.sin, catalog.moderate),
        "cos": (lambda xp, x: xp.cos(x), mpmath.cos, catalog.moderate),
        "tan": (lambda xp, x: xp.tan(x), mpmath.tan, catalog.moderate),
        "var": (
            lambda xp, x: xp.var(xp.stack([x, 2.0 * x, 0.0 * x])),
            lambda x: 2 * x * x / 3,
            catalog.both_signs,
        ),
        "nanvar": (
            lambda xp, x: xp.nanvar(xp.stack([x, 2.0 * x, 0.0 * x])),
            lambda x: 2 * x * x / 3,
            catalog.both_signs,
        ),
        "polyval": (
            lambda xp, x: xp.polyval(xp.asarray([1.0, -2.0, 3.0]), x),
            lambda x: x * x - 2 * x + 3,
            catalog.moderate,
        ),
    },
    "jax.scipy.special": {
        "erf": (lambda xp, x: xp.special.erf(x), mpmath.erf, catalog.tails),
        "erfc": (lambda xp, x: xp.special.erfc(x), mpmath.erfc, catalog.tails),
        "erfinv": (
            lambda xp, x: xp.special.erfinv(x),
            mpmath.erfinv,
            catalog.unit_both,
        ),
        "ndtr": (lambda xp, x: xp.special.ndtr(x), mpmath.ncdf, catalog.tails),
        "ndtri": (
            lambda xp, x: xp.special.ndtri(x),
            lambda p: -mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * p),
            catalog.unit,
        ),
        "gamma": (
            lambda xp, x: xp.special.gamma(x),
            mpmath.gamma,
            lambda d: [0.1, 0.5, 1.5, 3.0, 10.0, 20.0],
        ),
    },
}


def test_smooth_table_covers_the_kept_smooth_names():
    for module, table in SMOOTH.items():
        listed = {n for n, reason in _kept.KEPT[module].items() if reason == "smooth"}
        assert listed == set(table), module


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize(
    "module, name", [(m, n) for m, table in SMOOTH.items() for n in table]
)
def test_kept_smooth_functions_are_stable(module, name, dtype):
    fn, truth, points = SMOOTH[module][name]
    entry = catalog.Entry(name, fn, truth, points)
    outcomes = catalog.evaluate(entry, "cnp", dtype, orders=(1, 2))
    wrong = [o for o in outcomes if set(o.labels.values()) != {"right"}]
    assert outcomes and not wrong, wrong[:5]

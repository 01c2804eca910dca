"""The private shared layer ``calculax._core``: the jaxpr walker, the definition of
right, finite differences, and the one-way imports it makes possible."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from calculax._core import differences, jaxpr, tolerance

SRC = Path(__file__).resolve().parents[1] / "src" / "calculax"


def test_the_walker_skips_what_known_values_make_dead():
    # y = exp(sin(x)) + x: with the value of sin(x) given, sin is never evaluated.
    closed = jax.make_jaxpr(lambda x: jnp.exp(jnp.sin(x)) + x)(0.5)
    sin_var = closed.jaxpr.eqns[0].outvars[0]
    seen = []

    def rule(eqn, invals):
        seen.append(eqn.primitive.name)
        return jaxpr.bind(eqn, invals)

    (out,) = jaxpr.evaluate(
        closed.jaxpr, closed.consts, [0.5], rule, known={sin_var: jnp.float64(0.0)}
    )
    assert seen == ["exp", "add"] and float(out) == 1.5


def test_calls_and_checkpoints_are_inlined_with_the_same_rule():
    inner = jax.jit(lambda x: x * 3)
    closed = jax.make_jaxpr(lambda x: jax.checkpoint(lambda y: inner(y) + 1)(x))(2.0)
    seen = []

    def rule(eqn, invals):
        if jaxpr.is_call(eqn):
            return jaxpr.inline(eqn, invals, rule)
        seen.append(eqn.primitive.name)
        return jaxpr.bind(eqn, invals)

    (out,) = jaxpr.evaluate(closed.jaxpr, closed.consts, [2.0], rule)
    assert float(out) == 7.0 and seen == ["mul", "add"]
    assert not jaxpr.is_call(closed.jaxpr.eqns[0], remat=False)


def test_traced_name_tells_jax_functions_from_users():
    def hypot(a, b):  # a user's function with JAX's name
        return a + b

    ours = jax.make_jaxpr(lambda a, b: jax.jit(hypot)(a, b))(1.0, 2.0)
    theirs = jax.make_jaxpr(jnp.hypot)(1.0, 2.0)
    assert jaxpr.traced_name(ours.jaxpr.eqns[0].params["jaxpr"]) == ("hypot", False)
    assert jaxpr.traced_name(theirs.jaxpr.eqns[0].params["jaxpr"])[1]


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_the_central_stencil_is_exact_on_polynomials_of_degree_order_plus_one(order):
    # D_h^k x**(k+1) = (k+1)! x + O(h**2) * 0 for odd symmetric stencils: exact to
    # rounding at h = 1/4 (a power of two).
    x, h = 1.5, 0.25
    value = differences.central_difference(lambda t: t ** (order + 1), x, h, order)
    exact = math.factorial(order + 1) * x
    assert abs(float(value) - exact) <= 1e-12 * exact


def test_ridders_extrapolates_away_the_truncation_error():
    x = np.array([0.3, 1.0])
    estimate, error = differences.ridders(
        lambda h: (np.exp(x + h) - np.exp(x - h)) / (2 * h), 0.1 * np.ones(2)
    )
    np.testing.assert_allclose(estimate, np.exp(x), rtol=1e-13)
    assert np.all(error < 1e-10)  # an estimate of the truncation error, not a bound


def test_right_is_within_ulps_of_the_truth_at_slightly_moved_inputs():
    # cos(x) at the float32 nearest pi/2: the truth is ~-4.4e-8, and a value off by
    # 1 ulp of x times |sin x| = 1 is right only with the backward-error term.
    x = np.float32(np.pi / 2)
    truth = mpmath.cos(mpmath.mpf(float(x)))
    computed = float(truth) + 4 * float(np.finfo(np.float32).eps)
    assert tolerance.classify(computed, truth, np.float32, 0) == "inaccurate"
    slope = abs(float(x)) * abs(float(mpmath.sin(mpmath.mpf(float(x)))))
    assert tolerance.classify(computed, truth, np.float32, 0, slope) == "right"
    assert tolerance.ulps(1) == tolerance.ULPS[1] == 32 and tolerance.ulps(6) == 1024


def _imports(package: Path) -> set[str]:
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            # `from ..x import y` in a module of the package names the package x.
            if isinstance(node, ast.ImportFrom) and node.level >= 2 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_imports_flow_one_way():
    # _core imports no public package; derivatives not audit; audit not _tour.
    assert {m for m in _imports(SRC / "_core") if not m.startswith("_")} == set()
    assert "audit" not in _imports(SRC / "derivatives")
    assert "_tour" not in _imports(SRC / "audit")


def test_quick_jit_compiles_quickly_only_at_the_top_level():
    """QuickJit runs its quickly-compiled program for concrete inputs outside jit,
    and its plain one otherwise: JAX refuses compile options on a nested jit, so
    calling the quick program inside a user's jit (even with constants) would
    raise."""
    from calculax._core.quick_compile import QuickJit

    f = QuickJit(lambda x: jnp.sin(x) * 2)
    truth = 2 * math.sin(0.5)
    quick = int(jax.default_backend() == "cpu")  # other backends: the plain one
    assert float(f(0.5)) == pytest.approx(truth, rel=1e-6)
    assert f.on_cpu._cached._cache_size() == quick  # the concrete call
    assert float(jax.jit(lambda: f(0.5))()) == pytest.approx(truth, rel=1e-6)
    assert float(jax.jit(f)(0.5)) == pytest.approx(truth, rel=1e-6)
    np.testing.assert_allclose(jax.vmap(f)(jnp.full(2, 0.5)), truth, rtol=1e-6)
    assert float(jax.grad(f)(0.5)) == pytest.approx(2 * math.cos(0.5), rel=1e-6)
    assert f.on_cpu._cached._cache_size() == quick  # none of those used it

"""``calculax.audit.explain``: rule-by-rule tangents, finite differences, the report.

Truths are closed forms evaluated with mpmath (each test states its own); the
chain of rules is checked against ``jax.jvp`` on the function itself.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import calculax
from calculax.audit import explain
from tests.helpers import ULPS, eps


@pytest.fixture(autouse=True)
def _precision():
    with mpmath.workdps(40):
        yield


def _within(value, exact, dtype, order) -> bool:
    # Within ULPS[order] ulp of a nonzero closed-form truth.
    return abs(mpmath.mpf(float(value)) - exact) <= ULPS[order] * eps(dtype) * abs(
        exact
    )


def _seed_ratio(a, b):
    return -a / b


def test_seed_ratio_rows_rules_and_values():
    # -a/b at a = b = 1e-30 (float32): JAX's rule forms b**-2 = inf; the truth of
    # d/db is a/b**2 = 1/b.
    b = np.float32(1e-30)
    report = explain(_seed_ratio, argnums=1)(b, b)
    assert [s.equation for s in report.steps] == ["v1 = neg a", "v2 = div v1 b"]
    assert [s.source for s in report.steps] == ["jax", "jax"]
    assert report.steps[1].rule == "d(x/y) = dx/y - x*dy*y**-2"
    assert float(report.steps[1].values[0]) == -1.0
    assert report.derivative == report.autodiff == np.inf
    exact = 1 / mpmath.mpf(float(b))
    assert abs(report.truth - exact) <= mpmath.mpf(10) ** -30 * exact
    # No finite-difference step is exact either, but the best one is finite.
    assert 0 < report.best_finite_difference().error < 1e-3


@pytest.mark.parametrize("order", [1, 2])
def test_seed_ratio_stabilized_rows_are_calculax_rules(order):
    # d^k/db^k (-a/b) at a = b = 1e-10 in float32: (-1)**(k+1) k! a / b**(k+1).
    b = np.float32(1e-10)
    report = explain(_seed_ratio, argnums=1, order=order, stabilized=True)(b, b)
    assert report.steps[1].source == "calculax"
    assert "never forms y**2" in report.steps[1].rule
    bm = mpmath.mpf(float(b))
    exact = (-1) ** (order + 1) * mpmath.factorial(order) * bm / bm ** (order + 1)
    assert _within(report.derivative, exact, np.float32, order)
    assert report.derivative == report.autodiff


def _composite(x):
    return jnp.exp(jnp.sin(x)) / jnp.sqrt(1 + x**2) + jnp.tanh(x) * jnp.log1p(x)


@pytest.mark.parametrize("stabilized", [False, True], ids=["jax", "calculax"])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_the_chain_is_autodiff_and_matches_the_truth(order, stabilized):
    # Question 4 of the seed: autodiff's number *is* the chain of rules (bit for
    # bit: jax.jvp nested on f itself), and it is right against mpmath's
    # high-precision derivative of the closed form.
    x = 0.7

    def exact_function(t):
        return mpmath.exp(mpmath.sin(t)) / mpmath.sqrt(1 + t**2) + mpmath.tanh(
            t
        ) * mpmath.log1p(t)

    exact = mpmath.diff(exact_function, mpmath.mpf(x), order)
    report = explain(_composite, order=order, stabilized=stabilized)(x)
    assert report.derivative == report.autodiff
    assert _within(report.derivative, exact, np.float64, order)
    assert abs(report.truth - exact) <= mpmath.mpf(10) ** -25 * abs(exact)
    # ... and no central finite difference gets as close.
    assert report.error < report.best_finite_difference().error


def test_every_row_carries_its_own_derivatives():
    # exp(sin x): row 1 is sin with derivatives cos, -sin; row 2 is exp(sin x) with
    # derivatives e^s cos, e^s (cos^2 - sin), closed forms at x = 0.4.
    x = 0.4
    report = explain(lambda t: jnp.exp(jnp.sin(t)), order=2)(x)
    s, c, e = (mpmath.sin(x), mpmath.cos(x), mpmath.exp(mpmath.sin(x)))
    rows = [(s, [c, -s]), (e, [e * c, e * (c**2 - s)])]
    for step, (value, derivatives) in zip(report.steps, rows, strict=True):
        assert _within(step.values[0], value, np.float64, 1)
        for order, (got, want) in enumerate(zip(step.derivatives[0], derivatives), 1):
            assert _within(got, want, np.float64, order)


def test_finite_differences_are_the_central_formula():
    # For x**3 the central difference is exactly 3 x**2 + h**2 (truncation error
    # h**2): at large steps the estimate is that, up to rounding of f's values.
    x = 2.0
    report = explain(lambda t: t**3, steps=(1e-1, 1e-2, 1e-3))(x)
    for row in report.finite_differences:
        h = row.step * x
        assert row.estimate == pytest.approx(3 * x**2 + h**2, rel=1e-10)
        assert row.error == pytest.approx(h**2 / 12, rel=1e-6)


def test_finite_difference_error_is_a_v():
    # float64, exp at x = 1: the error falls with the step (truncation), then rises
    # again (rounding): its minimum is strictly inside 1e-1 .. 1e-15.
    report = explain(jnp.exp)(1.0)
    errors = [row.error for row in report.finite_differences]
    best = int(np.argmin(errors))
    assert 0 < best < len(errors) - 1
    assert errors[0] > 10 * errors[best] and errors[-1] > 10 * errors[best]


def test_custom_jvp_and_control_flow_rows():
    def f(x):
        return jnp.logaddexp(x, 2 * x) + jax.lax.cond(x > 0, jnp.sin, jnp.cos, x)

    x = 0.5
    naive = explain(f)(x)
    rules = {s.primitive: s.rule for s in naive.steps}
    assert rules["custom_jvp_call"] == "the custom_jvp rule of logaddexp"
    assert rules["cond"].startswith("JAX's rule for cond")
    stable = explain(f, stabilized=True)(x)
    rules = {s.primitive: (s.source, s.rule) for s in stable.steps}
    assert rules["custom_jvp_call"][0] == "calculax"
    assert rules["custom_jvp_call"][1].startswith("d logaddexp(x, y)")
    # d/dx [logaddexp(x, 2x) + sin x] = (e^x + 2 e^2x) / (e^x + e^2x) + cos x.
    xm = mpmath.mpf(x)
    exact = (mpmath.exp(xm) + 2 * mpmath.exp(2 * xm)) / (
        mpmath.exp(xm) + mpmath.exp(2 * xm)
    ) + mpmath.cos(xm)
    for report in (naive, stable):
        assert _within(report.derivative, exact, np.float64, 1)
        assert report.derivative == report.autodiff


def test_an_unknown_primitive_gets_a_generic_row_not_a_crash():
    # erf_inv has no formula in the table and no high-precision truth.
    report = explain(lambda x: jax.lax.erf_inv(x / 4) + x * x)(1.0)
    rows = {s.primitive: s.rule for s in report.steps}
    assert rows["erf_inv"] == "JAX's rule for erf_inv"
    assert report.truth is None
    # d/dx (erfinv(x/4) + x**2) = (sqrt(pi)/2) exp(erfinv(1/4)**2) / 4 + 2
    slope = (
        math.sqrt(math.pi) / 2 * math.exp(float(jax.scipy.special.erfinv(0.25)) ** 2)
    )
    assert abs(report.derivative - (slope / 4 + 2)) <= 1e-6
    assert "truth: not available" in report.to_markdown()


def test_markdown_and_plot(tmp_path):
    report = explain(jnp.tanh, stabilized=True)(np.float32(20.0))
    text = str(report)
    assert text == report.to_markdown()
    assert "| 1 | `v1 = tanh x` | d tanh(x) = dx*(1/cosh(x))**2" in text
    assert "no finite-difference step gets as close as autodiff" in text
    path = report.plot(tmp_path / "v.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_top_level_export_matches_the_subpackage():
    # explain is re-exported as calculax.explain once the shared __init__ has it.
    explain_top = getattr(calculax, "explain", explain)
    assert explain_top is explain


def test_bad_input_is_specific():
    with pytest.raises(TypeError, match="callable"):
        explain(3.0)
    with pytest.raises(ValueError, match="order must be an int >= 1"):
        explain(jnp.sin, order=0)
    with pytest.raises(ValueError, match="argnums must be one int"):
        explain(jnp.sin, argnums=(0, 1))
    with pytest.raises(ValueError, match="steps must be positive"):
        explain(jnp.sin, steps=(1e-3, -1.0))
    with pytest.raises(ValueError, match="out of range for 1 arguments"):
        explain(jnp.sin, argnums=1)(1.0)
    with pytest.raises(TypeError, match="real floating-point scalars"):
        explain(jnp.sin)(jnp.ones(2))
    with pytest.raises(ValueError, match="scalar-valued"):
        explain(lambda x: jnp.stack([x, x]))(1.0)

    @jax.custom_vjp
    def g(x):
        return x

    g.defvjp(lambda x: (x, None), lambda _, t: (t,))
    with pytest.raises(ValueError, match="forward mode"):
        explain(g)(1.0)


def test_every_supported_primitive_has_a_formula():
    # The primitives the truth interpreter evaluates have JAX's rule written out;
    # those stabilize rewrites have calculax's too (calls are inlined, not rows).
    from calculax.audit import SUPPORTED
    from calculax.audit._rules import CALCULAX_RULES, JAX_RULES
    from calculax.derivatives._stable_primitives import (
        STABLE_CUSTOM_JVP,
        STABLE_PRIMITIVES,
    )

    calls = {"jit", "pjit", "closed_call", "core_call", "remat2", "checkpoint"}
    custom = {"custom_jvp_call", "custom_vjp_call"}
    assert set(SUPPORTED) - calls - custom <= set(JAX_RULES)
    assert set(STABLE_PRIMITIVES) | set(STABLE_CUSTOM_JVP) <= set(CALCULAX_RULES)


def test_a_loop_with_several_results_is_one_row_per_result():
    # fori_loop is a scan with results (counter, carry): x**3 at x = 0.5, d = 3 x**2.
    def cube(x):
        return jax.lax.fori_loop(0, 3, lambda i, c: c * x, jnp.ones_like(x))

    report = explain(cube)(0.5)
    loop = next(s for s in report.steps if s.primitive in ("scan", "while"))
    assert len(loop.values) == 2 and loop.derivatives[0] == [None]
    assert float(loop.values[1]) == 0.125 and float(loop.derivatives[1][0]) == 0.75
    assert report.derivative == 0.75
    assert "| | output `v2` | | 0.125 | 0.75 |" in report.to_markdown()


def test_a_truth_outside_the_dtype_is_said_so():
    # d2/db2 (-a/b) = -2a/b**3 = -2e60 at a = b = 1e-30: beyond float32. The finite
    # differences are rounded to float32 like the derivative, so none "wins".
    b = np.float32(1e-30)
    report = explain(_seed_ratio, argnums=1, order=2, stabilized=True)(b, b)
    exact = -2 / mpmath.mpf(float(b)) ** 2
    assert abs(report.truth - exact) <= mpmath.mpf(10) ** -30 * abs(exact)
    assert report.derivative == -np.inf
    assert report.finite_differences[0].estimate == -np.inf
    assert "neither can return it" in report.to_markdown()


def _x_log_x(x):
    return x * jnp.log(x)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_explain_and_audit_agree_in_the_same_mode(mode):
    # x log x at 1e-20 in float32, stabilized, order 2 (truth 1/x = 1e20): both
    # name their mode, and in the same mode they compute the same number.
    x = np.float32(1e-20)
    report = explain(_x_log_x, order=2, stabilized=True, mode=mode)(x)
    swept = calculax.audit.audit(_x_log_x, order=2, exponents=[-20], mode=mode)
    assert report.mode == swept.mode == mode
    assert report.autodiff == report.derivative == swept.computed["stabilized"][0]
    assert f"{mode} mode" in report.to_markdown()
    assert swept.to_markdown().startswith(f"{mode.capitalize()} mode")


def test_reverse_mode_rows_are_each_rows_own_derivatives():
    # exp(sin x) at x = 0.4 in reverse mode: the rows' derivatives are those of
    # forward mode (the same functions of x), to rounding.
    forward = explain(lambda t: jnp.exp(jnp.sin(t)), order=2)(0.4)
    reverse = explain(lambda t: jnp.exp(jnp.sin(t)), order=2, mode="reverse")(0.4)
    for a, b in zip(forward.steps, reverse.steps, strict=True):
        assert a.equation == b.equation
        for da, db in zip(a.derivatives[0], b.derivatives[0]):
            np.testing.assert_allclose(da, db, rtol=8 * eps(np.float64))
    assert reverse.derivative == reverse.autodiff


def test_a_custom_vjp_function_is_explained_in_reverse_mode():
    @jax.custom_vjp
    def double(x):
        return 2 * x

    double.defvjp(lambda x: (2 * x, None), lambda _, t: (2 * t,))
    report = explain(lambda x: double(x) * x, mode="reverse")(1.5)
    assert report.derivative == report.autodiff == 6.0

# ruff: noqa: E501
"""Bad and edge inputs to the derivative functions and to ``calculax.audit``.

Entry points: ``derivative``, ``jacobian``, ``hessian``, ``mixed``, ``hvp``,
``vhp``, ``mixed_hvp``, ``check_derivative``, ``custom_derivative``, ``stabilize``
(its options), ``audit``, ``explain``, ``high_precision``, ``true_derivative``.
Each case states its expected outcome: a specific error (type and message), a right
value (against a closed form), or a flagged result (a non-OK status, or the
library's numerical error, where no verified number can be given). Most cases are
Python-level checks that compile nothing.

``python -m tests.bad_input.test_derivatives`` prints the outcome classes per entry
point for whichever calculax is importable (``PYTHONPATH=.../src``); the counts
before and after are in ``notes/jaxpr.md``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import traceback
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
from calculax import audit as _audit_package
from calculax import derivatives as D
from tests.test_check_derivative import _scaled_rule


@dataclasses.dataclass(frozen=True)
class Raises:
    kind: type
    match: str


@dataclasses.dataclass(frozen=True)
class Value:
    """A right value: ``check(result)`` is true."""

    check: Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class Flagged:
    """No verified number: a non-OK status, or calculax's numerical error."""


@dataclasses.dataclass(frozen=True)
class Case:
    entry: str
    name: str
    run: Callable[[], Any]
    expect: Any

    def __str__(self):
        return f"{self.entry}: {self.name}"


def _two(x, y):
    return jnp.sum(x * y)


def _scalar(x):
    return jnp.sum(x**2)


X2 = np.array([0.5, -1.5])
F32 = np.float32


def _close(truth, rtol):
    def check(value):
        value = np.asarray(value, np.float64)
        return bool(
            np.all(np.abs(value - truth) <= rtol * np.maximum(np.abs(truth), 1))
        )

    return check


def _vjp_only():
    @jax.custom_vjp
    def double(x):
        return 2 * x

    double.defvjp(lambda x: (2 * x, None), lambda _, t: (2 * t,))
    return lambda x: double(x) * x


def _partials_wrong_count(a, b):
    return (1.0 / b,)


def _untraceable(x):
    return float(x) * 2


def _audit(f, **kwargs):
    kwargs.setdefault("exponents", [0])
    return _audit_package.audit(f, **kwargs)


def _explain(f, args=(1.0,), **kwargs):
    return _audit_package.explain(f, **kwargs)(*args)


_CALLABLE = "callable"
E = Raises

CASES = [
    # -- derivative: options (no compilation) --------------------------------------
    Case(
        "derivative",
        "f not callable",
        lambda: D.derivative(3.0),
        E(TypeError, _CALLABLE),
    ),
    Case(
        "derivative",
        "argnums ()",
        lambda: D.derivative(_two, argnums=()),
        E(ValueError, "at least one"),
    ),
    Case(
        "derivative",
        "argnums bool",
        lambda: D.derivative(_two, argnums=True),
        E(TypeError, "bool"),
    ),
    Case(
        "derivative",
        "argnums float",
        lambda: D.derivative(_two, argnums=0.5),
        E(TypeError, "int"),
    ),
    Case(
        "derivative",
        "argnums string",
        lambda: D.derivative(_two, argnums="0"),
        E(TypeError, "int"),
    ),
    Case(
        "derivative",
        "argnums negative",
        lambda: D.derivative(_two, argnums=-1),
        E(ValueError, "non-negative"),
    ),
    Case(
        "derivative",
        "order negative",
        lambda: D.derivative(_two, order=-1),
        E(ValueError, "order must be >= 0"),
    ),
    Case(
        "derivative",
        "order float",
        lambda: D.derivative(_two, order=1.5),
        E(TypeError, "int"),
    ),
    Case(
        "derivative",
        "order bool",
        lambda: D.derivative(_two, order=True),
        E(TypeError, "bool"),
    ),
    Case(
        "derivative",
        "order per argnum, wrong length",
        lambda: D.derivative(_two, (0, 1), (1, 2, 3)),
        E(ValueError, "one entry per argnum"),
    ),
    Case(
        "derivative",
        "mode unknown",
        lambda: D.derivative(_two, mode="sideways"),
        E(ValueError, "mode must be one of"),
    ),
    Case(
        "derivative",
        "mode None",
        lambda: D.derivative(_two, mode=None),
        E(ValueError, "mode must be one of"),
    ),
    Case(
        "derivative",
        "max_bytes 0",
        lambda: D.derivative(_two, max_bytes=0),
        E(ValueError, "max_bytes"),
    ),
    Case(
        "derivative",
        "max_bytes negative",
        lambda: D.derivative(_two, max_bytes=-5),
        E(ValueError, "max_bytes"),
    ),
    Case(
        "derivative",
        "max_bytes string",
        lambda: D.derivative(_two, max_bytes="2GB"),
        E(TypeError, "max_bytes"),
    ),
    Case(
        "derivative",
        "max_bytes bool",
        lambda: D.derivative(_two, max_bytes=True),
        E(TypeError, "max_bytes"),
    ),
    Case(
        "derivative",
        "symmetric a string",
        lambda: D.derivative(_two, symmetric="0"),
        E(TypeError, "symmetric"),
    ),
    Case(
        "derivative",
        "symmetric repeated",
        lambda: D.derivative(_two, symmetric=(0, 0)),
        E(ValueError, "symmetric"),
    ),
    # -- derivative: arguments (trace only) -----------------------------------------
    Case(
        "derivative",
        "argnums out of range",
        lambda: D.derivative(_two, argnums=2)(1.0, 2.0),
        E(ValueError, "out of range"),
    ),
    Case(
        "derivative",
        "integer input",
        lambda: D.derivative(_two)(jnp.arange(3), 2.0),
        E(TypeError, "dtype int"),
    ),
    Case(
        "derivative",
        "boolean input",
        lambda: D.derivative(_two)(jnp.ones(2, bool), 2.0),
        E(TypeError, "dtype bool"),
    ),
    Case(
        "derivative",
        "complex input",
        lambda: D.derivative(_two)(jnp.ones(2) * 1j, 2.0),
        E(TypeError, "complex"),
    ),
    Case(
        "derivative",
        "string output",
        lambda: D.derivative(lambda x: "x")(1.0),
        E(TypeError, "must return arrays"),
    ),
    Case(
        "derivative",
        "integer output",
        lambda: D.derivative(lambda x: jnp.int32(x))(1.0),
        E(TypeError, "int32"),
    ),
    Case(
        "derivative",
        "symmetric argument not square",
        lambda: D.derivative(jnp.sum, symmetric=(0,))(jnp.ones((2, 3))),
        E(ValueError, "square matrices"),
    ),
    Case(
        "derivative",
        "taylor on a vector",
        lambda: D.derivative(jnp.sin, order=3, mode="taylor")(jnp.ones(2)),
        E(ValueError, "one scalar"),
    ),
    Case(
        "derivative",
        "taylor without a series rule",
        lambda: D.derivative(jax.lax.lgamma, order=3, mode="taylor")(1.5),
        E(ValueError, "lgamma"),
    ),
    Case(
        "derivative",
        "too large",
        lambda: D.derivative(lambda x: 2 * x, max_bytes=100)(jnp.ones(4)),
        E(ValueError, "max_bytes=100"),
    ),
    # -- derivative: values ---------------------------------------------------------
    Case(
        "derivative",
        "bfloat16 input",
        lambda: D.derivative(jnp.sin)(jnp.bfloat16(0.5)),
        Value(_close(math.cos(0.5), 2**-7)),
    ),
    Case(
        "derivative",
        "float16 input",
        lambda: D.derivative(jnp.sin)(np.float16(0.5)),
        Value(_close(math.cos(0.5), 2**-9)),
    ),
    Case(
        "derivative",
        "order 0 is f",
        lambda: D.derivative(jnp.sin, order=0)(0.5),
        Value(_close(math.sin(0.5), 1e-6)),
    ),
    Case(
        "derivative",
        "order 35 in float32",
        lambda: D.derivative(jnp.exp, order=35)(F32(2.0)),
        Value(_close(math.exp(2.0), 2**-12)),
    ),
    Case(
        "derivative",
        "order 40 in float32, 1/x at 2",
        lambda: D.derivative(lambda x: 1 / x, order=40)(F32(2.0)),
        Value(_close(math.factorial(40) / 2**41, 2**-12)),
    ),
    Case(
        "derivative",
        "order 35 in float32, not representable",
        lambda: D.derivative(lambda x: 1 / x, order=35)(F32(1.0)),
        Value(lambda v: float(v) == -math.inf),
    ),
    Case(
        "derivative",
        "under vmap",
        lambda: jax.vmap(D.derivative(jnp.sin))(jnp.array([0.0, 0.5])),
        Value(_close(np.cos([0.0, 0.5]), 1e-6)),
    ),
    # -- jacobian / hessian / mixed -------------------------------------------------
    Case(
        "jacobian",
        "repeated argnums",
        lambda: D.jacobian(_two, argnums=(0, 0)),
        E(ValueError, "repeats"),
    ),
    Case(
        "jacobian", "f not callable", lambda: D.jacobian(None), E(TypeError, _CALLABLE)
    ),
    Case(
        "jacobian",
        "value",
        lambda: D.jacobian(lambda x: x**2)(jnp.array([1.0, 2.0])),
        Value(_close(np.diag([2.0, 4.0]), 1e-6)),
    ),
    Case(
        "hessian",
        "argnums a tuple",
        lambda: D.hessian(_two, argnums=(0, 1)),
        E(TypeError, "one int"),
    ),
    Case(
        "hessian",
        "argnums bool",
        lambda: D.hessian(_two, argnums=False),
        E(TypeError, "one int"),
    ),
    Case(
        "hessian",
        "value",
        lambda: D.hessian(_scalar)(jnp.array([1.0, 2.0])),
        Value(_close(2 * np.eye(2), 1e-6)),
    ),
    Case(
        "mixed",
        "argnums one int",
        lambda: D.mixed(_two, argnums=0),
        E(ValueError, "at least two"),
    ),
    Case(
        "mixed",
        "argnums a string",
        lambda: D.mixed(_two, argnums="01"),
        E(ValueError, "at least two"),
    ),
    Case(
        "mixed",
        "value",
        lambda: D.mixed(_two)(jnp.ones(2), jnp.ones(2)),
        Value(_close(np.eye(2), 1e-6)),
    ),
    # -- hvp / vhp / mixed_hvp ------------------------------------------------------
    Case("hvp", "f not callable", lambda: D.hvp("f", X2, X2), E(TypeError, _CALLABLE)),
    Case(
        "hvp", "vector-valued f", lambda: D.hvp(jnp.sin, X2, X2), E(TypeError, "scalar")
    ),
    Case(
        "hvp",
        "direction of another shape",
        lambda: D.hvp(_scalar, X2, X2[:1]),
        E(ValueError, "structure and shapes"),
    ),
    Case(
        "hvp",
        "complex direction",
        lambda: D.hvp(_scalar, X2, X2 * 1j),
        E(TypeError, "real"),
    ),
    Case(
        "hvp",
        "integer point",
        lambda: D.hvp(_scalar, jnp.arange(2), X2),
        E(TypeError, "dtype int"),
    ),
    Case(
        "hvp",
        "pytree parameters and data",
        lambda: D.hvp(
            lambda p, d: jnp.sum(p["w"] ** 2 * d) + p["b"] ** 3,
            {"w": jnp.ones(2), "b": jnp.float32(2.0)},
            {"w": jnp.ones(2), "b": jnp.float32(1.0)},
            jnp.array([1.0, 3.0]),
        )["w"],
        Value(_close(np.array([2.0, 6.0]), 1e-6)),
    ),
    Case("vhp", "f not callable", lambda: D.vhp(1, X2, X2), E(TypeError, _CALLABLE)),
    Case(
        "vhp", "vector-valued f", lambda: D.vhp(jnp.sin, X2, X2), E(TypeError, "scalar")
    ),
    Case(
        "vhp",
        "direction of another structure",
        lambda: D.vhp(_scalar, X2, (X2,)),
        E(ValueError, "structure and shapes"),
    ),
    Case(
        "vhp",
        "value with data",
        lambda: D.vhp(lambda x, c: c * jnp.sum(x**3), X2, np.ones(2), 2.0),
        Value(_close(12 * X2, 1e-6)),
    ),
    Case(
        "mixed_hvp",
        "argnums out of range",
        lambda: D.mixed_hvp(_two, (X2, X2), X2, argnums=(0, 2)),
        E(ValueError, "range"),
    ),
    Case(
        "mixed_hvp",
        "args not a tuple",
        lambda: D.mixed_hvp(_two, X2, X2),
        E(ValueError, "tuple"),
    ),
    Case(
        "mixed_hvp",
        "three argnums",
        lambda: D.mixed_hvp(_two, (X2, X2), X2, argnums=(0, 1, 1)),
        E(ValueError, "two positions"),
    ),
    Case(
        "mixed_hvp",
        "argnums bools",
        lambda: D.mixed_hvp(_two, (X2, X2), X2, argnums=(True, False)),
        E(TypeError, "bool"),
    ),
    Case(
        "mixed_hvp",
        "value",
        lambda: D.mixed_hvp(
            lambda x, y: jnp.sum(x * y**2),
            (jnp.ones(2), jnp.array([1.0, 3.0])),
            jnp.array([1.0, 0.0]),
        ),
        Value(_close(np.array([2.0, 0.0]), 1e-6)),
    ),
    # -- check_derivative -----------------------------------------------------------
    Case(
        "check_derivative",
        "f not callable",
        lambda: D.check_derivative(2.0, (X2,)),
        E(TypeError, _CALLABLE),
    ),
    Case(
        "check_derivative",
        "unknown reference",
        lambda: D.check_derivative(jnp.sin, (X2,), reference="exact"),
        E(ValueError, "reference must be one of"),
    ),
    Case(
        "check_derivative",
        "order 0",
        lambda: D.check_derivative(jnp.sin, (X2,), order=0),
        E(ValueError, "at least 1"),
    ),
    Case(
        "check_derivative",
        "args not a tuple",
        lambda: D.check_derivative(jnp.sin, X2),
        E(TypeError, "tuple"),
    ),
    Case(
        "check_derivative",
        "digits 0",
        lambda: D.check_derivative(jnp.sin, (X2,), digits=0),
        E(ValueError, "digits"),
    ),
    Case(
        "check_derivative",
        "digits 5",
        lambda: D.check_derivative(jnp.sin, (X2,), digits=5),
        E(ValueError, "digits"),
    ),
    Case(
        "check_derivative",
        "digits a string",
        lambda: D.check_derivative(jnp.sin, (X2,), digits="30"),
        E(TypeError, "digits"),
    ),
    Case(
        "check_derivative",
        "negative rtol",
        lambda: D.check_derivative(jnp.sin, (X2,), rtol=-1e-6),
        E(ValueError, "rtol"),
    ),
    Case(
        "check_derivative",
        "nan atol",
        lambda: D.check_derivative(jnp.sin, (X2,), atol=float("nan")),
        E(ValueError, "atol"),
    ),
    Case(
        "check_derivative",
        "rtol a string",
        lambda: D.check_derivative(jnp.sin, (X2,), rtol="tight"),
        E(TypeError, "rtol"),
    ),
    Case(
        "check_derivative",
        "throw a string",
        lambda: D.check_derivative(jnp.sin, (X2,), throw="no"),
        E(TypeError, "throw"),
    ),
    Case(
        "check_derivative",
        "nan in the point",
        lambda: D.check_derivative(jnp.sin, (np.array([np.nan, 1.0]),)),
        E(ValueError, "nan"),
    ),
    Case(
        "check_derivative",
        "pytree output",
        lambda: D.check_derivative(lambda x: {"a": x}, (X2,)),
        E(TypeError, "single array"),
    ),
    Case(
        "check_derivative",
        "too many entries for the truth",
        lambda: D.check_derivative(lambda x: x, (jnp.ones(30),), order=3),
        E(ValueError, "finite-d"),
    ),
    Case(
        "check_derivative",
        "right rule",
        lambda: bool(D.check_derivative(lambda x: jnp.sin(x) * x, (X2,)).ok),
        Value(bool),
    ),
    Case(
        "check_derivative",
        "wrong entry next to large ones, truth",
        lambda: D.check_derivative(_scaled_rule(1e-3), (jnp.array([1.0, 2.0]),)),
        Flagged(),
    ),
    Case(
        "check_derivative",
        "wrong entry next to large ones, differences",
        lambda: D.check_derivative(
            _scaled_rule(1e-3), (jnp.array([1.0, 2.0]),), reference="finite-difference"
        ),
        Flagged(),
    ),
    Case(
        "check_derivative",
        "sign at 0, differences",
        lambda: D.check_derivative(
            jnp.sign, (jnp.array([0.0, 1.0]),), reference="finite-difference"
        ),
        Flagged(),
    ),
    Case(
        "check_derivative",
        "sqrt at 0, differences",
        lambda: D.check_derivative(
            jnp.sqrt, (jnp.array([0.0, 1.0]),), reference="finite-difference"
        ),
        Flagged(),
    ),
    Case(
        "check_derivative",
        "sign at 0, truth",
        lambda: D.check_derivative(jnp.sign, (jnp.array([0.0, 1.0]),)),
        Flagged(),
    ),
    # -- custom_derivative ----------------------------------------------------------
    Case(
        "custom_derivative",
        "no partials",
        lambda: D.custom_derivative(jnp.sin),
        E(TypeError, "needs partials"),
    ),
    Case(
        "custom_derivative",
        "partials not callable",
        lambda: D.custom_derivative(jnp.sin, partials=3),
        E(TypeError, "partials must be callable"),
    ),
    Case(
        "custom_derivative",
        "function not callable",
        lambda: D.custom_derivative(3, partials=jnp.cos),
        E(TypeError, "function must be callable"),
    ),
    Case(
        "custom_derivative",
        "too few partials",
        lambda: jax.grad(
            D.custom_derivative(jnp.divide, partials=_partials_wrong_count)
        )(1.0, 2.0),
        E(TypeError, "returned 1 value"),
    ),
    Case(
        "custom_derivative",
        "a partial that is a string",
        lambda: jax.grad(D.custom_derivative(jnp.sin, partials=lambda x: "cos"))(1.0),
        E(TypeError, "array of numbers"),
    ),
    Case(
        "custom_derivative",
        "a complex partial",
        lambda: jax.grad(D.custom_derivative(jnp.sin, partials=lambda x: 1j * x))(1.0),
        E(TypeError, "complex"),
    ),
    # -- stabilize's options ----------------------------------------------------------
    Case(
        "stabilize", "f not callable", lambda: D.stabilize(5), E(TypeError, _CALLABLE)
    ),
    Case(
        "stabilize",
        "report a string",
        lambda: D.stabilize(jnp.sin, report="yes"),
        E(TypeError, "report"),
    ),
    Case(
        "stabilize",
        "rewrite an int",
        lambda: D.stabilize(jnp.sin, rewrite=1),
        E(TypeError, "rewrite"),
    ),
    Case(
        "stabilize",
        "untraceable f",
        lambda: D.stabilize(_untraceable)(1.0),
        E(TypeError, "could not trace"),
    ),
    # -- audit ---------------------------------------------------------------------
    Case("audit", "f not callable", lambda: _audit(1.0), E(TypeError, _CALLABLE)),
    Case(
        "audit",
        "order 0",
        lambda: _audit(jnp.sin, order=0),
        E(ValueError, "order must be >= 1"),
    ),
    Case(
        "audit",
        "order a float",
        lambda: _audit(jnp.sin, order=1.5),
        E(TypeError, "order"),
    ),
    Case(
        "audit",
        "wrt out of range",
        lambda: _audit(lambda a, b: a / b, wrt=2),
        E(ValueError, "out of range"),
    ),
    Case(
        "audit",
        "tie includes wrt",
        lambda: _audit(lambda a, b: a / b, wrt=1, tie=[1]),
        E(ValueError, "tie"),
    ),
    Case(
        "audit",
        "integer dtype",
        lambda: _audit(jnp.sin, dtype=np.int32),
        E(ValueError, "dtype"),
    ),
    Case(
        "audit",
        "complex dtype",
        lambda: _audit(jnp.sin, dtype=np.complex64),
        E(ValueError, "dtype"),
    ),
    Case("audit", "sign 2", lambda: _audit(jnp.sin, sign=2.0), E(ValueError, "sign")),
    Case(
        "audit",
        "no exponents",
        lambda: _audit(jnp.sin, exponents=[]),
        E(ValueError, "exponents"),
    ),
    Case(
        "audit",
        "fractional exponent",
        lambda: _audit(jnp.sin, exponents=[0.5]),
        E(TypeError, "exponents"),
    ),
    Case(
        "audit",
        "nan in at",
        lambda: _audit(lambda a, b: a / b, at=(1.0, float("nan"))),
        E(ValueError, "finite"),
    ),
    Case(
        "audit",
        "unknown mode",
        lambda: _audit(jnp.sin, mode="sideways"),
        E(ValueError, "mode"),
    ),
    Case(
        "audit",
        "progress not callable",
        lambda: _audit(jnp.sin, progress=3),
        E(TypeError, "progress"),
    ),
    Case(
        "audit",
        "rewrite a string",
        lambda: _audit(jnp.sin, rewrite="yes"),
        E(TypeError, "rewrite"),
    ),
    Case(
        "audit",
        "arity unknown without at",
        lambda: _audit(lambda *a: a[0] * 2),
        E(ValueError, "pass `at`"),
    ),
    # -- explain -------------------------------------------------------------------
    Case("explain", "f not callable", lambda: _explain(3.0), E(TypeError, _CALLABLE)),
    Case(
        "explain",
        "order 0",
        lambda: _explain(jnp.sin, order=0),
        E(ValueError, "order must be an int >= 1"),
    ),
    Case(
        "explain",
        "argnums a tuple",
        lambda: _explain(jnp.sin, argnums=(0, 1)),
        E(ValueError, "argnums must be one int"),
    ),
    Case(
        "explain",
        "negative step",
        lambda: _explain(jnp.sin, steps=(1e-3, -1.0)),
        E(ValueError, "steps must be positive"),
    ),
    Case(
        "explain",
        "no steps",
        lambda: _explain(jnp.sin, steps=()),
        E(ValueError, "steps must be positive"),
    ),
    Case(
        "explain",
        "steps a string",
        lambda: _explain(jnp.sin, steps="small"),
        E(TypeError, "steps"),
    ),
    Case(
        "explain",
        "unknown mode",
        lambda: _explain(jnp.sin, mode="both"),
        E(ValueError, "mode"),
    ),
    Case(
        "explain",
        "stabilized a string",
        lambda: _explain(jnp.sin, stabilized="yes"),
        E(TypeError, "stabilized"),
    ),
    Case(
        "explain",
        "argnums out of range",
        lambda: _explain(jnp.sin, argnums=1),
        E(ValueError, "out of range"),
    ),
    Case(
        "explain",
        "array argument",
        lambda: _explain(jnp.sin, args=(jnp.ones(2),)),
        E(TypeError, "real floating-point scalars"),
    ),
    Case(
        "explain",
        "nan argument",
        lambda: _explain(jnp.sin, args=(float("nan"),)),
        E(ValueError, "finite"),
    ),
    Case(
        "explain",
        "custom_vjp in forward mode",
        lambda: _explain(_vjp_only(), args=(1.5,)),
        E(ValueError, "mode='reverse'"),
    ),
    Case(
        "explain",
        "custom_vjp in reverse mode",
        lambda: _explain(_vjp_only(), args=(1.5,), mode="reverse").derivative,
        Value(_close(6.0, 1e-12)),
    ),
    # -- high_precision / true_derivative -----------------------------------------
    Case(
        "high_precision",
        "f not callable",
        lambda: _audit_package.high_precision(1),
        E(TypeError, _CALLABLE),
    ),
    Case(
        "high_precision",
        "digits 0",
        lambda: _audit_package.high_precision(jnp.sin, digits=0),
        E(ValueError, "digits"),
    ),
    Case(
        "high_precision",
        "digits a float",
        lambda: _audit_package.high_precision(jnp.sin, digits=2.5),
        E(TypeError, "digits"),
    ),
    Case(
        "high_precision",
        "digits bool",
        lambda: _audit_package.high_precision(jnp.sin, digits=True),
        E(TypeError, "digits"),
    ),
    Case(
        "true_derivative",
        "f not callable",
        lambda: _audit_package.true_derivative(None, 1.0),
        E(TypeError, _CALLABLE),
    ),
    Case(
        "true_derivative",
        "argnums out of range",
        lambda: _audit_package.true_derivative(jnp.sin, 1.0, argnums=2),
        E(ValueError, "out of range"),
    ),
    Case(
        "true_derivative",
        "argnums repeated",
        lambda: _audit_package.true_derivative(_two, 1.0, 2.0, argnums=(0, 0)),
        E(ValueError, "repeat"),
    ),
    Case(
        "true_derivative",
        "order negative",
        lambda: _audit_package.true_derivative(jnp.sin, 1.0, order=-1),
        E(ValueError, "non-negative"),
    ),
    Case(
        "true_derivative",
        "orders of another length",
        lambda: _audit_package.true_derivative(
            _two, 1.0, 2.0, argnums=(0, 1), order=(1,)
        ),
        E(ValueError, "one per argnum"),
    ),
    Case(
        "true_derivative",
        "nan point",
        lambda: _audit_package.true_derivative(jnp.sin, float("nan")),
        E(ValueError, "finite"),
    ),
    Case(
        "true_derivative",
        "complex point",
        lambda: _audit_package.true_derivative(jnp.sin, 1j),
        E(TypeError, "real scalar"),
    ),
    Case(
        "true_derivative",
        "array point",
        lambda: _audit_package.true_derivative(jnp.sin, np.ones(2)),
        E(TypeError, "real scalar"),
    ),
    Case(
        "true_derivative",
        "digits 0",
        lambda: _audit_package.true_derivative(jnp.sin, 1.0, digits=0),
        E(ValueError, "digits"),
    ),
    Case(
        "true_derivative",
        "vector-valued f",
        lambda: _audit_package.true_derivative(lambda x: jnp.stack([x, x]), 1.0),
        E(ValueError, "scalar-valued"),
    ),
    Case(
        "true_derivative",
        "value",
        lambda: float(_audit_package.true_derivative(jnp.sin, 0.5, order=3)),
        Value(_close(-math.cos(0.5), 1e-15)),
    ),
]

_OURS = ("calculax", "/calculax/")
_CRASH_TYPES = (
    AttributeError,
    IndexError,
    KeyError,
    RecursionError,
    ZeroDivisionError,
    AssertionError,
    UnboundLocalError,
    NameError,
)


def _raised_by_us(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and "/calculax/" in frames[-1].filename.replace("\\", "/")


def _flagged(result) -> bool:
    status = getattr(result, "status", None)
    results = getattr(calculax, "RESULTS", None)
    return status is not None and results is not None and not bool(result.ok)


def outcome(case: Case) -> str:
    """``right``, ``specific error``, ``flagged``, ``silent wrong``, ``crash`` or
    ``generic error``."""
    try:
        result = case.run()
    except Exception as error:  # noqa: BLE001 -- classifying is the point
        expect = case.expect
        numerical = getattr(calculax, "NumericalError", ())
        if isinstance(expect, Flagged) and numerical and isinstance(error, numerical):
            return "flagged"
        if isinstance(expect, Raises) and isinstance(error, expect.kind):
            import re

            if re.search(expect.match, str(error)):
                return "specific error"
        if isinstance(error, _CRASH_TYPES) or not _raised_by_us(error):
            return "crash"
        return "generic error"
    if isinstance(case.expect, Value):
        try:
            return "right" if case.expect.check(result) else "silent wrong"
        except Exception:  # noqa: BLE001
            return "silent wrong"
    if isinstance(case.expect, Flagged):
        return "flagged" if _flagged(result) else "silent wrong"
    return "silent wrong"  # an error was expected and a value came back


_EXPECTED = {Raises: "specific error", Value: "right", Flagged: "flagged"}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case):
    assert outcome(case) == _EXPECTED[type(case.expect)]


def main() -> None:
    counts: dict = collections.defaultdict(collections.Counter)
    for case in CASES:
        counts[case.entry][outcome(case)] += 1
    classes = [
        "right",
        "specific error",
        "flagged",
        "silent wrong",
        "crash",
        "generic error",
    ]
    print(f"{len(CASES)} cases")
    print("| entry point | " + " | ".join(classes) + " |")
    print("|---" * (len(classes) + 1) + "|")
    total: collections.Counter = collections.Counter()
    for entry, counter in counts.items():
        total.update(counter)
        print(f"| {entry} | " + " | ".join(str(counter[c]) for c in classes) + " |")
    print("| **all** | " + " | ".join(str(total[c]) for c in classes) + " |")


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)  # as the test suite runs
    main()

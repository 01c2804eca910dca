"""Bad and edge inputs to ``calculax.numpy`` and ``calculax.stabilize``.

Each case states its expected outcome: a specific error (type and message), a right
value (against a closed form or mpmath), or a loud result (``nan``/``inf`` where no
right number can be given, never a finite wrong one). ``python -m
tests.bad_input.test_numpy`` prints the outcome classes per entry point for whichever
calculax is importable (``PYTHONPATH=.../src``), the counts in ``notes/numpy.md``.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax

F32 = jnp.float32


@dataclasses.dataclass(frozen=True)
class Raises:
    kind: type
    match: str


@dataclasses.dataclass(frozen=True)
class Value:
    truth: Any
    rtol: float = 1e-5


@dataclasses.dataclass(frozen=True)
class Loud:
    """No right number exists (or none can be computed): ``nan`` or ``inf``."""


@dataclasses.dataclass(frozen=True)
class Case:
    entry: str
    name: str
    run: Callable[[], Any]
    expect: Any

    def __str__(self):
        return f"{self.entry}: {self.name}"


def _cnp():
    import calculax.numpy as cnp

    return cnp


def _mf(f, A):
    return _cnp().linalg.matrix_function(f, A)


_NONSYMMETRIC = jnp.array([[1.0, 2.0], [0.0, 1.0]], F32)
_SYMMETRIC = jnp.array([[2.0, 1.0], [1.0, 2.0]], F32)
_EXP_SYMMETRIC = (
    np.array(
        [
            [math.e**3 + math.e, math.e**3 - math.e],
            [math.e**3 - math.e, math.e**3 + math.e],
        ]
    )
    / 2
)
_SYMMETRY = "`A` must be symmetric"


def _jit_mf(A):
    return jax.jit(lambda a: _mf(_cnp().exp, a))(A)


def _vmap_mf(A):
    return jax.vmap(lambda a: _mf(_cnp().exp, a))(A)


def _grad_mf(A):
    return jax.grad(lambda a: jnp.trace(_mf(_cnp().exp, a)))(A)


def _closes_over_tracer(A):
    return jax.jit(lambda s: _mf(lambda lam: s * lam, A))(2.0)


CASES = [
    # ---- matrix_function: its precondition (issue 14) and its arguments
    Case(
        "linalg.matrix_function",
        "non-symmetric",
        lambda: _mf(_cnp().exp, _NONSYMMETRIC),
        Raises(ValueError, _SYMMETRY),
    ),
    Case(
        "linalg.matrix_function",
        "non-symmetric under jit",
        lambda: _jit_mf(_NONSYMMETRIC),
        Raises(Exception, _SYMMETRY),
    ),
    Case(
        "linalg.matrix_function",
        "one non-symmetric in a vmap batch",
        lambda: _vmap_mf(jnp.stack([_SYMMETRIC, _NONSYMMETRIC])),
        Raises(Exception, _SYMMETRY),
    ),
    Case(
        "linalg.matrix_function",
        "non-symmetric under grad",
        lambda: _grad_mf(_NONSYMMETRIC),
        Raises(Exception, _SYMMETRY),
    ),
    Case(
        "linalg.matrix_function",
        "non-Hermitian complex",
        lambda: _mf(_cnp().exp, jnp.array([[1.0, 1j], [1j, 1.0]], jnp.complex64)),
        Raises(ValueError, _SYMMETRY),
    ),
    Case(
        "linalg.matrix_function",
        "upper triangle only",
        lambda: _mf(_cnp().exp, jnp.triu(_SYMMETRIC)),
        Raises(ValueError, _SYMMETRY),
    ),
    Case(
        "linalg.matrix_function",
        "symmetric to rounding",
        lambda: _mf(_cnp().exp, _SYMMETRIC.at[0, 1].add(1e-7)),
        Value(_EXP_SYMMETRIC, 1e-5),
    ),
    Case(
        "linalg.matrix_function",
        "symmetric",
        lambda: _mf(_cnp().exp, _SYMMETRIC),
        Value(_EXP_SYMMETRIC, 1e-5),
    ),
    Case(
        "linalg.matrix_function",
        "symmetric integers",
        lambda: _mf(_cnp().exp, jnp.array([[2, 1], [1, 2]])),
        Value(_EXP_SYMMETRIC, 1e-5),
    ),
    Case(
        "linalg.matrix_function",
        "non-square",
        lambda: _mf(_cnp().exp, jnp.ones((2, 3))),
        Raises(ValueError, "square matrix"),
    ),
    Case(
        "linalg.matrix_function",
        "vector",
        lambda: _mf(_cnp().exp, jnp.ones(3)),
        Raises(ValueError, "square matrix"),
    ),
    Case(
        "linalg.matrix_function",
        "f not callable",
        lambda: _mf(2.0, _SYMMETRIC),
        Raises(TypeError, "f must be a callable"),
    ),
    Case(
        "linalg.matrix_function",
        "f changes the shape",
        lambda: _mf(lambda lam: lam[:1], _SYMMETRIC),
        Raises(TypeError, "same shape and dtype"),
    ),
    Case(
        "linalg.matrix_function",
        "f closes over a tracer",
        lambda: _closes_over_tracer(_SYMMETRIC),
        Raises(TypeError, "closes over a traced value"),
    ),
    Case(
        "linalg.matrix_function",
        "bfloat16",
        lambda: _mf(_cnp().exp, _SYMMETRIC.astype(jnp.bfloat16)),
        Raises(TypeError, "does not support dtype bfloat16"),
    ),
    Case(
        "linalg.matrix_function",
        "nan entry",
        lambda: _mf(_cnp().exp, _SYMMETRIC.at[0, 0].set(jnp.nan)),
        Loud(),
    ),
    # ---- dtypes and names
    Case(
        "numpy.exp",
        "float8 input",
        lambda: _cnp().exp(jnp.zeros(2, jnp.float8_e4m3fn)),
        Raises(TypeError, "does not support dtype float8_e4m3fn"),
    ),
    Case(
        "numpy.log",
        "integer input promoted",
        lambda: _cnp().log(jnp.array([1, 4])),
        Value(np.log([1.0, 4.0])),
    ),
    Case(
        "numpy.sqrt",
        "boolean input promoted",
        lambda: _cnp().sqrt(jnp.array([True, False])),
        Value(np.array([1.0, 0.0])),
    ),
    Case("numpy.exp", "a string", lambda: _cnp().exp("1.0"), Raises(TypeError, "exp")),
    Case(
        "numpy",
        "unknown name",
        lambda: _cnp().not_a_function,
        Raises(AttributeError, "calculax.numpy' has no attribute"),
    ),
    Case(
        "numpy", "jax.numpy name (sum)", lambda: _cnp().sum(jnp.arange(4.0)), Value(6.0)
    ),
    Case(
        "numpy",
        "jax.numpy name (where) with a grad",
        lambda: jax.grad(lambda x: _cnp().where(x > 0, _cnp().sqrt(x), 0.0))(0.0),
        Value(0.0),
    ),
    Case(
        "numpy.linalg",
        "jax.numpy.linalg name (det)",
        lambda: _cnp().linalg.det(_SYMMETRIC),
        Value(3.0),
    ),
    Case(
        "numpy.special",
        "jax.scipy.special name (gammaln)",
        lambda: _cnp().special.gammaln(F32(5.0)),
        Value(math.log(24.0)),
    ),
    Case(
        "numpy.nn", "jax.nn name (relu)", lambda: _cnp().nn.relu(F32(-1.0)), Value(0.0)
    ),
    # ---- shapes and options, JAX's checks with the function's name
    Case(
        "numpy.divide",
        "shapes that do not broadcast",
        lambda: _cnp().divide(jnp.ones(2), jnp.ones(3)),
        Raises(TypeError, "incompatible shapes"),
    ),
    Case(
        "numpy.std",
        "out argument",
        lambda: _cnp().std(jnp.ones(3), out=jnp.ones(3)),
        Raises(NotImplementedError, "jnp.std"),
    ),
    Case(
        "numpy.std",
        "axis out of range",
        lambda: _cnp().std(jnp.ones(3), axis=2),
        Raises(ValueError, "`axis` must be None, or integers in"),
    ),
    Case(
        "numpy.std",
        "ddof and correction both",
        lambda: _cnp().std(jnp.ones(3), ddof=1, correction=1),
        Raises(ValueError, "correction"),
    ),
    Case(
        "numpy.std",
        "tiny spread (variance underflows)",
        lambda: _cnp().std(jnp.array([1e-25, 2e-25], F32)),
        Value(5e-26, 1e-6),
    ),
    Case(
        "numpy.std",
        "gradient at a constant vector",
        lambda: jax.grad(_cnp().std)(jnp.ones(3, F32)),
        Value(np.zeros(3)),
    ),
    Case(
        "numpy.std",
        "ddof equal to the size",
        lambda: _cnp().std(jnp.ones(2), ddof=2),
        Loud(),
    ),
    Case(
        "numpy.nanstd", "all nan", lambda: _cnp().nanstd(jnp.full(3, jnp.nan)), Loud()
    ),
    Case(
        "numpy.linalg.norm",
        "invalid ord",
        lambda: _cnp().linalg.norm(jnp.ones(3), ord="fro"),
        Raises(ValueError, "(?i)invalid"),
    ),
    Case(
        "numpy.linalg.vector_norm",
        "overflow-free",
        lambda: _cnp().linalg.vector_norm(jnp.full((2, 2), 1e30, F32)),
        Value(2e30),
    ),
    Case(
        "numpy.linalg.matrix_norm",
        "a vector",
        lambda: _cnp().linalg.matrix_norm(jnp.ones(3)),
        Raises(ValueError, "(?i)matrix|dimension|axis|ndim"),
    ),
    Case(
        "numpy.nn.glu",
        "odd size",
        lambda: _cnp().nn.glu(jnp.ones(3)),
        Raises(ValueError, "along `axis` must be even"),
    ),
    Case(
        "numpy.special.kl_div",
        "complex input",
        lambda: _cnp().special.kl_div(jnp.ones(2, jnp.complex64), jnp.ones(2)),
        Raises(ValueError, "complex"),
    ),
    # ---- domains and edges: right values or loud
    Case(
        "numpy.sqrt",
        "negative argument",
        lambda: jax.grad(_cnp().sqrt)(F32(-1.0)),
        Loud(),
    ),
    Case(
        "numpy.log",
        "gradient at 0",
        lambda: jax.grad(_cnp().log)(F32(0.0)),
        Value(np.inf),
    ),
    Case("numpy.arctanh", "outside [-1, 1]", lambda: _cnp().arctanh(F32(2.0)), Loud()),
    Case(
        "numpy.exp",
        "masked overflow (strong zero)",
        lambda: jax.grad(lambda x: jnp.where(x < 100, _cnp().exp(x), 0.0))(F32(1000.0)),
        Value(0.0),
    ),
    Case(
        "numpy.log",
        "overflowed argument",
        lambda: jax.grad(lambda x: _cnp().log(x + _cnp().exp(x)))(F32(1000.0)),
        Loud(),
    ),
    Case(
        "numpy.nn.log1mexp",
        "negative argument",
        lambda: _cnp().nn.log1mexp(F32(-1.0)),
        Loud(),
    ),
    Case(
        "numpy.nn.squareplus",
        "left tail",
        lambda: _cnp().nn.squareplus(F32(-1e4)),
        Value(1e-4, 1e-6),
    ),
    Case(
        "numpy.nn.gelu",
        "left tail",
        lambda: _cnp().nn.gelu(F32(-10.0)),
        Value(-1.2040923e-37, 1e-5),
    ),
    Case(
        "numpy.special.rel_entr",
        "second derivative at q = 1e-20",
        lambda: jax.grad(jax.grad(_cnp().special.rel_entr, 1), 1)(
            F32(1e-20), F32(1e-20)
        ),
        Value(1e20),
    ),
    Case(
        "numpy.special.rel_entr",
        "outside the domain",
        lambda: jax.grad(_cnp().special.rel_entr)(F32(-1.0), F32(1.0)),
        Value(0.0),
    ),
    Case(
        "numpy.logaddexp2",
        "both -inf",
        lambda: jax.grad(_cnp().logaddexp2)(-jnp.inf, -jnp.inf),
        Value(0.5),
    ),
    Case(
        "numpy.angle",
        "gradient at the origin",
        lambda: jax.grad(lambda x: _cnp().angle(x + 0j))(F32(0.0)),
        Value(0.0),
    ),
    Case(
        "numpy",
        "hessian of x * log(x) at 1e-25",
        lambda: calculax.hessian(lambda x: x * _cnp().log(x))(F32(1e-25)),
        Value(1e25),
    ),
    # ---- stabilize
    Case(
        "stabilize",
        "not callable",
        lambda: calculax.stabilize(3.0),
        Raises(TypeError, "expects a callable"),
    ),
    Case(
        "stabilize",
        "Python control flow on a value",
        lambda: calculax.stabilize(lambda x: x if x > 0 else -x)(1.0),
        Raises(TypeError, "could not trace"),
    ),
    Case(
        "stabilize",
        "softplus written out at 1000",
        lambda: jax.grad(calculax.stabilize(lambda x: jnp.log(1 + jnp.exp(x))))(
            F32(1000.0)
        ),
        Value(1.0),
    ),
    Case(
        "stabilize",
        "naive logsumexp gradient",
        lambda: jax.grad(calculax.stabilize(lambda x: jnp.log(jnp.sum(jnp.exp(x)))))(
            jnp.array([1000.0, 1.0, 2.0, 3.0], F32)
        ),
        Value(np.array([1.0, 0.0, 0.0, 0.0])),
    ),
    Case(
        "stabilize",
        "unrescued overflow is loud",
        lambda: jax.grad(calculax.stabilize(lambda x: jnp.log(x + jnp.exp(x))))(
            F32(1000.0)
        ),
        Loud(),
    ),
    Case(
        "stabilize",
        "norm.logpdf Hessian at sigma = 1e-18",
        lambda: jax.hessian(calculax.stabilize(jax.scipy.stats.norm.logpdf), 2)(
            F32(0.0), F32(0.0), F32(1e-18)
        ),
        Value(1e36),
    ),
    Case(
        "stabilize",
        "x * log(x), forward over forward",
        lambda: jax.jacfwd(jax.jacfwd(calculax.stabilize(lambda x: x * jnp.log(x))))(
            F32(1e-25)
        ),
        Value(1e25),
    ),
    Case(
        "stabilize",
        "a / b**2 at b = 1e-15",
        lambda: jax.grad(calculax.stabilize(lambda a, b: a / b**2), 1)(
            F32(1e-15), F32(1e-15)
        ),
        Value(-2e30),
    ),
    Case(
        "stabilize",
        "rewrite=True softplus value at 1000",
        lambda: calculax.stabilize(lambda x: jnp.log(1 + jnp.exp(x)), rewrite=True)(
            F32(1000.0)
        ),
        Value(1000.0),
    ),
    Case(
        "stabilize",
        "jax.nn.elu slope at -20",
        lambda: jax.grad(calculax.stabilize(jax.nn.elu))(F32(-20.0)),
        Value(math.exp(-20.0)),
    ),
    Case(
        "stabilize",
        "integer argument",
        lambda: calculax.stabilize(lambda n, x: x**n)(3, F32(2.0)),
        Value(8.0),
    ),
    Case(
        "stabilize",
        "static string argument",
        lambda: calculax.stabilize(lambda x, name: x * len(name))(F32(2.0), "abc"),
        Value(6.0),
    ),
    Case(
        "stabilize",
        "nan input",
        lambda: jax.grad(calculax.stabilize(lambda x: jnp.log(1 + jnp.exp(x))))(
            F32(jnp.nan)
        ),
        Loud(),
    ),
]


def outcome(case: Case) -> str:
    """``right``, ``specific error``, ``flagged`` (loud ``nan``/``inf``), ``silent
    wrong``, ``generic error`` (an error without the expected message) or ``crash``
    (an unexpected exception type)."""
    try:
        value = case.run()
        value = jax.tree.map(np.asarray, value)
    except Exception as error:  # noqa: BLE001 - classify whatever happened
        expect = case.expect
        if isinstance(expect, Raises) and isinstance(error, expect.kind):
            import re

            return (
                "specific error"
                if re.search(expect.match, str(error))
                else "generic error"
            )
        if isinstance(error, (TypeError, ValueError)) and "calculax" in str(error):
            return "generic error"
        return "crash"
    leaves = [np.asarray(v, dtype=np.complex128) for v in jax.tree.leaves(value)]
    finite = all(np.all(np.isfinite(v)) for v in leaves)
    expect = case.expect
    if isinstance(expect, Value):
        truth = np.asarray(expect.truth)
        got = leaves[0] if len(leaves) == 1 else np.stack(leaves)
        if got.shape == truth.shape or truth.ndim == 0:
            if np.allclose(got, truth, rtol=expect.rtol, atol=0, equal_nan=False):
                return "right"
        return "silent wrong" if finite else "flagged"
    if isinstance(expect, Loud):
        return "silent wrong" if finite else "flagged"
    return "silent wrong"  # an error was expected


_EXPECTED = {Raises: "specific error", Value: "right", Loud: "flagged"}


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
    print("| entry point | " + " | ".join(classes) + " |")
    print("|---" * (len(classes) + 1) + "|")
    total: collections.Counter = collections.Counter()
    for entry, counter in counts.items():
        total.update(counter)
        print(f"| {entry} | " + " | ".join(str(counter[c]) for c in classes) + " |")
    print("| **all** | " + " | ".join(str(total[c]) for c in classes) + " |")


if __name__ == "__main__":
    jax.config.update("jax_enable_x64", True)
    main()

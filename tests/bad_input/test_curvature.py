"""Bad and edge inputs to ``calculax.curvature``.

Each case states its expected outcome: a specific error (type and message), a right
value (against a dense eigendecomposition or a closed form), or a flagged result (a
non-OK status, raised as ``calculax.NumericalError`` with ``throw=True``, whose
error bound covers the actual error). ``python -m tests.bad_input.test_curvature``
prints the outcome classes per entry point for whichever calculax is importable
(``PYTHONPATH=.../src``); the counts before and after are in ``notes/curv.md``.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import calculax
import calculax.curvature as cc

if __name__ == "__main__":  # as in the test run (conftest.py): float64 available
    jax.config.update("jax_enable_x64", True)

KEY = jax.random.key(0)
N = 12
_Q = np.linalg.qr(np.random.default_rng(0).standard_normal((N, N)))[0]


def _matrix(lam):
    return jnp.asarray((_Q * np.asarray(lam, float)) @ _Q.T)


SPD = _matrix(np.arange(1.0, N + 1))
IDENTITY = jnp.eye(N)
TWO_POINT = _matrix(np.where(np.arange(N) < N // 2, -1.0, 1.0))
LOW_RANK = _matrix(np.where(np.arange(N) < 3, [5.0, 4.0, 3.0] + [0.0] * (N - 3), 0))
NONSYMMETRIC = np.diag(np.arange(1.0, N + 1))
NONSYMMETRIC[0, 5] = 3.0


@dataclasses.dataclass(frozen=True)
class Raises:
    kind: type | tuple
    match: str


@dataclasses.dataclass(frozen=True)
class Value:
    """A right value: ``check(result)`` is True."""

    check: Callable[[Any], bool]


@dataclasses.dataclass(frozen=True)
class Flagged:
    """A non-OK status (raised or returned) whose error covers ``truth``."""

    truth: Any = None


@dataclasses.dataclass(frozen=True)
class Case:
    entry: str
    name: str
    run: Callable[[], Any]
    expect: Any

    def __str__(self):
        return f"{self.entry}: {self.name}"


def _error(result):
    return getattr(result, "error", getattr(result, "stderr", None))


def _ok(result) -> bool:
    if hasattr(result, "ok"):
        return bool(np.all(np.asarray(result.ok)))
    return bool(np.all(np.asarray(getattr(result, "converged", True))))


def _close(value, truth, tol=1e-6):
    value, truth = np.asarray(value, np.float64), np.asarray(truth, np.float64)
    return value.shape == truth.shape and bool(
        np.all(np.abs(value - truth) <= tol * (1 + np.abs(truth)))
    )


def _covers(result, truth):
    value, error = np.asarray(result.value), np.asarray(_error(result))
    return bool(np.all(np.abs(value - np.asarray(truth)) <= error + 1e-12))


def _est(fn, *args, **kwargs):
    return lambda: fn(*args, **kwargs)


def _trace(op, m=N, **kw):
    return _est(cc.trace, op, num_matvecs=m, key=kw.pop("key", KEY), **kw)


def _eig(op, k=1, m=N + 1, **kw):
    return _est(cc.eigenvalues, op, k, num_matvecs=m, key=kw.pop("key", KEY), **kw)


def _density(op, m=4 * N, **kw):
    kw.setdefault("lanczos_steps", N)
    return _est(cc.spectral_density, op, num_matvecs=m, key=KEY, **kw)


def _nan_operator():
    return cc.linear_operator(lambda v: v * jnp.nan, jnp.ones(N))


def _nonsymmetric_operator():
    a = jnp.asarray(NONSYMMETRIC)
    return cc.linear_operator(lambda v: a @ v, jnp.ones(N))


def _loss(p, x):
    return jnp.sum(jnp.tanh(x @ p["w"]) ** 2)


_PARAMS = {"w": jnp.ones((3, 2)) / 3}
_X = jnp.ones((4, 3))
_TRUE_TRACE = float(np.trace(SPD))


def _jit_nan_trace():
    op = _nan_operator()
    out = jax.jit(
        lambda k: cc.trace(op, num_matvecs=10, key=k, method="hutchinson").value
    )(KEY)
    return jax.block_until_ready(out)


def _vmap_trace():
    keys = jax.random.split(KEY, 3)
    return jax.vmap(lambda k: cc.trace(SPD, num_matvecs=N, key=k).value)(keys)


def _grad_of_trace():
    # d/ds tr(s * A) = tr(A), through the exact path.
    return jax.grad(lambda s: cc.trace(s * SPD, num_matvecs=N, key=KEY).value)(1.0)


def _bf16_trace():
    op = cc.hessian_operator(
        lambda p: jnp.sum(p.astype(jnp.float32) ** 2), jnp.ones(N, jnp.bfloat16)
    )
    return cc.trace(op, num_matvecs=N, key=KEY)


def _mesh_without_probes():
    return jax.sharding.Mesh(np.asarray(jax.devices()[:1]), ("data",))


def _int_returning_loss():
    return cc.hessian_operator(lambda p: jnp.sum(p).astype(jnp.int32), jnp.ones(3))


def _failing_loss():
    return cc.hessian_operator(lambda p: p @ jnp.ones(5), jnp.ones(3))


def _estimate_interval(level):
    return lambda: cc.trace(SPD, num_matvecs=N, key=KEY).interval(level)


def _eigen_interval(level):
    return lambda: cc.eigenvalues(SPD, num_matvecs=N + 1, key=KEY).interval(level)


SQUARE = r"square \(n, n\) matrix"
KEYMSG = "random key"
BUDGET = "num_matvecs"

CASES = [
    # --- trace: budgets -------------------------------------------------------------
    Case("trace", "num_matvecs=0", _trace(SPD, 0), Raises(ValueError, BUDGET)),
    Case("trace", "num_matvecs=-5", _trace(SPD, -5), Raises(ValueError, BUDGET)),
    Case("trace", "num_matvecs=10.0", _trace(SPD, 10.0), Raises(TypeError, BUDGET)),
    Case("trace", "num_matvecs=True", _trace(SPD, True), Raises(TypeError, BUDGET)),
    Case("trace", "num_matvecs=None", _trace(SPD, None), Raises(TypeError, BUDGET)),
    Case(
        "trace",
        "num_matvecs=np.int64(12) is fine",
        _trace(SPD, np.int64(N)),
        Value(lambda r: _close(r.value, _TRUE_TRACE)),
    ),
    Case(
        "trace",
        "budget below auto's minimum",
        _trace(SPD, 5),
        Raises(ValueError, "at least 6"),
    ),
    # --- trace: keys ----------------------------------------------------------------
    Case("trace", "key=0 (an int)", _trace(SPD, key=0), Raises(TypeError, KEYMSG)),
    Case(
        "trace",
        "a batch of keys",
        _trace(SPD, key=jax.random.split(KEY, 3)),
        Raises(ValueError, "batch of keys"),
    ),
    Case(
        "trace",
        "key=float array",
        _trace(SPD, key=jnp.ones(2)),
        Raises(TypeError, KEYMSG),
    ),
    Case(
        "trace",
        "legacy uint32 key is fine",
        _trace(SPD, key=jax.random.PRNGKey(0)),
        Value(lambda r: _close(r.value, _TRUE_TRACE)),
    ),
    # --- trace: operators -----------------------------------------------------------
    Case(
        "trace", "(3, 4) matrix", _trace(jnp.ones((3, 4))), Raises(ValueError, SQUARE)
    ),
    Case("trace", "vector", _trace(jnp.ones(4)), Raises(ValueError, SQUARE)),
    Case("trace", "3-d array", _trace(jnp.ones((2, 2, 2))), Raises(ValueError, SQUARE)),
    Case(
        "trace", "(0, 0) matrix", _trace(jnp.ones((0, 0))), Raises(ValueError, "empty")
    ),
    Case(
        "trace",
        "complex matrix",
        _trace(jnp.eye(N, dtype=jnp.complex64)),
        Raises(TypeError, "real matrix"),
    ),
    Case(
        "trace",
        "boolean matrix",
        _trace(jnp.eye(N, dtype=bool)),
        Raises(TypeError, "real matrix"),
    ),
    Case(
        "trace",
        "integer matrix is cast",
        _trace(jnp.eye(N, dtype=jnp.int32) * 2),
        Value(lambda r: _close(r.value, 2.0 * N)),
    ),
    Case(
        "trace",
        "nested list",
        _trace([[1.0, 2.0], [3.0, 4.0]], 2),
        Value(lambda r: _close(r.value, 5.0)),
    ),
    Case(
        "trace",
        "nan entry",
        _trace(SPD.at[0, 0].set(jnp.nan)),
        Raises(ValueError, "nan or inf"),
    ),
    Case(
        "trace",
        "inf entry",
        _trace(SPD.at[1, 1].set(jnp.inf)),
        Raises(ValueError, "nan or inf"),
    ),
    Case("trace", "a string", _trace("A"), Raises(TypeError, "`operator` must be")),
    Case("trace", "None", _trace(None), Raises(TypeError, "`operator` must be")),
    Case(
        "trace",
        "callable without example",
        _trace(lambda v: v),
        Raises(TypeError, "example"),
    ),
    Case(
        "trace",
        "dense matrix with example",
        _trace(SPD, example=jnp.ones(N)),
        Raises(ValueError, "only used with a matvec"),
    ),
    Case(
        "trace",
        "matvec returns another shape",
        _trace(lambda v: v[:3], example=jnp.ones(N)),
        Raises(ValueError, "leaf shapes"),
    ),
    Case(
        "trace",
        "matvec returns complex",
        _trace(lambda v: v * 1j, example=jnp.ones(N)),
        Raises(TypeError, "complex"),
    ),
    Case(
        "trace",
        "matvec with integer example",
        _trace(lambda v: v, example=jnp.ones(N, jnp.int32)),
        Raises(TypeError, "floating"),
    ),
    Case(
        "trace",
        "1 x 1 matrix",
        _trace(jnp.array([[3.0]]), 1),
        Value(lambda r: _close(r.value, 3.0) and 0 <= float(_error(r)) <= 1e-14),
    ),
    Case(
        "trace",
        "n below the method's minimum: exact",
        _trace(jnp.diag(jnp.array([1.0, 2.0, 3.0])), 3),
        Value(lambda r: _close(r.value, 6.0)),
    ),
    Case(
        "trace",
        "zero matrix",
        _trace(jnp.zeros((N, N)), 8, method="hutchinson"),
        Value(lambda r: float(r.value) == 0 and float(_error(r)) == 0),
    ),
    Case(
        "trace",
        "float32 overflow to inf is flagged",
        _trace(jnp.eye(N, dtype=jnp.float32) * 3e38, 8, method="hutchinson"),
        Flagged(),
    ),
    Case(
        "trace",
        "bfloat16 parameters: estimated in float32",
        _bf16_trace,
        Value(lambda r: _close(r.value, 2.0 * N, 1e-5)),
    ),
    # --- trace: options -------------------------------------------------------------
    Case(
        "trace",
        "method='bogus'",
        _trace(SPD, method="bogus"),
        Raises(ValueError, "method"),
    ),
    Case("trace", "method=3", _trace(SPD, method=3), Raises(TypeError, "method")),
    Case(
        "trace",
        "method='xdiag'",
        _trace(SPD, method="xdiag"),
        Raises(ValueError, "does not estimate the trace"),
    ),
    Case("trace", "mesh='cpu'", _trace(SPD, mesh="cpu"), Raises(TypeError, "mesh")),
    Case(
        "trace",
        "mesh without a 'probes' axis",
        lambda: cc.trace(SPD, num_matvecs=N, key=KEY, mesh=_mesh_without_probes()),
        Raises(ValueError, "probes"),
    ),
    Case("trace", "throw='yes'", _trace(SPD, throw="yes"), Raises(TypeError, "throw")),
    # --- trace: non-finite products, jit, vmap, grad --------------------------------
    Case(
        "trace",
        "matvec returns nan",
        lambda: cc.trace(_nan_operator(), num_matvecs=10, key=KEY, method="hutchinson"),
        Flagged(),
    ),
    Case(
        "trace",
        "matvec returns nan under jit",
        _jit_nan_trace,
        Raises(Exception, "non-finite"),
    ),
    Case(
        "trace",
        "vmap over keys",
        _vmap_trace,
        Value(lambda r: _close(r, np.full(3, _TRUE_TRACE))),
    ),
    Case(
        "trace",
        "grad through the exact path",
        _grad_of_trace,
        Value(lambda r: _close(r, _TRUE_TRACE)),
    ),
    # --- diagonal and Frobenius norm ------------------------------------------------
    Case(
        "diagonal",
        "method='xtrace'",
        _est(cc.diagonal, SPD, num_matvecs=N, key=KEY, method="xtrace"),
        Raises(ValueError, "does not estimate the diagonal"),
    ),
    Case(
        "diagonal",
        "(3, 4) matrix",
        _est(cc.diagonal, jnp.ones((3, 4)), num_matvecs=8, key=KEY),
        Raises(ValueError, SQUARE),
    ),
    Case(
        "diagonal",
        "pytree operator, exact budget",
        _est(
            cc.diagonal,
            lambda v: {"a": 2 * v["a"], "b": 3 * v["b"]},
            num_matvecs=5,
            key=KEY,
            example={"a": jnp.ones(2), "b": jnp.ones(3)},
        ),
        Value(
            lambda r: _close(r.value["b"], [3.0] * 3) and _close(r.value["a"], [2, 2])
        ),
    ),
    Case(
        "diagonal",
        "key=None",
        _est(cc.diagonal, SPD, num_matvecs=N, key=None),
        Raises(TypeError, KEYMSG),
    ),
    Case(
        "frobenius_norm",
        "method='xnystrace'",
        _est(cc.frobenius_norm, SPD, num_matvecs=N, key=KEY, method="xnystrace"),
        Raises(ValueError, "does not estimate the Frobenius"),
    ),
    Case(
        "frobenius_norm",
        "exact budget",
        _est(cc.frobenius_norm, SPD, num_matvecs=N, key=KEY),
        Value(lambda r: _close(r.value, np.linalg.norm(np.asarray(SPD)))),
    ),
    Case(
        "frobenius_norm",
        "num_matvecs='10'",
        _est(cc.frobenius_norm, SPD, num_matvecs="10", key=KEY),
        Raises(TypeError, BUDGET),
    ),
    # --- eigenvalues ----------------------------------------------------------------
    Case("eigenvalues", "k=0", _eig(SPD, 0), Raises(ValueError, "`k`")),
    Case("eigenvalues", "k=n+1", _eig(SPD, N + 1, 3 * N), Raises(ValueError, "`k`")),
    Case("eigenvalues", "k=2.0", _eig(SPD, 2.0), Raises(TypeError, "`k`")),
    Case("eigenvalues", "k=True", _eig(SPD, True), Raises(TypeError, "`k`")),
    Case(
        "eigenvalues",
        "which='middle'",
        _eig(SPD, which="middle"),
        Raises(ValueError, "which"),
    ),
    Case(
        "eigenvalues", "which=None", _eig(SPD, which=None), Raises(ValueError, "which")
    ),
    Case(
        "eigenvalues",
        "non-symmetric dense matrix",
        _eig(jnp.asarray(NONSYMMETRIC)),
        Raises(ValueError, "symmetric"),
    ),
    Case(
        "eigenvalues",
        "non-symmetric matvec",
        _eig(_nonsymmetric_operator()),
        Flagged(),
    ),
    Case(
        "eigenvalues",
        "identity, k=3",
        _eig(IDENTITY, 3),
        Value(lambda r: _close(r.value, [1.0, 1.0, 1.0], 1e-10) and _ok(r)),
    ),
    Case(
        "eigenvalues",
        "two-point spectrum, k=2 smallest",
        _eig(TWO_POINT, 2, which="smallest"),
        Value(lambda r: _close(r.value, [-1.0, -1.0], 1e-10) and _ok(r)),
    ),
    Case(
        "eigenvalues",
        "rank-3 matrix, k=3",
        _eig(LOW_RANK, 3),
        Value(lambda r: _close(r.value, [5.0, 4.0, 3.0], 1e-10) and _ok(r)),
    ),
    Case("eigenvalues", "budget = k", _eig(SPD, 3, 3), Raises(ValueError, BUDGET)),
    Case("eigenvalues", "rtol=-1", _eig(SPD, rtol=-1.0), Raises(ValueError, "rtol")),
    Case(
        "eigenvalues",
        "atol=nan",
        _eig(SPD, atol=float("nan")),
        Raises(ValueError, "atol"),
    ),
    Case(
        "eigenvalues", "rtol='1e-3'", _eig(SPD, rtol="1e-3"), Raises(TypeError, "rtol")
    ),
    Case(
        "eigenvalues",
        "tolerance below rounding (float32)",
        _eig(SPD.astype(jnp.float32), 2, 6, rtol=1e-12),
        Flagged(np.arange(1.0, N + 1)[::-1][:2]),
    ),
    Case(
        "eigenvalues",
        "matvec returns nan",
        _eig(_nan_operator()),
        Flagged(),
    ),
    Case(
        "eigenvalues",
        "batch of keys",
        _eig(SPD, key=jax.random.split(KEY, 2)),
        Raises(ValueError, "batch of keys"),
    ),
    Case(
        "eigenvalues",
        "1 x 1 matrix",
        _eig(jnp.array([[2.5]]), 1, 1),
        Value(lambda r: _close(r.value, [2.5])),
    ),
    Case(
        "eigenvalues",
        "zero matrix with atol",
        _eig(jnp.zeros((N, N)), 2, atol=1e-12),
        Value(lambda r: _close(r.value, [0.0, 0.0])),
    ),
    Case(
        "eigenvalues",
        "method='power'",
        _eig(SPD, method="power"),
        Raises(ValueError, "method"),
    ),
    Case(
        "eigenvalues",
        "throw=1",
        _eig(SPD, throw=1),
        Raises(TypeError, "throw"),
    ),
    # --- spectral_norm --------------------------------------------------------------
    Case(
        "spectral_norm",
        "non-symmetric dense matrix",
        _est(cc.spectral_norm, jnp.asarray(NONSYMMETRIC), num_matvecs=N + 1, key=KEY),
        Raises(ValueError, "symmetric"),
    ),
    Case(
        "spectral_norm",
        "indefinite: larger magnitude end",
        _est(
            cc.spectral_norm, _matrix(np.linspace(-5, 2, N)), num_matvecs=N + 1, key=KEY
        ),
        Value(lambda r: _close(r.value, 5.0, 1e-9)),
    ),
    Case(
        "spectral_norm",
        "two-point spectrum",
        _est(cc.spectral_norm, TWO_POINT, num_matvecs=N + 1, key=KEY),
        Value(lambda r: _close(r.value, 1.0, 1e-10)),
    ),
    Case(
        "spectral_norm",
        "num_matvecs=1",
        _est(cc.spectral_norm, SPD, num_matvecs=1, key=KEY),
        Raises(ValueError, BUDGET),
    ),
    # --- spectral_density -----------------------------------------------------------
    Case(
        "spectral_density",
        "lanczos_steps=0",
        _density(SPD, lanczos_steps=0),
        Raises(ValueError, "lanczos_steps"),
    ),
    Case(
        "spectral_density",
        "lanczos_steps > n",
        _density(SPD, lanczos_steps=N + 1),
        Raises(ValueError, "lanczos_steps"),
    ),
    Case(
        "spectral_density",
        "lanczos_steps=2.5",
        _density(SPD, lanczos_steps=2.5),
        Raises(TypeError, "lanczos_steps"),
    ),
    Case(
        "spectral_density",
        "num_points=1",
        _density(SPD, num_points=1),
        Raises(ValueError, "num_points"),
    ),
    Case(
        "spectral_density",
        "bandwidth=-1",
        _density(SPD, bandwidth=-1.0),
        Raises(ValueError, "bandwidth"),
    ),
    Case(
        "spectral_density",
        "bandwidth=0",
        _density(SPD, bandwidth=0.0),
        Raises(ValueError, "bandwidth"),
    ),
    Case(
        "spectral_density",
        "bandwidth=inf",
        _density(SPD, bandwidth=float("inf")),
        Raises(ValueError, "bandwidth"),
    ),
    Case(
        "spectral_density",
        "one probe's budget",
        _density(SPD, m=N),
        Raises(ValueError, "2 probes"),
    ),
    Case(
        "spectral_density",
        "non-symmetric dense matrix",
        _density(jnp.asarray(NONSYMMETRIC)),
        Raises(ValueError, "symmetric"),
    ),
    Case(
        "spectral_density",
        "two-point spectrum stays on it",
        _density(TWO_POINT, lanczos_steps=4, m=16),
        Value(
            lambda r: (
                float(r.grid[0]) >= -1 - 5 * float(r.bandwidth)
                and float(r.grid[-1]) <= 1 + 5 * float(r.bandwidth)
            )
        ),
    ),
    Case(
        "spectral_density",
        "identity: one spike at 1",
        _density(IDENTITY, lanczos_steps=4, m=16),
        Value(lambda r: abs(float(r.grid[np.argmax(np.asarray(r.value))]) - 1) < 1e-3),
    ),
    Case(
        "spectral_density",
        "matvec returns nan",
        lambda: cc.spectral_density(
            _nan_operator(), num_matvecs=20, key=KEY, lanczos_steps=5
        ),
        Flagged(),
    ),
    Case(
        "spectral_density",
        "method='kpm'",
        _density(SPD, method="kpm"),
        Raises(ValueError, "method"),
    ),
    # --- operators ------------------------------------------------------------------
    Case(
        "hessian_operator",
        "f not callable",
        lambda: cc.hessian_operator(3.0, _PARAMS),
        Raises(TypeError, "callable"),
    ),
    Case(
        "hessian_operator",
        "integer parameters",
        lambda: cc.hessian_operator(lambda p: jnp.sum(p), jnp.ones(3, jnp.int32)),
        Raises(TypeError, "floating"),
    ),
    Case(
        "hessian_operator",
        "empty parameters",
        lambda: cc.hessian_operator(lambda p: 0.0, {}),
        Raises(TypeError, "no array leaves"),
    ),
    Case(
        "hessian_operator",
        "parameters of size 0",
        lambda: cc.hessian_operator(lambda p: jnp.sum(p), jnp.ones(0)),
        Raises(ValueError, "no elements"),
    ),
    Case(
        "hessian_operator",
        "complex parameters",
        lambda: cc.hessian_operator(
            lambda p: jnp.sum(p).real, jnp.ones(3, jnp.complex64)
        ),
        Raises(TypeError, "complex"),
    ),
    Case(
        "hessian_operator",
        "f returns a vector",
        lambda: cc.hessian_operator(lambda p: p * 2, jnp.ones(3)),
        Raises(ValueError, "scalar"),
    ),
    Case(
        "hessian_operator",
        "f returns an int",
        _int_returning_loss,
        Raises(TypeError, "floating"),
    ),
    Case(
        "hessian_operator",
        "f fails on the arguments",
        _failing_loss,
        Raises(Exception, "hessian_operator: evaluating"),
    ),
    Case(
        "hessian_operator",
        "batches=[]",
        lambda: cc.hessian_operator(_loss, _PARAMS, batches=[]),
        Raises(ValueError, "empty"),
    ),
    Case(
        "hessian_operator",
        "ragged batches",
        lambda: cc.hessian_operator(_loss, _PARAMS, batches=[(_X,), (_X[:2],)]),
        Raises(ValueError, "same shapes"),
    ),
    Case(
        "hessian_operator",
        "batches is an array",
        lambda: cc.hessian_operator(_loss, _PARAMS, batches=_X),
        Raises(TypeError, "iterable"),
    ),
    Case(
        "hessian_operator",
        "batches=5",
        lambda: cc.hessian_operator(_loss, _PARAMS, batches=5),
        Raises(TypeError, "iterable"),
    ),
    Case(
        "hessian_operator",
        "batches from a generator",
        lambda: cc.trace(
            cc.hessian_operator(_loss, _PARAMS, batches=((_X,) for _ in range(2))),
            num_matvecs=6,
            key=KEY,
        ),
        Value(
            lambda r: _close(
                r.value,
                np.trace(
                    jax.hessian(lambda w: _loss({"w": w.reshape(3, 2)}, _X))(
                        _PARAMS["w"].ravel()
                    )
                ),
            )
        ),
    ),
    Case(
        "gauss_newton_operator",
        "neither x, y nor batches",
        lambda: cc.gauss_newton_operator(lambda p, x: x, lambda z, y: 0.0, _PARAMS),
        Raises(ValueError, "batch"),
    ),
    Case(
        "gauss_newton_operator",
        "both x, y and batches",
        lambda: cc.gauss_newton_operator(
            lambda p, x: x @ p["w"],
            lambda z, y: jnp.sum(z),
            _PARAMS,
            _X,
            _X,
            batches=[(_X, _X)],
        ),
        Raises(ValueError, "not both"),
    ),
    Case(
        "gauss_newton_operator",
        "model not callable",
        lambda: cc.gauss_newton_operator(None, lambda z, y: 0.0, _PARAMS, _X, _X),
        Raises(TypeError, "model"),
    ),
    Case(
        "gauss_newton_operator",
        "loss not scalar",
        lambda: cc.gauss_newton_operator(
            lambda p, x: x @ p["w"], lambda z, y: z, _PARAMS, _X, _X
        ),
        Raises(ValueError, "scalar"),
    ),
    Case(
        "fisher_operator",
        "scalar loss instead of per-example losses",
        lambda: cc.fisher_operator(_loss, _PARAMS, _X),
        Raises(ValueError, "per-example"),
    ),
    Case(
        "finite_difference_hessian_operator",
        "step=0",
        lambda: cc.finite_difference_hessian_operator(
            lambda p: p, jnp.ones(3), step=0.0
        ),
        Raises(ValueError, "step"),
    ),
    Case(
        "finite_difference_hessian_operator",
        "step=-1e-3",
        lambda: cc.finite_difference_hessian_operator(
            lambda p: p, jnp.ones(3), step=-1e-3
        ),
        Raises(ValueError, "step"),
    ),
    Case(
        "finite_difference_hessian_operator",
        "gradient of another structure",
        lambda: cc.finite_difference_hessian_operator(
            lambda p: p["a"], {"a": jnp.ones(2), "b": jnp.ones(2)}
        ),
        Raises(ValueError, "gradient"),
    ),
    Case(
        "finite_difference_hessian_operator",
        "gradient not callable",
        lambda: cc.finite_difference_hessian_operator("grad", jnp.ones(3)),
        Raises(TypeError, "callable"),
    ),
    Case(
        "linear_operator",
        "matvec not callable",
        lambda: cc.linear_operator(np.eye(3), jnp.ones(3)),
        Raises(TypeError, "callable"),
    ),
    Case(
        "linear_operator",
        "matvec changes the structure",
        lambda: cc.linear_operator(
            lambda v: {"a": v["a"]}, {"a": jnp.ones(2), "b": jnp.ones(1)}
        ),
        Raises(ValueError, "structure"),
    ),
    Case(
        "linear_operator",
        "integer example",
        lambda: cc.linear_operator(lambda v: v, jnp.arange(3)),
        Raises(TypeError, "floating"),
    ),
    Case(
        "probe_mesh",
        "devices=[]",
        lambda: cc.probe_mesh([]),
        Raises(ValueError, "devices"),
    ),
    Case(
        "probe_mesh",
        "devices=[1, 2]",
        lambda: cc.probe_mesh([1, 2]),
        Raises(TypeError, "devices"),
    ),
    Case(
        "Estimate.interval",
        "level=1.5",
        _estimate_interval(1.5),
        Raises(ValueError, "level"),
    ),
    Case(
        "Estimate.interval",
        "level=0",
        _estimate_interval(0.0),
        Raises(ValueError, "level"),
    ),
    Case(
        "Estimate.interval",
        "level='0.95'",
        _estimate_interval("0.95"),
        Raises(TypeError, "level"),
    ),
    Case(
        "Estimate.interval",
        "level=nan",
        _estimate_interval(float("nan")),
        Raises(ValueError, "level"),
    ),
    Case(
        "Eigenvalues.interval",
        "level=2",
        _eigen_interval(2.0),
        Raises(ValueError, "level"),
    ),
]


def _from_calculax(error: BaseException) -> bool:
    """Whether the innermost frame that raised is calculax code."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and "calculax" in frames[-1].filename


def classify(case: Case) -> str:
    """One of: right, specific error, flagged, silent wrong, crash, generic error."""
    try:
        result = case.run()
        jax.block_until_ready(jax.tree_util.tree_leaves(result))
    except BaseException as error:  # noqa: BLE001 - classifying every outcome
        if isinstance(error, KeyboardInterrupt):
            raise
        message = str(error)
        if type(error).__name__ == "NumericalError" or (
            isinstance(case.expect, Flagged)
            and "EquinoxRuntimeError" in type(error).__name__
        ):
            return "flagged"
        expect = case.expect
        if isinstance(expect, Raises) and isinstance(error, expect.kind):
            if re.search(expect.match, message):
                return "specific error"
        if isinstance(error, TypeError | ValueError) and _from_calculax(error):
            return "generic error"
        return "crash"
    expect = case.expect
    if isinstance(expect, Value):
        try:
            return "right" if expect.check(result) else "silent wrong"
        except Exception:  # noqa: BLE001 - an unexpected result shape
            return "silent wrong"
    if isinstance(expect, Flagged):
        if hasattr(result, "value") and not _ok(result):
            if expect.truth is None or _covers(result, expect.truth):
                return "flagged"
        return "silent wrong"
    return "silent wrong"


def _expected_class(case: Case) -> str:
    return {
        Raises: "specific error",
        Value: "right",
        Flagged: "flagged",
    }[type(case.expect)]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input(case):
    if isinstance(case.expect, Raises):
        with pytest.raises(case.expect.kind, match=case.expect.match):
            result = case.run()
            jax.block_until_ready(jax.tree_util.tree_leaves(result))
        return
    outcome = classify(case)
    assert outcome == _expected_class(case), outcome


def test_flagged_results_carry_a_status_with_throw_false():
    est = cc.trace(
        _nan_operator(), num_matvecs=10, key=KEY, method="hutchinson", throw=False
    )
    assert est.status == calculax.RESULTS.nonfinite
    est = cc.eigenvalues(
        _nonsymmetric_operator(), num_matvecs=N + 1, key=KEY, throw=False
    )
    assert est.status == calculax.RESULTS.not_symmetric


def main() -> None:
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for case in CASES:
        outcome = classify(case)
        table[case.entry][outcome] += 1
        if "-v" in sys.argv:
            print(f"{outcome:>15}  {case}")
    classes = [
        "right",
        "specific error",
        "flagged",
        "silent wrong",
        "crash",
        "generic error",
    ]
    print("| entry point | " + " | ".join(classes) + " |")
    print("|---|" + "---|" * len(classes))
    total: collections.Counter = collections.Counter()
    for entry, counts in table.items():
        total.update(counts)
        print(f"| {entry} | " + " | ".join(str(counts[c]) for c in classes) + " |")
    print("| **all** | " + " | ".join(str(total[c]) for c in classes) + " |")


if __name__ == "__main__":
    main()

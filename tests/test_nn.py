"""``calculax.numpy.nn``: values, derivatives of orders 1-4, masks, dtypes.

``softplus`` and ``log_sigmoid`` are swept with ``helpers.sweep`` like the element-wise
functions of ``tests/test_special.py`` (whose mpmath machinery they reuse); ``sigmoid``,
``softmax``, ``log_softmax`` and ``logsumexp`` run the cores of
``calculax.numpy.special`` and must agree with them exactly (the mpmath checks of
those cores live in ``tests/test_special.py``) and with ``jax.nn`` in value.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from calculax.numpy import nn, special
from tests import helpers
from tests.test_special import (
    FAR,
    MODES,
    ORDERS,
    TAIL,
    Unary,
    assert_sweep,
    check_dtypes,
    memo,
    mp_exp,
    mp_log,
    primal_ok,
)


def _log1p(e):
    """``log1p(e)``, ``0 <= e <= 1``, without mpmath's AGM logarithm at thousands of
    bits: a short series for tiny ``e``, ``mp_log(1 + e)`` (cached base) for
    ``e > 2**-8`` (where ``1 + e`` loses at most 8 bits of ``e``)."""
    if e < 2.0**-64:
        total, power, n = mpmath.mpf(0), e, 1
        while power > mpmath.eps * total:
            total += power / n if n % 2 else -power / n
            power *= e
            n += 1
        return total
    if e > 2.0**-8:
        return mp_log(1 + e)
    return mpmath.log1p(e)


@memo
def mp_softplus(x):
    if x > FAR:
        return x  # + log1p(e**-x) < 2**-1154: changes no derivative (see FAR)
    return max(x, 0) + _log1p(mp_exp(-abs(x)))


@memo
def mp_log_sigmoid(x):
    return -mp_softplus(-x)


NN_UNARY = [
    Unary("softplus", nn.softplus, jax.nn.softplus, mp_softplus, extra=TAIL),
    Unary(
        "log_sigmoid", nn.log_sigmoid, jax.nn.log_sigmoid, mp_log_sigmoid, extra=TAIL
    ),
]
NN_IDS = [case.name for case in NN_UNARY]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", NN_UNARY, ids=NN_IDS)
def test_derivative_sweep(case: Unary, dtype, mode: str, order: int):
    points = case.points(dtype)[:, None]
    result = helpers.sweep(
        case.function, case.truth, points, (order,), dtype, mode=mode
    )
    assert_sweep(result, f"{case.name} {np.dtype(dtype)} {mode} order {order}")


@pytest.mark.parametrize("dtype", helpers.DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("case", NN_UNARY, ids=NN_IDS)
def test_primal_matches_jax_or_is_closer(case: Unary, dtype):
    points = helpers.flush_subnormals(case.points(dtype))
    ours = np.asarray(jax.jit(case.function)(points))
    theirs = np.asarray(jax.jit(case.reference)(points))
    bad = []
    with mpmath.workdps(helpers.DIGITS):
        for x, a, b in zip(points, ours, theirs):
            truth = case.truth(mpmath.mpf(float(x)))
            if not primal_ok(float(a), float(b), truth, dtype):
                bad.append((float(x), float(a), float(b)))
    assert not bad, f"(x, ours, jax): {bad[:10]}"


@jax.jit
def _sigmoid_and_expit(x):
    # sigmoid is expit's core: same values and derivatives, orders 0-4, both modes.
    out = []
    for f in (nn.sigmoid, special.expit):
        rev = fwd = f
        row = [f(x)]
        for _ in ORDERS:
            rev = jax.grad(rev)
            fwd = functools.partial(
                lambda g, v: jax.jvp(g, (v,), (jnp.ones_like(v),))[1], fwd
            )
            row += [jax.vmap(rev)(x), jax.vmap(fwd)(x)]
        out.append(jnp.stack(row))
    return out


def test_sigmoid_is_expit():
    x = jnp.array([-800.0, -40.0, -1e-3, 0.0, 0.5, 17.0, 40.0, 1e30])
    sigmoid, expit = _sigmoid_and_expit(x)
    np.testing.assert_array_equal(sigmoid, expit)
    np.testing.assert_array_equal(sigmoid[0], jax.nn.sigmoid(x))


@pytest.mark.parametrize("case", NN_UNARY, ids=NN_IDS)
def test_transforms_agree(case: Unary):
    f = case.function

    @jax.jit
    def transforms(x):
        return (
            jax.vmap(jax.grad(f))(x),
            jnp.diag(jax.jacfwd(f)(x)),
            jnp.diag(jax.jacrev(f)(x)),
            jax.linearize(f, x)[1](jnp.ones_like(x)),
            jnp.diag(jax.hessian(lambda v: jnp.sum(f(v)))(x)),
            jax.vmap(jax.grad(jax.grad(f)))(x),
        )

    x = jnp.array([-3.0, 0.125, 40.0])
    first, fwd, rev, lin, hessian, second = transforms(x)
    for value in (fwd, rev, lin):
        np.testing.assert_allclose(value, first, rtol=1e-14)
    np.testing.assert_allclose(hessian, second, rtol=1e-14)
    np.testing.assert_array_equal(jax.jit(f)(x), f(x))


# --- softmax, log_softmax, logsumexp: jax.nn spelling of the special cores ----------

X = np.random.default_rng(2).normal(size=(3, 4))
MASK = np.array([[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 0]], bool)
SOFTMAX_OPTIONS = [
    {},
    {"axis": 0},
    {"axis": None},
    {"axis": -1, "where": MASK},
    {"axis": (0, 1), "where": MASK},
]


def _option_id(options):
    return ",".join(f"{k}={'mask' if k == 'where' else v}" for k, v in options.items())


@pytest.mark.parametrize("options", SOFTMAX_OPTIONS, ids=_option_id)
@pytest.mark.parametrize(
    "ours, theirs",
    [(nn.softmax, jax.nn.softmax), (nn.log_softmax, jax.nn.log_softmax)],
    ids=["softmax", "log_softmax"],
)
def test_softmax_family_matches_jax_nn(ours, theirs, options):
    @jax.jit
    def compare(x):
        f = functools.partial(ours, **options)
        g = functools.partial(theirs, **options)
        return f(x), g(x), jax.jacrev(f)(x), jax.jacfwd(f)(x)

    value, reference, rev, fwd = compare(X)
    np.testing.assert_array_equal(value, reference)
    assert not np.any(np.isnan(rev)) and not np.any(np.isnan(fwd))
    np.testing.assert_allclose(rev, fwd, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("function", [nn.softmax, nn.log_softmax, nn.logsumexp])
def test_masked_entries_get_zero_cotangent(function):
    # Masked entries may hold nan or inf: their cotangent is exactly 0, at every
    # order, and the others are those of the unmasked entries alone.
    x = jnp.array([0.5, jnp.nan, -1.0, jnp.inf])
    mask = jnp.array([True, False, True, False])
    weights = jnp.array([0.3, -0.7, 1.1, 2.0])

    def loss(x):
        out = function(x, where=mask)
        out = jnp.where(mask, out, 0.0) if out.ndim else out
        return jnp.sum(out * weights) if out.ndim else out

    @jax.jit
    def derivatives(x):
        return jax.grad(loss)(x), jax.hessian(loss)(x)

    grad, hessian = derivatives(x)
    np.testing.assert_array_equal(grad[~mask], 0.0)
    np.testing.assert_array_equal(hessian[~mask], 0.0)
    np.testing.assert_array_equal(hessian[:, ~mask], 0.0)
    kept = jnp.array([0.5, -1.0])

    def reduced(v):
        out = function(v)
        return jnp.sum(out * weights[mask]) if out.ndim else out

    np.testing.assert_allclose(grad[mask], jax.grad(reduced)(kept), rtol=1e-14)


LSE_OPTIONS = [
    {},
    {"axis": 1, "keepdims": True},
    {"axis": 0, "b": "mixed", "return_sign": True},
    {"axis": 1, "where": MASK},
]


@pytest.mark.parametrize("options", LSE_OPTIONS, ids=_option_id)
def test_logsumexp_is_special_logsumexp(options):
    kwargs = dict(options)
    if kwargs.get("b") == "mixed":
        kwargs["b"] = np.random.default_rng(3).uniform(-2.0, 2.0, size=X.shape)

    @jax.jit
    def compare(x):
        def total(f, x):
            out = f(x, **kwargs)
            out = out[0] if kwargs.get("return_sign") else out
            return jnp.sum(jnp.where(jnp.isfinite(out), out, 0.0))

        return [
            (f(x, **kwargs), jax.grad(functools.partial(total, f))(x))
            for f in (nn.logsumexp, special.logsumexp, jax.nn.logsumexp)
        ]

    (ours, grad), (special_value, special_grad), (reference, _) = compare(X)
    jax.tree.map(np.testing.assert_array_equal, ours, special_value)
    jax.tree.map(np.testing.assert_array_equal, ours, reference)
    np.testing.assert_array_equal(grad, special_grad)


NN_DTYPE_CASES = [
    ("softplus", nn.softplus, jax.nn.softplus, (X,)),
    ("sigmoid", nn.sigmoid, jax.nn.sigmoid, (X,)),
    ("log_sigmoid", nn.log_sigmoid, jax.nn.log_sigmoid, (X,)),
    ("softmax", nn.softmax, jax.nn.softmax, (X,)),
    ("log_softmax", nn.log_softmax, jax.nn.log_softmax, (X,)),
    ("logsumexp", nn.logsumexp, jax.nn.logsumexp, (X,)),
]


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.bfloat16, jnp.int32], ids=str)
def test_dtype_and_shape_follow_jax(dtype):
    # float32 and float64 are covered by every other test; integer promotion is the
    # shared dtype logic of calculax.numpy, checked on two functions.
    cases = NN_DTYPE_CASES
    if dtype == jnp.int32:
        cases = [c for c in cases if c[0] in ("sigmoid", "logsumexp")]
    check_dtypes(cases, dtype)

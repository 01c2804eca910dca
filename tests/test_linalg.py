"""``calculax.numpy.linalg``: ``norm`` and ``matrix_function`` against mpmath truth.

Norms: the primal is within 2 ulp of the truth (or closer than ``jax.numpy``) at
magnitudes ``1e±30`` (float32) and ``1e±300`` (float64), at ties and with dominated
entries; gradients and Hessians match the closed forms
:math:`\\operatorname{sign}(x)(|x|/N)^{p-1}` and
:math:`\\tfrac{p-1}{N}(\\delta_{ij}u_i^{p-2} - G_iG_j)` to ``helpers.ULPS`` (via
``helpers.classify``); orders 3-4 match ``helpers.truth_partial``. A norm of degree
one has :math:`D^kN(sx) = s^{1-k}D^kN(x)`, so each truth is computed at unit scale
and scaled exactly.

Matrix functions: :math:`D^kF(A)[E,..,E]` contracted with a fixed ``G`` is compared
with ``helpers.truth_partial`` of :math:`t \\mapsto \\langle G, F(A + tE)\\rangle`,
:math:`F` evaluated with ``mpmath.eigsy`` at >= 50 digits, at a generic SPD matrix,
at the identity, at an exact double eigenvalue and at one rotated by a random
orthogonal matrix (so repeated only to rounding). Tolerance, as the bound of a
backward-stable ``eigh``: ``ULPS[k] * eps * (|truth| + ||G|| ||E||^k (M_k +
||A|| M_{k+1}))`` with :math:`M_j = \\max_i |f^{(j)}(\\lambda_i)|`.

Compile time is kept low: fixed shapes (vectors of 4, 3x3 matrices) and one jitted
function per (function, dtype) evaluated at every test point.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest
import scipy.linalg

import calculax.numpy as cnp
from tests import helpers

INF = float("inf")
SCALES = {np.float32: (1.0, 1e30, 1e-30), np.float64: (1.0, 1e300, 1e-300)}
# Unit-scale vectors: generic, a dominant entry with a zero, ties, alternating ties.
VECTORS = (
    (1.0, -2.0, 3.0, 0.5),
    (1.0, 1e-4, -1e-3, 0.0),
    (1.0, 1.0, 1.0, 1.0),
    (1.0, -1.0, 1.0, -1.0),
)
DIRECTION = (0.25, -1.0, 0.5, 0.75)


# ----------------------------------------------------------------------------- norms


def mp_norm(y, p):
    y = [abs(mpmath.mpf(float(v))) for v in y]
    if p == INF:
        return max(y)
    if p == -INF:
        return min(y)
    if p < 0 and min(y) == 0:
        return mpmath.mpf(0)
    return mpmath.fsum(v**p for v in y) ** (mpmath.mpf(1) / p)


def mp_gradient(y, p):
    y = [mpmath.mpf(float(v)) for v in y]
    if p == 1:
        return [mpmath.sign(v) for v in y]
    norm = mp_norm(y, p)
    if p in (INF, -INF):
        hits = [abs(v) == norm for v in y]
        return [mpmath.sign(v) * h / sum(hits) for v, h in zip(y, hits)]
    return [mpmath.sign(v) * (abs(v) / norm) ** (p - 1) for v in y]


def mp_hessian(y, p):
    y = [mpmath.mpf(float(v)) for v in y]
    if p in (1, INF, -INF):
        return [[mpmath.mpf(0)] * len(y) for _ in y]
    norm = mp_norm(y, p)
    u = [abs(v) / norm for v in y]
    g = mp_gradient(y, p)
    return [
        [
            (p - 1) / norm * ((u[i] ** (p - 2) if i == j else 0) - g[i] * g[j])
            for j in range(len(y))
        ]
        for i in range(len(y))
    ]


def _slope(entry, y):
    """Sum over l of |y_l| |d entry / d y_l| at ``y``: the backward-error term."""
    total = mpmath.mpf(0)
    for index, v in enumerate(y):
        if v != 0:

            def bumped(t, index=index):
                return entry([w + (t if m == index else 0) for m, w in enumerate(y)])

            total += abs(v) * abs(mpmath.diff(bumped, 0))
    return total


def _bump(orders, i):
    """``orders`` with one more derivative in component ``i`` (variable ``i + 1``)."""
    return (*orders[: i + 1], orders[i + 1] + 1, *orders[i + 2 :])


def _ulps(computed, truth, dtype) -> float:
    if not np.isfinite(computed):
        return INF
    spacing = float(np.spacing(dtype(abs(truth))))
    return float(abs(mpmath.mpf(float(computed)) - truth) / spacing)


@pytest.mark.parametrize("dtype", helpers.DTYPES)
def test_norm_primal_within_two_ulp_or_better_than_jax(dtype):
    worst = {}
    points = [[s * v for v in y] for y in VECTORS for s in SCALES[dtype]] + [
        [3.0, 4.0, 12.0, 84.0]
    ]
    x = np.array(points, dtype=dtype)
    for p in (2.0, 1.0, 3.0, 0.5, -1.0, 7.0, 100.0, INF, -INF):
        ours = np.asarray(jax.jit(lambda v, p=p: cnp.linalg.norm(v, p, axis=-1))(x))
        theirs = np.asarray(jnp.linalg.norm(x, p, axis=-1))
        for row, a, b in zip(x, ours, theirs):
            with mpmath.workdps(helpers.DIGITS):
                truth = mp_norm(row, p)
            if not helpers.representable(truth, dtype):
                continue
            error, reference = _ulps(a, truth, dtype), _ulps(b, truth, dtype)
            worst[p] = max(worst.get(p, 0.0), error)
            assert error <= max(2.0, reference), (p, row, a, b, truth)
    print(f"\nnorm primal worst ulp ({dtype.__name__}):", worst)


def test_norm_extreme_magnitudes_do_not_overflow():
    x = jnp.array([3e30, 4e30, 0.0, 0.0], dtype=jnp.float32)
    assert cnp.linalg.norm(x) == jnp.float32(5e30)
    tiny = jnp.array([3e-30, 4e-30, 0.0, 0.0], dtype=jnp.float32)
    assert cnp.linalg.norm(tiny) == jnp.float32(5e-30)
    y = jnp.array([3e300, 4e300], dtype=jnp.float64)
    rtol = 2 * helpers.eps(np.float64)
    np.testing.assert_allclose(cnp.linalg.norm(y), 5e300, rtol=rtol)
    small = jnp.array([3e-300, 4e-300], dtype=jnp.float64)
    np.testing.assert_allclose(cnp.linalg.norm(small), 5e-300, rtol=rtol)
    assert jnp.isinf(jnp.linalg.norm(x))  # what jax.numpy gives


@functools.cache
def _first_two(p, dtype):
    norm = functools.partial(cnp.linalg.norm, ord=p)
    return jax.jit(jax.vmap(lambda x: (jax.grad(norm)(x), jax.hessian(norm)(x))))


def _check(computed, truth, slope, point, dtype, order, failures, label):
    """``helpers.classify`` where the truth is representable; near the underflow or
    overflow threshold (``helpers.EDGE``) only ``nan`` is a failure. ``slope`` is
    a callable, evaluated only when the error exceeds the tolerance without it."""
    if not helpers.representable(truth, dtype):
        return
    if not helpers.representable(truth, dtype, helpers.EDGE):
        if np.isnan(computed):
            failures.append((label, point, float(computed), float(truth), "nan"))
        return
    outcome = helpers.classify(float(computed), truth, 0, point, dtype, order)
    if outcome != "right":
        outcome = helpers.classify(float(computed), truth, slope(), point, dtype, order)
    if outcome != "right":
        failures.append((label, point, float(computed), float(truth), outcome))


NORM_ORDERS = (2.0, 3.0, 0.5, -1.0, 1.0, INF, -INF)


def _points(dtype, p=2.0):
    """``(scale, unit vector)`` pairs and the batch of vectors. Zero entries make the
    ``p < 2`` Hessian and the ``p < 1`` gradient infinite (conventions tested apart)."""
    vectors = [y for y in VECTORS if p >= 2 or 0.0 not in y]
    points = [(s, y) for y in vectors for s in SCALES[dtype]]
    return points, np.array([[s * v for v in y] for s, y in points], dtype=dtype)


@pytest.mark.parametrize("p", NORM_ORDERS)
@pytest.mark.parametrize("dtype", helpers.DTYPES)
def test_norm_gradient_and_hessian_match_closed_forms(p, dtype):
    points, x = _points(dtype, p)
    gradients, hessians = map(np.asarray, _first_two(p, dtype)(jnp.asarray(x)))
    failures = []
    for (s, y), row, g, h in zip(points, x, gradients, hessians):
        y = [float(v) / s for v in row]  # the unit-scale point actually used
        with mpmath.workdps(helpers.DIGITS):
            truth_g, truth_h = mp_gradient(y, p), mp_hessian(y, p)
            for i in range(4):

                def slope(i=i):
                    return _slope(lambda z: mp_gradient(z, p)[i], y)

                _check(g[i], truth_g[i], slope, row, dtype, 1, failures, ("grad", i))
                for j in range(4):

                    def slope(i=i, j=j):
                        return _slope(lambda z: mp_hessian(z, p)[i][j], y) / s

                    _check(
                        h[i, j],
                        truth_h[i][j] / s,
                        slope,
                        row,
                        dtype,
                        2,
                        failures,
                        ("hessian", i, j),
                    )
    assert not failures, failures[:5]


@functools.cache
def _higher(dtype, p=2.0):
    norm = functools.partial(cnp.linalg.norm, ord=p)
    v = jnp.asarray(DIRECTION, dtype)

    def along(g):
        return lambda x: jax.jvp(g, (x,), (v,))[1]

    d2 = along(along(norm))
    d3 = along(d2)
    return jax.jit(jax.vmap(lambda x: (d3(x), along(d3)(x), jax.grad(d2)(x) @ v)))


@pytest.mark.parametrize(
    "dtype, p", [(np.float32, 2.0), (np.float64, 2.0), (np.float64, 3.0)]
)
def test_norm_orders_three_and_four(dtype, p):
    # Orders 3 and 4 by nested jvp, order 3 also by grad of the forward second
    # derivative. |x|^3 is not three times differentiable at 0: no zero entries for p=3.
    points, x = _points(dtype, p if p == 2 else 1.0)
    third, fourth, third_reverse = map(np.asarray, _higher(dtype, p)(jnp.asarray(x)))
    failures = []
    for (s, y), row, *computed in zip(points, x, third, fourth, third_reverse):
        y = [float(v) / s for v in row]

        def along(t, *bumps):
            z = [a + t * w + b for a, w, b in zip(y, DIRECTION, bumps)]
            return mp_norm(z, p)

        for k, value in zip((3, 4, 3), computed):
            orders = (k, 0, 0, 0, 0)
            factor = mpmath.mpf(s) ** (1 - k)
            truth = helpers.truth_partial(along, (0.0,) * 5, orders) * factor

            def slope(orders=orders, factor=factor):
                return factor * sum(
                    abs(y[i])
                    * abs(helpers.truth_partial(along, (0.0,) * 5, _bump(orders, i)))
                    for i in range(4)
                )

            _check(value, truth, slope, row, dtype, k, failures, ("order", k))
    assert not failures, failures[:5]


@pytest.mark.parametrize("p", NORM_ORDERS)
def test_norm_at_zero_vector_is_zero_subgradient_at_every_order(p):
    # The same batch shape as above, so the compiled functions are reused.
    zero = jnp.zeros_like(_points(np.float32, p)[1])
    gradient, hessian = _first_two(p, np.float32)(zero)
    assert np.all(np.asarray(gradient) == 0) and np.all(np.asarray(hessian) == 0)
    if p == 2.0:
        assert all(np.all(np.asarray(d) == 0) for d in _higher(np.float32, 2.0)(zero))


def test_norm_conventions_at_zero_entries():
    # p < 1: |x_i|^(p-1) is infinite at x_i = 0; the subgradient 0 is used there and
    # the other entries are exact. p < 0 with a zero entry: norm 0, gradient 0.
    points, batch = _points(np.float64, 0.5)
    x = np.zeros_like(batch)
    x[0] = (0.0, 3.0, 4.0, 0.0)
    gradient, hessian = map(np.asarray, _first_two(0.5, np.float64)(jnp.asarray(x)))
    norm = float(mp_norm(x[0], 0.5))
    expected = [0, (3 / norm) ** -0.5, (4 / norm) ** -0.5, 0]
    np.testing.assert_allclose(gradient[0], expected)
    assert not np.any(np.isnan(hessian))
    gradient, hessian = _first_two(-1.0, np.float64)(jnp.asarray(x))
    assert np.all(np.asarray(gradient) == 0) and np.all(np.asarray(hessian) == 0)
    # Ties of the ±inf norms share the derivative, as jax.numpy's max does.
    x[0] = (1.0, -1.0, 0.5, 1.0)
    np.testing.assert_array_equal(
        _first_two(INF, np.float64)(jnp.asarray(x))[0][0],
        jax.jit(jax.grad(lambda v: jnp.linalg.norm(v, INF)))(x[0]),
    )


def test_norm_transformations_agree():
    points, batch = _points(np.float32)
    x = jnp.asarray(batch[3])  # (1, 1e-4, -1e-3, 0)
    norm = cnp.linalg.norm
    # jit(vmap(hessian)) from the closed-form test, reused.
    reference = _first_two(2.0, np.float32)(jnp.asarray(batch))[1][3]
    variants = (
        jax.jit(jax.jacrev(jax.jacrev(norm)))(x),
        jax.jit(jax.jacfwd(jax.jacfwd(norm)))(x),
        jax.jit(jax.vmap(lambda d: jax.jvp(jax.grad(norm), (x,), (d,))[1]))(
            jnp.eye(4, dtype=jnp.float32)
        ),
    )
    for h in variants:
        np.testing.assert_allclose(h, reference, rtol=4 * helpers.eps(np.float32))


MATRIX_ORDERS = (None, "fro", 1, -1, INF, -INF, 2, -2, "nuc")


@pytest.mark.parametrize("ord", MATRIX_ORDERS)
def test_matrix_norms_match_jax(ord):
    x = jnp.asarray(np.arange(24.0).reshape(2, 3, 4) - 11.5, jnp.float32)

    @jax.jit
    def both(x):
        pairs = [
            (cnp.linalg.norm(x, ord, axis, k), jnp.linalg.norm(x, ord, axis, k))
            for axis in ((1, 2), (2, 1), (0, 2))
            for k in (False, True)
        ]
        gradients = [jax.grad(n)(x[0], ord) for n in (cnp.linalg.norm, jnp.linalg.norm)]
        return [*pairs, tuple(gradients)]

    for ours, theirs in both(x):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=4e-7)


def test_norm_api_matches_jax():
    x = jnp.asarray(np.arange(24.0).reshape(2, 3, 4) - 11.5, jnp.float64)
    cases = [
        (o, a, k)
        for o, a in ((None, None), (3.0, 0), (0, 2), (INF, -1))
        for k in (False, True)
    ]
    ours = jax.jit(lambda x: [cnp.linalg.norm(x, *c) for c in cases])(x)
    for c, value in zip(cases, ours):
        theirs = jnp.linalg.norm(x, *c)
        assert value.shape == theirs.shape
        np.testing.assert_allclose(value, theirs, rtol=1e-15)
    with pytest.raises(ValueError, match="Improper number of axes"):
        cnp.linalg.norm(x, None, (0, 2, 1))
    z = jnp.array([3e30 + 4e30j, 0.0, 1e30j], jnp.complex64)
    assert np.isclose(cnp.linalg.norm(z), np.float32(np.sqrt(26.0) * 1e30), rtol=1e-6)
    zs = z * jnp.float32(1e-30)
    np.testing.assert_allclose(
        jax.jit(jax.grad(cnp.linalg.norm))(zs), jax.grad(jnp.linalg.norm)(zs), rtol=1e-6
    )
    assert cnp.linalg.norm(jnp.arange(4)).dtype == jnp.linalg.norm(jnp.arange(4)).dtype
    with pytest.raises(ValueError, match="Invalid order"):
        cnp.linalg.norm(x[0], "inf", axis=0)
    with pytest.raises(ValueError, match="Invalid order"):
        cnp.linalg.norm(x[0], 3)


# ------------------------------------------------------------------ matrix functions

FUNCTIONS = {
    "exp": (cnp.exp, mpmath.exp),
    "log": (cnp.log, mpmath.log),
    "sqrt": (cnp.sqrt, mpmath.sqrt),
}
_ROTATION = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
MATRICES = {
    "generic": _ROTATION @ np.diag([0.5, 1.25, 2.75]) @ _ROTATION.T,
    "identity": np.eye(3),
    "double": np.diag([1.5, 1.5, 3.0]),
    "rotated double": _ROTATION @ np.diag([1.5, 1.5, 3.0]) @ _ROTATION.T,
    "near double": _ROTATION @ np.diag([1.5, 1.5 + 2.0**-12, 3.0]) @ _ROTATION.T,
}
E_DIRECTION = np.array([[0.5, 1.0, -0.25], [1.0, -0.75, 0.5], [-0.25, 0.5, 1.0]])
G_WEIGHTS = np.array([[1.0, 0.5, 0.0], [-0.5, 2.0, 0.25], [0.75, 0.0, -1.0]])


def mp_matrix_function(mp_f, a):
    values, vectors = mpmath.eigsy(a)
    return vectors * mpmath.diag([mp_f(v) for v in values]) * vectors.T


def _mp(matrix):
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in matrix])


def _matrix_scale(mp_f, a, k):
    """``||G|| ||E||^k (M_k + ||A|| M_{k+1})``, the tolerance scale of order ``k``."""
    values = mpmath.eigsy(_mp(a))[0]
    m = [max(abs(mpmath.diff(mp_f, v, j)) for v in values) for j in (k, k + 1)]
    norm_a = max(abs(v) for v in values)
    size = np.linalg.norm(G_WEIGHTS) * np.linalg.norm(E_DIRECTION) ** k
    return size * (m[0] + norm_a * m[1])


@functools.cache
def _matrix_derivatives(name, dtype, orders, reverse_third):
    """``jit`` of ``<G, D^kF(A)[E..E]>`` for k in ``orders`` by nested ``jvp``; by
    reverse mode ``<E, grad>`` (k = 1), ``jvp`` of ``grad`` (k = 2) and, if
    ``reverse_third``, ``grad`` of the forward second derivative (k = 3)."""
    f = FUNCTIONS[name][0]

    def phi(a, e, g):
        return jnp.sum(g * cnp.linalg.matrix_function(f, a))

    def forward(k):
        if k == 0:
            return phi

        def derivative(a, e, g):
            return jax.jvp(lambda a: forward(k - 1)(a, e, g), (a,), (e,))[1]

        return derivative

    def everything(a, e, g):
        out = {("fwd", k): forward(k)(a, e, g) for k in orders}
        out[("rev", 1)] = jnp.sum(e * jax.grad(phi)(a, e, g))
        hvp = jax.jvp(lambda a: jax.grad(phi)(a, e, g), (a,), (e,))[1]
        out[("rev", 2)] = jnp.sum(e * hvp)
        if reverse_third:
            out[("rev", 3)] = jnp.sum(e * jax.grad(forward(2))(a, e, g))
        return out

    return jax.jit(everything)


MATRIX_CASES = [
    ("log", np.float64, (1, 2, 3, 4), True),
    ("exp", np.float64, (1, 2, 3, 4), False),
    ("sqrt", np.float64, (1, 2), False),
    ("exp", np.float32, (1, 2), False),
    ("log", np.float32, (1, 2), False),
]


@pytest.mark.parametrize("name, dtype, orders, reverse_third", MATRIX_CASES)
def test_matrix_function_derivatives_match_mpmath(name, dtype, orders, reverse_third):
    mp_f = FUNCTIONS[name][1]
    compute = _matrix_derivatives(name, dtype, orders, reverse_third)
    e, g = (jnp.asarray(m, dtype) for m in (E_DIRECTION, G_WEIGHTS))
    failures, worst = [], {}
    for label, a in MATRICES.items():
        a = np.asarray(a, dtype)
        computed = compute(jnp.asarray(a), e, g)
        mp_a, mp_e, mp_g = _mp(a), _mp(E_DIRECTION), _mp(G_WEIGHTS)

        def phi(t):
            value = mp_matrix_function(mp_f, mp_a + t * mp_e)
            pairs = ((i, j) for i in range(3) for j in range(3))
            return mpmath.fsum(mp_g[i, j] * value[i, j] for i, j in pairs)

        for (mode, k), value in computed.items():
            truth = helpers.truth_partial(phi, (0.0,), (k,))
            scale = _matrix_scale(mp_f, a, k)
            error = abs(mpmath.mpf(float(value)) - truth)
            ratio = float(error / (helpers.eps(dtype) * (abs(truth) + scale)))
            worst[k] = max(worst.get(k, 0.0), ratio)
            if not ratio <= helpers.ULPS[k]:
                failures.append((label, mode, k, float(value), float(truth), ratio))
    print(f"\n{name} {dtype.__name__} worst error / (eps * scale) by order:", worst)
    assert not failures, failures


@pytest.mark.parametrize("dtype", helpers.DTYPES)
@pytest.mark.parametrize(
    "label", ["generic", "identity", "rotated double", "near double"]
)
def test_matrix_function_values_match_mpmath_and_scipy(label, dtype):
    a = np.asarray(MATRICES[label], dtype)
    for name, (f, mp_f) in FUNCTIONS.items():
        ours = np.asarray(cnp.linalg.matrix_function(f, jnp.asarray(a)))
        truth = mp_matrix_function(mp_f, _mp(a))
        scale = _matrix_scale(mp_f, a, 0) / (np.linalg.norm(G_WEIGHTS))
        error = max(
            abs(mpmath.mpf(float(ours[i, j])) - truth[i, j])
            for i in range(3)
            for j in range(3)
        )
        assert error <= helpers.ULPS[1] * helpers.eps(dtype) * scale, (name, error)
    if dtype == np.float64:
        np.testing.assert_allclose(
            cnp.linalg.matrix_function(cnp.exp, a), scipy.linalg.expm(a), rtol=1e-13
        )
        np.testing.assert_allclose(
            cnp.linalg.matrix_function(cnp.log, a), scipy.linalg.logm(a), atol=1e-14
        )


@functools.cache
def _logdet_derivatives():
    def logdet(a):
        return jnp.trace(cnp.linalg.matrix_function(cnp.log, a))

    def hvp(a, e):
        return jax.jvp(jax.grad(logdet), (a,), (e,))[1]

    return jax.jit(jax.grad(logdet)), jax.jit(hvp), logdet


@pytest.mark.parametrize("label", ["identity", "double", "rotated double"])
def test_logdet_gradient_and_hvp_at_repeated_eigenvalues(label):
    a = jnp.asarray(MATRICES[label])
    gradient, hvp, logdet = _logdet_derivatives()
    inverse = np.linalg.inv(np.asarray(a))
    e = jnp.asarray(E_DIRECTION)
    np.testing.assert_allclose(gradient(a), inverse, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(
        hvp(a, e), -inverse @ E_DIRECTION @ inverse, rtol=1e-13, atol=1e-14
    )
    np.testing.assert_allclose(logdet(a), np.linalg.slogdet(a)[1], atol=1e-14)

    # jnp.linalg.eigh-based autodiff is nan here: the reason for Daleckii-Krein.
    def naive(a):
        return jnp.sum(jnp.log(jnp.linalg.eigh(a)[0]))

    naive_hvp = jax.jvp(jax.grad(naive), (a,), (e,))[1]
    if label == "identity":
        assert np.isnan(naive_hvp).any()
    elif label == "rotated double":  # repeated to rounding: finite, but 2% off
        assert np.abs(naive_hvp + inverse @ E_DIRECTION @ inverse).max() > 1e-3


def test_matrix_function_gradient_is_f_prime_at_identity_and_double():
    def f(x):
        return cnp.exp(x) + cnp.sqrt(x)

    trace = jax.jit(jax.grad(lambda a: jnp.trace(cnp.linalg.matrix_function(f, a))))
    for label in ("identity", "double", "rotated double", "generic"):
        a = MATRICES[label]
        values, vectors = np.linalg.eigh(a)
        expected = vectors @ np.diag(np.exp(values) + 0.5 / np.sqrt(values)) @ vectors.T
        np.testing.assert_allclose(trace(jnp.asarray(a)), expected, rtol=1e-13)


def test_matrix_function_transformations_agree():
    a = jnp.asarray(MATRICES["rotated double"])
    gradient, hvp, logdet = _logdet_derivatives()
    basis = jnp.eye(9).reshape(9, 3, 3)
    # Forward over reverse, batched over the 9 directions (jax.hessian's order).
    reference = jax.vmap(hvp, (None, 0))(a, basis)
    reference = reference.reshape(3, 3, 3, 3).transpose(2, 3, 0, 1)
    assert np.all(np.isfinite(reference))
    for h in (
        jax.jit(jax.jacrev(jax.jacrev(logdet)))(a),
        jax.jit(jax.jacfwd(jax.jacfwd(logdet)))(a),
    ):
        np.testing.assert_allclose(h, reference, rtol=1e-13, atol=1e-14)
    batch = jnp.stack([a, jnp.asarray(MATRICES["generic"])])
    np.testing.assert_allclose(
        jax.vmap(gradient)(batch)[1], gradient(batch[1]), rtol=1e-14
    )
    batched = cnp.linalg.matrix_function(cnp.exp, batch)
    np.testing.assert_allclose(batched[0], cnp.linalg.matrix_function(cnp.exp, a))


def test_matrix_function_complex_hermitian():
    h = jnp.array([[2.0, 1.0 + 1.0j, 0.0], [1.0 - 1.0j, 3.0, 0.5j], [0.0, -0.5j, 1.0]])
    np.testing.assert_allclose(
        cnp.linalg.matrix_function(cnp.exp, h),
        scipy.linalg.expm(np.asarray(h)),
        rtol=1e-13,
    )
    weights = jnp.arange(9.0).reshape(3, 3)

    def ours(h):
        return jnp.real(jnp.sum(weights * cnp.linalg.matrix_function(cnp.exp, h)))

    def naive(h):
        w, v = jnp.linalg.eigh(h)
        return jnp.real(jnp.sum(weights * ((v * jnp.exp(w)[None, :]) @ v.conj().T)))

    np.testing.assert_allclose(
        jax.jit(jax.grad(ours))(h), jax.jit(jax.grad(naive))(h), rtol=1e-12
    )


def test_matrix_function_errors():
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        cnp.linalg.matrix_function(cnp.exp, jnp.ones((3, 2)))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        cnp.linalg.matrix_function(cnp.exp, jnp.ones(3))
    with pytest.raises(TypeError, match="callable"):
        cnp.linalg.matrix_function("exp", jnp.eye(2))
    with pytest.raises(TypeError, match="element-wise"):
        cnp.linalg.matrix_function(jnp.sum, jnp.eye(2))
    with pytest.raises(TypeError, match="float16"):
        cnp.linalg.matrix_function(cnp.exp, jnp.eye(2, dtype=jnp.float16))
    with pytest.raises(TypeError, match="closes over a traced value"):
        jax.grad(
            lambda s: jnp.trace(cnp.linalg.matrix_function(lambda x: s * x, jnp.eye(2)))
        )(1.0)
    # Integers are promoted to the default float (float64 here: x64 is enabled).
    promoted = cnp.linalg.matrix_function(cnp.exp, jnp.eye(2, dtype=jnp.int32))
    assert promoted.dtype == jnp.float64

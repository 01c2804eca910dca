"""Rewrite patterns rooted at ``div`` and ``mul``: quotients of monomials, sigmoid
and softmax quotients, ``g(x) / x``, quotients that are derivatives of stable
functions, and powers times logarithms. The table is in ``_rewrite_patterns``'
docstring and ``docs/replaced_functions.md``."""

from __future__ import annotations

import math
from collections.abc import Callable

import jax.numpy as jnp

from .. import numpy as cnp
from ..numpy import nn, special
from ._rewrite import Graph, Rewrite, _is_real
from ._rewrite_common import const, exp_argument, negated
from ._stable_forms import divided, exprel, log1p_square, power_log, slope


def power_log_rewrite(graph: Graph, eqn) -> Rewrite | None:
    # c x**n * log(x) (either order): x^n log x as one function.
    for logged, other in (eqn.invars, eqn.invars[::-1]):
        log = graph.op(logged, "log")
        if log is None:
            continue
        x = log.invars[0]
        found = graph.monomial(other, leaves=(x,))
        if found is None:
            continue
        c, bases = found
        if len(bases) != 1 or not graph.same(next(iter(bases)), x) or c == 0:
            continue
        n = next(iter(bases.values()))
        return Rewrite(
            "x**n * log(x) -> power_log(x)",
            lambda v, c=c, n=n: const(c, v) * power_log(n)(v),
            (x,),
        )
    return None


def _logistic_quotient(graph: Graph, eqn) -> Rewrite | None:
    numerator, denominator = eqn.invars
    added = graph.op(denominator, "add")
    other = graph.other_than_one(added) if added is not None else None
    w = exp_argument(graph, other)
    if w is None:
        return None
    if graph.same(exp_argument(graph, numerator), w):  # exp(w) / (1 + exp(w))
        return Rewrite("exp(x) / (1 + exp(x)) -> expit(x)", special.expit, (w,))
    v = negated(graph, w)
    if graph.is_constant(numerator, 1):
        if v is not None:
            return Rewrite("1/(1 + exp(-x)) -> expit(x)", special.expit, (v,))
        return Rewrite("1/(1 + exp(-x)) -> expit(x)", lambda x: special.expit(-x), (w,))
    if v is not None:
        return Rewrite(
            "a / (1 + exp(-x)) -> a * expit(x)",
            lambda a, x: a * special.expit(x),
            (numerator, v),
        )
    return Rewrite(
        "a / (1 + exp(-x)) -> a * expit(x)",
        lambda a, x: a * special.expit(-x),
        (numerator, w),
    )


def _exprel(graph: Graph, eqn) -> Rewrite | None:
    numerator, x = eqn.invars
    expm1 = graph.op(numerator, "expm1")
    if expm1 is not None and graph.same(expm1.invars[0], x):
        return Rewrite("(exp(x) - 1) / x -> exprel(x)", exprel(0), (x,))
    sub = graph.op(numerator, "sub")
    if (
        sub is not None
        and graph.is_constant(sub.invars[1], 1)
        and graph.same(exp_argument(graph, sub.invars[0]), x)
    ):
        return Rewrite("(exp(x) - 1) / x -> exprel(x)", exprel(0), (x,))
    return None


def _log_over_power(graph: Graph, eqn) -> Rewrite | None:
    numerator, denominator = eqn.invars
    log = graph.op(numerator, "log")
    if log is None:
        return None
    x = log.invars[0]
    found = graph.monomial(denominator, leaves=(x,))
    if found is None or len(found[1]) != 1 or found[0] == 0:
        return None
    ((base, n),) = found[1].items()
    if not graph.same(base, x):
        return None
    c = found[0]
    return Rewrite(
        "x**n * log(x) -> power_log(x)",
        lambda v: power_log(-n)(v) / const(c, v),
        (x,),
    )


def _repeated_division(c: float, paired, bases: dict) -> Callable:
    # a / (c prod b_i^n_i): divide by c, then by each base n_i times (multiply for
    # n_i < 0): every partial quotient lies between a and the result. With
    # ``paired = (m, k)``, a = u**m and the first base is divided into u first:
    # u**(m - k) * (u / b_1)**k / ..., so that no partial result is u**m or
    # b_1**k alone (the Gaussian's (x - mu)**2 / s**2 = ((x - mu) / s)**2, whose
    # cotangents stay (x - mu) / s**2 in reverse mode).
    powers = list(bases.values())

    def quotient(a, *values):
        if paired is None:
            out = a
        else:
            m, k = paired
            ratio = (
                cnp.power(cnp.divide(a, values[0]), k)
                if k > 1
                else cnp.divide(a, values[0])
            )
            out = ratio if m == k else ratio * cnp.power(a, m - k)
        if c != 1:
            out = out / const(c, out)
        for index, (value, n) in enumerate(zip(values, powers)):
            if paired is not None and index == 0:
                n -= paired[1]
            for _ in range(abs(n)):
                out = cnp.divide(out, value) if n > 0 else out * value
        return out

    return quotient


def _quotient_of_monomial(graph: Graph, eqn) -> Rewrite | None:
    numerator, denominator = eqn.invars
    found = graph.monomial(denominator)
    if found is None:
        return None
    c, bases = found
    if c == 0 or not bases or not all(_is_real(b) for b in bases):
        return None
    if not all(isinstance(n, int) for n in bases.values()):
        return fractional_power_rewrite(graph, eqn)
    power = graph.power_of(numerator)
    n_first = next(iter(bases.values()))
    u, m = power if power is not None and _is_real(power[0]) else (None, 0)
    total = sum(abs(n) for n in bases.values())
    if total == 1 and n_first == 1 and m >= 2:
        # u**m / y: sign(y) (u / |y|**(1/m))**m, whose factor and its derivatives
        # in y stay in range where u**m does not (u = 1e-20, y = 3e-20 in float32:
        # u**2 is subnormal, flushed to 0 on CPU; (u / y) u has a second
        # derivative in y through 2 u / y**3 = 7e38, past float32's range, where
        # the truth is 7e18).
        def balanced(u, y, m=m):
            root = cnp.sqrt(cnp.abs(y)) if m == 2 else cnp.power(cnp.abs(y), 1.0 / m)
            value = cnp.sign(y) * cnp.power(cnp.divide(u, root), m)
            # at y = 0, u**m / 0 as written (inf, or nan for u = 0), not 0 * inf
            return jnp.where(y == 0, cnp.divide(cnp.power(u, m), y), value)

        name = "x**m / y -> sign(y) (x / |y|**(1/m))**m"
        return Rewrite(name, balanced, (u, denominator))  # y: c * base as written
    if total < 2:
        return None  # a / (c y): the division rule is already stable
    if len(bases) == 1 and c == 1:
        name = f"x / y**{n_first} -> repeated division"
    else:
        name = "x / (c y**n ...) -> repeated division"
    if m >= 2 and n_first >= 2:
        k = min(m, n_first)
        function = _repeated_division(c, (m, k), bases)
        return Rewrite(name, function, (u, *bases))
    return Rewrite(name, _repeated_division(c, None, bases), (numerator, *bases))


_DIVIDED = {
    "sin": (jnp.sin, 1.0),
    "sinh": (cnp.sinh, 1.0),
    "tanh": (cnp.tanh, 1.0),
    "tan": (jnp.tan, 0.5),
    "expm1": (cnp.expm1, 1.0),
    "log1p": (cnp.log1p, 0.5),
    "atan": (cnp.arctan, 0.5),
    "asin": (cnp.arcsin, 0.5),
    "asinh": (cnp.arcsinh, 0.5),
    "atanh": (cnp.arctanh, 0.5),
    "erf": (special.erf, 1.0),
}


def _divided(graph: Graph, eqn) -> Rewrite | None:
    numerator, x = eqn.invars
    inner = graph.op(numerator, *_DIVIDED)
    if inner is None or not graph.same(inner.invars[0], x):
        return None
    name = inner.primitive.name
    g, radius = _DIVIDED[name]
    return Rewrite(f"{name}(x) / x -> divided({name})", divided(g, 0, radius), (x,))


def _softmax(graph: Graph, eqn) -> Rewrite | None:
    # exp(v) / sum(exp(v)) (the sum broadcast back, or over every axis with the
    # numerator any slice of exp(v)): softmax(v) (and the same slice of it).
    numerator, denominator = eqn.invars
    kept = graph.op(denominator, "broadcast_in_dim")
    total = graph.op(kept.invars[0] if kept is not None else denominator, "reduce_sum")
    if total is None or graph.op(total.invars[0], "exp") is None:
        return None
    exps = total.invars[0]
    v = graph.op(exps, "exp").invars[0]
    axes = tuple(int(a) for a in total.params["axes"])
    if graph.same(numerator, exps):
        if kept is None and len(axes) != len(exps.aval.shape):
            return None
        return Rewrite(
            "exp(x) / sum(exp(x)) -> softmax(x)",
            lambda x: special.softmax(x, axis=axes),
            (v,),
        )
    if len(axes) != len(exps.aval.shape):
        return None
    chain = []
    atom = numerator
    while not graph.same(atom, exps):
        step = graph.op(atom, "slice", "squeeze", "reshape")
        if step is None:
            return None
        chain.append(step)
        atom = step.invars[0]

    def function(x):
        out = special.softmax(x, axis=axes)
        for step in reversed(chain):
            out = step.primitive.bind(out, **step.params)
        return out

    return Rewrite("exp(x) / sum(exp(x)) -> softmax(x)", function, (v,))


def fractional_power_rewrite(graph: Graph, eqn) -> Rewrite | None:
    # c x**p with a non-integer p (x * sqrt(x), sqrt(x) / x, x**1.5 / x): one power.
    found = graph.monomial(eqn.outvars[0])
    if found is None:
        return None
    c, bases = found
    if len(bases) != 1 or c == 0:
        return None
    ((x, p),) = bases.items()
    if isinstance(p, int) or not _is_real(x):
        return None
    return Rewrite(
        "x**a * x**b -> x**(a + b)",
        lambda v: const(c, v) * cnp.power(v, const(float(p), v)),
        (x,),
    )


def _slope_quotients(graph: Graph, eqn) -> Rewrite | None:
    """Quotients that are derivatives of stable functions: ``c / (1 + x**2)``
    (``arctan'``), ``x / (1 + x**2)`` (``log(1 + x**2) / 2``),
    ``x / sqrt(x**2 + c)`` (``hypot``'s partial)."""
    numerator, denominator = eqn.invars
    added = graph.op(denominator, "add")
    if added is not None and graph.other_than_one(added) is not None:
        x = graph.square_root_of(graph.other_than_one(added))
        c = graph.scalar(numerator)
        if x is not None and c is not None:
            scale: float = c
            return Rewrite(
                "c / (1 + x**2) -> c arctan'(x)",
                lambda v: const(scale, v) * slope(cnp.arctan)(v),
                (x,),
            )
        if x is not None and graph.same(numerator, x):
            return Rewrite(
                "x / (1 + x**2) -> log(1 + x**2)' / 2",
                lambda v: const(0.5, v) * slope(log1p_square)(v),
                (x,),
            )
    root = graph.op(denominator, "sqrt")
    added = graph.op(root.invars[0], "add") if root is not None else None
    split = graph.split_constant(added) if added is not None else None
    if split is not None and split[0] > 0:
        x = graph.square_root_of(split[1])
        if x is not None and graph.same(numerator, x):
            c = math.sqrt(split[0])
            return Rewrite(
                "x / sqrt(x**2 + c) -> hypot(x, sqrt(c))'",
                lambda v: slope(lambda u: cnp.hypot(u, const(c, u)))(v),
                (x,),
            )
    return None


def sech_squared_rewrite(graph: Graph, eqn) -> Rewrite | None:
    # c / cosh(x)**2 (also (1 / cosh(x))**2): c tanh'(x), whose rules multiply
    # bounded factors (the chain rule through 1/cosh forms 1/cosh**3, which
    # underflows where the result does not).
    found = graph.monomial(eqn.outvars[0])
    if found is None or len(found[1]) != 1:
        return None
    ((base, n),) = found[1].items()
    cosh = graph.op(base, "cosh")
    if cosh is None or n != -2:
        return None
    scale = found[0]
    return Rewrite(
        "1 / cosh(x)**2 -> tanh'(x)",
        lambda v: const(scale, v) * slope(cnp.tanh)(v),
        (cosh.invars[0],),
    )


def _one_minus_cos_over_square(graph: Graph, eqn) -> Rewrite | None:
    # (1 - cos x) / x**2 = (sin(x/2) / (x/2))**2 / 2: both cancel near 0.
    numerator, denominator = eqn.invars
    sub = graph.op(numerator, "sub")
    if sub is None or not graph.is_constant(sub.invars[0], 1):
        return None
    cos = graph.op(sub.invars[1], "cos")
    x = graph.square_root_of(denominator)
    if cos is None or x is None or not graph.same(cos.invars[0], x):
        return None

    def function(v):
        half = const(0.5, v)
        return half * jnp.square(divided(jnp.sin, 0, 1.0)(half * v))

    return Rewrite("(1 - cos(x)) / x**2 -> sinc(x/2)**2 / 2", function, (x,))


def _logistic_density(graph: Graph, eqn) -> Rewrite | None:
    # exp(w) / (1 + exp(w))**2 = sigmoid(w) sigmoid(-w) = sigmoid'(w).
    numerator, denominator = eqn.invars
    w = exp_argument(graph, numerator)
    added = graph.op(graph.square_root_of(denominator), "add")
    other = graph.other_than_one(added) if added is not None else None
    if w is None or other is None or not graph.same(exp_argument(graph, other), w):
        return None
    return Rewrite("exp(x) / (1 + exp(x))**2 -> expit'(x)", slope(special.expit), (w,))


def arctan_rewrite(graph: Graph, eqn) -> Rewrite | None:
    # arctan(1/x) = sign(x) pi/2 - arctan(x): the chain rule through 1/x forms
    # arctan'(1/x) ~ x**2 (underflows) times -1/x**2 (overflows).
    found = graph.monomial(eqn.invars[0])
    if found is None or len(found[1]) != 1 or not found[0] > 0:
        return None
    ((x, n),) = found[1].items()
    if n != -1:
        return None
    c = found[0]

    def function(v):
        half_pi = const(math.pi / 2, v)
        turned = jnp.sign(v) * half_pi - cnp.arctan(v / const(c, v))
        return jnp.where(v == 0, half_pi, turned)

    return Rewrite("arctan(c/x) -> sign(x) pi/2 - arctan(x/c)", function, (x,))


def div_rewrite(graph: Graph, eqn) -> Rewrite | None:
    for pattern in (
        _logistic_quotient,
        _exprel,
        _divided,
        _one_minus_cos_over_square,
        _logistic_density,
        _softmax,
        _slope_quotients,
        sech_squared_rewrite,
        _log_over_power,
        _quotient_of_monomial,
    ):
        found = pattern(graph, eqn)
        if found is not None:
            return found
    return None


def _close(value: float | None, target: float) -> bool:
    return value is not None and abs(value - target) <= 1e-6 * abs(target)


def gelu_rewrite(graph: Graph, eqn) -> Rewrite | None:
    """JAX's tanh-approximation GELU, inlined: ``x * (0.5 * (1 + tanh(c (x + k
    x**3))))`` with ``c = sqrt(2/pi)``, ``k = 0.044715``: ``nn.gelu(x)``, whose
    derivatives keep the tails (``1 + tanh`` cancels to 0 for x < -9 in float32)."""
    for x, gate in (eqn.invars, eqn.invars[::-1]):
        half = graph.op(gate, "mul")
        split = graph.split_constant(half) if half is not None else None
        if split is None or not _close(split[0], 0.5):
            continue
        added = graph.op(split[1], "add")
        tanh = graph.op(graph.other_than_one(added), "tanh") if added else None
        scaled = graph.op(tanh.invars[0], "mul") if tanh is not None else None
        inner = graph.split_constant(scaled) if scaled is not None else None
        if inner is None or not _close(inner[0], math.sqrt(2 / math.pi)):
            continue
        cubic = graph.op(inner[1], "add")
        if cubic is None:
            continue
        for linear, term in (cubic.invars, cubic.invars[::-1]):
            found = graph.monomial(term)
            if (
                graph.same(linear, x)
                and found is not None
                and _close(found[0], 0.044715)
                and len(found[1]) == 1
                and graph.same(next(iter(found[1])), x)
                and next(iter(found[1].values())) == 3
            ):
                return Rewrite("JAX's gelu -> nn.gelu", nn.gelu, (x,))
    return None

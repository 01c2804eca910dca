"""The patterns of ``stabilize``'s rewriting (``_rewrite``), by root primitive.

Each function takes the :class:`~._rewrite.Graph` and a candidate root equation and
returns a :class:`~._rewrite.Rewrite` or ``None``; they are tried in the order of
``PATTERNS[primitive]``, the more specific first (``log(1 + exp(x))`` is softplus
before it is ``log1p`` of ``exp(x)``, which would still overflow).

================================  ================================================
pattern                           rewritten to
================================  ================================================
``log(1 + exp(x))``               ``nn.softplus(x)`` (also ``log1p(exp(x))``)
``log(c + exp(x))``, ``c > 0``    ``log(c) + softplus(x - log(c))``
``log(1 - exp(x))``               ``nn.log1mexp(-x)`` (also ``log1p(-exp(x))``,
                                  ``log(-expm1(x))``)
``log(exp(x) - 1)``               ``x + log1mexp(x)`` (also ``log(expm1(x))``)
``log(sigmoid(x))``               ``nn.log_sigmoid(x)`` (``logistic`` or
                                  ``1/(1 + exp(-x))``)
``log(exp(a) + exp(b))``          ``logaddexp(a, b)``
``log(sum(exp(x)))``              ``special.logsumexp(x, axis=...)``
``log(cosh(x))``                  ``|x| + log1p(exp(-2|x|)) - log 2``
``log(1 + x)``                    ``log1p(x)``
``log(1 + x**2 / c)``             ``log(1 + x**2)`` without ``x**2``
``log(c * x**n * y**m ...)``      ``log|c| + n log|x| + m log|y| ...`` (``nan``
                                  where the product is negative; also quotients)
``x**n * log(x)``                 :math:`x^n \\log x` as one function
``log(x) / x**n``                 the same, :math:`n < 0`
``a / (c * y**n * ...)``          ``a / c / y / y ...`` (repeated division)
``a / (1 + exp(-x))``             ``a * expit(x)`` (``expit(x)`` for ``a = 1``;
                                  also ``exp(x) / (1 + exp(x))``)
``(exp(x) - 1) / x``              ``exprel(x)`` (also ``expm1(x) / x``)
``exp(x) - 1``                    ``expm1(x)``
``1 - exp(x)``                    ``-expm1(x)``
``1 +- tanh(u)``                  ``2 expit(+-2u)``
``1 +- erf(u)``                   ``erfc(-+u)``
``1 - sigmoid(x)``                ``expit(-x)``
``sqrt(x**2 + y**2)``             ``hypot(x, y)``
``sqrt(x**2 + c)``, ``c > 0``     ``hypot(x, sqrt(c))``
``sqrt(sum(x**2))``               ``linalg.norm(x, axis=...)``
``exp(log(a) - log(b))``          ``a / b`` (``nan`` where ``a < 0`` or ``b < 0``)
================================  ================================================

and further: ``x - log(sum(exp(x)))`` (``log_softmax``), ``exp(x) / sum(exp(x))``
(``softmax``), ``g(x) / x`` (``divided``), ``c / (1 + x**2)``, ``x / (1 + x**2)``,
``x / sqrt(x**2 + c)``, ``1 / cosh(x)**2``, ``exp(x) / (1 + exp(x))**2`` (derivatives of
stable functions, ``slope``), ``x * sqrt(x)`` (one power), ``arctan(c / x)``,
``log(x + sqrt(x**2 + 1))`` (``arcsinh``), ``1 - cos(u)``, ``(1 - cos(x)) / x**2``,
``1 - x**2``, ``sqrt(x**2)`` (``docs/replaced_functions.md`` has the full table).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from .. import numpy as cnp
from ..numpy import linalg, nn, special
from ._rewrite import Graph, Rewrite, _is_real
from ._stable_forms import divided, exprel, log1p_square, logcosh, power_log, slope

__all__ = ["PATTERNS", "KEEPING_VALUES", "sum_of_squares"]


def _const(value: float, like) -> jax.Array:
    return jnp.asarray(value, dtype=jnp.result_type(like))


def _exp_argument(graph: Graph, atom):
    eqn = graph.op(atom, "exp")
    return eqn.invars[0] if eqn is not None else None


def _negated(graph: Graph, atom):
    eqn = graph.op(atom, "neg")
    return eqn.invars[0] if eqn is not None else None


# ------------------------------------------------------------------ log and log1p


def _softplus_family(graph: Graph, added) -> Rewrite | None:
    split = graph.split_constant(added)
    if split is None:
        return None
    c, other = split
    v = _exp_argument(graph, other)
    if v is None or not c > 0:
        return None
    if c == 1:
        return Rewrite("log(1 + exp(x)) -> softplus(x)", nn.softplus, (v,))
    log_c = math.log(c)

    def shifted(x):
        return _const(log_c, x) + nn.softplus(x - _const(log_c, x))

    return Rewrite("log(c + exp(x)) -> log(c) + softplus(x - log(c))", shifted, (v,))


def _log_one_minus_exp(graph: Graph, atom) -> Rewrite | None:
    # log(1 - exp(v)) = log1mexp(-v); log(exp(v) - 1) = v + log1mexp(v).
    eqn = graph.op(atom, "sub")
    if eqn is None:
        return None
    a, b = eqn.invars
    if graph.is_constant(a, 1):
        v = _exp_argument(graph, b)
        if v is not None:
            return Rewrite(
                "log(1 - exp(x)) -> log1mexp(-x)", lambda x: nn.log1mexp(-x), (v,)
            )
    if graph.is_constant(b, 1):
        v = _exp_argument(graph, a)
        if v is not None:
            return Rewrite(
                "log(exp(x) - 1) -> x + log1mexp(x)",
                lambda x: x + nn.log1mexp(x),
                (v,),
            )
    return None


def _log_of_expm1(graph: Graph, atom) -> Rewrite | None:
    eqn = graph.op(atom, "expm1")
    if eqn is not None:
        return Rewrite(
            "log(expm1(x)) -> x + log1mexp(x)",
            lambda x: x + nn.log1mexp(x),
            (eqn.invars[0],),
        )
    inner = _negated(graph, atom)
    eqn = graph.op(inner, "expm1")
    if eqn is not None:
        return Rewrite(
            "log(-expm1(x)) -> log1mexp(-x)",
            lambda x: nn.log1mexp(-x),
            (eqn.invars[0],),
        )
    return None


def _sigmoid_argument(graph: Graph, atom):
    """``v`` where ``atom`` is ``logistic(v)``, ``1/(1 + exp(-v))``; else None."""
    eqn = graph.op(atom, "logistic")
    if eqn is not None:
        return eqn.invars[0]
    eqn = graph.op(atom, "div")
    if eqn is None or not graph.is_constant(eqn.invars[0], 1):
        return None
    added = graph.op(eqn.invars[1], "add")
    if added is None or graph.other_than_one(added) is None:
        return None
    w = _exp_argument(graph, graph.other_than_one(added))
    if w is None:
        return None
    return _negated(graph, w) if _negated(graph, w) is not None else ("neg", w)


def _log_sigmoid(graph: Graph, atom) -> Rewrite | None:
    v = _sigmoid_argument(graph, atom)
    if v is None:
        return None
    if isinstance(v, tuple):  # 1/(1 + exp(w)) = sigmoid(-w)
        return Rewrite(
            "log(sigmoid(x)) -> log_sigmoid(x)", lambda w: nn.log_sigmoid(-w), (v[1],)
        )
    return Rewrite("log(sigmoid(x)) -> log_sigmoid(x)", nn.log_sigmoid, (v,))


def _scaled_square(graph: Graph, atom) -> tuple[Any, float] | None:
    """``(x, s)`` with ``atom = x**2 / s**2`` (``x**2``, ``x**2 / c``, ``c x**2``)."""
    root = graph.square_root_of(atom)
    if root is not None:
        return root, 1.0
    eqn = graph.op(atom, "div", "mul")
    if eqn is None:
        return None
    split = graph.split_constant(eqn)
    if split is None:
        return None
    c, other = split
    root = graph.square_root_of(other)
    if root is None or not c > 0:
        return None
    if eqn.primitive.name == "div" and other is eqn.invars[1]:
        return None  # c / x**2 is not a scaled square
    return root, math.sqrt(c) if eqn.primitive.name == "div" else 1 / math.sqrt(c)


def _log1p_square(graph: Graph, atom) -> Rewrite | None:
    found = _scaled_square(graph, atom)
    if found is None:
        return None
    x, s = found
    return Rewrite(
        "log(1 + x**2) -> log1p_square(x)",
        lambda v: log1p_square(v / _const(s, v)) if s != 1 else log1p_square(v),
        (x,),
    )


def _log_of_sum(graph: Graph, eqn) -> Rewrite | None:
    added = graph.op(eqn.invars[0], "add")
    if added is None:
        return None
    found = _softplus_family(graph, added)
    if found is not None:
        return found
    x = graph.other_than_one(added)
    if x is not None:
        return _log1p_square(graph, x) or Rewrite(
            "log(1 + x) -> log1p(x)", cnp.log1p, (x,)
        )
    exps = [_exp_argument(graph, v) for v in added.invars]
    if all(e is not None for e in exps):
        return Rewrite(
            "log(exp(a) + exp(b)) -> logaddexp(a, b)", cnp.logaddexp, tuple(exps)
        )
    return None


def _over_axes(function: Callable, axes: tuple[int, ...]) -> Callable:
    return lambda x: function(x, axis=tuple(int(a) for a in axes))


def _log_sum_exp(graph: Graph, eqn) -> Rewrite | None:
    total = graph.op(eqn.invars[0], "reduce_sum")
    v = _exp_argument(graph, total.invars[0]) if total is not None else None
    if v is None:
        return None
    function = _over_axes(special.logsumexp, total.params["axes"])
    return Rewrite("log(sum(exp(x))) -> logsumexp(x)", function, (v,))


def _log_cosh(graph: Graph, eqn) -> Rewrite | None:
    inner = graph.op(eqn.invars[0], "cosh")
    if inner is None:
        return None
    return Rewrite("log(cosh(x)) -> logcosh(x)", logcosh, (inner.invars[0],))


def _sum_of_logs(c: float, bases: dict) -> Callable:
    # log|c| + sum_i n_i log|b_i|, nan where c prod b_i^n_i < 0 (as log of it).
    powers = list(bases.values())

    def function(*values):
        total = _const(math.log(abs(c)), values[0])
        negative = jnp.asarray(c < 0)
        undefined = jnp.asarray(False)
        for value, n in zip(values, powers):
            total = total + _const(float(n), value) * cnp.log(cnp.abs(value))
            if n != int(n):
                undefined = undefined | (value < 0)
            elif n % 2:
                negative = negative ^ (value < 0)
        return jnp.where(negative | undefined, jnp.full_like(total, jnp.nan), total)

    return function


def _log_of_monomial(graph: Graph, eqn) -> Rewrite | None:
    found = graph.monomial(eqn.invars[0])
    if found is None:
        return None
    c, bases = found
    trivial = len(bases) == 1 and next(iter(bases.values())) == 1 and c == 1
    if not bases or trivial or c == 0 or not all(_is_real(b) for b in bases):
        return None
    return Rewrite(
        "log(c * x**n * ...) -> log|c| + n log|x| + ...",
        _sum_of_logs(c, bases),
        tuple(bases),
    )


def _log(graph: Graph, eqn) -> Rewrite | None:
    argument = eqn.invars[0]
    for pattern in (
        lambda: _log_of_inverse_hyperbolic(graph, eqn),
        lambda: _log_of_sum(graph, eqn),
        lambda: _log_one_minus_exp(graph, argument),
        lambda: _log_of_expm1(graph, argument),
        lambda: _log_sigmoid(graph, argument),
        lambda: _log_sum_exp(graph, eqn),
        lambda: _log_cosh(graph, eqn),
        lambda: _log_of_monomial(graph, eqn),
    ):
        found = pattern()
        if found is not None:
            return found
    return None


def _log1p(graph: Graph, eqn) -> Rewrite | None:
    (argument,) = eqn.invars
    v = _exp_argument(graph, argument)
    if v is not None:
        return Rewrite("log1p(exp(x)) -> softplus(x)", nn.softplus, (v,))
    inner = _negated(graph, argument)
    v = _exp_argument(graph, inner)
    if v is not None:
        return Rewrite(
            "log1p(-exp(x)) -> log1mexp(-x)", lambda x: nn.log1mexp(-x), (v,)
        )
    return _log1p_square(graph, argument)


# ------------------------------------------------------------------ products


def _power_log(graph: Graph, eqn) -> Rewrite | None:
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
            lambda v, c=c, n=n: _const(c, v) * power_log(n)(v),
            (x,),
        )
    return None


# ------------------------------------------------------------------ quotients


def _logistic_quotient(graph: Graph, eqn) -> Rewrite | None:
    numerator, denominator = eqn.invars
    added = graph.op(denominator, "add")
    other = graph.other_than_one(added) if added is not None else None
    w = _exp_argument(graph, other)
    if w is None:
        return None
    if graph.same(_exp_argument(graph, numerator), w):  # exp(w) / (1 + exp(w))
        return Rewrite("exp(x) / (1 + exp(x)) -> expit(x)", special.expit, (w,))
    v = _negated(graph, w)
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
        and graph.same(_exp_argument(graph, sub.invars[0]), x)
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
        lambda v: power_log(-n)(v) / _const(c, v),
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
            out = out / _const(c, out)
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
        return _fractional_power(graph, eqn)
    if sum(abs(n) for n in bases.values()) < 2:
        return None  # a / (c y): the division rule is already stable
    if len(bases) == 1 and c == 1:
        name = f"x / y**{next(iter(bases.values()))} -> repeated division"
    else:
        name = "x / (c y**n ...) -> repeated division"
    power = graph.power_of(numerator)
    first, n_first = next(iter(bases.items()))
    if power is not None and power[1] >= 2 and n_first >= 2 and _is_real(power[0]):
        k = min(power[1], n_first)
        function = _repeated_division(c, (power[1], k), bases)
        return Rewrite(name, function, (power[0], *bases))
    return Rewrite(name, _repeated_division(c, None, bases), (numerator, *bases))


# ------------------------------------------------------------------ more quotients

# g with g(0) = 0 whose g(x) / x cancels in the quotient rule near 0, and the radius
# inside which divided() integrates (g' analytic within twice of it).
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


def _fractional_power(graph: Graph, eqn) -> Rewrite | None:
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
        lambda v: _const(c, v) * cnp.power(v, _const(float(p), v)),
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
                lambda v: _const(scale, v) * slope(cnp.arctan)(v),
                (x,),
            )
        if x is not None and graph.same(numerator, x):
            return Rewrite(
                "x / (1 + x**2) -> log(1 + x**2)' / 2",
                lambda v: _const(0.5, v) * slope(log1p_square)(v),
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
                lambda v: slope(lambda u: cnp.hypot(u, _const(c, u)))(v),
                (x,),
            )
    return None


def _sech_squared(graph: Graph, eqn) -> Rewrite | None:
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
        lambda v: _const(scale, v) * slope(cnp.tanh)(v),
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
        half = _const(0.5, v)
        return half * jnp.square(divided(jnp.sin, 0, 1.0)(half * v))

    return Rewrite("(1 - cos(x)) / x**2 -> sinc(x/2)**2 / 2", function, (x,))


def _logistic_density(graph: Graph, eqn) -> Rewrite | None:
    # exp(w) / (1 + exp(w))**2 = sigmoid(w) sigmoid(-w) = sigmoid'(w).
    numerator, denominator = eqn.invars
    w = _exp_argument(graph, numerator)
    added = graph.op(graph.square_root_of(denominator), "add")
    other = graph.other_than_one(added) if added is not None else None
    if w is None or other is None or not graph.same(_exp_argument(graph, other), w):
        return None
    return Rewrite("exp(x) / (1 + exp(x))**2 -> expit'(x)", slope(special.expit), (w,))


def _log_of_inverse_hyperbolic(graph: Graph, eqn) -> Rewrite | None:
    # log(x + sqrt(x**2 + 1)) = arcsinh(x), log(x + sqrt(x**2 - 1)) = arccosh(x).
    added = graph.op(eqn.invars[0], "add")
    if added is None:
        return None
    for x, root in (added.invars, added.invars[::-1]):
        sqrt = graph.op(root, "sqrt")
        inner = graph.op(sqrt.invars[0], "add", "sub") if sqrt is not None else None
        if inner is None:
            continue
        a, b = inner.invars
        if graph.same(graph.square_root_of(a), x) and graph.is_constant(b, 1):
            if inner.primitive.name == "add":
                return Rewrite(
                    "log(x + sqrt(x**2 + 1)) -> arcsinh(x)", cnp.arcsinh, (x,)
                )
            return Rewrite("log(x + sqrt(x**2 - 1)) -> arccosh(x)", cnp.arccosh, (x,))
    return None


def _arctan_of_reciprocal(graph: Graph, eqn) -> Rewrite | None:
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
        half_pi = _const(math.pi / 2, v)
        turned = jnp.sign(v) * half_pi - cnp.arctan(v / _const(c, v))
        return jnp.where(v == 0, half_pi, turned)

    return Rewrite("arctan(c/x) -> sign(x) pi/2 - arctan(x/c)", function, (x,))


def _log_softmax(graph: Graph, eqn) -> Rewrite | None:
    # v - log(sum(exp(v))) (the log broadcast back): log_softmax(v).
    v, subtracted = eqn.invars
    kept = graph.op(subtracted, "broadcast_in_dim")
    log = graph.op(kept.invars[0] if kept is not None else subtracted, "log")
    argument = log.invars[0] if log is not None else None
    inner = graph.op(argument, "broadcast_in_dim")
    kept = kept or inner
    total = graph.op(inner.invars[0] if inner is not None else argument, "reduce_sum")
    exp = graph.op(total.invars[0], "exp") if total is not None else None
    if exp is None or not graph.same(exp.invars[0], v):
        return None
    axes = tuple(int(a) for a in total.params["axes"])
    if kept is None and len(axes) != len(v.aval.shape):
        return None
    return Rewrite(
        "x - log(sum(exp(x))) -> log_softmax(x)",
        lambda x: special.log_softmax(x, axis=axes),
        (v,),
    )


def _div(graph: Graph, eqn) -> Rewrite | None:
    for pattern in (
        _logistic_quotient,
        _exprel,
        _divided,
        _one_minus_cos_over_square,
        _logistic_density,
        _softmax,
        _slope_quotients,
        _sech_squared,
        _log_over_power,
        _quotient_of_monomial,
    ):
        found = pattern(graph, eqn)
        if found is not None:
            return found
    return None


# ------------------------------------------------------------------ sums


def _one_plus(graph: Graph, eqn, sign: int) -> Rewrite | None:
    """``1 + sign * g(u)`` for ``g`` in tanh, erf (and, for ``sign < 0``, exp and
    sigmoid)."""
    a, b = eqn.invars
    if sign > 0:
        other = graph.other_than_one(eqn)
    else:
        other = b if graph.is_constant(a, 1) else None
    if other is None:
        return None
    for name, function in _ONE_PLUS.get(sign, {}).items():
        inner = graph.op(other, name)
        if inner is not None:
            label, stable = function
            return Rewrite(label, stable, (inner.invars[0],))
    if sign < 0 and graph.square_root_of(other) is not None:
        return Rewrite(
            "1 - x**2 -> (1 - x)(1 + x)",
            lambda x: (_const(1.0, x) - x) * (_const(1.0, x) + x),
            (graph.square_root_of(other),),
        )
    if sign < 0:
        v = _sigmoid_argument(graph, other)
        if v is not None and not isinstance(v, tuple):
            return Rewrite(
                "1 - sigmoid(x) -> expit(-x)", lambda x: special.expit(-x), (v,)
            )
    return None


_ONE_PLUS = {
    1: {
        "tanh": (
            "1 + tanh(u) -> 2 expit(2u)",
            lambda u: _const(2.0, u) * special.expit(_const(2.0, u) * u),
        ),
        "erf": ("1 + erf(u) -> erfc(-u)", lambda u: special.erfc(-u)),
    },
    -1: {
        "tanh": (
            "1 - tanh(u) -> 2 expit(-2u)",
            lambda u: _const(2.0, u) * special.expit(_const(-2.0, u) * u),
        ),
        "erf": ("1 - erf(u) -> erfc(u)", special.erfc),
        "exp": ("1 - exp(x) -> -expm1(x)", lambda x: -cnp.expm1(x)),
        "cos": (
            "1 - cos(u) -> 2 sin(u/2)**2",
            lambda u: _const(2.0, u) * jnp.square(jnp.sin(_const(0.5, u) * u)),
        ),
    },
}


def _add(graph: Graph, eqn) -> Rewrite | None:
    return _one_plus(graph, eqn, 1)


def _sub(graph: Graph, eqn) -> Rewrite | None:
    found = _log_softmax(graph, eqn)
    if found is not None:
        return found
    v = _exp_argument(graph, eqn.invars[0])
    if v is not None and graph.is_constant(eqn.invars[1], 1):
        return Rewrite("exp(x) - 1 -> expm1(x)", cnp.expm1, (v,))
    return _one_plus(graph, eqn, -1)


# ------------------------------------------------------------------ roots


def _norm_over(x, axis: tuple[int, ...]):
    # sqrt(sum(x**2, axis)) of a real x with calculax.numpy.linalg.norm.
    kept = [d for d in range(jnp.ndim(x)) if d not in axis]
    moved = jnp.transpose(x, (*kept, *axis))
    flat = jnp.reshape(moved, (*moved.shape[: len(kept)], -1))
    return linalg.norm(flat, axis=-1)


def sum_of_squares(graph: Graph, eqn) -> Rewrite | None:
    """``sqrt(sum(x**2, axes))`` (``eqn`` is the ``sqrt``) of a real ``x``:
    ``calculax.numpy.linalg.norm`` over ``axes``."""
    total = graph.op(eqn.invars[0], "reduce_sum")
    root = graph.square_root_of(total.invars[0]) if total is not None else None
    if root is None or not _is_real(root):
        return None
    axes = tuple(int(a) for a in total.params["axes"])
    return Rewrite("sqrt(sum(x**2)) -> norm(x)", lambda x: _norm_over(x, axes), (root,))


def _sqrt(graph: Graph, eqn) -> Rewrite | None:
    added = graph.op(eqn.invars[0], "add")
    if added is not None:
        roots = [graph.square_root_of(v) for v in added.invars]
        if all(r is not None for r in roots):
            return Rewrite("sqrt(x**2 + y**2) -> hypot(x, y)", cnp.hypot, tuple(roots))
        split = graph.split_constant(added)
        root = graph.square_root_of(split[1]) if split is not None else None
        if root is not None and split is not None and split[0] > 0:
            c = math.sqrt(split[0])
            return Rewrite(
                "sqrt(x**2 + c) -> hypot(x, sqrt(c))",
                lambda x: cnp.hypot(x, _const(c, x)),
                (root,),
            )
    return sum_of_squares(graph, eqn) or _root_of_square(graph, eqn)


def _root_of_square(graph: Graph, eqn) -> Rewrite | None:
    # sqrt(c x**2n y**2m ...) = sqrt(c) |x|**n |y|**m ...: x**2 underflows first.
    found = graph.monomial(eqn.invars[0])
    if found is None or not found[1] or not found[0] > 0:
        return None
    c, bases = found
    if not all(isinstance(n, int) and n % 2 == 0 for n in bases.values()):
        return None
    scale = math.sqrt(c)
    powers = [n // 2 for n in bases.values()]

    def function(*values):
        out = _const(scale, values[0])
        for value, n in zip(values, powers):
            factor = cnp.abs(value)
            out = out * (cnp.power(factor, n) if n != 1 else factor)
        return out

    return Rewrite("sqrt(x**2) -> |x|", function, tuple(bases))


# ------------------------------------------------------------------ exponentials


def _quotient_of_logs(a, b):
    # exp(log a - log b) is nan where a or b is negative; a / b keeps that domain.
    defined = (a >= 0) & (b >= 0)
    return jnp.where(defined, cnp.divide(a, b), jnp.nan)


def _exp(graph: Graph, eqn) -> Rewrite | None:
    difference = graph.op(eqn.invars[0], "sub")
    if difference is None:
        return None
    logs = [graph.op(v, "log") for v in difference.invars]
    if all(log is not None for log in logs):
        leaves = tuple(log.invars[0] for log in logs)
        return Rewrite("exp(log(a) - log(b)) -> a / b", _quotient_of_logs, leaves)
    return None


# ------------------------------------------------------------------ kept values


def _shifted_logsumexp(graph: Graph, eqn) -> Rewrite | None:
    # log|sum(exp(x - C), axes)| + c, C = c or c broadcast, c = stop_gradient(...):
    # logsumexp(x) for any finite shift c (JAX's logsumexp shifts by the maximum).
    for logged, shift in (eqn.invars, eqn.invars[::-1]):
        if graph.op(shift, "stop_gradient") is None:
            continue
        log = graph.op(logged, "log")
        argument = log.invars[0] if log is not None else None
        absolute = graph.op(argument, "abs")
        argument = absolute.invars[0] if absolute is not None else argument
        kept = graph.op(argument, "broadcast_in_dim")
        argument = kept.invars[0] if kept is not None else argument
        total = graph.op(argument, "reduce_sum")
        exp = graph.op(total.invars[0], "exp") if total is not None else None
        sub = graph.op(exp.invars[0], "sub") if exp is not None else None
        if sub is None:
            continue
        offset = graph.op(sub.invars[1], "broadcast_in_dim")
        if (offset.invars[0] if offset is not None else sub.invars[1]) is not shift:
            continue
        axes = tuple(int(a) for a in total.params["axes"])
        keepdims = kept is not None

        def function(x, axes=axes, keepdims=keepdims):
            return special.logsumexp(x, axis=axes, keepdims=keepdims)

        return Rewrite("logsumexp", function, (sub.invars[0],), opt_in=False)
    return None


PATTERNS: dict[str, tuple[Callable[[Graph, Any], Rewrite | None], ...]] = {
    "log": (_log,),
    "log1p": (_log1p,),
    "div": (_div,),
    "mul": (_power_log, _fractional_power),
    "atan": (_arctan_of_reciprocal,),
    "square": (_sech_squared,),
    "integer_pow": (_sech_squared,),
    "add": (_add,),
    "sub": (_sub,),
    "sqrt": (_sqrt,),
    "exp": (_exp,),
}

KEEPING_VALUES: dict[str, tuple[Callable[[Graph, Any], Rewrite | None], ...]] = {
    "add": (_shifted_logsumexp,),
}

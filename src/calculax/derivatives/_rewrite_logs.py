"""Rewrite patterns rooted at ``log`` and ``log1p`` (and the log-softmax and
logsumexp forms): overflow idioms of exponentials inside logarithms, logarithms of
monomials and of ``cosh``, and ``log(x + sqrt(x**2 +- 1))``. The table is in
``_rewrite_patterns``' docstring and ``docs/replaced_functions.md``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from .. import numpy as cnp
from ..numpy import nn, special
from ._rewrite import Graph, Rewrite, _is_real
from ._rewrite_common import const, exp_argument, negated, sigmoid_argument
from ._stable_forms import log1p_square, logcosh


def _softplus_family(graph: Graph, added) -> Rewrite | None:
    split = graph.split_constant(added)
    if split is None:
        return None
    c, other = split
    v = exp_argument(graph, other)
    if v is None or not c > 0:
        return None
    if c == 1:
        return Rewrite("log(1 + exp(x)) -> softplus(x)", nn.softplus, (v,))
    log_c = math.log(c)

    def shifted(x):
        return const(log_c, x) + nn.softplus(x - const(log_c, x))

    return Rewrite("log(c + exp(x)) -> log(c) + softplus(x - log(c))", shifted, (v,))


def _log_one_minus_exp(graph: Graph, atom) -> Rewrite | None:
    # log(1 - exp(v)) = log1mexp(-v); log(exp(v) - 1) = v + log1mexp(v).
    eqn = graph.op(atom, "sub")
    if eqn is None:
        return None
    a, b = eqn.invars
    if graph.is_constant(a, 1):
        v = exp_argument(graph, b)
        if v is not None:
            return Rewrite(
                "log(1 - exp(x)) -> log1mexp(-x)", lambda x: nn.log1mexp(-x), (v,)
            )
    if graph.is_constant(b, 1):
        v = exp_argument(graph, a)
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
    inner = negated(graph, atom)
    eqn = graph.op(inner, "expm1")
    if eqn is not None:
        return Rewrite(
            "log(-expm1(x)) -> log1mexp(-x)",
            lambda x: nn.log1mexp(-x),
            (eqn.invars[0],),
        )
    return None


def _log_sigmoid(graph: Graph, atom) -> Rewrite | None:
    v = sigmoid_argument(graph, atom)
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
        lambda v: log1p_square(v / const(s, v)) if s != 1 else log1p_square(v),
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
    exps = [exp_argument(graph, v) for v in added.invars]
    if all(e is not None for e in exps):
        return Rewrite(
            "log(exp(a) + exp(b)) -> logaddexp(a, b)", cnp.logaddexp, tuple(exps)
        )
    return None


def _over_axes(function: Callable, axes: tuple[int, ...]) -> Callable:
    return lambda x: function(x, axis=tuple(int(a) for a in axes))


def _log_sum_exp(graph: Graph, eqn) -> Rewrite | None:
    total = graph.op(eqn.invars[0], "reduce_sum")
    v = exp_argument(graph, total.invars[0]) if total is not None else None
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
        total = const(math.log(abs(c)), values[0])
        negative = jnp.asarray(c < 0)
        undefined = jnp.asarray(False)
        for value, n in zip(values, powers):
            total = total + const(float(n), value) * cnp.log(cnp.abs(value))
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


def log_softmax_rewrite(graph: Graph, eqn) -> Rewrite | None:
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


def log_rewrite(graph: Graph, eqn) -> Rewrite | None:
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


def log1p_rewrite(graph: Graph, eqn) -> Rewrite | None:
    (argument,) = eqn.invars
    v = exp_argument(graph, argument)
    if v is not None:
        return Rewrite("log1p(exp(x)) -> softplus(x)", nn.softplus, (v,))
    inner = negated(graph, argument)
    v = exp_argument(graph, inner)
    if v is not None:
        return Rewrite(
            "log1p(-exp(x)) -> log1mexp(-x)", lambda x: nn.log1mexp(-x), (v,)
        )
    return _log1p_square(graph, argument)


def shifted_logsumexp_rewrite(graph: Graph, eqn) -> Rewrite | None:
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

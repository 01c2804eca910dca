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
``u**m / y``                      ``(u / y) * u**(m - 1)``
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

import jax.numpy as jnp

from .. import numpy as cnp
from .._core.jaxpr import traced_name
from ..numpy import linalg, special
from ._rewrite import Graph, Rewrite, _is_real
from ._rewrite_common import const, exp_argument, sigmoid_argument
from ._rewrite_logs import (
    log1p_rewrite,
    log_rewrite,
    log_softmax_rewrite,
    shifted_logsumexp_rewrite,
)
from ._rewrite_quotients import (
    arctan_rewrite,
    div_rewrite,
    fractional_power_rewrite,
    gelu_rewrite,
    power_log_rewrite,
    sech_squared_rewrite,
)

__all__ = ["PATTERNS", "KEEPING_VALUES", "sum_of_squares"]


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
            _one_minus_square,
            (graph.square_root_of(other),),
        )
    if sign < 0:
        v = sigmoid_argument(graph, other)
        if v is not None and not isinstance(v, tuple):
            return Rewrite(
                "1 - sigmoid(x) -> expit(-x)", lambda x: special.expit(-x), (v,)
            )
    return None


def _one_minus_square(x):
    # (1 - x)(1 + x) for |x| >= 1/2, exact near |x| = 1; 1 - x*x below, whose
    # derivative -2x is exact near 0 (that of the product, (1 - x) - (1 + x),
    # cancels to 0 for |x| < eps). The double where keeps each branch's
    # derivative finite where it is not selected.
    one = const(1.0, x)
    small = jnp.abs(x) < const(0.5, x)
    x_small = jnp.where(small, x, jnp.zeros_like(x))
    x_large = jnp.where(small, one, x)
    return jnp.where(small, one - x_small * x_small, (one - x_large) * (one + x_large))


_ONE_PLUS = {
    1: {
        "tanh": (
            "1 + tanh(u) -> 2 expit(2u)",
            lambda u: const(2.0, u) * special.expit(const(2.0, u) * u),
        ),
        "erf": ("1 + erf(u) -> erfc(-u)", lambda u: special.erfc(-u)),
    },
    -1: {
        "tanh": (
            "1 - tanh(u) -> 2 expit(-2u)",
            lambda u: const(2.0, u) * special.expit(const(-2.0, u) * u),
        ),
        "erf": ("1 - erf(u) -> erfc(u)", special.erfc),
        "exp": ("1 - exp(x) -> -expm1(x)", lambda x: -cnp.expm1(x)),
        "cos": (
            "1 - cos(u) -> 2 sin(u/2)**2",
            lambda u: const(2.0, u) * jnp.square(jnp.sin(const(0.5, u) * u)),
        ),
    },
}


def _add(graph: Graph, eqn) -> Rewrite | None:
    return _one_plus(graph, eqn, 1)


def _jax_call(graph: Graph, atom, name: str):
    """The ``custom_jvp`` call of JAX's function ``name`` that produced ``atom``."""
    call = graph.op(atom, "custom_jvp_call")
    if call is None or traced_name(call.params["call_jaxpr"]) != (name, True):
        return None
    return call


def _relative_entropy(graph: Graph, eqn) -> Rewrite | None:
    """``_xlogx(p) - xlogy(p, q)`` (the body of ``jax.scipy.special.rel_entr`` and
    ``kl_div``): the derivative ``log p + 1 - log q`` of the difference cancels
    (~1e3 ulp at ``p, q ~ 1e-300``); ``rel_entr``'s is ``log(p/q) + 1``."""
    xlogx = _jax_call(graph, eqn.invars[0], "_xlogx")
    xlogy = _jax_call(graph, eqn.invars[1], "xlogy")
    if xlogx is None or xlogy is None:
        return None
    p, q = xlogy.invars
    if not graph.same(xlogx.invars[0], p):
        return None
    return Rewrite(
        "_xlogx(p) - xlogy(p, q) -> rel_entr(p, q)", special.rel_entr, (p, q)
    )


def _sub(graph: Graph, eqn) -> Rewrite | None:
    found = log_softmax_rewrite(graph, eqn) or _relative_entropy(graph, eqn)
    if found is not None:
        return found
    v = exp_argument(graph, eqn.invars[0])
    if v is not None and graph.is_constant(eqn.invars[1], 1):
        return Rewrite("exp(x) - 1 -> expm1(x)", cnp.expm1, (v,))
    return _one_plus(graph, eqn, -1)


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
                lambda x: cnp.hypot(x, const(c, x)),
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
        out = const(scale, values[0])
        for value, n in zip(values, powers):
            factor = cnp.abs(value)
            out = out * (cnp.power(factor, n) if n != 1 else factor)
        return out

    return Rewrite("sqrt(x**2) -> |x|", function, tuple(bases))


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


PATTERNS: dict[str, tuple[Callable[[Graph, Any], Rewrite | None], ...]] = {
    "log": (log_rewrite,),
    "log1p": (log1p_rewrite,),
    "div": (div_rewrite,),
    "mul": (gelu_rewrite, power_log_rewrite, fractional_power_rewrite),
    "atan": (arctan_rewrite,),
    "square": (sech_squared_rewrite,),
    "integer_pow": (sech_squared_rewrite,),
    "add": (_add,),
    "sub": (_sub,),
    "sqrt": (_sqrt,),
    "exp": (_exp,),
}


KEEPING_VALUES: dict[str, tuple[Callable[[Graph, Any], Rewrite | None], ...]] = {
    "add": (shifted_logsumexp_rewrite,),
}

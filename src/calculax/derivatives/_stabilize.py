"""``stabilize(f)``: the same function, with ``calculax.numpy``'s derivative rules.

``f`` is traced to a jaxpr (``jax.make_jaxpr``) at each call's argument shapes, and
the jaxpr is evaluated again by a small interpreter that re-binds every primitive
with a stable counterpart (``_stable_primitives``) to the ``calculax.numpy`` function,
and every other primitive to itself. It recurses into ``jit``/``closed_call`` (inlined),
``remat`` (kept as ``jax.checkpoint``), ``cond`` (``lax.switch``), ``while``
(``lax.while_loop``) and ``scan`` (``lax.scan``). A ``custom_jvp``/``custom_vjp``
function of the user's is bound unchanged -- its rule is the user's decision -- as is
any primitive without a stable counterpart; ``report=True`` records what was and was
not rewritten.

Written by hand: JAX offers the interpreter pattern (``jax.make_jaxpr``, ``eqn.
primitive.bind``) but no library re-binds primitives to other implementations.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax import lax
from jax.extend import core

from .._jaxpr import evaluate_jaxpr
from ..numpy._dtypes import cast_like
from ._stable_primitives import STABLE_CUSTOM_JVP, stable_counterpart

__all__ = ["stabilize", "StabilizeReport"]

_INLINED = ("jit", "pjit", "closed_call", "core_call")
_REMAT = ("remat2", "checkpoint", "remat")


@dataclasses.dataclass
class StabilizeReport:
    """Primitives of the last trace: rewritten to ``calculax.numpy`` or left as is.

    ``rewritten`` and ``untouched`` count equations by primitive name (control flow
    and calls are entered, not counted); ``custom_rules`` names the user's own
    ``custom_jvp``/``custom_vjp`` functions, which are kept with their rules.
    """

    rewritten: collections.Counter = dataclasses.field(
        default_factory=collections.Counter
    )
    untouched: collections.Counter = dataclasses.field(
        default_factory=collections.Counter
    )
    custom_rules: list = dataclasses.field(default_factory=list)


def stabilize(f: Callable | None = None, *, report: bool = False) -> Callable:
    """Return ``f`` with every derivative computed by ``calculax.numpy``'s rules.

    The values are those of ``f`` (bit for bit where the calculax function uses the
    same primal, as most do; within 2 ulp otherwise, e.g. ``rsqrt`` becomes
    ``1/sqrt``); the derivatives of every order, forward and reverse, are those of
    the code rewritten with ``calculax.numpy``. Works with pytrees and keyword
    arguments; non-array leaves (strings, ``None``, Python objects) are static.
    Composes with ``jit``, ``vmap``, ``grad``, ``jacfwd``, ``jacrev``, ``hessian``.
    Usable as a decorator, with or without arguments.

    Args:
        f: the function to stabilize.
        report: keep a :class:`StabilizeReport` of the last trace as the
            attribute ``report`` of the returned function.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax
        >>> def f(a, b):
        ...     return -a / b
        >>> b = jnp.float32(1e-30)
        >>> stable = calculax.stabilize(f)
        >>> jax.grad(f, argnums=1)(b, b), jax.grad(stable, argnums=1)(b, b)
        (Array(inf, dtype=float32), Array(1.e+30, dtype=float32))
    """
    if f is None:
        return functools.partial(stabilize, report=report)
    if not callable(f):
        raise TypeError(
            f"stabilize expects a callable (a function of JAX arrays), got "
            f"{type(f).__name__}: {f!r:.80}"
        )

    @functools.wraps(f)
    def stabilized(*args: Any, **kwargs: Any):
        leaves, treedef = jax.tree.flatten((args, kwargs))
        dynamic = [i for i, leaf in enumerate(leaves) if _is_array(leaf)]

        def flat(*values):
            full = list(leaves)
            for i, value in zip(dynamic, values):
                full[i] = value
            inner_args, inner_kwargs = jax.tree.unflatten(treedef, full)
            return f(*inner_args, **inner_kwargs)

        values = [leaves[i] for i in dynamic]
        closed, shapes = jax.make_jaxpr(flat, return_shape=True)(*values)
        record = StabilizeReport()
        outs = _evaluate(closed.jaxpr, closed.consts, values, record)
        if report:
            stabilized.report = record
        # Outputs that were constants of the trace come back as arrays, as from jit.
        outs = [jax.numpy.asarray(o) for o in outs]
        return jax.tree.unflatten(jax.tree.structure(shapes), outs)

    if report:
        stabilized.report = StabilizeReport()
    return stabilized


def _is_array(leaf) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic, float, int, complex))


def _evaluate(jaxpr: core.Jaxpr, consts, args, record: StabilizeReport) -> list:
    return evaluate_jaxpr(
        jaxpr, consts, args, lambda eqn, invals: _apply(eqn, invals, record)
    )


def _closed(closed_jaxpr: core.ClosedJaxpr, record: StabilizeReport) -> Callable:
    def run(*args):
        return _evaluate(closed_jaxpr.jaxpr, closed_jaxpr.consts, args, record)

    return run


def _apply(eqn, invals, record: StabilizeReport):
    name = eqn.primitive.name
    params = eqn.params
    stable = stable_counterpart(name, invals)
    if stable is not None:
        record.rewritten[name] += 1
        return _match(stable(*invals, **params), eqn.outvars[0].aval)
    if name in _INLINED:
        return _closed(params["jaxpr"], record)(*invals)
    if name in _REMAT:
        inner = params["jaxpr"]
        body = functools.partial(_evaluate, inner, (), record=record)
        return jax.checkpoint(
            lambda *a: body(a),
            prevent_cse=params.get("prevent_cse", True),
            policy=params.get("policy"),
        )(*invals)
    if name == "cond":
        branches = [_closed(b, record) for b in params["branches"]]
        return lax.switch(invals[0], branches, *invals[1:])
    if name == "while":
        return _while(params, invals, record)
    if name == "scan":
        return _scan(params, invals, record)
    if name == "custom_jvp_call":
        replacement = _jax_custom_jvp(params)
        if replacement is not None:
            record.rewritten[_custom_name(params)[0]] += 1
            return [_match(replacement(*invals), eqn.outvars[0].aval)]
        record.custom_rules.append(_custom_name(params)[0])
    elif name == "custom_vjp_call":
        record.custom_rules.append(_custom_name(params)[0])
    elif eqn.primitive.name not in _STRUCTURAL:
        record.untouched[name] += 1
    # As jax.core.eval_jaxpr does (call primitives get their sub-functions here).
    return eqn.primitive.bind(*invals, **eqn.primitive.get_bind_params(params))


# Data movement and comparisons: nothing to stabilize, not worth reporting.
_STRUCTURAL = frozenset(
    "add sub neg mul convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose slice dynamic_slice dynamic_update_slice concatenate "
    "select_n gt lt ge le eq ne and or not iota reduce_sum reduce_max reduce_min "
    "dot_general copy copy_p max min stop_gradient sign".split()
)


def _custom_name(params) -> tuple[str, str]:
    # (function name, source location) of a custom_jvp/custom_vjp body.
    closed = params.get("call_jaxpr") or params.get("fun_jaxpr")
    info = getattr(getattr(closed, "jaxpr", None), "debug_info", None)
    if info is None:
        return "custom function", ""
    return info.func_name, info.func_src_info or ""


def _jax_custom_jvp(params) -> Callable | None:
    # JAX's own custom_jvp functions (by name, defined inside jax/) with a stable
    # calculax counterpart.
    name, source = _custom_name(params)
    if name in STABLE_CUSTOM_JVP and "/jax/_src/" in source.replace("\\", "/"):
        return STABLE_CUSTOM_JVP[name]
    return None


def _while(params, invals, record):
    cond_n, body_n = params["cond_nconsts"], params["body_nconsts"]
    cond_consts, body_consts = invals[:cond_n], invals[cond_n : cond_n + body_n]
    init = tuple(invals[cond_n + body_n :])
    cond, body = (
        _closed(params["cond_jaxpr"], record),
        _closed(params["body_jaxpr"], record),
    )
    return list(
        lax.while_loop(
            lambda carry: cond(*cond_consts, *carry)[0],
            lambda carry: tuple(body(*body_consts, *carry)),
            init,
        )
    )


def _scan(params, invals, record):
    n_consts, n_carry = params["num_consts"], params["num_carry"]
    consts = invals[:n_consts]
    init = tuple(invals[n_consts : n_consts + n_carry])
    xs = tuple(invals[n_consts + n_carry :])
    body = _closed(params["jaxpr"], record)

    def step(carry, x):
        out = body(*consts, *carry, *x)
        return tuple(out[:n_carry]), tuple(out[n_carry:])

    carry, ys = lax.scan(
        step,
        init,
        xs,
        length=params["length"],
        reverse=params["reverse"],
        unroll=params["unroll"],
    )
    return [*carry, *ys]


def _match(value, aval):
    # The calculax function follows jax.numpy's promotion; the jaxpr fixes the
    # result's dtype (e.g. strong float32 where jax.numpy would keep a weak type).
    value = jax.numpy.asarray(value)
    weak = getattr(aval, "weak_type", False)
    if value.dtype != aval.dtype or value.weak_type != weak:
        value = cast_like(value, aval.dtype, weak)
    return value

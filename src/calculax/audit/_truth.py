"""The high-precision truth of JAX code: its jaxpr evaluated with mpmath.

``high_precision(f)`` traces ``f`` (``jax.make_jaxpr``) and evaluates every equation
element-wise over NumPy object arrays of ``mpmath.mpf`` at ``digits`` significant
digits: the operations ``f`` performs on its (binary floating-point) inputs and
constants, each rounded at ``digits`` instead of 7 or 16. Cancellation still costs
digits (``1 - cos(1e-8)`` loses 16 of them), so ask for more than you need.
``true_derivative`` differentiates that by nested central differences
(``mpmath.diff``), with steps and working precision chosen so that the requested
digits survive.

Supported primitives are listed in ``SUPPORTED``; any other raises
``NotImplementedError`` naming it. Real functions stay real: a square root or
logarithm of a negative number is ``nan``, as in JAX.

Written by hand: no library evaluates jaxprs in arbitrary precision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import mpmath
import numpy as np
from jax.extend import core

from .._jaxpr import evaluate_jaxpr, traced_name

__all__ = ["high_precision", "true_derivative", "SUPPORTED"]


def _real(function: Callable) -> Callable:
    def real(*args):
        try:
            value = function(*args)
        except (ValueError, ZeroDivisionError):
            return mpmath.nan
        if isinstance(value, mpmath.mpc):
            return value.real if value.imag == 0 else mpmath.nan
        return value

    return real


def _divide(a, b):
    if b == 0:
        if a == 0 or mpmath.isnan(a):
            return mpmath.nan
        return mpmath.inf if a > 0 else -mpmath.inf
    return a / b


def _cbrt(x):
    return mpmath.sign(x) * mpmath.cbrt(abs(x))


def _power(a, b):
    if a == 0 and b < 0:
        return mpmath.inf
    return mpmath.power(a, b)


_UNARY: dict[str, Callable] = {
    "neg": lambda x: -x,
    "abs": abs,
    "sign": mpmath.sign,
    "floor": mpmath.floor,
    "ceil": mpmath.ceil,
    "sin": mpmath.sin,
    "cos": mpmath.cos,
    "tan": mpmath.tan,
    "asin": mpmath.asin,
    "acos": mpmath.acos,
    "atan": mpmath.atan,
    "sinh": mpmath.sinh,
    "cosh": mpmath.cosh,
    "tanh": mpmath.tanh,
    "asinh": mpmath.asinh,
    "acosh": mpmath.acosh,
    "atanh": mpmath.atanh,
    "exp": mpmath.exp,
    "exp2": lambda x: mpmath.mpf(2) ** x,
    "expm1": mpmath.expm1,
    "log": mpmath.log,
    "log1p": mpmath.log1p,
    "sqrt": mpmath.sqrt,
    "rsqrt": lambda x: 1 / mpmath.sqrt(x),
    "cbrt": _cbrt,
    "square": lambda x: x * x,
    "logistic": lambda x: 1 / (1 + mpmath.exp(-x)),
    "erf": mpmath.erf,
    "erfc": mpmath.erfc,
    "lgamma": lambda x: mpmath.log(abs(mpmath.gamma(x))),
    "is_finite": lambda x: bool(mpmath.isfinite(x)),
    "not": lambda x: not x,
    "copy": lambda x: x,
    "copy_p": lambda x: x,
    "stop_gradient": lambda x: x,
}

_BINARY: dict[str, Callable] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": _divide,
    "pow": _power,
    "atan2": mpmath.atan2,
    "max": max,
    "min": min,
    "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b,
    "ge": lambda a, b: a >= b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "and": lambda a, b: a and b,
    "or": lambda a, b: a or b,
}

_REDUCTIONS: dict[str, Callable] = {
    "reduce_sum": lambda values: mpmath.fsum(values),
    "reduce_max": max,
    "reduce_min": min,
    "reduce_prod": lambda values: mpmath.fprod(values),
}

_CALLS = ("jit", "pjit", "closed_call", "core_call", "remat2", "checkpoint")

SUPPORTED = frozenset(
    [*_UNARY, *_BINARY, *_REDUCTIONS, *_CALLS]
    + "integer_pow select_n convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose dot_general iota concatenate stack slice cumsum cumprod "
    "cummax cummin custom_jvp_call custom_vjp_call".split()
)

_CUMULATIVE: dict[str, Callable] = {
    "cumsum": lambda a, b: a + b,
    "cumprod": lambda a, b: a * b,
    "cummax": max,
    "cummin": min,
}


def _frexp(x):
    # jax.numpy.frexp (bit manipulation in JAX): mantissa in [1/2, 1) and exponent.
    if x == 0 or not mpmath.isfinite(x):
        return x, 0
    mantissa, exponent = mpmath.frexp(x)
    return mpmath.mpf(mantissa), int(exponent)


def _elementwise(function: Callable, *arrays):
    vectorized = np.vectorize(_real(function), otypes=[object])
    return vectorized(*arrays)


def _to_mp(value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array.astype(object)
    return np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(array)


def _apply(eqn, invals):
    name, params = eqn.primitive.name, eqn.params
    if name in _UNARY:
        return _elementwise(_UNARY[name], invals[0])
    if name in _BINARY:
        return _elementwise(_BINARY[name], *invals)
    if name == "integer_pow":
        return _elementwise(lambda x: _power(x, params["y"]), invals[0])
    if name in _REDUCTIONS:
        reduce = _REDUCTIONS[name]
        axes = tuple(params["axes"])
        moved = np.moveaxis(invals[0], axes, tuple(range(-len(axes), 0)))
        flat = moved.reshape(moved.shape[: moved.ndim - len(axes)] + (-1,))
        out = np.empty(flat.shape[:-1], dtype=object)
        for index in np.ndindex(out.shape):
            out[index] = reduce(list(flat[index]))
        return out
    if name in _CALLS:
        inner = params["jaxpr"]
        if isinstance(inner, core.ClosedJaxpr):
            return _evaluate(inner.jaxpr, [_to_mp(c) for c in inner.consts], invals)
        return _evaluate(inner, [], invals)
    if name in ("custom_jvp_call", "custom_vjp_call"):
        inner = params.get("call_jaxpr") or params.get("fun_jaxpr")
        if traced_name(inner) == ("_frexp", True):  # JAX's, bit manipulation inside
            frexp = np.vectorize(_real(_frexp), otypes=[object, object])
            return [np.asarray(v, dtype=object) for v in frexp(invals[0])]
        consts = [_to_mp(c) for c in inner.consts]
        return _evaluate(inner.jaxpr, consts, invals)
    return _structural(name, params, invals, eqn)


def _structural(name, params, invals, eqn):
    x = invals[0] if invals else None
    if name == "select_n":
        choice = np.asarray(invals[0]).astype(int)
        cases = np.broadcast_arrays(*invals[1:])
        chosen = np.choose(np.broadcast_to(choice, cases[0].shape), cases)
        return np.asarray(chosen, dtype=object)  # np.choose unwraps 0-d results
    if name == "convert_element_type":
        dtype = np.dtype(params["new_dtype"])
        if dtype == np.dtype(bool):
            return _elementwise(lambda v: v != 0, x)
        if np.issubdtype(dtype, np.integer):
            return _elementwise(lambda v: int(v), x)
        return _elementwise(lambda v: mpmath.mpf(v), x)
    if name == "broadcast_in_dim":
        shape, dims = params["shape"], params["broadcast_dimensions"]
        expanded = np.asarray(x).reshape(
            [np.shape(x)[dims.index(i)] if i in dims else 1 for i in range(len(shape))]
        )
        return np.broadcast_to(expanded, shape).copy()
    if name == "reshape":
        return np.reshape(x, params["new_sizes"])
    if name == "squeeze":
        return np.squeeze(x, axis=tuple(params["dimensions"]))
    if name == "expand_dims":
        return np.expand_dims(x, tuple(params["dimensions"]))
    if name == "transpose":
        return np.transpose(x, params["permutation"])
    if name == "iota":
        out = np.arange(params["shape"][params["dimension"]])
        shape = [1] * len(params["shape"])
        shape[params["dimension"]] = -1
        return _to_mp(np.broadcast_to(out.reshape(shape), params["shape"]))
    if name == "concatenate":
        return np.concatenate(invals, axis=params["dimension"])
    if name == "stack":
        return np.stack(invals, axis=params["axis"])
    if name in _CUMULATIVE:
        return _cumulative(_CUMULATIVE[name], x, params["axis"], params["reverse"])
    if name == "slice":
        index = tuple(
            slice(start, limit, stride)
            for start, limit, stride in zip(
                params["start_indices"],
                params["limit_indices"],
                params["strides"] or [1] * len(params["start_indices"]),
            )
        )
        return np.asarray(x)[index]
    if name == "dot_general":
        return _dot_general(invals[0], invals[1], params["dimension_numbers"])
    raise NotImplementedError(
        f"calculax.audit: the high-precision interpreter does not support the JAX "
        f"primitive {name!r} (supported: {', '.join(sorted(SUPPORTED))})"
    )


def _cumulative(combine: Callable, x, axis: int, reverse: bool):
    moved = np.moveaxis(np.asarray(x), axis, -1)
    out = np.empty(moved.shape, dtype=object)
    order = range(moved.shape[-1] - 1, -1, -1) if reverse else range(moved.shape[-1])
    for index in np.ndindex(moved.shape[:-1]):
        running = None
        for k in order:
            value = moved[index + (k,)]
            running = value if running is None else combine(running, value)
            out[index + (k,)] = running
    return np.moveaxis(out, -1, axis)


def _dot_general(a, b, dimension_numbers):
    (contract_a, contract_b), (batch_a, batch_b) = dimension_numbers
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    sub_a = [next(letters) for _ in range(np.ndim(a))]
    sub_b = [next(letters) for _ in range(np.ndim(b))]
    for i, j in zip((*contract_a, *batch_a), (*contract_b, *batch_b)):
        sub_b[j] = sub_a[i]
    batch = [sub_a[i] for i in batch_a]
    free_a = [s for i, s in enumerate(sub_a) if i not in (*contract_a, *batch_a)]
    free_b = [s for j, s in enumerate(sub_b) if j not in (*contract_b, *batch_b)]
    spec = f"{''.join(sub_a)},{''.join(sub_b)}->{''.join(batch + free_a + free_b)}"
    return np.asarray(np.einsum(spec, a, b, dtype=object), dtype=object)


def _evaluate(jaxpr, consts, args) -> list:
    return evaluate_jaxpr(jaxpr, consts, args, _apply, literal=_to_mp)


def high_precision(f: Callable, *, digits: int = 50) -> Callable:
    """``f`` evaluated with every operation at ``digits`` significant digits.

    Returns a function of the same (array) arguments whose outputs have ``f``'s
    pytree structure, with ``mpmath.mpf`` scalars for scalar outputs and NumPy object
    arrays of them otherwise. ``f`` is traced at the arguments' dtypes, so its
    constants are those it computes with (``0.1`` in float32 is ``0.1f``).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.audit import high_precision
        >>> value = high_precision(lambda x: jnp.expm1(x) / x, digits=30)(1e-20)
        >>> print(value)
        1.0
    """

    def evaluate(*args: Any):
        closed, shapes = jax.make_jaxpr(f, return_shape=True)(*args)
        flat = jax.tree.leaves(args)
        with mpmath.workdps(digits):
            consts = [_to_mp(c) for c in closed.consts]
            outs = _evaluate(closed.jaxpr, consts, [_to_mp(a) for a in flat])
            outs = [+o[()] if np.ndim(o) == 0 else o for o in outs]
        return jax.tree.unflatten(jax.tree.structure(shapes), outs)

    return evaluate


def true_derivative(
    f: Callable,
    *args: float,
    argnums: int | Sequence[int] = 0,
    order: int | Sequence[int] = 1,
    digits: int = 50,
) -> mpmath.mpf:
    """The partial derivative of a scalar ``f`` of scalars, to ``digits`` digits.

    ``argnums``/``order``: the variables and how often to differentiate in each
    (``argnums=(0, 1), order=(1, 2)`` is :math:`\\partial_x \\partial_y^2 f`).
    Computed by nested central differences (``mpmath.diff``, one variable at a
    time, each with a step relative to its own magnitude and the extra working
    precision the differences cancel) of the high-precision evaluation of ``f``'s
    jaxpr; the truncation error is far below ``digits``.

    Example:
        >>> from calculax.audit import true_derivative
        >>> print(true_derivative(lambda a, b: -a / b, 1e-30, 1e-30, argnums=1))
        1.0e+30
    """
    argnums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    order = (order,) * len(argnums) if isinstance(order, int) else tuple(order)
    if len(order) != len(argnums) or any(k < 0 for k in order):
        raise ValueError(
            f"order must be a non-negative int or one per argnum, got order={order} "
            f"for argnums={argnums}"
        )
    for i in argnums:
        if not 0 <= i < len(args):
            raise ValueError(f"argnums {argnums} out of range for {len(args)} args")
    # Trace once at the given points; evaluate the jaxpr at perturbed mpf points.
    closed = jax.make_jaxpr(f)(*args)
    if len(closed.jaxpr.outvars) != 1 or closed.jaxpr.outvars[0].aval.shape != ():
        raise ValueError("true_derivative needs a scalar-valued f of scalar arguments")
    with mpmath.workdps(digits + 10):
        consts = [_to_mp(c) for c in closed.consts]

        def scalar(*point):
            inputs = [np.array(p, dtype=object) for p in point]
            return _evaluate(closed.jaxpr, consts, inputs)[0][()]

        point = [mpmath.mpf(float(a)) for a in args]
        value = _nested_partial(scalar, point, dict(zip(argnums, order)), digits)
    with mpmath.workdps(digits):
        return +value


def _nested_partial(function, point, orders: dict, digits: int, variable: int = 0):
    # One variable at a time, each with a central-difference step relative to its own
    # magnitude (2**-step_bits |x_i|, or absolute at 0), so variables of very
    # different scales (1e-103 and 1e-155) are each resolved; mpmath.diff adds the
    # working precision the differences cancel.
    if variable == len(point):
        return function(*point)
    k = orders.get(variable, 0)
    if k == 0:
        return _nested_partial(function, point, orders, digits, variable + 1)
    step_bits = int(digits * 3.33) + 16  # truncation error ~ 2**(-2 step_bits)
    x = point[variable]
    h = (abs(x) if x != 0 else mpmath.mpf(1)) * mpmath.mpf(2) ** -step_bits

    def along(t):
        shifted = list(point)
        shifted[variable] = t
        return _nested_partial(function, shifted, orders, digits, variable + 1)

    return mpmath.diff(along, x, k, h=h, addprec=(k + 1) * (step_bits + 16))

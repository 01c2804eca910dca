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

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from .jaxpr import CUSTOM_JVP, CUSTOM_VJP, evaluate, inline, is_call, traced_name
from .validate import positions

__all__ = ["SUPPORTED", "high_precision", "partial_derivative", "true_derivative"]

_UNARY_NAMES = (
    "neg abs sign floor ceil sin cos tan asin acos atan sinh cosh tanh asinh acosh "
    "atanh exp exp2 expm1 log log1p sqrt rsqrt cbrt square logistic erf erfc lgamma "
    "is_finite not copy copy_p stop_gradient"
).split()
_BINARY_NAMES = "add sub mul div pow atan2 max min gt lt ge le eq ne and or".split()
_REDUCTION_NAMES = "reduce_sum reduce_max reduce_min reduce_prod".split()
_CUMULATIVE_NAMES = "cumsum cumprod cummax cummin".split()
_CALL_NAMES = "jit pjit closed_call core_call remat2 checkpoint".split()

SUPPORTED = frozenset(
    _UNARY_NAMES
    + _BINARY_NAMES
    + _REDUCTION_NAMES
    + _CUMULATIVE_NAMES
    + _CALL_NAMES
    + "integer_pow select_n convert_element_type broadcast_in_dim reshape squeeze "
    "expand_dims transpose dot_general iota concatenate stack slice "
    "custom_jvp_call custom_vjp_call".split()
)


def _real(function: Callable) -> Callable:
    import mpmath

    def real(*args):
        try:
            value = function(*args)
        except (ValueError, ZeroDivisionError):
            return mpmath.nan
        if isinstance(value, mpmath.mpc):
            return value.real if value.imag == 0 else mpmath.nan
        return value

    return real


@functools.cache
def _tables() -> tuple[dict, dict, dict, dict]:
    """The element-wise rules in mpmath (imported here: ``import calculax`` stays
    cheap)."""
    import mpmath

    def divide(a, b):
        if b == 0:
            if a == 0 or mpmath.isnan(a):
                return mpmath.nan
            return mpmath.inf if a > 0 else -mpmath.inf
        return a / b

    unary: dict[str, Callable] = {
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
        "cbrt": lambda x: mpmath.sign(x) * mpmath.cbrt(abs(x)),
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
    binary: dict[str, Callable] = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: a * b,
        "div": divide,
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
    reductions: dict[str, Callable] = {
        "reduce_sum": lambda values: mpmath.fsum(values),
        "reduce_max": max,
        "reduce_min": min,
        "reduce_prod": lambda values: mpmath.fprod(values),
    }
    cumulative: dict[str, Callable] = {
        "cumsum": lambda a, b: a + b,
        "cumprod": lambda a, b: a * b,
        "cummax": max,
        "cummin": min,
    }
    return unary, binary, reductions, cumulative


def _power(a, b):
    import mpmath

    if a == 0 and b < 0:
        return mpmath.inf
    return mpmath.power(a, b)


def _frexp(x):
    # jax.numpy.frexp (bit manipulation in JAX): mantissa in [1/2, 1) and exponent.
    import mpmath

    if x == 0 or not mpmath.isfinite(x):
        return x, 0
    mantissa, exponent = mpmath.frexp(x)
    return mpmath.mpf(mantissa), int(exponent)


def _elementwise(function: Callable, *arrays):
    vectorized = np.vectorize(_real(function), otypes=[object])
    return vectorized(*arrays)


def _to_mp(value) -> np.ndarray:
    import mpmath

    array = np.asarray(value)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array.astype(object)
    return np.vectorize(lambda v: mpmath.mpf(float(v)), otypes=[object])(array)


def _reduce(reduce: Callable, x, axes: tuple):
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[: moved.ndim - len(axes)] + (-1,))
    out = np.empty(flat.shape[:-1], dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = reduce(list(flat[index]))
    return out


def _rule(eqn, invals):
    """The high-precision value of one equation (element-wise over object arrays)."""
    name, params = eqn.primitive.name, eqn.params
    unary, binary, reductions, cumulative = _tables()
    if name in unary:
        return _elementwise(unary[name], invals[0])
    if name in binary:
        return _elementwise(binary[name], *invals)
    if name == "integer_pow":
        return _elementwise(lambda x: _power(x, params["y"]), invals[0])
    if name in reductions:
        return _reduce(reductions[name], invals[0], tuple(params["axes"]))
    if name in cumulative:
        x = invals[0]
        return _cumulative(cumulative[name], x, params["axis"], params["reverse"])
    if is_call(eqn):
        return inline(eqn, invals, _rule, literal=_to_mp)
    if name in (CUSTOM_JVP, CUSTOM_VJP):
        body = params.get("call_jaxpr", params.get("fun_jaxpr"))
        if traced_name(body) == ("_frexp", True):  # JAX's, bit manipulation inside
            frexp = np.vectorize(_real(_frexp), otypes=[object, object])
            return [np.asarray(v, dtype=object) for v in frexp(invals[0])]
        return inline(eqn, invals, _rule, literal=_to_mp)
    return _structural(name, params, invals)


def _structural(name, params, invals):
    import mpmath

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
    return evaluate(jaxpr, consts, args, _rule, literal=_to_mp)


def _check_callable(where: str, f) -> None:
    if not callable(f):
        raise TypeError(
            f"{where}: `f` must be a callable (a function of JAX arrays); got "
            f"{type(f).__name__} {f!r:.60}."
        )


def _check_digits(where: str, digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral):
        raise TypeError(
            f"{where}: `digits` must be an integer >= 1 (significant decimal "
            f"digits); got {digits!r}."
        )
    if digits < 1:
        raise ValueError(
            f"{where}: `digits` must be an integer >= 1 (significant decimal "
            f"digits); got {digits!r}."
        )
    return int(digits)


def high_precision(f: Callable, *, digits: int = 50) -> Callable:
    """``f`` evaluated with every operation at ``digits`` significant digits.

    Returns a function of the same (array) arguments whose outputs have ``f``'s
    pytree structure, with ``mpmath.mpf`` scalars for scalar outputs and NumPy object
    arrays of them otherwise. ``f`` is traced at the arguments' dtypes, so its
    constants are those it computes with (``0.1`` in float32 is ``0.1f``).

    Args:
        f: a function of arrays written with ``jax.numpy``/``jax.lax``.
        digits: significant decimal digits of every operation, ``>= 1``.

    Raises:
        TypeError: ``f`` is not callable; ``digits`` is not an integer.
        ValueError: ``digits < 1``.
        NotImplementedError: (when called) ``f`` uses a primitive outside
            :data:`SUPPORTED`; it is named.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.audit import high_precision
        >>> value = high_precision(lambda x: jnp.expm1(x) / x, digits=30)(1e-20)
        >>> print(value)
        1.0
    """
    _check_callable("high_precision", f)
    digits = _check_digits("high_precision", digits)

    def evaluate_at(*args: Any):
        import mpmath

        closed, shapes = jax.make_jaxpr(f, return_shape=True)(*args)
        flat = jax.tree.leaves(args)
        with mpmath.workdps(digits):
            consts = [_to_mp(c) for c in closed.consts]
            outs = _evaluate(closed.jaxpr, consts, [_to_mp(a) for a in flat])
            outs = [+o[()] if np.ndim(o) == 0 else o for o in outs]
        return jax.tree.unflatten(jax.tree.structure(shapes), outs)

    return evaluate_at


def _index(where: str, name: str, value) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{where}: `{name}` must be an int or a sequence of ints; got {value!r}."
        )
    return int(value)


def _derivative_orders(where: str, argnums, order, count: int) -> dict[int, int]:
    """``{argument: order}`` from ``argnums``/``order``, every entry checked."""
    nums = positions(where, "argnums", argnums, count)
    if isinstance(order, Sequence):
        orders = tuple(_index(where, "order", k) for k in order)
        if len(orders) != len(nums):
            raise ValueError(
                f"{where}: `order` must be a non-negative int or one per argnum; got "
                f"order={order!r} for argnums={argnums!r}."
            )
    else:
        orders = (_index(where, "order", order),) * len(nums)
    if any(k < 0 for k in orders):
        raise ValueError(
            f"{where}: `order` must be a non-negative int or one per argnum; got "
            f"order={order!r}."
        )
    return dict(zip(nums, orders))


def _scalar_points(where: str, args: Sequence) -> list[float]:
    points = []
    for i, a in enumerate(args):
        try:
            array = np.asarray(a)
        except Exception:  # an object NumPy cannot read (e.g. a tracer under jit)
            array = np.asarray(None)
        dtype = array.dtype
        real = np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)
        if array.shape != () or not real:
            raise TypeError(
                f"{where}: argument {i} must be a real scalar (a float); got "
                f"{a!r:.60} ({dtype}{list(np.shape(a))})."
            )
        value = float(array)
        if not math.isfinite(value):
            raise ValueError(
                f"{where}: argument {i} must be finite (a derivative at nan or inf "
                f"is undefined); got {value!r}."
            )
        points.append(value)
    return points


def true_derivative(
    f: Callable,
    *args: float,
    argnums: int | Sequence[int] = 0,
    order: int | Sequence[int] = 1,
    digits: int = 50,
):
    """The partial derivative of a scalar ``f`` of scalars, to ``digits`` digits.

    ``argnums``/``order``: the variables and how often to differentiate in each
    (``argnums=(0, 1), order=(1, 2)`` is :math:`\\partial_x \\partial_y^2 f`).
    Computed by nested central differences (``mpmath.diff``, one variable at a
    time, each with a step relative to its own magnitude and the extra working
    precision the differences cancel) of the high-precision evaluation of ``f``'s
    jaxpr; the truncation error is far below ``digits``.

    Args:
        f: a scalar function of scalar arguments, written with ``jax.numpy``.
        *args: the point: finite real scalars.
        argnums: the variable(s) to differentiate in, distinct and in range.
        order: how often to differentiate in each (an int applies to all), ``>= 0``.
        digits: significant decimal digits of the result, ``>= 1``.

    Returns:
        An ``mpmath.mpf`` (``nan`` outside ``f``'s domain).

    Raises:
        TypeError: ``f`` not callable; a non-scalar or non-real argument;
            non-integer ``argnums``/``order``/``digits``.
        ValueError: ``argnums`` out of range or repeated; ``order < 0``;
            ``digits < 1``; a non-finite argument; ``f`` is not scalar-valued.
        NotImplementedError: ``f`` uses a primitive outside :data:`SUPPORTED`.

    Example:
        >>> from calculax.audit import true_derivative
        >>> print(true_derivative(lambda a, b: -a / b, 1e-30, 1e-30, argnums=1))
        1.0e+30
    """
    where = "true_derivative"
    _check_callable(where, f)
    digits = _check_digits(where, digits)
    _scalar_points(where, args)
    orders = _derivative_orders(where, argnums, order, len(args))
    return partial_derivative(f, args, orders, digits)


def partial_derivative(
    f: Callable, args: Sequence, orders: dict, digits: int, step_shift: int = 0
):
    """:func:`true_derivative` without the argument checks: ``f`` is traced at
    ``args`` (their dtypes are ``f``'s), ``orders`` maps argument positions to their
    orders. ``step_shift`` divides the difference steps by
    ``2**step_shift``: a derivative that exists does not change (to ``digits``), one
    that does not (a jump, a kink of ``sign``) does.
    """
    import mpmath

    # Trace once at the given points; evaluate the jaxpr at perturbed mpf points.
    closed = jax.make_jaxpr(f)(*args)
    if len(closed.jaxpr.outvars) != 1 or closed.jaxpr.outvars[0].aval.shape != ():
        raise ValueError(
            f"true_derivative: needs a scalar-valued f of scalar arguments; f returns "
            f"{[str(v.aval) for v in closed.jaxpr.outvars]}."
        )
    with mpmath.workdps(digits + 10):
        consts = [_to_mp(c) for c in closed.consts]

        def scalar(*point):
            inputs = [np.array(p, dtype=object) for p in point]
            return _evaluate(closed.jaxpr, consts, inputs)[0][()]

        point = [mpmath.mpf(float(a)) for a in args]
        value = _nested_partial(scalar, point, orders, digits, step_shift=step_shift)
    with mpmath.workdps(digits):
        return +value


def _nested_partial(
    function, point, orders: dict, digits: int, variable: int = 0, step_shift: int = 0
):
    # One variable at a time, each with a central-difference step relative to its own
    # magnitude (2**-step_bits |x_i|, or absolute at 0), so variables of very
    # different scales (1e-103 and 1e-155) are each resolved; mpmath.diff adds the
    # working precision the differences cancel.
    import mpmath

    if variable == len(point):
        return function(*point)
    k = orders.get(variable, 0)
    if k == 0:
        return _nested_partial(
            function, point, orders, digits, variable + 1, step_shift
        )
    step_bits = int(digits * 3.33) + 16 + step_shift  # truncation ~ 2**(-2 step_bits)
    x = point[variable]
    h = (abs(x) if x != 0 else mpmath.mpf(1)) * mpmath.mpf(2) ** -step_bits

    def along(t):
        shifted = list(point)
        shifted[variable] = t
        return _nested_partial(
            function, shifted, orders, digits, variable + 1, step_shift
        )

    return mpmath.diff(along, x, k, h=h, addprec=(k + 1) * (step_bits + 16))

"""``explain(f)(*args)``: how a derivative is computed, primitive by primitive.

Automatic differentiation does not take finite differences: forward mode pushes a
tangent :math:`\\dot v_i = \\partial v_i / \\partial x` through ``f``'s primitives in
order, each with its exact derivative rule (the chain rule),

.. math:: v_i = p_i(v_{j}, v_{k}), \\qquad
          \\dot v_i = \\partial_1 p_i\\,\\dot v_j + \\partial_2 p_i\\,\\dot v_k,

and the derivative is the last tangent. ``explain`` evaluates ``f``'s jaxpr equation
by equation (calls such as ``jit`` inlined) and records each equation's value and
its derivatives of orders ``1..order``, with the rule applied written out
(:mod:`._rules`). The AD mode is named and chosen (``mode``): ``"forward"`` nests
``jax.jvp`` ``order`` times on the evaluation -- the computation of ``jax.jvp`` on
``f``, compiled with ``jax.jit`` as the autodiff value it is compared with is, so
the two agree bit for bit; ``"reverse"`` nests ``jax.grad`` (each row's derivatives
by its own nested reverse pass), the computation of ``jax.grad`` and of
:func:`calculax.audit.audit`, so ``explain`` and ``audit`` agree when they use the
same mode. The modes can disagree: a rule may be stable when transposed and not when
pushed forward twice, or the reverse. With ``stabilized=True`` each equation is bound
through :func:`calculax.stabilize`, so the rows show calculax's rules; where
``stabilize`` recognises an overflow idiom (``x*log(x)``, ``a/b**2``, ...), the rows
walk the rewritten program whose derivatives it computes.

It then compares with the central finite differences of order ``k`` on the points
:math:`x + j h` (``j`` integer: ``(f(x+h) - f(x-h)) / 2h`` for ``k = 1``),

.. math:: D_h^k f(x) = (c h)^{-k} \\sum_{i=0}^{k} (-1)^i \\binom{k}{i}
          f\\big(x + c (k/2 - i) h\\big), \\qquad c = 2 \\text{ for odd } k,
          \\ 1 \\text{ for even } k,

for ``h = s |x|`` (``s`` at ``x = 0``) over the steps ``s``: the error is
``O(h^2)`` truncation plus ``O(eps / h^k)`` rounding, a V over ``s``. The points
and ``f`` at them are evaluated in ``x``'s dtype (as a user's finite difference
would be); the weighted sum and the division by ``(c h)^k`` in float64 (so that
``h^k`` cannot underflow), the estimate then rounded to ``x``'s dtype.

Written by hand: JAX shows a jaxpr (``jax.make_jaxpr``) but not the tangents along it.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .._core.differences import combine, stencil
from .._core.truth import true_derivative
from .._core.validate import boolean, callable_, choice
from ..derivatives import stabilize
from ._explain_recorder import MODES, Recorder, autodiff
from ._explain_report import ExplainReport, FiniteDifference, relative_error

__all__ = ["explain", "STEPS"]

STEPS = tuple(10.0**-k for k in range(1, 16))


def explain(
    f: Callable,
    *,
    argnums: int = 0,
    order: int = 1,
    steps: Sequence[float] = STEPS,
    stabilized: bool = False,
    mode: str = "forward",
) -> Callable[..., ExplainReport]:
    """Show how the derivative of ``f`` is computed: rule by rule, and against
    finite differences (module doc).

    Args:
        f: a scalar function of scalar arguments, written with ``jax.numpy``.
        argnums: the argument to differentiate in.
        order: the derivative order, >= 1.
        steps: the relative steps ``s`` of the finite differences (``h = s |x|``),
            positive and finite.
        stabilized: show the rules of :func:`calculax.stabilize` instead of JAX's.
        mode: ``"forward"`` (nested ``jax.jvp``) or ``"reverse"`` (nested
            ``jax.grad``, as :func:`calculax.audit.audit` by default).

    Returns:
        A function of ``f``'s arguments (finite real scalars; their dtype is the
        report's) that returns an :class:`ExplainReport`: ``.steps`` (one row per
        primitive), ``.mode``, ``.finite_differences``, ``.derivative``,
        ``.autodiff``, ``.truth``, ``.to_markdown()`` and ``.plot(path)``.

    Raises:
        TypeError: ``f`` is not callable; ``argnums``/``order`` not an int,
            ``stabilized`` not a bool; an argument is not a real floating scalar.
        ValueError: ``order < 1``; empty or non-positive ``steps``; an unknown
            ``mode``; ``argnums`` out of range; a non-finite argument; a non-scalar
            output; ``f`` cannot be differentiated in forward mode (``custom_vjp``:
            use ``mode="reverse"``).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.audit import explain
        >>> report = explain(lambda a, b: -a / b, argnums=1)(1e-30, 1e-30)
        >>> [step.equation for step in report.steps]
        ['v1 = neg a', 'v2 = div v1 b']
        >>> report.steps[1].rule
        'd(x/y) = dx/y - x*dy*y**-2'
        >>> report.mode, report.derivative, report.autodiff  # b**-2 overflows
        ('forward', inf, inf)
        >>> explain(lambda a, b: -a / b, argnums=1, stabilized=True)(
        ...     1e-30, 1e-30
        ... ).derivative
        1e+30
    """
    callable_("explain", "f", f)
    if isinstance(argnums, bool | np.bool_) or not isinstance(
        argnums, numbers.Integral
    ):
        raise ValueError(
            f"explain: argnums must be one int (the argument index); got {argnums!r}."
        )
    argnums = int(argnums)
    if isinstance(order, bool | np.bool_) or not isinstance(order, numbers.Integral):
        raise TypeError(f"explain: order must be an int >= 1; got {order!r}.")
    if order < 1:
        raise ValueError(f"explain: order must be an int >= 1; got {order!r}.")
    order = int(order)
    steps = _steps(steps)
    boolean("explain", "stabilized", stabilized)
    choice("explain", "mode", mode, MODES)

    def run(*args: Any) -> ExplainReport:
        values = _scalars(args, argnums)
        names = _argnames(f, len(values))
        dtype = np.dtype(values[argnums].dtype)
        closed = jax.make_jaxpr(f)(*values)
        if stabilized:
            # stabilize(f) differentiates f's overflow idioms (x*log(x), a/b**2, ...)
            # through their stable forms: the rows then walk that rewritten program,
            # so that they chain to the derivative stabilize(f) computes.
            rewritten = stabilize(f, report=True, rewrite=True)
            closed_rewritten = jax.make_jaxpr(rewritten)(*values)
            if getattr(rewritten, "report").rewrites:  # set by report=True
                closed = closed_rewritten
        if len(closed.jaxpr.outvars) != 1 or closed.jaxpr.outvars[0].aval.shape != ():
            raise ValueError(
                f"explain: needs a scalar-valued f; it returns "
                f"{[str(v.aval) for v in closed.jaxpr.outvars]}"
            )
        recorder = Recorder(stabilized, dtype)
        target = stabilize(f) if stabilized else f
        try:
            rows, derivative = recorder.chain(
                closed, values, names, argnums, order, mode
            )
            value = autodiff(
                _along(target, values, argnums), values[argnums], order, mode
            )
        except TypeError as error:
            if "custom_vjp" not in str(error):
                raise
            raise ValueError(
                "explain: forward mode pushes tangents forward (jax.jvp), and f calls "
                "a custom_vjp function, which JAX cannot differentiate in forward "
                "mode; use mode='reverse', or give it a custom_jvp rule"
            ) from None
        try:
            truth = true_derivative(f, *values, argnums=argnums, order=order)
        except NotImplementedError:
            truth = None
        differences = _finite_differences(f, values, argnums, order, steps, truth)
        return ExplainReport(
            name=getattr(f, "__name__", type(f).__name__),
            args=tuple(values),
            argnames=tuple(names),
            argnums=argnums,
            order=order,
            dtype=dtype,
            stabilized=stabilized,
            steps=rows,
            derivative=derivative,
            autodiff=value,
            truth=truth,
            finite_differences=differences,
            mode=mode,
        )

    return run


def _steps(steps) -> tuple[float, ...]:
    expected = "positive finite numbers (relative steps), at least one"
    if isinstance(steps, str) or not isinstance(steps, Sequence | np.ndarray):
        raise TypeError(f"explain: steps must be {expected}; got {steps!r}.")
    try:
        values = tuple(float(s) for s in np.asarray(steps, dtype=object).ravel())
    except (TypeError, ValueError):
        raise TypeError(f"explain: steps must be {expected}; got {steps!r}.") from None
    if not values or not all(0 < s < math.inf for s in values):
        raise ValueError(f"explain: steps must be {expected}; got {steps!r}.")
    return values


def _scalars(args: Sequence, argnums: int) -> list:
    if not 0 <= argnums < len(args):
        raise ValueError(
            f"explain: argnums={argnums} is out of range for {len(args)} arguments "
            f"(valid: 0 to {len(args) - 1})."
        )
    values = []
    for i, a in enumerate(args):
        try:
            array = jnp.asarray(a)
        except TypeError:
            array = None
        if (
            array is None
            or array.shape != ()
            or not jnp.issubdtype(array.dtype, jnp.floating)
        ):
            described = "" if array is None else f" ({array.dtype}{list(array.shape)})"
            raise TypeError(
                f"explain: needs real floating-point scalars; argument {i} is "
                f"{a!r:.60}{described}"
            )
        if not bool(jnp.isfinite(array)):
            raise ValueError(
                f"explain: argument {i} must be finite (a derivative at nan or inf "
                f"is undefined); got {float(array)!r}."
            )
        values.append(array)
    return values


def _argnames(f: Callable, count: int) -> list[str]:
    try:
        parameters = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return names[:count] if len(names) >= count else [f"x{i}" for i in range(count)]


def _along(f: Callable, values: Sequence, argnums: int) -> Callable:
    def g(x):
        return f(*values[:argnums], x, *values[argnums + 1 :])

    return g


def _finite_differences(f, values, argnums, order, steps, truth):
    dtype = np.dtype(values[argnums].dtype)
    x = np.asarray(values[argnums])[()]
    scale = abs(float(x)) if x != 0 else 1.0
    offsets, _ = stencil(order)
    with np.errstate(over="ignore", invalid="ignore"):
        h = np.asarray(steps, dtype=np.float64) * scale
        shifts = (h[:, None] * np.asarray(offsets)[None, :]).astype(dtype)
        points = (x + shifts).astype(dtype)
    evaluate_at = jax.jit(jax.vmap(_along(f, values, argnums)))
    samples = np.asarray(evaluate_at(jnp.asarray(points.reshape(-1)))).astype(
        np.float64
    )
    samples = samples.reshape(points.shape)
    rows = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        estimates = combine(list(samples.T), h, order)
        estimates = estimates.astype(dtype).astype(np.float64)  # what dtype holds
    for step, estimate in zip(steps, estimates.tolist()):
        rows.append(FiniteDifference(step, estimate, relative_error(estimate, truth)))
    return rows

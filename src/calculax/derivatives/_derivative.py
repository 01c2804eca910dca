r"""``derivative``: the full derivative tensor of any order, for any shapes.

Shape convention (as ``jax.jacobian``, extended to every order): each differentiation
appends the differentiated argument's shape, so the derivative of order ``k`` in an
argument ``x`` has shape ``out.shape + x.shape * k``, and the mixed partial
``argnums=(i, j)`` is :math:`\partial_{x_j}\partial_{x_i} f` of shape
``out.shape + x_i.shape + x_j.shape``. Pytrees nest the same way: the output's
structure, each leaf replaced by the first argument's structure, each of its leaves by
the next argument's structure, ...

Mode rule (``mode="auto"``). The derivative is built from the inside out, one
Jacobian per differentiation. At a step whose function has ``m`` outputs (the size of
``f``'s output times the sizes already appended) and whose argument has ``n``
entries, forward mode (``jax.jacfwd``: ``n`` Jacobian-vector products) is used when
``n <= m`` and reverse mode (``jax.jacrev``: ``m`` vector-Jacobian products)
otherwise. A Hessian of a scalar loss is therefore forward-over-reverse. A derivative
of order ``>= 3`` in a single scalar argument uses Taylor mode (``_taylor``): unrolled
series recurrences for plain JAX primitives (``jet`` where they lack one) and, from
order 5, a series interpreter that follows calculax's stable ``custom_jvp`` rules
(below order 5 nested forward mode compiles faster through those rules); nested
forward mode where none applies.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._series_interpreter import series_obstacle
from ._size_guard import DEFAULT_MAX_BYTES, guard
from ._taylor import UnsupportedPrimitive, jet_obstacle, taylor_derivative
from ._validate import (
    check_args,
    check_callable,
    check_max_bytes,
    check_mode,
    check_symmetric,
    distinct,
    output_shape,
    steps_of,
)

__all__ = ["derivative", "jacobian", "hessian", "mixed", "plan"]

TAYLOR_MIN_ORDER = 3
# Through custom_jvp rules (calculax's stable functions, stabilize'd code) the series
# interpreter compiles slower than nested forward mode below order 5 and faster above
# (jit compile + run, 2 cores: stabilized -a/b in b 1.7 s vs 0.5 s at k = 3, 6.5 s vs
# 11.2 s at k = 6; cnp.tanh 1.1 s vs 1.1 s at k = 5; cnp.hypot 14.9 s vs 24.8 s at
# k = 5), so mode="auto" follows the rules in Taylor mode from order 5.
RULES_TAYLOR_MIN_ORDER = 5


def _size(tree) -> int:
    return sum(np.size(leaf) for leaf in jax.tree.leaves(tree))


def _scalar_obstacle(args: Sequence, steps: Sequence[int]) -> str | None:
    shapes = {s: jax.tree.map(np.shape, args[s]) for s in steps}
    if len(shapes) != 1 or () not in shapes.values():
        return (
            f"it needs one scalar (shape ()) argument, got argnums {tuple(steps)} "
            f"with shapes {list(shapes.values())}; for an element-wise function, "
            "jax.vmap the scalar derivative over the entries instead"
        )
    return None


def _primitive_obstacle(primitive: str) -> str:
    return (
        f"the primitive {primitive!r} has no Taylor-series rule in calculax and "
        "jax.experimental.jet cannot take the function; mode='auto' uses nested "
        "forward mode there"
    )


def _taylor_obstacle(
    f: Callable, args: Sequence, steps: Sequence[int], mode: str
) -> str | None:
    """Why Taylor mode does not apply, or None when it does."""
    reason = _scalar_obstacle(args, steps)
    if reason is not None:
        return reason
    if jet_obstacle(f, args) is None:
        return None
    primitive = series_obstacle(f, args, steps[0], len(steps))
    if primitive is None and _follows_rules(mode, steps):
        return None
    if primitive is None:
        return (
            f"order {len(steps)} < {RULES_TAYLOR_MIN_ORDER} through custom_jvp rules: "
            "nested forward mode compiles faster there"
        )
    return _primitive_obstacle(primitive)


def _follows_rules(mode: str, steps: Sequence[int]) -> bool:
    """Whether Taylor mode may go through ``custom_jvp`` rules (series interpreter)."""
    return mode == "taylor" or len(steps) >= RULES_TAYLOR_MIN_ORDER


def plan(f: Callable, args: Sequence, steps: Sequence[int], mode: str = "auto"):
    """How ``derivative`` computes the tensor: ``"taylor"`` or a tuple of
    ``"forward"``/``"reverse"``, one per step, innermost first.

    Raises ``ValueError`` for ``mode="taylor"`` where Taylor mode does not apply.
    """
    out = output_shape(f, args, "derivative")
    if mode == "taylor" or (mode == "auto" and len(steps) >= TAYLOR_MIN_ORDER):
        reason = _taylor_obstacle(f, args, steps, mode)
        if reason is None:
            return "taylor"
        if mode == "taylor":
            raise ValueError(f"derivative: mode='taylor' does not apply: {reason}")
    if mode in ("forward", "reverse"):
        return (mode,) * len(steps)
    modes, outputs = [], _size(out)
    for step in steps:
        inputs = _size(args[step])
        modes.append("forward" if inputs <= outputs else "reverse")
        outputs *= inputs
    return tuple(modes)


def _nested(f: Callable, steps: Sequence[int], modes: Sequence[str]) -> Callable:
    for step, mode in zip(steps, modes):
        f = (jax.jacfwd if mode == "forward" else jax.jacrev)(f, argnums=step)
    return f


def _symmetrized(f: Callable, symmetric: Sequence[int]) -> Callable:
    def on_symmetric(*args):
        args = list(args)
        for i in symmetric:
            args[i] = (args[i] + jnp.swapaxes(args[i], -1, -2)) / 2
        return f(*args)

    return on_symmetric


def _check_symmetric(args: Sequence, symmetric: Sequence[int]) -> None:
    for i in symmetric:
        leaf = i < len(args) and jax.tree_util.all_leaves([args[i]])
        shape = np.shape(args[i]) if leaf else None
        if shape is None or len(shape) < 2 or shape[-1] != shape[-2]:
            raise ValueError(
                f"symmetric={tuple(symmetric)}: argument {i} must be an array of "
                f"square matrices (shape (..., n, n)), got "
                f"{'no such array argument' if shape is None else f'shape {shape}'}"
            )


def derivative(
    f: Callable,
    argnums: int | Sequence[int] = 0,
    order: int | Sequence[int] = 1,
    mode: str = "auto",
    *,
    symmetric: Sequence[int] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Callable:
    r"""The full derivative tensor of ``f`` of any order, as a function of its args.

    Differentiates ``argnums[0]`` ``order[0]`` times, then ``argnums[1]``
    ``order[1]`` times, ...: ``argnums=(i, j)`` gives
    :math:`\partial_{x_j}\partial_{x_i} f`, of shape
    ``out.shape + x_i.shape + x_j.shape``; ``argnums=i, order=k`` gives
    :math:`\partial^k f/\partial x_i^k`, of shape ``out.shape + x_i.shape * k``
    (pytrees nest like ``jax.jacobian``). Forward or reverse mode per differentiation
    by the sizes (``n <= m``: forward), Taylor mode for order ``>= 3`` in one scalar
    argument (through custom rules from order 5); see the module docstring. Custom
    rules (``calculax.numpy``, ``calculax.stabilize``) are used at every order.

    ``symmetric=(i, ...)``: ``x_i`` is a symmetric matrix, and the derivative is that
    of :math:`f` restricted to symmetric matrices, written in the Frobenius pairing:
    the derivative of :math:`X \mapsto f(\tfrac12(X + X^T))`, i.e. the unconstrained
    derivative with each ``x_i`` slot projected by
    :math:`\operatorname{sym}(G) = \tfrac12(G + G^T)`. Its contraction with a
    symmetric direction is the directional derivative. (The formula
    :math:`G + G^T - \operatorname{diag}(G)` found in references is the derivative
    with respect to the :math:`n(n+1)/2` independent entries, a different
    coordinate system, and does not satisfy that.)

    Args:
        f: function of positional arguments returning an array or a pytree of real
            floating arrays.
        argnums: the position(s) to differentiate, in order.
        order: how often to differentiate each; an int applies to every argnum;
            ``0`` returns ``f``'s value.
        mode: ``"auto"``, ``"forward"``, ``"reverse"`` or ``"taylor"``.
        symmetric: positions of arguments constrained to symmetric matrices.
        max_bytes: refuse tensors larger than this (default 2 GiB).

    Returns:
        A function of ``f``'s arguments returning the derivative tensor(s). It is
        compiled (``equinox.filter_jit``: arrays are traced, every other leaf, such
        as a Python float, is a compile-time constant), so the plan, the size check
        and the trace happen once per argument shapes.

    Raises:
        ValueError: ``argnums`` out of range or negative, ``order < 0``, an unknown
            ``mode``, ``mode="taylor"`` where it does not apply, a non-square
            ``symmetric`` argument, ``max_bytes <= 0``;
            :class:`DerivativeTooLargeError` (a ``ValueError``) above ``max_bytes``.
        TypeError: ``f`` not callable; non-integer ``argnums``/``order``/
            ``max_bytes`` (bools included); integer, boolean or complex inputs;
            outputs that are not real floating arrays.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import derivative
        >>> d = derivative(lambda x, y: x @ x @ y, argnums=(0, 1))
        >>> d(jnp.eye(2), jnp.ones((2, 3))).shape
        (2, 3, 2, 2, 2, 3)
        >>> fourth = derivative(lambda x: jnp.sin(x) * jnp.exp(x), order=4)  # Taylor
        >>> print(f"{fourth(0.5):.5f}")  # -4 e^x sin(x) = -3.16176 at x = 0.5
        -3.16176
    """
    check_callable(f, "derivative")
    steps = steps_of(argnums, order)
    check_mode(mode)
    symmetric = check_symmetric(symmetric, "derivative")
    max_bytes = check_max_bytes(max_bytes, "derivative")
    g = _symmetrized(f, symmetric) if symmetric else f

    @eqx.filter_jit
    @functools.wraps(f)
    def derivative_of_f(*args):
        check_args(args, steps, "derivative")
        _check_symmetric(args, symmetric)
        if not steps:
            output_shape(g, args, "derivative")
            return g(*args)
        guard(output_shape(g, args, "derivative"), args, steps, max_bytes)
        taylor = mode == "taylor" or (mode == "auto" and len(steps) >= TAYLOR_MIN_ORDER)
        if taylor and _scalar_obstacle(args, steps) is None:
            try:  # one trace: no separate check for the primitives' series rules
                return taylor_derivative(
                    g,
                    args,
                    steps[0],
                    len(steps),
                    follow_rules=_follows_rules(mode, steps),
                )
            except UnsupportedPrimitive as error:
                if mode == "taylor":
                    reason = _primitive_obstacle(error.primitive)
                    raise ValueError(
                        f"derivative: mode='taylor' does not apply: {reason}"
                    ) from None
            return _nested(g, steps, ("forward",) * len(steps))(*args)
        return _nested(g, steps, plan(g, args, steps, mode))(*args)

    return derivative_of_f


def jacobian(
    f: Callable,
    argnums: int | Sequence[int] = 0,
    mode: str = "auto",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Callable:
    """``derivative(f, argnums, order=1)``: shape ``out.shape + x.shape``.

    With a sequence ``argnums`` this is the mixed first partial in each, like
    :func:`mixed` (not ``jax.jacobian``'s tuple of one Jacobian per argument).

    Raises:
        ValueError: a repeated argument in ``argnums`` (that is a second
            derivative: use :func:`hessian` or :func:`derivative`), and everything
            :func:`derivative` raises.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import jacobian
        >>> jacobian(lambda x: jnp.stack([x[0] * x[1], x[1]]))(jnp.ones(2))
        Array([[1., 1.],
               [0., 1.]], dtype=float32)
    """
    distinct(
        argnums,
        "jacobian",
        "differentiating twice in one argument is a second derivative: use "
        "hessian(f, argnums=i) or derivative(f, argnums=i, order=2)",
    )
    return derivative(f, argnums, 1, mode, max_bytes=max_bytes)


def hessian(
    f: Callable,
    argnums: int = 0,
    mode: str = "auto",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Callable:
    r"""``derivative(f, argnums, order=2)``: shape ``out.shape + x.shape + x.shape``.

    Raises:
        TypeError: ``argnums`` is not one int (for the mixed block
            :math:`\partial_{x_j}\partial_{x_i} f` use ``mixed(f, (i, j))``), and
            everything :func:`derivative` raises.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import hessian
        >>> hessian(lambda x: x[0] ** 2 * x[1])(jnp.ones(2))
        Array([[2., 2.],
               [2., 0.]], dtype=float32)
    """
    if isinstance(argnums, bool | np.bool_) or not isinstance(
        argnums, numbers.Integral
    ):
        raise TypeError(
            f"hessian: argnums must be one int (the argument of the Hessian); got "
            f"{argnums!r}; for the mixed block d/dx_j d/dx_i f use "
            "mixed(f, argnums=(i, j))"
        )
    return derivative(f, argnums, 2, mode, max_bytes=max_bytes)


def mixed(
    f: Callable,
    argnums: Sequence[int] = (0, 1),
    mode: str = "auto",
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Callable:
    r"""The mixed partial :math:`\partial_{x_j}\partial_{x_i} f` for ``argnums=(i, j)``.

    Shape ``out.shape + x_i.shape + x_j.shape``; ``derivative(f, argnums)``.

    Raises:
        ValueError: ``argnums`` is not a sequence of at least two positions, and
            everything :func:`derivative` raises.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import mixed
        >>> mixed(lambda x, y: jnp.sum(x * y**2))(jnp.ones(2), jnp.ones(2))
        Array([[2., 0.],
               [0., 2.]], dtype=float32)
    """
    if (
        isinstance(argnums, str)
        or not isinstance(argnums, Sequence)
        or len(argnums) < 2
    ):
        raise ValueError(
            f"mixed: argnums must be a sequence of at least two argument positions "
            f"(i, j, ...); got {argnums!r}; for one argument use jacobian or hessian"
        )
    return derivative(f, argnums, 1, mode, max_bytes=max_bytes)

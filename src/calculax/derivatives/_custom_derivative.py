"""``custom_derivative``: give a function's partial derivatives in one place.

As with a hand-written ``autograd.Function`` in PyTorch, the user writes the primal
and, separately, the element-wise partial derivatives
:math:`\\partial f/\\partial x_i` as functions of the same arguments. calculax
turns them into a ``jax.custom_jvp`` whose tangent is

.. math:: df = \\sum_i \\frac{\\partial f}{\\partial x_i} \\odot dx_i

with the strong-zero product :math:`\\odot` (a zero tangent or cotangent stays ``0``
even against an infinite partial). Because the tangent is built from the partials
with differentiable JAX operations, the partials are themselves differentiated for
second and higher derivatives, in forward and reverse mode. Write the partials with
``calculax.numpy`` functions to keep every order stable.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from .._core.strong import strong_mul

__all__ = ["custom_derivative"]


def _check_partials(name: str, partials, args, out_shape) -> tuple:
    if not isinstance(partials, tuple | list):
        partials = (partials,)
    if len(partials) != len(args):
        raise TypeError(
            f"custom_derivative: the partials of {name} returned {len(partials)} "
            f"value(s), but {name} takes {len(args)} argument(s); return one partial "
            "derivative per argument, in order (use 0.0 for an argument with none)."
        )
    checked = []
    for index, (given, arg) in enumerate(zip(partials, args)):
        try:
            partial = jnp.asarray(given)
        except (TypeError, ValueError):
            partial = None
        if partial is None or not jnp.issubdtype(partial.dtype, jnp.number):
            raise TypeError(
                f"custom_derivative: partial {index} of {name} must be an array of "
                f"numbers (d out / d arg {index}); got {type(given).__name__} "
                f"{given!r:.40}."
            )
        if jnp.issubdtype(partial.dtype, jnp.complexfloating):
            raise TypeError(
                f"custom_derivative: partial {index} of {name} is complex; the "
                "partials of a real function are real."
            )
        try:
            jnp.broadcast_shapes(partial.shape, jnp.shape(arg), out_shape)
        except ValueError:
            raise ValueError(
                f"custom_derivative: partial {index} of {name} has shape "
                f"{partial.shape}, which does not broadcast with argument {index} "
                f"(shape {jnp.shape(arg)}) and the output (shape {out_shape}); the "
                "partials are element-wise: d out / d arg, broadcastable to the "
                "output's shape."
            ) from None
        checked.append(partial)
    return tuple(checked)


def _tangent(t, arg, partial, out):
    # d out = partial (.) t, summed over axes along which `arg` was broadcast.
    if not jnp.issubdtype(jnp.result_type(arg), jnp.inexact):
        return jnp.zeros(out.shape, out.dtype)
    contribution = strong_mul(partial.astype(out.dtype), t.astype(out.dtype))
    return jnp.broadcast_to(contribution, out.shape)


def custom_derivative(
    function: Callable | None = None, *, partials: Callable | None = None
) -> Callable:
    """Attach user-given element-wise partial derivatives to ``function``.

    Use as ``custom_derivative(f, partials=df)`` or as a decorator
    ``@custom_derivative(partials=df)``. ``partials(*args)`` returns one array per
    positional argument, :math:`\\partial f / \\partial x_i`, broadcastable to the
    output shape (``f`` is element-wise with broadcasting, like ``jnp.divide``).

    Args:
        function: the primal, ``f(*args) -> array``.
        partials: ``partials(*args) -> tuple`` of partial derivatives.

    Returns:
        A function with ``f``'s values whose derivatives of every order, forward and
        reverse, come from ``partials``.

    Raises:
        TypeError: ``function`` or ``partials`` is not callable; the number of
            partials differs from the number of arguments.
        ValueError: a partial's shape does not broadcast with its argument and the
            output.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax
        >>> import calculax.numpy as cnp
        >>> def ratio_partials(a, b):  # d(a/b): 1/b and -(a/b)/b, stably
        ...     return cnp.reciprocal(b), -cnp.divide(cnp.divide(a, b), b)
        >>> @calculax.custom_derivative(partials=ratio_partials)
        ... def ratio(a, b):
        ...     return a / b
        >>> a = b = jnp.float32(1e-30)
        >>> jax.grad(lambda b: -ratio(a, b))(b)
        Array(1.e+30, dtype=float32)
    """
    if partials is None:
        raise TypeError(
            "custom_derivative needs partials=..., a function returning one partial "
            "derivative per argument."
        )
    if not callable(partials):
        raise TypeError(
            f"custom_derivative: partials must be callable, got {partials!r}."
        )
    if function is None:
        return functools.partial(custom_derivative, partials=partials)
    if not callable(function):
        raise TypeError(
            f"custom_derivative: function must be callable, got {function!r}."
        )
    name = getattr(function, "__name__", "function")

    @jax.custom_jvp
    def wrapped(*args):
        return jnp.asarray(function(*args))

    @wrapped.defjvp
    def _jvp(primals, tangents):
        out = jnp.asarray(wrapped(*primals))
        values = _check_partials(name, partials(*primals), primals, jnp.shape(out))
        tangent = sum(
            _tangent(t, arg, partial, out)
            for t, arg, partial in zip(tangents, primals, values)
        )
        return out, tangent

    functools.update_wrapper(wrapped, function)
    return wrapped

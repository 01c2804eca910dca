r"""Second-derivative products without the tensor: ``hvp``, ``vhp``, ``mixed_hvp``.

Each costs a small constant times one evaluation of ``f`` and its gradient, whatever
the size of the Hessian block it applies: ``jax.jvp`` of ``jax.grad``
(forward-over-reverse, the cheapest) or ``jax.vjp`` of ``jax.grad``
(reverse-over-reverse, for code that has no forward mode).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import numpy as np

from ._validate import check_args, dtype_of, output_shape, steps_of

__all__ = ["hvp", "vhp", "mixed_hvp"]


def _check_scalar(f: Callable, args: Sequence, where: str) -> None:
    out = output_shape(f, args, where)
    if not isinstance(out, jax.ShapeDtypeStruct) or out.shape != ():
        raise TypeError(
            f"{where}: f must return a scalar (shape ()) array, got {out}; for a "
            "vector-valued f contract it first, e.g. lambda x: jnp.vdot(u, f(x))"
        )


def _check_direction(x, v, where: str) -> None:
    shapes = jax.tree.map(np.shape, x), jax.tree.map(np.shape, v)
    # jaxlib ships no stub for PyTreeDef, so mypy cannot type its `!=`.
    differ = jax.tree.structure(x) != jax.tree.structure(v)  # type: ignore[operator]
    if differ or shapes[0] != shapes[1]:
        raise ValueError(
            f"{where}: the direction v must have the structure and shapes of the "
            f"argument it pairs with: expected {shapes[0]}, got {shapes[1]}"
        )


def _cast_like(v, x):
    return jax.tree.map(lambda vi, xi: jax.numpy.asarray(vi, dtype_of(xi)), v, x)


def hvp(f: Callable, x, v):
    r"""Hessian-vector product :math:`\nabla^2 f(x)\,v`, forward-over-reverse.

    Computed as :math:`\tfrac{d}{dt}\nabla f(x + t v)|_{t=0}` (``jax.jvp`` of
    ``jax.grad``): about 3 gradient evaluations, no Hessian.

    Args:
        f: scalar-valued function of one argument (an array or pytree).
        x: the point.
        v: the direction, with ``x``'s structure and shapes.

    Returns:
        :math:`H v`, with ``x``'s structure and shapes.

    Raises:
        TypeError: non-scalar output, non-floating ``x``.
        ValueError: ``v`` shaped unlike ``x``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import hvp
        >>> hvp(lambda x: jnp.sum(x**3), jnp.array([1.0, 2.0]), jnp.ones(2))
        Array([ 6., 12.], dtype=float32)
    """
    check_args((x,), (0,), "hvp")
    _check_scalar(f, (x,), "hvp")
    _check_direction(x, v, "hvp")
    return jax.jvp(jax.grad(f), (x,), (_cast_like(v, x),))[1]


def vhp(f: Callable, x, v):
    r"""Vector-Hessian product :math:`v^T \nabla^2 f(x)`, reverse-over-reverse.

    ``jax.vjp`` of ``jax.grad``; equal to :func:`hvp` wherever the Hessian is
    symmetric (``f`` twice continuously differentiable). Use it for code without
    forward-mode rules (``jax.custom_vjp``, ``while_loop`` with a dynamic trip
    count); otherwise :func:`hvp` is cheaper.

    Args:
        f: scalar-valued function of one argument (an array or pytree).
        x: the point.
        v: the covector, with ``x``'s structure and shapes.

    Returns:
        :math:`v^T H`, with ``x``'s structure and shapes.

    Raises:
        TypeError: non-scalar output, non-floating ``x``.
        ValueError: ``v`` shaped unlike ``x``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import vhp
        >>> vhp(lambda x: x[0] ** 2 * x[1], jnp.ones(2), jnp.array([1.0, 0.0]))
        Array([2., 2.], dtype=float32)
    """
    check_args((x,), (0,), "vhp")
    _check_scalar(f, (x,), "vhp")
    _check_direction(x, v, "vhp")
    return jax.vjp(jax.grad(f), x)[1](_cast_like(v, x))[0]


def mixed_hvp(f: Callable, args: Sequence, v, argnums: Sequence[int] = (0, 1)):
    r"""The mixed product :math:`\partial_{x_j}\left(\nabla_{x_i} f \cdot v\right)`.

    For ``argnums=(i, j)``: the mixed second-derivative block
    :math:`\partial^2 f / \partial x_j \partial x_i` applied to a direction ``v`` of
    ``x_i``, shaped like ``x_j`` (the seed's :math:`\tfrac{d}{dY}(\nabla_X f\cdot V)`).
    Computed as :math:`\tfrac{d}{dt}\nabla_{x_j} f(\ldots, x_i + t v, \ldots)|_{t=0}`
    (forward-over-reverse; mixed partials commute for twice continuously
    differentiable ``f``): no tensor is formed.

    Args:
        f: scalar-valued function of positional arguments.
        args: the point, a tuple of ``f``'s arguments.
        v: direction with ``args[i]``'s structure and shapes.
        argnums: ``(i, j)``.

    Returns:
        An array (pytree) shaped like ``args[j]``.

    Raises:
        TypeError: non-scalar output, non-floating arguments.
        ValueError: ``argnums`` not two in-range positions; ``v`` shaped unlike
            ``args[i]``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import mixed_hvp
        >>> f = lambda x, y: jnp.sum(x * y**2)
        >>> mixed_hvp(f, (jnp.ones(2), jnp.array([1.0, 3.0])), jnp.array([1.0, 0.0]))
        Array([2., 0.], dtype=float32)
    """
    if not isinstance(args, tuple | list) or len(argnums) != 2:
        raise ValueError(
            "mixed_hvp: pass args as a tuple of f's arguments and argnums as two "
            f"positions (i, j), got args of type {type(args).__name__} and "
            f"argnums={argnums!r}"
        )
    i, j = steps_of(argnums, 1)
    args = tuple(args)
    check_args(args, (i, j), "mixed_hvp")
    _check_scalar(f, args, "mixed_hvp")
    _check_direction(args[i], v, "mixed_hvp")

    def gradient_j(xi):
        return jax.grad(f, argnums=j)(*args[:i], xi, *args[i + 1 :])

    return jax.jvp(gradient_j, (args[i],), (_cast_like(v, args[i]),))[1]

r"""Second-derivative products without the tensor: ``hvp``, ``vhp``, ``mixed_hvp``.

Each costs a small constant times one evaluation of ``f`` and its gradient, whatever
the size of the Hessian block it applies: ``jax.jvp`` of ``jax.grad``
(forward-over-reverse, the cheapest) or ``jax.vjp`` of ``jax.grad``
(reverse-over-reverse, for code that has no forward mode). Written with JAX's own
transformations: nothing hand-made to trust, and every custom rule in ``f``
(``calculax.numpy``, ``calculax.stabilize``) is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from ._validate import check_args, dtype_of, output_shape, steps_of

__all__ = ["hvp", "vhp", "mixed_hvp"]


def _check_callable(f, where: str) -> None:
    if not callable(f):
        raise TypeError(
            f"{where}: `f` must be a callable (a scalar function of arrays); got "
            f"{type(f).__name__} {f!r:.60}."
        )


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
    for path, leaf in jax.tree_util.tree_leaves_with_path(v):
        dtype = dtype_of(leaf)
        if not (
            jnp.issubdtype(dtype, jnp.floating) or jnp.issubdtype(dtype, jnp.integer)
        ):
            at = jax.tree_util.keystr(path) or "(the array itself)"
            raise TypeError(
                f"{where}: the direction v at {at} has dtype {dtype}; it must be "
                "real (it is cast to the dtype of the argument it pairs with)"
            )


def _cast_like(v, x):
    return jax.tree.map(lambda vi, xi: jax.numpy.asarray(vi, dtype_of(xi)), v, x)


def _of_x(f: Callable, args: Sequence) -> Callable:
    return lambda x: f(x, *args)


def hvp(f: Callable, x, v, *args):
    r"""Hessian-vector product :math:`\nabla_x^2 f(x, \ldots)\,v`, forward-over-reverse.

    Computed as :math:`\tfrac{d}{dt}\nabla_x f(x + t v, \ldots)|_{t=0}` (``jax.jvp``
    of ``jax.grad``): about 3 gradient evaluations, no Hessian. ``x`` may be any
    pytree of floating arrays (the parameters of a model, of mixed shapes and
    dtypes); ``args`` are further arguments of ``f`` held fixed (data, targets).
    This is the product behind a matrix-free Hessian operator: ``lambda v: hvp(f,
    params, v, batch)``, which composes with ``jit``, ``vmap`` (over ``v``) and
    ``lax.scan`` (over batches).

    Args:
        f: scalar-valued ``f(x, *args)``.
        x: the point (an array or a pytree of floating arrays).
        v: the direction, with ``x``'s structure and shapes (cast to ``x``'s
            dtypes).
        *args: further arguments of ``f``, not differentiated.

    Returns:
        :math:`H v`, with ``x``'s structure, shapes and dtypes.

    Raises:
        TypeError: ``f`` not callable; non-scalar output; non-floating ``x``;
            complex ``v``.
        ValueError: ``v`` shaped unlike ``x``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import hvp
        >>> hvp(lambda x: jnp.sum(x**3), jnp.array([1.0, 2.0]), jnp.ones(2))
        Array([ 6., 12.], dtype=float32)
        >>> loss = lambda p, data: jnp.sum((p["w"] * data - 1.0) ** 2) + p["b"] ** 2
        >>> p = {"w": jnp.ones(2), "b": jnp.float32(1.0)}
        >>> v = {"w": jnp.array([1.0, 0.0]), "b": jnp.float32(1.0)}
        >>> hvp(loss, p, v, jnp.array([3.0, 1.0]))  # 2 data**2 v_w, 2 v_b
        {'b': Array(2., dtype=float32), 'w': Array([18.,  0.], dtype=float32)}
    """
    _check_callable(f, "hvp")
    check_args((x, *args), (0,), "hvp")
    _check_scalar(f, (x, *args), "hvp")
    _check_direction(x, v, "hvp")
    return jax.jvp(jax.grad(_of_x(f, args)), (x,), (_cast_like(v, x),))[1]


def vhp(f: Callable, x, v, *args):
    r"""Vector-Hessian product :math:`v^T \nabla_x^2 f(x, \ldots)`,
    reverse-over-reverse.

    ``jax.vjp`` of ``jax.grad``; equal to :func:`hvp` wherever the Hessian is
    symmetric (``f`` twice continuously differentiable). Use it for code without
    forward-mode rules (``jax.custom_vjp``, ``while_loop`` with a dynamic trip
    count); otherwise :func:`hvp` is cheaper. ``x`` and ``args`` as in :func:`hvp`.

    Args:
        f: scalar-valued ``f(x, *args)``.
        x: the point (an array or a pytree of floating arrays).
        v: the covector, with ``x``'s structure and shapes.
        *args: further arguments of ``f``, not differentiated.

    Returns:
        :math:`v^T H`, with ``x``'s structure and shapes.

    Raises:
        TypeError: ``f`` not callable; non-scalar output; non-floating ``x``;
            complex ``v``.
        ValueError: ``v`` shaped unlike ``x``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import vhp
        >>> vhp(lambda x: x[0] ** 2 * x[1], jnp.ones(2), jnp.array([1.0, 0.0]))
        Array([2., 2.], dtype=float32)
    """
    _check_callable(f, "vhp")
    check_args((x, *args), (0,), "vhp")
    _check_scalar(f, (x, *args), "vhp")
    _check_direction(x, v, "vhp")
    return jax.vjp(jax.grad(_of_x(f, args)), x)[1](_cast_like(v, x))[0]


def mixed_hvp(f: Callable, args: Sequence, v, argnums: Sequence[int] = (0, 1)):
    r"""The mixed product :math:`\partial_{x_j}\left(\nabla_{x_i} f \cdot v\right)`.

    For ``argnums=(i, j)``: the mixed second-derivative block
    :math:`\partial^2 f / \partial x_j \partial x_i` applied to a direction ``v`` of
    ``x_i``, shaped like ``x_j`` (:math:`\tfrac{d}{dY}(\nabla_X f\cdot V)`).
    Computed as :math:`\tfrac{d}{dt}\nabla_{x_j} f(\ldots, x_i + t v, \ldots)|_{t=0}`
    (forward-over-reverse; mixed partials commute for twice continuously
    differentiable ``f``): no tensor is formed. ``i == j`` is :func:`hvp`.

    Args:
        f: scalar-valued function of positional arguments.
        args: the point, a tuple of ``f``'s arguments.
        v: direction with ``args[i]``'s structure and shapes.
        argnums: ``(i, j)``.

    Returns:
        An array (pytree) shaped like ``args[j]``.

    Raises:
        TypeError: ``f`` not callable; non-scalar output; non-floating arguments;
            non-integer ``argnums``.
        ValueError: ``argnums`` not two in-range positions; ``v`` shaped unlike
            ``args[i]``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import mixed_hvp
        >>> f = lambda x, y: jnp.sum(x * y**2)
        >>> mixed_hvp(f, (jnp.ones(2), jnp.array([1.0, 3.0])), jnp.array([1.0, 0.0]))
        Array([2., 0.], dtype=float32)
    """
    _check_callable(f, "mixed_hvp")
    if not isinstance(args, tuple | list):
        raise ValueError(
            "mixed_hvp: pass args as a tuple of f's arguments, got "
            f"{type(args).__name__}; write args=(x, y)"
        )
    if not isinstance(argnums, Sequence) or len(argnums) != 2:
        raise ValueError(
            f"mixed_hvp: `argnums` must be two positions (i, j); got {argnums!r}"
        )
    i, j = steps_of(argnums, 1)
    args = tuple(args)
    check_args(args, (i, j), "mixed_hvp")
    _check_scalar(f, args, "mixed_hvp")
    _check_direction(args[i], v, "mixed_hvp")

    def gradient_j(xi):
        return jax.grad(f, argnums=j)(*args[:i], xi, *args[i + 1 :])

    return jax.jvp(gradient_j, (args[i],), (_cast_like(v, args[i]),))[1]

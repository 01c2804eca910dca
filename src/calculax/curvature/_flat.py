"""Flattening a parameter pytree to one vector and back, with clear structure errors.

A :class:`Flat` holds only static data (tree structure, leaf shapes and dtypes), so it
is hashable and an operator built on it does not recompile when rebuilt from the same
function and the same shapes. The flat vector has ``jnp.result_type`` of the leaves,
promoted to at least float32 (float16 and bfloat16 parameters are estimated in
float32); :meth:`Flat.unravel` casts each leaf back to its own dtype.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Flat"]


class Flat(eqx.Module):
    """The static structure of a pytree of floating arrays."""

    treedef: jax.tree_util.PyTreeDef = eqx.field(static=True)
    shapes: tuple[tuple[int, ...], ...] = eqx.field(static=True)
    dtypes: tuple[np.dtype, ...] = eqx.field(static=True)

    @classmethod
    def of(cls, tree, name: str = "params") -> Flat:
        """Structure of ``tree``; ``TypeError`` for empty or non-floating leaves."""
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        if not leaves:
            raise TypeError(
                f"`{name}` has no array leaves; expected a pytree of arrays."
            )
        dtypes = tuple(np.dtype(jnp.result_type(leaf)) for leaf in leaves)
        for dtype in dtypes:
            if not jnp.issubdtype(dtype, jnp.floating):
                raise TypeError(
                    f"`{name}` has a leaf of dtype {dtype}; expected real floating "
                    "leaves (cast integer parameters to float, or close over them; "
                    "complex parameters are not supported)."
                )
        flat = cls(treedef, tuple(tuple(np.shape(x)) for x in leaves), dtypes)
        if flat.size == 0:
            raise ValueError(
                f"`{name}` has no elements (every leaf has size 0); expected at "
                "least one parameter."
            )
        return flat

    @property
    def size(self) -> int:
        return sum(math.prod(s) for s in self.shapes)

    @property
    def dtype(self) -> np.dtype:
        """The flat vectors' dtype: the leaves' common type, at least float32."""
        return np.dtype(jnp.promote_types(jnp.result_type(*self.dtypes), jnp.float32))

    def check(self, tree, name: str) -> None:
        """``ValueError`` naming ``name`` if ``tree`` does not match this structure."""
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        if treedef != self.treedef:
            raise ValueError(
                f"`{name}` has pytree structure {treedef}, but the operator acts on "
                f"{self.treedef}; pass a vector with the parameters' structure."
            )
        shapes = tuple(tuple(np.shape(x)) for x in leaves)
        if shapes != self.shapes:
            raise ValueError(
                f"`{name}` has leaf shapes {shapes}, but the operator acts on "
                f"{self.shapes}."
            )
        for leaf in leaves:
            dtype = jnp.result_type(leaf)
            if not (
                jnp.issubdtype(dtype, jnp.floating)
                or jnp.issubdtype(dtype, jnp.integer)
            ):
                raise TypeError(
                    f"`{name}` has a leaf of dtype {dtype}; expected real numbers "
                    "(complex and boolean vectors are not supported)."
                )

    def ravel(self, tree, name: str = "vector") -> jax.Array:
        self.check(tree, name)
        leaves = jax.tree_util.tree_leaves(tree)
        return jnp.concatenate([jnp.ravel(x).astype(self.dtype) for x in leaves])

    def unravel(self, flat: jax.Array):
        leaves, start = [], 0
        for shape, dtype in zip(self.shapes, self.dtypes):
            stop = start + math.prod(shape)
            leaves.append(flat[start:stop].reshape(shape).astype(dtype))
            start = stop
        return jax.tree_util.tree_unflatten(self.treedef, leaves)

"""Probe vectors and their products, batched with ``vmap`` and sharded over devices.

Probes are independent, so a block of ``k`` probes is one ``vmap``-ed matvec. With a
``mesh`` (:func:`probe_mesh`: all devices along the axis ``"probes"``) the block's
columns are split across devices with a sharding constraint; each device computes its
own products and the numbers are those of the single-device path (up to the order of
floating-point sums in later reductions). Memory per probe: one matvec (see
``hessian_operator``) plus two vectors of the operator's size.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._operator import AbstractOperator

__all__ = ["apply", "probe_mesh", "rademacher"]

AXIS = "probes"


def probe_mesh(devices=None) -> Mesh:
    """A one-axis ``Mesh`` named ``"probes"`` over ``devices`` (default: all).

    The default is ``jax.devices()``: every local device in one process, and every
    device of every process after ``jax.distributed.initialize`` (tested with 2
    CPU processes on localhost with gloo collectives:
    ``jax.config.update("jax_cpu_collectives_implementation", "gloo")``). Each
    process then makes the same estimator call and gets the same result.

    Raises:
        TypeError: ``devices`` is not a sequence of JAX devices.
        ValueError: ``devices`` is empty.

    Example:
        >>> from calculax.curvature import probe_mesh
        >>> probe_mesh().axis_names
        ('probes',)
    """
    try:
        devices = jax.devices() if devices is None else list(devices)
    except TypeError:
        raise TypeError(
            "probe_mesh: `devices` must be a sequence of JAX devices (e.g. "
            f"`jax.devices()`); got {type(devices).__name__}."
        ) from None
    if not devices:
        raise ValueError("probe_mesh: `devices` is empty; pass at least one device.")
    for device in devices:
        if not isinstance(device, jax.Device):
            raise TypeError(
                "probe_mesh: `devices` must be JAX devices (e.g. `jax.devices()`); "
                f"got {type(device).__name__}."
            )
    return Mesh(np.asarray(devices), (AXIS,))


def _shard(columns: jax.Array, mesh: Mesh | None) -> jax.Array:
    """Pad ``columns`` to a multiple of the device count; split them over ``mesh``."""
    if mesh is None or mesh.size == 1:
        return columns
    pad = -columns.shape[1] % mesh.shape[AXIS]
    columns = jnp.pad(columns, ((0, 0), (0, pad)))
    spec = NamedSharding(mesh, PartitionSpec(None, AXIS))
    return jax.lax.with_sharding_constraint(columns, spec)


def apply(operator: AbstractOperator, columns: jax.Array, mesh: Mesh | None):
    """``A @ columns`` (non-finite products propagate; the result's status flags
    them)."""
    k = columns.shape[1]
    return operator.matmat(_shard(columns, mesh))[:, :k]


def rademacher(key, n: int, k: int, dtype) -> jax.Array:
    """``(n, k)`` independent random signs."""
    return jax.random.rademacher(key, (n, k), dtype=dtype)


def two_stages(operator: AbstractOperator, first: jax.Array, plan, mesh):
    """``y1 = A first``, ``(second, aux) = plan(y1)``, ``y2 = A second``.

    Both products go through one call site of the operator (a two-step
    ``lax.scan``), so that a large model's Hessian-vector product is compiled
    once, not twice (compilation dominates a first call). ``first`` and
    ``second`` have the same shape; ``plan`` runs once (in the first step).
    Returns ``(y1, y2, aux)``.
    """
    y_shape = jax.eval_shape(lambda b: apply(operator, b, mesh), first)
    aux_shape = jax.eval_shape(lambda y: plan(y)[1], y_shape)
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), aux_shape)

    def step(carry, stage):
        block, aux = carry
        out = apply(operator, block, mesh)
        block, aux = jax.lax.cond(stage == 0, plan, lambda y: (block, aux), out)
        return (block, aux), out

    (_, aux), outs = jax.lax.scan(step, (first, zeros), jnp.arange(2))
    return outs[0], outs[1], aux

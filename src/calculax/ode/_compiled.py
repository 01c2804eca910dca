"""One compiled chunk of a solve: build the ``Problem``, integrate, and return
the raw arrays (``Chunk``) that ``_chunks.py`` assembles into a ``Solution``.

The compiled program is cached per ``(fun, events, jac, structure and dtype of
the inputs, Options)``; every value (``t_span``, ``y0``, ``args``, tolerances,
``t_eval``, event directions and terminal counts, ``first_step``, ``max_step``)
is traced data.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from .._core.linear_jvp import linear_jvp
from .._core.quick_compile import QuickJit
from ._assemble import single
from ._loop import CODES, Problem, integrate
from ._methods import jacobian_of, make_stepper, stability_limit

__all__ = ["Chunk", "Inputs", "Options", "solve_chunk"]


@dataclasses.dataclass(frozen=True)
class Options:
    """What shapes the compiled program (static)."""

    method: str
    dense: bool
    has_t_eval: bool
    capacity: int  # event record slots per event
    max_steps: int  # sizes the dense buffers (0 without dense output)
    interior_points: int
    detect_stiffness: bool
    jac: str  # "auto" (forward mode), "function" or "constant"
    stability: float  # of the explicit method "auto" would switch back to
    max_events: tuple  # per event: output capacity (None: no limit)
    structure: tuple  # (treedef, shapes, dtypes) of y0


class Inputs(eqx.Module):
    """Every traced input of a chunk."""

    t_span: Any  # (t_start, t1)
    y0: object
    args: tuple
    rtol: jax.Array
    atol: jax.Array
    t_eval: jax.Array | None
    teval_start: Any
    config: tuple  # direction, remaining terminal count, capacity: (E,) each
    budget: Any  # attempted steps this chunk may take
    first_step: Any  # nan: choose
    max_step: jax.Array
    jac: jax.Array | None  # a constant Jacobian


class Chunk(eqx.Module):
    """The raw outcome of a chunk, in forward time ``s = direction * t`` with a
    flattened state."""

    direction: jax.Array
    s_final: jax.Array
    y_final: jax.Array
    h_next: jax.Array
    code: jax.Array  # 0 or a _loop.CODES value
    stopped: jax.Array  # a terminal event
    overflow: jax.Array  # (E,) events whose records were full
    n_steps: jax.Array
    n_accepted: jax.Array
    counts: jax.Array  # nfev, njev, nlu
    event_s: jax.Array  # (E, cap)
    event_y: jax.Array  # (E, cap, n)
    n_events: jax.Array  # (E,)
    out_y: jax.Array | None
    out_index: jax.Array
    dense_s: jax.Array | None
    dense_y: jax.Array | None
    dense_info: object


def _solve_chunk(fun, fns, jac, inputs: Inputs, options: Options):
    """One chunk, differentiable in every floating input: ``(Chunk, Solution)``,
    the Solution as if the solve were this chunk alone.

    The solve is a ``lax.while_loop`` (its step count is data), which JAX can
    differentiate forward but cannot transpose; so the chunk is a ``custom_jvp``
    whose tangent is ``J @ x_dot``, ``J`` by ``jax.jacfwd`` of the solve itself (one
    loop carrying a tangent per differentiated scalar input, which also gives the
    output): linear in ``x_dot``, hence transposable, so ``jax.grad``/``jacrev``
    work, with every event's implicit-function-theorem terms of the forward path.
    Cost: one forward tangent per scalar input differentiated; not an adjoint."""
    # Every traced input is an explicit argument of the custom_jvp (its rule must
    # not close over tracers); Python values in args stay static.
    array_args, static_args = eqx.partition(inputs.args, eqx.is_array)

    def run(array_args, inputs):
        args = eqx.combine(array_args, static_args)
        return _run(fun, fns, jac, options, eqx.tree_at(lambda i: i.args, inputs, args))

    inputs = eqx.tree_at(lambda i: i.args, inputs, ())
    return linear_jvp(run, primal_from_jacobian=True)(array_args, inputs)


# Concrete inputs outside jit: compiled quickly (_core/quick_compile.py); traced
# ones: solve_chunk.traced, part of the caller's program.
solve_chunk = QuickJit(_solve_chunk)


def _run(fun, fns, jac, options: Options, inputs: Inputs) -> tuple:
    t0, t1 = inputs.t_span[0], inputs.t_span[1]
    flat0, unravel = ravel_pytree(inputs.y0)
    dtype = flat0.dtype
    d = jnp.where(t1 >= t0, 1, -1).astype(dtype)
    args = inputs.args

    def field(s, y, args):
        return d * ravel_pytree(fun(d * s, unravel(y), *args))[0].astype(y.dtype)

    def event(fn):
        return lambda s, y: jnp.reshape(
            jnp.asarray(fn(d * s, unravel(y), *args), y.dtype), ()
        )

    g_all = None
    if fns:

        def g_all(s, y):
            return jnp.stack([event(fn)(s, y) for fn in fns])

    n = flat0.shape[0]
    if options.jac == "constant":
        constant = d * jnp.asarray(inputs.jac, dtype).reshape(n, n)
        user_jac = lambda s, y, args: constant  # noqa: E731
    elif options.jac == "function":

        def user_jac(s, y, args):
            out = jnp.asarray(jac(d * s, unravel(y), *args), dtype)
            return d * out.reshape(n, n)

    else:
        user_jac = None
    jacobian = jacobian_of(field, user_jac, n)
    stepper = make_stepper(
        options.method,
        inputs.rtol,
        inputs.atol,
        inputs.max_step,
        jacobian,
        options.jac == "constant",
    )
    max_steps = options.max_steps if options.dense else inputs.budget
    problem = Problem(
        term=diffrax.ODETerm(field),
        stepper=stepper,
        args=args,
        s_start=d * t0,
        s_end=d * t1,
        y0=flat0,
        g_all=g_all,
        event_config=inputs.config,
        capacity=options.capacity,
        teval_s=None if inputs.t_eval is None else d * inputs.t_eval,
        teval_start=inputs.teval_start,
        dense=options.dense,
        max_steps=max_steps,
        interior_points=options.interior_points,
        first_step=jnp.abs(inputs.first_step),
        max_step=inputs.max_step,
        rtol=inputs.rtol,
        atol=inputs.atol,
        detect_stiffness=options.detect_stiffness,
        step_like=tuple(_step_like(event(fn), d * t0, flat0) for fn in fns),
        stability=options.stability
        if options.method == "Radau"
        else stability_limit(options.method),
    )
    c = integrate(problem)
    chunk = _chunk(problem, c, d)
    limits = tuple(
        options.capacity if m is None else min(m, options.capacity)
        for m in options.max_events
    )
    layout = dataclasses.replace(options, max_events=limits)
    solution = single(
        chunk, layout, t0, flat0, inputs.t_eval, stepper.interpolation_cls
    )
    return chunk, solution


def _step_like(g, s, y) -> bool:
    """Whether ``g``'s derivative is zero wherever it is defined (a comparison,
    ``jnp.sign``, ``jnp.floor``...): its tangent traces to a literal zero."""
    jaxpr = jax.make_jaxpr(lambda s, y, ds, dy: jax.jvp(g, (s, y), (ds, dy))[1])(
        s, y, jnp.ones_like(s), jnp.ones_like(y)
    )
    return type(jaxpr.jaxpr.outvars[0]).__name__ == "Literal"


def _chunk(p: Problem, c, d) -> Chunk:
    e = 0 if p.g_all is None else c.records.counts.shape[0]
    n, dtype = p.y0.shape[0], p.y0.dtype
    if c.located is None:
        stopped = jnp.asarray(False)
        s_final, y_final = c.s0, c.y
        event_s = jnp.zeros((e, p.capacity), dtype)
        event_y = jnp.zeros((e, p.capacity, n), dtype)
        n_events = jnp.zeros(e, jnp.int32)
    else:
        stopped = c.located.stopped
        s_final = jnp.where(stopped, c.located.s_stop, c.s0)
        y_final = jnp.where(stopped, c.located.y_stop, c.y)
        event_s, event_y, n_events = c.located.s, c.located.y, c.located.counts
    unfinished = ~stopped & (c.failed == 0) & (c.s0 < p.s_end)
    code = jnp.where(unfinished, CODES["max_steps"], c.failed)
    code = jnp.where(stopped, 0, code)
    overflow = jnp.zeros(e, bool) if c.records is None else c.records.overflow
    return Chunk(
        direction=d,
        s_final=s_final,
        y_final=y_final,
        h_next=c.s1 - c.s0,
        code=code.astype(jnp.int32),
        stopped=stopped,
        overflow=overflow,
        n_steps=c.n_steps,
        n_accepted=c.n_accepted,
        counts=c.counts,
        event_s=event_s,
        event_y=event_y,
        n_events=n_events,
        out_y=c.out_y,
        out_index=c.out_index,
        dense_s=c.dense_s,
        dense_y=c.dense_y,
        dense_info=c.dense_info,
    )

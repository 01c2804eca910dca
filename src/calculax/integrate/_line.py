r"""``line_integral``: :math:`\int_{-\infty}^{\infty} g(t, \theta)\,dt`, differentiable
in :math:`\theta` in both modes, to any order.

The solve is :func:`quadax.quadgk` (21-point Gauss-Kronrod, global adaptive
bisection) over :math:`(-\infty, s] \cup [s, \infty)`, plus an estimate of the part
beyond the range the interval maps can represent (:func:`._maps.tail`).

Derivatives are a :func:`jax.custom_jvp` whose tangent is built from a second
integral, the Jacobian

.. math::

    J = \int_{-\infty}^{\infty} \frac{\partial g}{\partial \theta}(t, \theta)\,dt,
    \qquad \dot I = J\,\dot\theta,

solved by this same function (so it is differentiable again: second and higher
derivatives are integrals too). :math:`J` depends on the primal values only, and
the tangent is a contraction of it with :math:`\dot\theta`, linear and so
transposable: ``jax.grad``/``jax.vjp`` work as well as ``jax.jvp``, under ``jit``
and ``vmap``, and whatever JAX's rank-promotion setting. (quadax's own
``LeibnizAdjoint`` transposes through broadcasts that need implicit rank
promotion, which a user or test suite with ``jax_numpy_rank_promotion="raise"``
forbids; that is why this is written by hand.) Only the parameters actually being
differentiated enter :math:`J` (its size is the output size times theirs), so a
derivative costs one more adaptive solve, of a vector integrand.

The solve for :math:`J` integrates :math:`|\partial g/\partial\theta|` alongside
(its error control uses the max-norm over the vector), so a derivative whose
integral is ``0`` by symmetry is resolved relative to the size of its integrand
rather than chased to an unreachable relative tolerance. A derivative integral
that misses its tolerance makes the tangent ``nan``, never a silent number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import quadax

from ._maps import edge, tail

__all__ = [
    "Options",
    "line_integral",
    "solve",
    "live_leaves",
    "jacobian_integrand",
    "contract",
    "hoist",
]

STATUS = quadax.STATUS


class Options(NamedTuple):
    """Static solve options (hashable): tolerances and sub-interval budget."""

    rtol: float
    atol: float
    max_ninter: int


def solve(g, split, params, options: Options):
    """The primal solve: value, error (quadrature + lost tail), status, neval."""
    dtype = jnp.result_type(split)
    interval = jnp.stack(
        [jnp.asarray(-jnp.inf, dtype), split, jnp.asarray(jnp.inf, dtype)]
    )
    # quadax broadcasts a vector integrand against its per-interval totals with
    # implicit rank promotion; allow it while this solve is traced.
    with jax.numpy_rank_promotion("allow"):
        value, info = quadax.quadgk(
            g,
            interval,
            args=(params,),
            epsabs=options.atol,
            epsrel=options.rtol,
            max_ninter=options.max_ninter,
            extrapolate=False,
        )
    lost = tail(lambda t: g(t, params), edge(dtype), dtype)
    scale = jnp.max(jnp.abs(value))
    status = jnp.where(
        jnp.max(lost) > jnp.maximum(options.atol, options.rtol * scale),
        jnp.maximum(info.status, STATUS.truncation),
        info.status,
    )
    # An infinite tail (see `tail`) is a divergent integral, whatever the solve saw.
    status = jnp.where(jnp.isinf(jnp.max(lost)), STATUS.divergent, status)
    return value, info.err + jnp.max(lost), status, info.neval


@eqx.filter_custom_jvp
def _integral(split, params, *, g, options):
    return solve(g, split, params, options)


def live_leaves(params, tangents):
    """Leaves of ``params`` whose tangent is not a symbolic zero, and their tangents."""
    is_none = lambda x: x is None  # noqa: E731
    leaves, treedef = jax.tree.flatten(params)
    tans = jax.tree.flatten(tangents, is_leaf=is_none)[0]
    live = tuple(t is not None for t in tans)
    return leaves, treedef, live, [t for t in tans if t is not None]


class jacobian_integrand(eqx.Module):  # noqa: N801 (used as a function)
    """``t -> [dg/dtheta_live, |dg/dtheta_live|]`` flattened into one vector.

    A module (compared by its fields) rather than a closure, so that quadax's
    compilation cache recognises the same derivative integrand on the next call.
    """

    g: Callable = eqx.field(static=True)
    treedef: object = eqx.field(static=True)
    live: tuple = eqx.field(static=True)
    size_out: int = eqx.field(static=True)

    def __call__(self, t, params):
        leaves = jax.tree.leaves(params)
        chosen = [x for x, k in zip(leaves, self.live) if k]

        def at(chosen_):
            it = iter(chosen_)
            full = [next(it) if k else x for x, k in zip(leaves, self.live)]
            return self.g(t, jax.tree.unflatten(self.treedef, full))

        parts = jax.jacfwd(at)(chosen)
        flat = [jnp.reshape(p, (self.size_out, -1)) for p in parts]
        flat = jnp.reshape(jnp.concatenate(flat, 1), (-1,))
        return jnp.concatenate([flat, jnp.abs(flat)])


class _Open(eqx.Module):
    g: Callable = eqx.field(static=True)

    def __call__(self, t, params):
        return self.g(t, params[0])


class _Closed(eqx.Module):
    g: Callable = eqx.field(static=True)

    def __call__(self, t, params):
        inner, consts = params
        return self.g(t, inner, *consts)


def hoist(g: Callable, probe, params) -> tuple[Callable, tuple]:
    """``g(t, params)`` with the traced values it closes over made parameters.

    A custom derivative rule sees only its explicit arguments; a value ``g``
    closes over (``lambda x: f(x, s)`` inside ``grad`` with respect to ``s``)
    would otherwise get no derivative. Returns ``(g2, params2)`` with
    ``g2(t, params2) == g(t, params)``; when ``g`` closes over no tracer, ``g2``
    wraps ``g`` itself, so that repeated calls hit the same compilation.
    """
    converted, consts = jax.closure_convert(g, probe, params)
    if consts:
        return _Closed(converted), (params, tuple(consts))
    return _Open(g), (params, ())


def contract(j_value, j_status, tans, value, throw: bool = False):
    """``J @ flat(tangents)``, reshaped like ``value``; ``nan`` if ``J`` failed.

    ``j_value`` is the Jacobian integral of :func:`jacobian_integrand` (its first
    half: the second is the integral of ``|J|``). With ``throw`` a failed ``J``
    raises instead (``equinox.error_if``).
    """
    size_out = int(np.prod(jnp.shape(value), dtype=int))
    j_value = j_value[: j_value.size // 2].reshape(size_out, -1)
    failed = j_status != STATUS.normal
    if throw:
        j_value = eqx.error_if(
            j_value,
            failed,
            "quad: the integral of the derivative did not meet the tolerance.",
        )
    flat_t = jnp.concatenate([jnp.reshape(t, (-1,)) for t in tans])
    tangent = jnp.reshape(j_value @ flat_t.astype(j_value.dtype), jnp.shape(value))
    poison = jnp.where(failed, jnp.nan, 1.0).astype(tangent.dtype)
    return tangent * poison


@_integral.def_jvp
def _integral_jvp(primals, tangents, *, g, options):
    split, params = primals
    out = _integral(split, params, g=g, options=options)
    value = out[0]
    zero_int = np.zeros((), dtype=jax.dtypes.float0)
    tangent = jnp.zeros_like(value)
    _, treedef, live, tans = live_leaves(params, tangents[1])
    if tans:  # (only `split` may have moved, and the integral does not depend on it)
        size_out = int(np.prod(jnp.shape(value), dtype=int))
        jac = jacobian_integrand(g, treedef, live, size_out)
        j_value, _, j_status, _ = _integral(split, params, g=jac, options=options)
        tangent = contract(j_value, j_status, tans, value)
    return out, (tangent, jnp.zeros_like(out[1]), zero_int, zero_int)


def line_integral(
    g: Callable,
    params,
    *,
    split,
    rtol: float,
    atol: float,
    max_ninter: int,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    r""":math:`\int_{-\infty}^{\infty} g(t, \text{params})\,dt` (see module).

    Args:
        g: ``g(t, params) -> array`` (scalar ``t``), decaying at both ends; it must
            not close over traced values (``jax.closure_convert`` it first).
        params: pytree of the differentiable parameters (non-float leaves are
            carried along, not differentiated).
        split: the breakpoint between the two half-lines (not differentiated).
        rtol, atol: QUADPACK-style tolerances on the max-norm of the output.
        max_ninter: sub-interval budget of each half-line solve.

    Returns:
        ``(value, error, status, neval)``; ``value`` has ``g``'s output shape,
        the others are scalars; ``status`` is a :data:`quadax.STATUS` code
        (``truncation`` when the unrepresentable tail exceeds the tolerance).
    """
    options = Options(float(rtol), float(atol), int(max_ninter))
    split = jax.lax.stop_gradient(split)
    return _integral(split, params, g=g, options=options)

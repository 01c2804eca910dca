"""Strong-zero products and quotients: the two primitives every derivative rule uses.

A derivative rule multiplies an incoming tangent ``t`` by a partial derivative ``d``.
Where ``d`` is infinite (``sqrt'(0)``, ``log'(0)``) and ``t`` is exactly zero, IEEE
arithmetic gives ``0 * inf = nan``; this is how ``jnp.where(x > 0, jnp.sqrt(x), 0)``
leaks ``nan`` into reverse-mode gradients. We define

.. math::

    a \\odot b = \\begin{cases} 0 & a = 0 \\text{ or } b = 0 \\\\ ab & \\text{else}
    \\end{cases} \\qquad
    a \\oslash b = \\begin{cases} 0 & a = 0 \\\\
        \\text{nan} & a \\ne 0 \\text{ finite}, |b| = \\infty \\\\
        a / b & \\text{else} \\end{cases}

as JAX primitives. A ``jnp.where(t == 0, ...)`` inside a ``custom_jvp`` rule cannot be
used instead, because the predicate would depend on the tangent and the rule would no
longer be transposable; a primitive carries its own transpose rule (linear in ``a``),
its own batching rule, and its own JVP written again with ``strong_mul`` and
``strong_div``, so that it can be differentiated to any order:

.. math::

    d(a \\odot b) = da \\odot b + a \\odot db, \\qquad
    d(a \\oslash b) = da \\oslash b - (a \\oslash b) \\odot (db \\oslash b).

The quotient's rule multiplies the quotient by the relative change ``db / b`` rather
than dividing by ``b**2``: both factors are as representable as the result,
``b**2`` (or ``(a / b) / b``, for tiny ``b``) is not.

A strong zero must be a structural one (a zero tangent, a masked branch), never a
number that underflowed: a derivative that cannot be rescued is loud. A non-zero
tangent divided by an infinite primal is where an overflow turns into such a zero:
the rule of ``log(u)`` at ``u = 1 + exp(1000) = inf`` gives ``1 / inf = 0``, and the
rule of ``exp`` then multiplies that zero by ``exp(1000) = inf``, a strong ``0``
where the truth is ``1``. So :math:`a \\oslash \\pm\\infty` is ``nan`` for a finite
non-zero ``a`` (the chain then stays ``nan``), while :math:`0 \\oslash b` stays
``0`` for every ``b`` (a masked branch that overflowed is still masked).

Under ``jit``, XLA's algebraic simplifier rewrites ``(a / b) / c`` into
``a / (b * c)`` -- exactly the unstable form. The quotient therefore divides operands
that have passed a ``lax.optimization_barrier`` (``a`` may itself be a plain quotient,
such as ``reciprocal``'s output), and its result is a ``select``, which the pattern
does not look through either; the product needs no barrier, so it fuses.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

__all__ = ["strong_mul", "strong_div"]


def _strong_mul_impl(a, b):
    product = lax.mul(a, b)
    is_zero = lax.bitwise_or(
        lax.eq(a, lax.full_like(a, 0)), lax.eq(b, lax.full_like(b, 0))
    )
    return lax.select(is_zero, lax.full_like(product, 0), product)


def _strong_div_impl(a, b):
    a, b = lax.optimization_barrier((a, b))
    quotient = lax.div(a, b)
    is_zero = lax.eq(a, lax.full_like(a, 0))
    # A finite non-zero a over an infinite b: an overflow that would read as 0.
    lost = jnp.isinf(b) & jnp.isfinite(a) & jnp.logical_not(is_zero)
    quotient = lax.select(lost, lax.full_like(quotient, jnp.nan), quotient)
    return lax.select(is_zero, lax.full_like(quotient, 0), quotient)


def _abstract_eval(a, b):
    return jax.core.ShapedArray(a.shape, a.dtype, weak_type=a.weak_type and b.weak_type)


strong_mul_p = Primitive("calculax_strong_mul")
strong_div_p = Primitive("calculax_strong_div")

for _prim, _impl in (
    (strong_mul_p, _strong_mul_impl),
    (strong_div_p, _strong_div_impl),
):
    _prim.def_impl(_impl)
    _prim.def_abstract_eval(_abstract_eval)
    mlir.register_lowering(_prim, mlir.lower_fun(_impl, multiple_results=False))


def _broadcast_pair(a, b):
    a, b = jnp.asarray(a), jnp.asarray(b)
    dtype = jnp.result_type(a, b)
    shape = jnp.broadcast_shapes(a.shape, b.shape)
    return (
        jnp.broadcast_to(a.astype(dtype), shape),
        jnp.broadcast_to(b.astype(dtype), shape),
    )


def strong_mul(a, b):
    """Product ``a * b`` that is exactly ``0`` when either factor is ``0``.

    ``strong_mul(0, inf) == 0`` where ``0 * inf`` is ``nan``. Differentiable to any
    order; linear (and transposable) in each argument.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax._core.strong import strong_mul
        >>> strong_mul(jnp.float32(0.0), jnp.float32(jnp.inf))
        Array(0., dtype=float32)
    """
    return strong_mul_p.bind(*_broadcast_pair(a, b))


def strong_div(a, b):
    """Quotient ``a / b`` that is exactly ``0`` when ``a`` is ``0`` (even if ``b`` is),
    and ``nan`` when a finite non-zero ``a`` meets an infinite ``b`` (an overflow
    upstream; ``0`` would hide it).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax._core.strong import strong_div
        >>> strong_div(jnp.float32(0.0), jnp.float32(0.0))
        Array(0., dtype=float32)
    """
    return strong_div_p.bind(*_broadcast_pair(a, b))


# d(a*b) = da*b + a*db, each product strong again so the rule nests to any order.
ad.defjvp(
    strong_mul_p,
    lambda ta, a, b: strong_mul(ta, b),
    lambda tb, a, b: strong_mul(a, tb),
)
# d(a/b) = da/b - (a/b)*(db/b): the relative change db/b times the quotient, never
# a/b**2 (nor (a/b)/b, which overflows for tiny b even where db is small enough to
# bring the product back into range).
ad.defjvp(
    strong_div_p,
    lambda ta, a, b: strong_div(ta, b),
    lambda tb, a, b: -strong_mul(strong_div(a, b), strong_div(tb, b)),
)


def _strong_mul_transpose(ct, a, b):
    if type(ct) is ad.Zero:
        return [None, None]
    if ad.is_undefined_primal(a):
        return [strong_mul(ct, b), None]
    return [None, strong_mul(a, ct)]


def _strong_div_transpose(ct, a, b):
    if ad.is_undefined_primal(b):
        raise ValueError("strong_div is linear in its numerator only.")
    if type(ct) is ad.Zero:
        return [None, None]
    return [strong_div(ct, b), None]


ad.primitive_transposes[strong_mul_p] = _strong_mul_transpose
ad.primitive_transposes[strong_div_p] = _strong_div_transpose


def _make_batcher(prim):
    def batcher(args, dims):
        size = next(x.shape[d] for x, d in zip(args, dims) if d is not None)
        a, b = (batching.bdim_at_front(x, d, size) for x, d in zip(args, dims))
        return prim.bind(a, b), 0

    return batcher


batching.primitive_batchers[strong_mul_p] = _make_batcher(strong_mul_p)
batching.primitive_batchers[strong_div_p] = _make_batcher(strong_div_p)

"""Vector :math:`p`-norms over the last axis, with rules stable at every order.

The primal never squares or powers an unscaled entry:

* :math:`p = 2`: exact power-of-two rescaling by the largest magnitude (the scaling
  :func:`~calculax.numpy._hypot.hypot` uses), so entries of size ``1e±30`` in
  float32 neither overflow nor underflow.
* other :math:`p`: the same exact scaling by the largest magnitude (:math:`p > 0`)
  or the smallest one (:math:`p < 0`), :math:`\\|x\\|_p = 2^e (\\sum_i s_i^p)^{1/p}`
  with :math:`s_i = 2^{-e}|x_i|`; the reference term :math:`s^p` lies in
  :math:`[2^{-|p|}, 2^{|p|}]`. For :math:`|p|` beyond half the exponent range
  (``> 62`` in float32) that could underflow, and the magnitudes are divided by the
  reference instead (the reference term is then exactly ``1``).

Derivatives. With :math:`N = \\|x\\|_p` and :math:`u_i = |x_i|/N` (bounded),

.. math::

    \\partial_i N = G_i = \\operatorname{sign}(x_i)\\,u_i^{p-1}, \\qquad
    dG_i = \\frac{p-1}{N}\\Big(u_i^{p-2} S_i\\,dx_i
           - G_i \\sum_{j \\ne i} G_j\\,dx_j\\Big), \\quad
    S_i = \\sum_{j \\ne i} u_j^p = 1 - u_i^p.

:math:`G` is a function with its own rule, so the Hessian never forms
:math:`1 - u_i^p` (which cancels to ``0`` when one entry dominates: the true
:math:`\\partial_{ii}^2 \\|x\\|_2` at ``x = (1, 1e-4)`` is ``1e-8``) nor
:math:`|x_i|^{p-1}/N^{p-1}` as two separate powers; the exclusive sums :math:`S_i`
and :math:`\\sum_{j\\ne i}` never subtract the entry that dominates the total (its
sum is taken over the others; see ``_exclusive_sum``). All tangents are scaled by
strong products, and at :math:`N = 0` (the zero vector, or a zero entry when
:math:`p < 0`) :math:`G` and every higher derivative are the zero subgradient
(double ``where``, never ``nan``).
Where :math:`u_i^{p-1}` or :math:`u_i^{p-2}` is infinite (:math:`x_i = 0` with
:math:`p < 1`, resp. :math:`p < 2`) the true derivative is infinite; a zero
tangent still gives ``0`` and :math:`\\operatorname{sign}(0) = 0` gives the
subgradient ``0`` in :math:`G`.

:math:`p = 1, \\pm\\infty` are piecewise linear: :math:`G = \\operatorname{sign}(x)`,
resp. the sign at the extremal entries divided by their number (ties share the
derivative equally, as ``jax.numpy.max`` does), and every higher derivative is ``0``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from ..._core.strong import strong_mul
from .._arithmetic import _real_abs_core, square_core
from .._rule import constant, stable_rule
from .._scaled import power_of_two_rescale, ratio_or_zero

__all__ = ["vector_norm_core"]


def _exclusive_sum(v: jax.Array, dominant: jax.Array) -> jax.Array:
    """:math:`\\sum_{j \\ne i} v_j` along the last axis, linear in ``v``.

    ``dominant`` is a mask computed from primal values (so the rule stays linear and
    transposable) marking, per row, the at most one entry whose weight exceeds half
    the total. For that entry the others are summed directly -- subtracting it from
    the total would cancel; for every other entry ``total - v_i`` loses at most an
    ulp of the total, which is at most twice the exclusive sum's own scale. Two
    reductions, not the two cumulative sums of an exact prefix/suffix scheme.
    """
    total = jnp.sum(v, axis=-1, keepdims=True)
    others = jnp.sum(jnp.where(dominant, jnp.zeros_like(v), v), axis=-1, keepdims=True)
    return jnp.where(dominant, others, total - v)


def _two_norm(x: jax.Array) -> jax.Array:
    magnitude = jnp.abs(x)
    largest = jnp.max(magnitude, axis=-1, keepdims=True)
    exponent, (scaled,) = power_of_two_rescale(largest, magnitude)
    root = jnp.sqrt(jnp.sum(jnp.square(scaled), axis=-1))
    return jnp.ldexp(root, exponent[..., 0])


def _p_norm(x: jax.Array, p: float) -> jax.Array:
    magnitude = jnp.abs(x)
    extremum = jnp.max if p > 0 else jnp.min
    reference = extremum(magnitude, axis=-1, keepdims=True)
    if abs(p) <= -jnp.finfo(x.dtype).minexp / 2:
        # Exact scaling: the reference term is in [2^-|p|, 2^|p|], far from the edges.
        exponent, (scaled,) = power_of_two_rescale(reference, magnitude)
        total = jnp.sum(jnp.power(scaled, constant(p, x)), axis=-1)
        out = jnp.ldexp(jnp.power(total, constant(1.0 / p, x)), exponent[..., 0])
    else:
        # |p| so large that 2^-|p| could underflow: divide by the reference instead.
        safe = jnp.where(reference == 0, jnp.ones_like(reference), reference)
        total = jnp.sum(jnp.power(magnitude / safe, constant(p, x)), axis=-1)
        out = reference[..., 0] * jnp.power(total, constant(1.0 / p, x))
    # All entries 0 (p > 0) or one entry 0 (p < 0): 0; an infinite reference: inf.
    out = jnp.where(reference[..., 0] == 0, jnp.zeros_like(out), out)
    return jnp.where(jnp.isinf(reference[..., 0]), jnp.full_like(out, jnp.inf), out)


def _gradient(x: jax.Array, out: jax.Array, p: float) -> jax.Array:
    """:math:`G = \\operatorname{sign}(x)(|x|/N)^{p-1}`, ``0`` where ``N = 0``."""
    norm = out[..., None]
    if p == 2:
        return ratio_or_zero(x, norm)
    ratio = ratio_or_zero(jnp.abs(x), norm)
    gradient = jnp.sign(x) * jnp.power(ratio, constant(p - 1.0, x))
    # x_i = 0 with p < 1: sign 0 times inf is the zero subgradient, not nan.
    return jnp.where((x == 0) | (norm == 0), jnp.zeros_like(x), gradient)


@functools.cache
def _constant_power(c: float) -> Callable[[jax.Array], jax.Array]:
    """:math:`u^c` for a static ``c``: :math:`d\\,u^c = (c\\,u^{c-1})\\,du`, a strong
    product (``0`` for a zero tangent where :math:`u^{c-1}` is infinite); the exponent
    carries no tangent, so no :math:`u^c \\log u` branch is built at any order."""
    if c == 0:
        return jnp.ones_like
    return stable_rule(
        lambda u: jnp.power(u, constant(c, u)),
        lambda prim, out, t: strong_mul(
            t[0], constant(c, out) * _constant_power(c - 1.0)(prim[0])
        ),
    )


@functools.cache
def vector_norm_core(p: float) -> Callable[[jax.Array], jax.Array]:
    """The stable :math:`\\|x\\|_p` over the last axis of a real ``x``, for a static
    ``p`` (``p != 0``; ``1``, ``inf`` and ``-inf`` included)."""
    if p == 1:
        # dN = sum sign(x) dx.
        return stable_rule(
            lambda x: jnp.sum(jnp.abs(x), axis=-1),
            lambda prim, out, t: jnp.sum(strong_mul(t[0], jnp.sign(prim[0])), -1),
        )
    if p in (jnp.inf, -jnp.inf):
        extremum = jnp.max if p > 0 else jnp.min
        return stable_rule(
            lambda x: extremum(jnp.abs(x), axis=-1),
            lambda prim, out, t: jnp.sum(
                strong_mul(t[0], _extremal_weights(prim[0], out)), -1
            ),
        )
    primal = _two_norm if p == 2 else functools.partial(_p_norm, p=p)

    def gradient_rule(prim, gradient, t):
        # dG_i = (p-1)/N (u_i^(p-2) S_i dx_i - G_i sum_{j != i} G_j dx_j).
        (x,), (dx,) = prim, t
        norm = norm_core(x)[..., None]
        if p == 2:
            ratio = ratio_or_zero(x, norm)
            weights = square_core(ratio)  # sum to 1
            dominant = weights > constant(0.5, weights)
            diagonal = _exclusive_sum(weights, dominant)
        else:
            ratio = ratio_or_zero(_real_abs_core(x), norm)
            weights = _constant_power(p)(ratio)  # sum to 1
            dominant = weights > constant(0.5, weights)
            diagonal = strong_mul(
                _constant_power(p - 2.0)(ratio), _exclusive_sum(weights, dominant)
            )
        coupling = strong_mul(
            gradient, _exclusive_sum(strong_mul(gradient, dx), dominant)
        )
        change = ratio_or_zero(strong_mul(dx, diagonal) - coupling, norm)
        return change if p == 2 else strong_mul(change, constant(p - 1.0, x))

    gradient_core = stable_rule(lambda x: _gradient(x, primal(x), p), gradient_rule)
    # dN = sum_i G_i dx_i, G from its own stable rule.
    norm_core = stable_rule(
        primal,
        lambda prim, out, t: jnp.sum(strong_mul(t[0], gradient_core(prim[0])), -1),
    )
    return norm_core


def _extremal_weights(x: jax.Array, out: jax.Array) -> jax.Array:
    """``sign(x)`` on the entries where ``|x|`` attains ``out``, shared among ties."""
    hit = (jnp.abs(x) == out[..., None]).astype(x.dtype)
    count = jnp.sum(hit, axis=-1, keepdims=True)
    return jnp.sign(x) * hit / jnp.maximum(count, jnp.ones_like(count))

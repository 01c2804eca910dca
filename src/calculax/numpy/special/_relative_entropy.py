"""``rel_entr`` and ``kl_div``: relative entropy with quotient-free derivatives.

For :math:`p, q > 0`,

.. math::

    \\operatorname{rel\\_entr}(p, q) = p\\log\\frac pq, \\qquad
    \\partial_p = \\log\\frac pq + 1, \\qquad \\partial_q = -\\frac pq;

    \\operatorname{kl\\_div}(p, q) = p\\log\\frac pq - p + q, \\qquad
    \\partial_p = \\log\\frac pq, \\qquad \\partial_q = \\frac{q - p}{q}.

JAX differentiates :math:`p/q` by the quotient rule, :math:`p/q^2`, whose denominator
underflows for :math:`q < 10^{-19}` in float32 although :math:`p/q^2` itself may be
representable. Here :math:`-p/q` is ``calculax.numpy.divide`` (every derivative a
single quotient, ``quotient_power``), :math:`\\log(p/q)` has the rule
:math:`dp/p - dq/q`, and :math:`(q - p)/q` (exact subtraction near :math:`p = q`,
no cancellation of :math:`1 - p/q` there) has the rule
:math:`-dp/q + dq\\,(p/q^2)`. At :math:`p = 0, q \\ge 0` (value ``0``, resp. ``q``)
:math:`\\partial_p = -\\infty`; outside the domain (value ``inf``) every derivative
is ``0``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_div, strong_mul
from .._arithmetic import divide_core, quotient_power
from .._rule import constant, stable_rule

__all__ = ["rel_entr", "kl_div"]


def _log_ratio_value(p, q):
    # log(p/q), or log p - log q where p/q leaves the normal range.
    ratio = p / q
    tiny = constant(float(jnp.finfo(p.dtype).tiny), p)
    normal = jnp.isfinite(ratio) & (ratio >= tiny)
    return jnp.where(normal, jnp.log(ratio), jnp.log(p) - jnp.log(q))


# d log(p/q) = dp/p - dq/q.
_log_ratio_core = stable_rule(
    _log_ratio_value,
    lambda p, out, t: strong_div(t[0], p[0]) - strong_div(t[1], p[1]),
)

# (q - p)/q, d = -dp/q + dq p/q^2 (one quotient chain, never q**2).
_one_minus_ratio_core = stable_rule(
    lambda p, q: (q - p) / q,
    lambda p, out, t: strong_mul(t[1], quotient_power(2)(*p)) - strong_div(t[0], p[1]),
)


def _domain(p, q):
    inside = (p > 0) & (q > 0)
    edge = (p == 0) & (q >= 0)
    one = jnp.ones_like(p)
    return inside, edge, jnp.where(inside, p, one), jnp.where(inside, q, one)


def _rel_entr_rule(primals, out, t):
    p, q = primals
    inside, edge, sp, sq = _domain(p, q)
    zero = jnp.zeros_like(p)
    minus_inf = constant(-float("inf"), p)
    d_p = jnp.where(
        inside,
        _log_ratio_core(sp, sq) + constant(1.0, p),
        jnp.where(edge, minus_inf, zero),
    )
    d_q = jnp.where(inside, -divide_core(sp, sq), zero)
    return strong_mul(t[0], d_p) + strong_mul(t[1], d_q)


def _kl_div_rule(primals, out, t):
    p, q = primals
    inside, edge, sp, sq = _domain(p, q)
    zero = jnp.zeros_like(p)
    minus_inf = constant(-float("inf"), p)
    d_p = jnp.where(inside, _log_ratio_core(sp, sq), jnp.where(edge, minus_inf, zero))
    d_q = jnp.where(
        inside,
        _one_minus_ratio_core(sp, sq),
        jnp.where(edge, jnp.ones_like(p), zero),
    )
    return strong_mul(t[0], d_p) + strong_mul(t[1], d_q)


_rel_entr_core = stable_rule(jax.scipy.special.rel_entr, _rel_entr_rule)
_kl_div_core = stable_rule(jax.scipy.special.kl_div, _kl_div_rule)


def rel_entr(p: ArrayLike, q: ArrayLike) -> jax.Array:
    """Relative entropy :math:`p\\log(p/q)` (``0`` at :math:`p = 0, q \\ge 0`,
    ``inf`` elsewhere outside :math:`p, q > 0`), as ``jax.scipy.special.rel_entr``.

    Derivatives :math:`\\log(p/q) + 1` and :math:`-p/q`, stable at every order
    (module docstring).

    Args:
        p, q: real arrays, broadcast together.

    Returns:
        Array of the shape and dtype of ``jax.scipy.special.rel_entr(p, q)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> q = jnp.float32(1e-20)
        >>> jax.grad(jax.grad(special.rel_entr, 1), 1)(q, q)  # jax: inf
        Array(1.e+20, dtype=float32)
    """
    return _rel_entr_core(
        *prepare("special.rel_entr", jax.scipy.special.rel_entr, p, q)
    )


def kl_div(p: ArrayLike, q: ArrayLike) -> jax.Array:
    """Kullback--Leibler term :math:`p\\log(p/q) - p + q` (``q`` at :math:`p = 0`),
    as ``jax.scipy.special.kl_div``.

    Derivatives :math:`\\log(p/q)` and :math:`(q - p)/q`, stable at every order
    (module docstring).

    Args:
        p, q: real arrays, broadcast together.

    Returns:
        Array of the shape and dtype of ``jax.scipy.special.kl_div(p, q)``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.kl_div, 1)(jnp.float32(1.0), jnp.float32(1.0 + 2**-20))
        Array(9.536734e-07, dtype=float32)
    """
    return _kl_div_core(*prepare("special.kl_div", jax.scipy.special.kl_div, p, q))

"""Primal helpers for functions of a point ``(x, y)``: exact rescaling and ratios.

``scaled_hypot`` is a value only (its rules live in ``_hypot`` and ``_polar``);
``ratio_or_zero`` is a strong quotient and may be differentiated.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._core.strong import strong_div

__all__ = ["power_of_two_rescale", "ratio_or_zero", "scaled_hypot", "scaled_product"]


def power_of_two_rescale(largest, *values):
    """``(e, values * 2**-e)`` with :math:`2^{e-1} \\le` ``largest`` :math:`< 2^e`.

    The scaling is exact (a change of exponent), so squares of the scaled values can
    neither overflow nor underflow; undo it with ``jnp.ldexp(result, e)``. Shared by
    :func:`hypot` and ``calculax.numpy.linalg.norm``.
    """
    _, exponent = jnp.frexp(largest)
    return exponent, tuple(jnp.ldexp(v, -exponent) for v in values)


def scaled_hypot(x, y):
    """:math:`\\sqrt{x^2+y^2}` by exact power-of-two rescaling (``inf`` if one is)."""
    ax, ay = jnp.abs(x), jnp.abs(y)
    exponent, (sx, sy) = power_of_two_rescale(jnp.maximum(ax, ay), ax, ay)
    out = jnp.ldexp(jnp.sqrt(jnp.square(sx) + jnp.square(sy)), exponent)
    return jnp.where(jnp.isinf(ax) | jnp.isinf(ay), jnp.inf, out)


def ratio_or_zero(x, h):
    """``x / h`` where ``h != 0``, else ``0`` (double ``where``: never ``nan``)."""
    is_zero = h == 0
    safe_h = jnp.where(is_zero, jnp.ones_like(h), h)
    return jnp.where(is_zero, jnp.zeros_like(x), strong_div(x, safe_h))


def scaled_product(factors):
    """:math:`\\prod_i f_i^{p_i}` for ``factors = [(f_i, p_i), ...]`` (static integer
    ``p_i``), as the product of the mantissas times :math:`2^{\\sum_i p_i e_i}`
    (``frexp``): the exponents add exactly, so no partial product under- or
    overflows unless the result does; ``0`` where a factor with :math:`p_i > 0` is
    ``0``.
    """
    mantissa, exponent = None, None
    for value, power in factors:
        if power == 0:
            continue
        m, e = jnp.frexp(value)
        term, scaled = m**power, e * power
        mantissa = term if mantissa is None else mantissa * term
        exponent = scaled if exponent is None else exponent + scaled
    return jnp.ldexp(mantissa, exponent)

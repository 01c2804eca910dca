"""Every derivative of ``hypot`` and ``arctan2``: polynomials in ``x/h, y/h`` over h^n.

With :math:`h = \\sqrt{x^2+y^2}`, :math:`r_x = x/h`, :math:`r_y = y/h`, the monomials
:math:`M_{a,b,n} = r_x^a r_y^b / h^n` satisfy (:math:`dr_x = (r_y^2 dx - r_x r_y
dy)/h`, :math:`dh = r_x dx + r_y dy`)

.. math::

    \\partial_x M_{a,b,n} = a M_{a-1,b+2,n+1} - (b+n) M_{a+1,b,n+1}, \\qquad
    \\partial_y M_{a,b,n} = b M_{a+2,b-1,n+1} - (a+n) M_{a,b+1,n+1},

so the family :math:`P/h^n`, :math:`P` a polynomial in :math:`r_x, r_y` with integer
coefficients, is closed under differentiation. ``hypot`` is :math:`M_{0,0,-1}`, its
partials :math:`r_x = M_{1,0,0}`, :math:`r_y = M_{0,1,0}`; the partials of
``arctan2(y, x)`` are :math:`M_{1,0,1} = x/h^2` and :math:`-M_{0,1,1}`. Every rule
multiplies the tangent by one primal member of the family, evaluated as

.. math::

    r_x^{a_0} r_y^{b_0}\\, g^D\\, p(q) / h^n, \\qquad a_0 = \\min_i a_i,\\
    b_0 = \\min_i b_i,\\ q = s/g,

where :math:`g, s` are the larger and smaller of :math:`r_x, r_y` in magnitude, ``D``
the common degree of the remaining terms (the family is homogeneous) and ``p`` a
polynomial with integer coefficients; the product is formed from mantissas and
exponents (``frexp``). So:

* :math:`|q| \\le 1` and :math:`|g| \\ge 1/\\sqrt 2`: :math:`p(q)` is :math:`O(1)` and
  cancels only near a true zero of the derivative (absolute error there is the
  backward error of the input); at ties :math:`|x| = |y|`, :math:`q = \\pm 1` exactly
  and the integer sum is exact, so e.g. the mixed partial of ``arctan2`` is exactly
  ``0``, not ``inf - inf`` or rounding noise times :math:`1/h^2`;
* there is no cancellation of the form :math:`1/h - x^2/h^3` (which loses everything
  when :math:`|x| \\gg |y|`), and no chain of quotients in the tangent (``(c/h)/h``
  differentiated again), which nested reverse mode transposes into the opposite
  order, where partial products such as ``(1/h**3) * r_x`` overflow although the
  derivative is representable;
* no partial product leaves the range unless the result does.

At the origin every member is ``0`` (the minimal-norm subgradient convention of
``hypot``; ``arctan2`` is constant ``0`` there). Written by hand: no JAX library has
a closed-form derivative family for these functions.
"""

from __future__ import annotations

import jax.numpy as jnp

from .._core.strong import strong_mul
from ._polynomial_terms import Terms, combine_terms
from ._rule import constant, stable_rule
from ._scaled import ratio_or_zero, scaled_hypot, scaled_product

__all__ = ["ratio_monomial", "ratio_polynomial"]


def _horner(coefficients, q):
    # sum_k coefficients[k] q**k (integer coefficients, exact in any float dtype).
    total = jnp.zeros_like(q)
    for c in reversed(coefficients):
        total = total * q + constant(float(c), q)
    return total


def _polynomial_value(terms: Terms, n: int, x, y):
    # r_x^a0 r_y^b0 big^D p(q) / h^n: the remaining terms have one degree D (the
    # family is homogeneous), so with q = small/big (|q| <= 1, exactly +-1 at ties)
    # the bracket is a polynomial in q with integer coefficients: exact zeros at
    # ties, and an O(1) value (p(0) or the leading coefficient) elsewhere.
    h = scaled_hypot(x, y)
    ratio_x, ratio_y = ratio_or_zero(x, h), ratio_or_zero(y, h)
    low_a = min(a for a, _, _ in terms)
    low_b = min(b for _, b, _ in terms)
    degree = terms[0][0] + terms[0][1] - low_a - low_b
    by_x, by_y = [0] * (degree + 1), [0] * (degree + 1)
    for a, b, c in terms:
        by_x[a - low_a] += c  # powers of q = r_x/r_y
        by_y[b - low_b] += c  # powers of q = r_y/r_x
    swap = jnp.abs(ratio_x) > jnp.abs(ratio_y)
    big = jnp.where(swap, ratio_x, ratio_y)
    small = jnp.where(swap, ratio_y, ratio_x)
    q = ratio_or_zero(small, big)
    bracket = jnp.where(swap, _horner(by_y, q), _horner(by_x, q))
    value = scaled_product(
        [(ratio_x, low_a), (ratio_y, low_b), (big, degree), (bracket, 1), (h, -n)]
    )
    return jnp.where(h == 0, jnp.zeros_like(value), value)


def _partial_x(terms: Terms, n: int) -> Terms:
    # d/dx M_{a,b,n} = a M_{a-1,b+2,n+1} - (b+n) M_{a+1,b,n+1}
    return combine_terms(
        pair
        for a, b, c in terms
        for pair in ((a - 1, b + 2, c * a), (a + 1, b, -c * (b + n)))
    )


def _partial_y(terms: Terms, n: int) -> Terms:
    # d/dy M_{a,b,n} = b M_{a+2,b-1,n+1} - (a+n) M_{a,b+1,n+1}
    return combine_terms(
        pair
        for a, b, c in terms
        for pair in ((a + 2, b - 1, c * b), (a, b + 1, -c * (a + n)))
    )


_POLYNOMIALS: dict[tuple[Terms, int], object] = {}


def ratio_polynomial(terms: Terms, n: int):
    """The core :math:`(x, y) \\mapsto \\sum_i c_i r_x^{a_i} r_y^{b_i} / h^n` for
    ``terms = ((a_i, b_i, c_i), ...)`` (built once per polynomial)."""
    terms = combine_terms(terms)
    if len({a + b for a, b, _ in terms}) != 1:
        raise ValueError(f"ratio_polynomial needs a homogeneous polynomial: {terms}")
    key = (terms, n)
    if key not in _POLYNOMIALS:

        def primal(x, y):
            return _polynomial_value(terms, n, x, y)

        def rule(p, out, t):
            return _times(t[0], _partial_x(terms, n), n + 1, p, out) + _times(
                t[1], _partial_y(terms, n), n + 1, p, out
            )

        _POLYNOMIALS[key] = stable_rule(primal, rule)
    return _POLYNOMIALS[key]


def _times(tangent, terms: Terms, n: int, p, like):
    if not terms:
        return jnp.zeros_like(like)
    return strong_mul(tangent, ratio_polynomial(terms, n)(*p))


def ratio_monomial(a: int, b: int, n: int):
    """The core :math:`(x, y) \\mapsto r_x^a r_y^b / h^n`."""
    return ratio_polynomial(((a, b, 1),), n)

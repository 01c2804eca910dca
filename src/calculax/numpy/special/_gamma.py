"""``gammaln``, ``digamma`` and ``polygamma`` whose derivatives keep the large-x tail.

The derivatives of :math:`\\log\\Gamma` are the polygamma functions,
:math:`\\psi^{(n)}`. JAX's ``polygamma`` (a Hurwitz zeta) returns ``0`` in float32
for :math:`x \\gtrsim 10^{13}` where :math:`\\psi^{(n)}(x) \\approx
(-1)^{n+1}(n-1)!/x^n` is a normal number (``jax.grad(jax.scipy.special.digamma)``
at ``1e23`` is ``0``; the truth is ``1e-23``). Here

.. math::

    \\psi^{(n)}(x) = (-1)^{n+1}\\Big(\\frac{(n-1)!}{x^n} + \\frac{n!}{2x^{n+1}}
    + \\frac{(n+1)!}{12\\,x^{n+2}}\\Big)\\big(1 + O(x^{-4})\\big)

(Abramowitz & Stegun 6.4.11) for :math:`x \\ge 10^6`, with :math:`x^{-n}` formed as
repeated products of :math:`1/x` (each partial product between :math:`1/x` and the
result), and JAX's ``polygamma`` below. Each function's rule is the next one, so
every order is stable; values are JAX's.
"""

from __future__ import annotations

import math
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._rule import constant, stable_rule

__all__ = ["gammaln", "digamma", "polygamma"]

_ASYMPTOTIC_FROM = 1e6


def _asymptotic(n: int, x):
    # (-1)^(n+1) ((n-1)!/x^n + n!/(2 x^(n+1)) + (n+1)!/(12 x^(n+2))), x >= 1e6.
    r = constant(1.0, x) / x
    power = r
    for _ in range(n - 1):
        power = power * r
    series = constant(float(math.factorial(n - 1)), x) + r * (
        constant(math.factorial(n) / 2, x) + r * constant(math.factorial(n + 1) / 12, x)
    )
    return constant(float((-1) ** (n + 1)), x) * power * series


def _polygamma_value(n: int, x):
    far = x >= constant(_ASYMPTOTIC_FROM, x)
    x_far = jnp.where(far, x, jnp.full_like(x, _ASYMPTOTIC_FROM))
    x_near = jnp.where(far, jnp.ones_like(x), x)
    near = jax.scipy.special.polygamma(n, x_near)
    return jnp.where(far, _asymptotic(n, x_far), near)


_POLYGAMMA: dict[int, object] = {}


def polygamma_core(n: int):
    """The core :math:`\\psi^{(n)}`, ``n >= 1``, rule :math:`\\psi^{(n+1)}\\,dx`."""
    if n not in _POLYGAMMA:
        _POLYGAMMA[n] = stable_rule(
            lambda x: _polygamma_value(n, x),
            lambda p, out, t: strong_mul(t[0], polygamma_core(n + 1)(p[0])),
        )
    return _POLYGAMMA[n]


# d digamma = trigamma dx; d lgamma = digamma dx.
digamma_core = stable_rule(
    jax.lax.digamma, lambda p, out, t: strong_mul(t[0], polygamma_core(1)(p[0]))
)
gammaln_core = stable_rule(
    jax.lax.lgamma, lambda p, out, t: strong_mul(t[0], digamma_core(p[0]))
)


def gammaln(x: ArrayLike) -> jax.Array:
    """:math:`\\log|\\Gamma(x)|`, as ``jax.scipy.special.gammaln``; derivatives
    :math:`\\psi(x), \\psi'(x), \\dots` stable in the large-x tail (module docstring).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(jax.grad(special.gammaln))(jnp.float32(1e23))  # jax: 0
        Array(1.e-23, dtype=float32)
    """
    return gammaln_core(*prepare("special.gammaln", jax.scipy.special.gammaln, x))


def digamma(x: ArrayLike) -> jax.Array:
    """The digamma function :math:`\\psi(x) = \\Gamma'(x)/\\Gamma(x)`, as
    ``jax.scipy.special.digamma``; derivatives :math:`\\psi^{(n)}` stable in the
    large-x tail.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.digamma)(jnp.float32(1e23))  # jax: 0
        Array(1.e-23, dtype=float32)
    """
    return digamma_core(*prepare("special.digamma", jax.scipy.special.digamma, x))


def polygamma(n: ArrayLike, x: ArrayLike) -> jax.Array:
    """:math:`\\psi^{(n)}(x)`, as ``jax.scipy.special.polygamma``.

    For a concrete non-negative integer ``n`` (a Python or NumPy integer, or a
    concrete array with one value), the stable cores of the module docstring; for a
    traced or mixed ``n``, JAX's function.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> special.polygamma(2, jnp.float32(1e13))  # jax: 0
        Array(-1.e-26, dtype=float32)
    """
    reference = jax.eval_shape(jax.scipy.special.polygamma, n, x)
    order = _static_order(n)
    if order is None:
        return jax.scipy.special.polygamma(n, x)
    (x,) = prepare("special.polygamma", lambda v: jax.scipy.special.polygamma(n, v), x)
    out = digamma_core(x) if order == 0 else polygamma_core(order)(x)
    return jnp.broadcast_to(out, reference.shape)


def _static_order(n) -> int | None:
    if isinstance(n, jax.core.Tracer):
        return None
    if isinstance(n, numbers.Integral) and not isinstance(n, bool):
        order = int(n)
        return order if order >= 0 else None
    values = np.asarray(n)
    if values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        return None
    first = int(values.ravel()[0])
    return first if first >= 0 and bool(np.all(values == first)) else None

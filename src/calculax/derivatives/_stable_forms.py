"""Stable forms that ``stabilize``'s rewrites substitute, beyond ``calculax.numpy``.

Each is a ``jax.custom_jvp`` whose tangent is written with ``calculax.numpy``
functions and strong products, so that every order, forward and reverse, stays
stable; each is a closed family (the derivative of a member is a member):

* :func:`power_log` :math:`x^n(a\\log x + b)` (``x * log(x)``, ``x**2 * log(x)``,
  ``log(x) / x``): nested forward mode through the product rule forms the second
  derivative of ``log`` alone, :math:`-1/x^2`, which overflows for
  :math:`x < 10^{-19}` in float32 although :math:`(x\\log x)'' = 1/x` does not.
* :func:`logcosh` :math:`\\log\\cosh x = |x| + \\operatorname{log1p}(e^{-2|x|}) -
  \\log 2`, derivative :math:`\\tanh x` (``cosh`` overflows for :math:`|x| > 89`).
* :func:`exprel` :math:`(e^x - 1)/x` and its derivatives
  :math:`E_k(x) = \\int_0^1 t^k e^{xt}\\,dt` (the quotient rule cancels near 0).
* :func:`log1p_square` :math:`\\log(1 + x^2)` without forming :math:`x^2`.
* :func:`divided` :math:`g(x)/x` for :math:`g(0) = 0` (``sin(x) / x``,
  ``tanh(x) / x``, ``log1p(x) / x``): the quotient rule cancels near ``0``; here
  :math:`\\frac{d^k}{dx^k}\\frac{g(x)}{x} = \\int_0^1 t^k g^{(k+1)}(xt)\\,dt`, a
  Gauss--Legendre sum near ``0`` and the recurrence
  :math:`H_k = (g^{(k)}(x) - k H_{k-1})/x` away from it.
* :func:`slope` the derivative of a stable function as a function of its own
  (``1/(1 + x**2)`` is ``arctan'``, ``x / sqrt(1 + x**2)`` is ``hypot(x, 1)``'s
  partial, ``sech(x)**2`` is ``tanh'``), whose derivatives are the function's
  stable rules one order up.

Written by hand: these identities are the point; no JAX library has them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .. import numpy as cnp
from .._core.strong import strong_mul

__all__ = ["power_log", "logcosh", "exprel", "log1p_square", "divided", "slope"]


def _custom(primal: Callable, rule: Callable) -> Callable:
    """``primal`` as a ``custom_jvp`` with tangent ``rule(primals, out, tangents)``."""
    function = jax.custom_jvp(lambda *args: primal(*args))

    def jvp(primals, tangents):
        out = function(*primals)
        return out, rule(primals, out, tangents)

    function.defjvp(jvp)
    return function


def _constant(value: float, like) -> jax.Array:
    return jnp.asarray(value, dtype=jnp.result_type(like))


_POWER_LOG: dict[tuple[float, float, float], Callable] = {}


def power_log(n: float, a: float = 1.0, b: float = 0.0) -> Callable:
    """The function :math:`x \\mapsto x^n (a \\log x + b)` for static ``n, a, b``.

    Derivative :math:`x^{n-1}(n a \\log x + n b + a)`, the member
    ``power_log(n - 1, n a, n b + a)``: every order is one power times one
    logarithm, each as representable as the result. ``0`` at ``x = 0`` for
    :math:`n > 0` (the limit; the strong product of ``0**n`` and ``log 0``).
    """
    key = (float(n), float(a), float(b))
    if key not in _POWER_LOG:

        def primal(x):
            bracket = _constant(a, x) * jnp.log(x) + _constant(b, x)
            if n == 0:
                return bracket
            power = jnp.power(x, _constant(n, x)) if n != int(n) else x ** int(n)
            return strong_mul(power, bracket)

        def rule(p, out, t):
            slope = power_log(n - 1, n * a, n * b + a)(p[0])
            return strong_mul(t[0], slope)

        if a == 0 and n == 0:
            _POWER_LOG[key] = _custom(
                lambda x: jnp.full_like(x, b), lambda p, out, t: jnp.zeros_like(out)
            )
        else:
            _POWER_LOG[key] = _custom(primal, rule)
    return _POWER_LOG[key]


def _logcosh_value(x):
    ax = jnp.abs(x)
    return ax + jnp.log1p(jnp.exp(-2 * ax)) - _constant(math.log(2.0), x)


# d log cosh x = tanh x dx.
logcosh = _custom(_logcosh_value, lambda p, out, t: strong_mul(t[0], cnp.tanh(p[0])))
logcosh.__doc__ = """:math:`\\log\\cosh x`, finite wherever the result is."""


# E_k(x) = int_0^1 t^k e^{xt} dt: a series in |x| < 1 (terms x^j / (j! (j + k + 1)),
# 30 of them: the first neglected is below 1e-32), the recurrence
# E_k = (e^x - k E_{k-1}) / x from E_0 = expm1(x)/x beyond (|x| >= 1: each step
# divides by |x| >= 1, so an error does not grow).
_SERIES_TERMS = 30
_EXPREL: dict[int, Callable] = {}


def _exprel_value(k: int, x):
    near = jnp.abs(x) < 1
    x_near = jnp.where(near, x, jnp.zeros_like(x))
    x_far = jnp.where(near, jnp.ones_like(x), x)
    coefficients = [
        1.0 / (math.factorial(j) * (j + k + 1)) for j in range(_SERIES_TERMS)
    ]
    series = jnp.polyval(jnp.asarray(coefficients[::-1], x.dtype), x_near)
    value = jnp.expm1(x_far) / x_far
    exp_x = jnp.exp(x_far)
    for m in range(1, k + 1):
        value = (exp_x - _constant(float(m), x) * value) / x_far
    return jnp.where(near, series, value)


def exprel(k: int = 0) -> Callable:
    """:math:`E_k(x) = \\int_0^1 t^k e^{xt}\\,dt`; :math:`E_0 = (e^x - 1)/x`,
    :math:`E_k' = E_{k+1}`."""
    if k not in _EXPREL:
        _EXPREL[k] = _custom(
            lambda x: _exprel_value(k, x),
            lambda p, out, t: strong_mul(t[0], exprel(k + 1)(p[0])),
        )
    return _EXPREL[k]


def _log1p_square_value(x):
    # log1p(x^2) for |x| < 1; 2 log hypot(x, 1) beyond (x^2 would overflow).
    inside = jnp.abs(x) < 1
    x_in = jnp.where(inside, x, jnp.zeros_like(x))
    x_out = jnp.where(inside, jnp.ones_like(x), x)
    return jnp.where(
        inside,
        cnp.log1p(x_in * x_in),
        _constant(2.0, x) * cnp.log(cnp.hypot(x_out, jnp.ones_like(x))),
    )


# d log(1 + x^2) = 2 (x / h) / h dx, h = hypot(x, 1): no square of x.
log1p_square = _custom(
    _log1p_square_value,
    lambda p, out, t: strong_mul(
        t[0],
        _constant(2.0, out)
        * cnp.divide(
            cnp.divide(p[0], cnp.hypot(p[0], jnp.ones_like(p[0]))),
            cnp.hypot(p[0], jnp.ones_like(p[0])),
        ),
    ),
)
log1p_square.__doc__ = """:math:`\\log(1 + x^2)` without forming :math:`x^2`."""


def _nth_derivative(g: Callable, m: int) -> Callable:
    # The m-th derivative of an element-wise g, by nested forward mode.
    for _ in range(m):
        g = (lambda h: lambda x: jax.jvp(h, (x,), (jnp.ones_like(x),))[1])(g)
    return g


def slope(g: Callable, order: int = 1) -> Callable:
    """The ``order``-th derivative of the element-wise ``g`` (forward mode through
    its rules), as a function whose derivatives are ``g``'s rules again."""
    return _nth_derivative(g, order)


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)
_NODES, _WEIGHTS = (_NODES + 1) / 2, _WEIGHTS / 2  # on [0, 1]
_DIVIDED: dict[tuple[Callable, int, float], Callable] = {}


def _divided_value(g: Callable, k: int, radius: float, x):
    near = jnp.abs(x) < radius
    x_near = jnp.where(near, x, jnp.zeros_like(x))
    x_far = jnp.where(near, jnp.full_like(x, radius), x)
    nodes = jnp.asarray(_NODES, x.dtype)
    weights = jnp.asarray(_WEIGHTS * _NODES**k, x.dtype)
    samples = _nth_derivative(g, k + 1)(x_near[..., None] * nodes)
    quadrature = jnp.sum(samples * weights, axis=-1)
    value = g(x_far) / x_far
    for j in range(1, k + 1):
        value = (_nth_derivative(g, j)(x_far) - _constant(float(j), x) * value) / x_far
    return jnp.where(near, quadrature, value)


def divided(g: Callable, k: int = 0, radius: float = 0.5) -> Callable:
    """:math:`H_k(x) = \\int_0^1 t^k g^{(k+1)}(xt)\\,dt` for an element-wise ``g``
    with :math:`g(0) = 0`; :math:`H_0 = g(x)/x` (``g'(0)`` at ``0``),
    :math:`H_k' = H_{k+1}`. A 20-point Gauss--Legendre sum for ``|x| < radius``
    (exact to rounding when ``g'`` has no singularity within ``|z| < 2 radius``),
    the recurrence beyond."""
    key = (g, k, radius)
    if key not in _DIVIDED:
        _DIVIDED[key] = _custom(
            lambda x: _divided_value(g, k, radius, x),
            lambda p, out, t: strong_mul(t[0], divided(g, k + 1, radius)(p[0])),
        )
    return _DIVIDED[key]

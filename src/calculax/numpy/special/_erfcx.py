"""The scaled complementary error function and its derivatives, without cancellation.

With :math:`E_n(z) = e^{z^2}\\,\\mathrm{i}^n\\mathrm{erfc}(z)` (repeated integrals of
``erfc``; :math:`E_0 = \\operatorname{erfcx}`, :math:`E_{-1} = 2/\\sqrt\\pi`),

.. math::

    E_n' = -2(n+1)\\,E_{n+1}, \\qquad
    \\operatorname{erfcx}^{(k)}(z) = (-2)^k k!\\,E_k(z),

and every :math:`E_n > 0`: the derivatives are positive quantities times signs, not
the difference :math:`2z\\operatorname{erfcx}(z) - 2/\\sqrt\\pi`, which cancels
catastrophically for large ``z``. The ratios :math:`\\rho_n = E_n/E_{n-1}` satisfy

.. math::

    \\rho_n = \\frac{1}{2z + 2(n+1)\\rho_{n+1}}, \\qquad
    \\rho_n' = 2\\rho_n\\,(n\\rho_n - (n+1)\\rho_{n+1}).

For :math:`z` above a switch (0.75 in float32, 1 in float64) the ratios are the
continued fraction evaluated backwards from a fixed depth (Gautschi's method); at and
below it by the forward recurrence :math:`\\rho_n = (1/(2\\rho_{n-1}) - z)/n`, whose
cancellation is mild there (no cancellation at all for :math:`z \\le 0`). Both were
checked against mpmath (``tests/test_special.py``).

References:
    W. Gautschi, "Computational aspects of three-term recurrence relations",
    SIAM Review 9 (1967) 24-82. Abramowitz & Stegun 7.2 (repeated integrals of erfc).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

from ..._core.dtypes import prepare
from ..._core.strong import strong_mul
from .._rule import constant, stable_rule

__all__ = ["erfcx", "erfcx_core", "scaled_tail_core", "tail_ratio_core"]

# Continued fraction above the switch, forward recurrence at and below it. The depth
# makes the truncation error of the continued fraction at the switch below 1 ulp
# (the error decays like exp(-2 z sqrt(2 depth))).
_SWITCH = {np.dtype(np.float32): 0.75, np.dtype(np.float64): 1.0}
_DEPTH = {np.dtype(np.float32): 48, np.dtype(np.float64): 192}


def _continued_fraction(z, n):
    """``[rho_1, ..., rho_n]`` for ``z`` above the switch (backward recurrence)."""
    depth = _DEPTH[np.dtype(z.dtype)]
    half = constant(0.5, z)
    # Start from the fixed point of rho = 1/(2z + 2 depth rho): 1/(z + hypot(z, .)).
    rho = constant(1.0, z) / (z + jnp.hypot(z, constant(np.sqrt(2.0 * depth), z)))

    def step(i, rho):
        m = (depth - i).astype(z.dtype)  # rho_{m-1} from rho_m
        return half / (z + m * rho)

    rho = lax.fori_loop(0, depth - n, step, rho)  # now rho_n
    ratios = [rho]
    for m in range(n - 1, 0, -1):
        rho = half / (z + constant(m + 1.0, z) * rho)
        ratios.append(rho)
    return ratios[::-1]


def _tail(z, n):
    """``(E_0, [rho_1, ..., rho_n])`` at any real ``z``; ``n >= 1``."""
    switch = constant(_SWITCH[np.dtype(z.dtype)], z)
    far = z > switch
    z_far = jnp.where(far, z, switch + switch)
    z_near = jnp.where(far, switch, z)
    ratios_far = _continued_fraction(z_far, n)
    # E_0 = E_{-1} rho_0 with rho_0 = 1/(2z + 2 rho_1).
    e0_far = constant(1.0 / np.sqrt(np.pi), z) / (z_far + ratios_far[0])
    e0_near = jax.scipy.special.erfcx(z_near)
    rho = constant(np.sqrt(np.pi) / 2.0, z) * e0_near  # rho_0 = E_0 / E_{-1}
    ratios_near = []
    for k in range(1, n + 1):
        # rho_k = (1/(2 rho_{k-1}) - z) / k; both terms >= 0 for z <= 0.
        rho = (constant(0.5, z) / rho - z_near) / constant(float(k), z)
        ratios_near.append(rho)
    e0 = jnp.where(far, e0_far, e0_near)
    return e0, [jnp.where(far, a, b) for a, b in zip(ratios_far, ratios_near)]


def _upcast(function):
    # float16 / bfloat16 are evaluated in float32, as jax.scipy.special.erfcx does.
    def wrapped(z):
        if np.dtype(z.dtype) in _SWITCH:
            return function(z)
        return function(z.astype(jnp.float32)).astype(z.dtype)

    return wrapped


def _scaled_tail_value(n):
    def value(z):
        e0, ratios = _tail(z, max(n, 1))
        for rho in ratios[:n]:
            e0 = e0 * rho
        return e0

    return _upcast(value)


@functools.cache
def scaled_tail_core(n: int):
    """:math:`E_n(z)` as a stable function; ``n = 0`` is ``erfcx``."""
    # d E_n = -2(n+1) E_{n+1} dz: a positive function times a constant.
    return stable_rule(
        _scaled_tail_value(n),
        lambda p, out, t: strong_mul(
            t[0], constant(-2.0 * (n + 1), out) * scaled_tail_core(n + 1)(p[0])
        ),
    )


@functools.cache
def tail_ratio_core(n: int):
    """:math:`\\rho_n = E_n/E_{n-1}` as a stable function, ``n >= 1``."""

    def rule(p, out, t):
        # d rho_n = 2 rho_n (n rho_n - (n+1) rho_{n+1}) dz.
        following = tail_ratio_core(n + 1)(p[0])
        gap = constant(float(n), out) * out - constant(n + 1.0, out) * following
        return strong_mul(t[0], strong_mul(out + out, gap))

    return stable_rule(_upcast(lambda z: _tail(z, n)[1][n - 1]), rule)


erfcx_core = scaled_tail_core(0)

# Complex arguments: JAX's value and the classical d erfcx = (2 z erfcx - 2/sqrt(pi)) dz
# (strong, any order; it cancels for large real part, as in JAX).
_complex_erfcx_core = stable_rule(
    jax.scipy.special.erfcx,
    lambda p, out, t: strong_mul(
        t[0], constant(2.0, out) * p[0] * out - constant(2.0 / np.sqrt(np.pi), out)
    ),
)


def erfcx(x: ArrayLike) -> jax.Array:
    """Scaled complementary error function :math:`e^{x^2}\\operatorname{erfc}(x)`.

    For :math:`x` above 0.75 (float32) / 1 (float64) the value is the continued
    fraction :math:`\\pi^{-1/2}/(x + \\rho_1(x))`, accurate to ~1 ulp (JAX's
    ``exp(x**2) * erfc(x)`` returns ``0`` for ``9.3 < x <= 9.42`` in float32, where
    ``erfc`` underflows); below, ``jax.scipy.special.erfcx``. Derivatives
    :math:`(-2)^k k!\\,E_k(x)` (module docstring) at every order: no cancellation.
    Complex ``x`` uses JAX's value and the classical rule
    :math:`2x\\operatorname{erfcx}(x) - 2/\\sqrt\\pi`.

    Args:
        x: real array.

    Returns:
        :math:`\\operatorname{erfcx}(x)`, shape and dtype of
        ``jax.scipy.special.erfcx``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.numpy import special
        >>> jax.grad(special.erfcx)(jnp.float32(1e4))  # jax: -1.19e-07
        Array(-5.641896e-09, dtype=float32)
    """
    (z,) = prepare("special.erfcx", jax.scipy.special.erfcx, x)
    if jnp.issubdtype(z.dtype, jnp.complexfloating):
        return _complex_erfcx_core(z)
    return erfcx_core(z)

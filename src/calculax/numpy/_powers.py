"""Powers: ``x**y`` with rules that stay finite at ``x = 0`` and in ``y``.

* ``d/dx x^y = y (x^y / x)`` where ``x^y`` is a normal number (``pow(x, y - 1)`` would
  round ``y - 1``, an error that ``log x`` amplifies to ~100 ulp), and
  ``y x^(y-1)`` at ``x = 0`` or where ``x^y`` underflows; a strong product, so
  ``d/dx x^0 = 0`` even at ``x = 0``.
* ``d/dy x^y = x^y log x`` as a strong product: ``0`` where ``x^y = 0`` (``0^y``,
  ``y > 0``), not ``0 * -inf = nan``. For ``x < 0`` it is ``nan`` (``x^y`` is not real
  as a function of ``y``).
* Integer exponents (Python ``int`` or integer arrays) give ``n x^(n-1)`` with no ``y``
  derivative, like ``jax.numpy``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from ._arithmetic import divide_core
from ._dtypes import prepare
from ._exponential import log_core
from ._rule import constant, stable_rule
from ._strong import strong_mul

__all__ = ["power", "float_power"]


def _dpower_dx(x, y, out):
    # y x^(y-1), as y (x^y / x) where x^y is a normal number (no rounding of y - 1,
    # whose error is amplified by log x), else y pow(x, y - 1) (x = 0, underflow).
    normal = (x != 0) & (
        jnp.abs(out) >= constant(float(jnp.finfo(x.dtype).tiny), x).real
    )
    x_safe = jnp.where(normal, x, jnp.ones_like(x))
    x_edge = jnp.where(normal, jnp.ones_like(x), x)
    ratio = divide_core(power_core(x_safe, y), x_safe)
    lowered = power_core(x_edge, y - constant(1.0, x))
    return strong_mul(y, jnp.where(normal, ratio, lowered))


# d x^y = (y x^(y-1)) dx + (x^y log x) dy.
power_core = stable_rule(
    jax.lax.pow,
    lambda p, out, t: (
        strong_mul(t[0], _dpower_dx(p[0], p[1], out))
        + strong_mul(t[1], strong_mul(out, log_core(p[0])))
    ),
)


def _integer_power(n: int):
    # d x^n = n x^(n-1) dx, with x^0 constant; n is static.
    if n == 0:
        return lambda x: jnp.ones_like(x)
    if n not in _INTEGER_POWERS:
        lower = _integer_power(n - 1)
        _INTEGER_POWERS[n] = stable_rule(
            lambda x: jax.lax.integer_pow(x, n),
            lambda p, out, t: strong_mul(t[0], constant(float(n), out) * lower(p[0])),
        )
    return _INTEGER_POWERS[n]


_INTEGER_POWERS: dict[int, object] = {}


def power(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """Element-wise :math:`x_1^{x_2}` with derivatives stable at every order.

    :math:`\\partial_{x_1} = x_2\\,x_1^{x_2-1}` and :math:`\\partial_{x_2} = x_1^{x_2}
    \\log x_1`, both as strong products (``0`` where a factor is ``0``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax.numpy as cnp
        >>> jax.grad(cnp.power, argnums=1)(0.0, 2.0)  # jax.numpy: nan in older JAX
        Array(0., dtype=float32, weak_type=True)
        >>> jax.grad(lambda x: cnp.power(x, 3))(jnp.float32(1e-10))
        Array(3.e-20, dtype=float32)
    """
    if isinstance(x2, int) and not isinstance(x2, bool):
        (x,) = prepare("power", lambda v: jnp.power(v, x2), x1)
        if x2 < 0:
            return reciprocal_power(x, -x2)
        return _integer_power(x2)(x)
    dtype2 = jnp.result_type(x2)
    if jnp.issubdtype(dtype2, jnp.integer) or dtype2 == jnp.bool_:
        # An integer array exponent has no derivative: only d/dx flows.
        x, n = prepare("power", jnp.power, x1, x2)
        return power_core(x, jax.lax.stop_gradient(n))
    return power_core(*prepare("power", jnp.power, x1, x2))


def reciprocal_power(x, n: int):
    """``1 / x**n`` for a static positive integer ``n``, through :func:`power_core`."""
    return power_core(x, constant(-float(n), x))


def float_power(x1: ArrayLike, x2: ArrayLike, /) -> jax.Array:
    """:func:`power` computed in the dtype of ``jax.numpy.float_power`` (the widest
    enabled float).

    Example:
        >>> import calculax.numpy as cnp
        >>> cnp.float_power(2, 3)
        Array(8., dtype=float32, weak_type=True)
    """
    return power_core(*prepare("float_power", jnp.float_power, x1, x2))

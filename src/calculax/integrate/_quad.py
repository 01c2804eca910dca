r"""``quad``: adaptive quadrature of a JAX function, with an error bound and a
status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import RESULTS, AbstractResult, finish
from .._core.validate import boolean, is_traced, positive_int
from ._checks import (
    K_MAX,
    checked_points,
    checked_tolerances,
    differentiable,
    host,
    initial_slots,
    prepare,
    scalar_limit,
    status_item,
)
from ._solve import Options, solve, status_index

__all__ = ["quad", "QuadResult"]


class QuadResult(AbstractResult):
    r"""The integral, an estimate of its error, and a status.

    Attributes:
        value: the integral, shape of ``f``'s output.
        error: estimate of ``|value - integral|``, same shape; ``inf`` where no
            bound is known (an integrand that was zero at every point sampled, a
            non-finite value, missing mass).
        status: a :data:`calculax.RESULTS` item (an integer array under
            ``jit``/``vmap``); ``RESULTS.successful`` when the tolerance was met.
        neval: the number of integrand evaluations of the adaptive rule.
    """

    value: jax.Array
    error: jax.Array
    status: Any
    neval: jax.Array


class _Flat(eqx.Module):
    """``(x, params) -> (log max|f|, f / max|f|)``, ``f`` flattened (re and im).

    The scale ``max|f|`` is held constant under differentiation: the product
    ``exp(ell) * phi`` is ``f`` itself, so its derivative is ``df`` exactly (a
    quotient rule through ``f / max|f|`` would read ``0/0`` where ``f``
    underflows).
    """

    form: Callable
    is_complex: bool = eqx.field(static=True)

    def values(self, x, params):
        y = jnp.reshape(self.form(x, params), (-1,))
        if self.is_complex:
            y = jnp.concatenate([jnp.real(y), jnp.imag(y)])
        return y.astype(jnp.result_type(x))

    def __call__(self, x, params):
        y = self.values(x, params)
        size = jax.lax.stop_gradient(jnp.max(jnp.abs(y)))
        scale = jnp.where((size > 0) & jnp.isfinite(size), size, 1.0)
        ell = jnp.where(size > 0, jnp.log(scale), -jnp.inf)
        ell = jnp.where(jnp.isnan(size), jnp.nan, ell)
        ell = jnp.where(jnp.isinf(size), jnp.inf, ell)
        return ell, y / scale


class _LogSize(eqx.Module):
    """``(x, params) -> log max|f|``: what the peak search climbs."""

    flat: _Flat

    def __call__(self, x, params):
        return jnp.log(jnp.max(jnp.abs(self.flat.values(x, params))))


def _finish_limits(xp, a, b, out):
    """``-I`` for reversed limits, ``0`` on an empty interval, ``nan`` for a nan
    limit (status ``nonfinite``)."""
    value, error, status, intervals = out[:4]
    sign = xp.where(b < a, -1.0, 1.0).astype(a.dtype)
    empty = a == b
    bad_limit = xp.isnan(a) | xp.isnan(b)
    value = xp.where(empty, 0.0, sign * value)
    error = xp.where(empty, 0.0, error)
    status = xp.where(empty, 0, status)
    value = xp.where(bad_limit, xp.nan, value)
    error = xp.where(bad_limit, xp.inf, error)
    status = xp.where(bad_limit, status_index(RESULTS.nonfinite), status)
    return value, error, status, intervals


def _ordered(xp, a, b):
    """``(lo, hi)`` of the interval, ``(0, 1)`` where it is empty or nan (the
    result is fixed by :func:`_finish_limits`)."""
    # A select on a predicate held constant: each limit's derivative goes to its
    # own end only (a minimum would send 0 * inf = nan from an infinite Leibniz
    # term at the other end).
    swap = b < a
    if xp is jnp:
        swap = jax.lax.stop_gradient(swap)
    lo, hi = xp.where(swap, b, a), xp.where(swap, a, b)
    safe = (lo == hi) | xp.isnan(a) | xp.isnan(b)
    return xp.where(safe, 0.0, lo).astype(a.dtype), xp.where(safe, 1.0, hi).astype(
        a.dtype
    )


def quad(
    f: Callable[..., Any],
    a,
    b,
    *,
    args: tuple = (),
    rtol: float | None = None,
    atol: float | None = None,
    points=None,
    max_ninter: int = 1000,
    throw: bool = True,
) -> QuadResult:
    r"""Integrate ``f`` from ``a`` to ``b`` with an error bound.

    .. math::

        I = \int_a^b f(x, *\mathrm{args})\,dx, \qquad
        |I - \text{value}| \le \max(\text{atol}, \text{rtol}\,|I|)

    is the target (QUADPACK's criterion, on the max-norm over ``f``'s outputs).
    ``quad(f, b, a)`` is ``-quad(f, a, b)``, and an empty interval gives ``0``.

    How: a search for the peaks of :math:`\log|f|` over every scale of the
    interval (a multi-start ascent; see :mod:`calculax.integrate._search`) cuts
    ``[a, b]`` at the peaks it finds, so that a bump at ``1e6`` on
    ``(-inf, inf)`` or a narrow spike is integrated where it is. Each piece is
    mapped so that its ends become exponentially decaying tails (end
    singularities like ``x**-0.999`` and ``log x``, tails like ``1/x**2``), then
    integrated by adaptive 21-point Gauss-Kronrod quadrature; what lies beyond
    the range the arithmetic can represent (half of
    :math:`\int_0^1 x^{-0.999}dx` lies below ``1e-308``) is integrated from a
    model fitted there, with its uncertainty in ``error``.

    What the result promises: with ``status == RESULTS.successful`` the value met
    the tolerance (its ``error`` is an estimate of the actual error, not a proof:
    a spike narrower than the sampling on top of a broad integrand, which the
    search cannot see, is missed, as it is by every quadrature rule). Every other
    status says why the value may be wrong, with ``error`` covering it where it can
    (``inf`` where it cannot):

    * ``nonfinite``: ``f`` returned ``nan`` or ``inf`` at a sampled point, or a
      limit is ``nan`` (the value is ``nan``);
    * ``divergent``: the integral is infinite (value ``+-inf``);
    * ``unverified``: ``f`` was exactly ``0`` at every point sampled, so ``0`` is
      not confirmed (``error`` is ``inf``);
    * ``roundoff``: the tolerance is below what the arithmetic allows (a feature
      of width ``w`` at ``x`` is located only to ``eps |x| / w``);
    * ``max_subintervals``, ``bad_integrand``, ``truncation``: the subdivision
      ran out of sub-intervals, met the floating-point spacing, or left a part it
      could not model beyond the representable range.

    ``throw=True`` raises on any of these (:class:`calculax.NumericalError`, or an
    ``equinox`` runtime error under ``jit``).

    Works under ``jit`` and ``vmap`` (limits may be traced); ``jax.grad``,
    ``jax.jvp`` and higher orders with respect to ``a``, ``b``, ``args`` and values
    ``f`` closes over follow the Leibniz rule: :math:`\pm f` at a finite limit
    (``0`` at an infinite one) and, for parameters, a second integral of
    :math:`\partial f/\partial\theta` with its own error control (a derivative
    integral that misses its tolerance raises with ``throw=True`` and is ``nan``
    with ``throw=False``).

    Args:
        f: ``f(x, *args) -> array``, JAX-traceable, ``x`` a scalar; real or complex.
        a, b: scalar limits, finite or infinite, in either order.
        args: extra arguments of ``f`` (a tuple of arrays; differentiable).
        rtol, atol: relative and absolute tolerance; defaults
            ``max(eps**0.75, 1000 eps)`` of the working dtype (``1.8e-12`` in
            float64, ``1.2e-4`` in float32) and ``0``.
        points: interior points where ``f`` is singular or has a kink or jump
            (a 1-D array of finite numbers): the interval is cut there.
        max_ninter: how many sub-intervals the adaptive subdivision may add.
        throw: raise on any status other than ``successful`` (default).

    Returns:
        :class:`QuadResult` (``value`` with ``f``'s output shape, ``error``,
        ``status``, ``neval``).

    Raises:
        TypeError: ``f`` not callable, or not callable as ``f(x, *args)`` with a
            scalar ``x``; limits or tolerances of the wrong type.
        ValueError: non-scalar or ``nan`` limits, negative tolerances, a bad
            ``points`` array.
        calculax.NumericalError: with ``throw=True``, any status but
            ``successful`` (concrete inputs); under ``jit`` an
            ``equinox.EquinoxRuntimeError`` with the same message.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.integrate import quad
        >>> r = quad(lambda x: jnp.exp(-x * x), -jnp.inf, jnp.inf)
        >>> print(f"{float(r.value):.6f} {bool(r.ok)}")
        1.772454 True
        >>> print(f"{float(quad(lambda x: x, 2.0, 0.0).value):.6f}")  # reversed
        -2.000000
    """
    a, b, dtype = scalar_limit("quad", a, b)
    rtol, atol = checked_tolerances("quad", rtol, atol, dtype)
    points = checked_points("quad", points, dtype)
    max_ninter = positive_int("quad", "max_ninter", max_ninter)
    throw = boolean("quad", "throw", throw)
    form, params, shape, out_dtype = prepare("quad", f, args, dtype)
    flat = _Flat(form, bool(jnp.issubdtype(out_dtype, jnp.complexfloating)))
    options = Options(
        rtol=rtol,
        atol=atol,
        capacity=max_ninter + initial_slots(K_MAX, points.shape[0]),
        k_max=K_MAX,
        differentiable=differentiable(_LogSize(flat), params, dtype),
    )
    xp = jnp if is_traced((a, b, params, points)) else np
    if xp is np:
        a, b, points = host((a, b, points), dtype)
    lo, hi = _ordered(xp, a, b)
    out = solve(
        flat, _LogSize(flat), options, throw, lo, hi, params, points, points, 1.0
    )
    value, error, status, intervals = _finish_limits(xp, a, b, out)
    value, error = _shaped(value, error, shape, out_dtype)
    result = QuadResult(value, error, status_item(status), 21 * intervals)
    return finish(result, throw, "quad")


def _shaped(value, error, shape, out_dtype):
    """Undo the flattening (and the real/imaginary split of a complex ``f``)."""
    if jnp.issubdtype(out_dtype, jnp.complexfloating):
        half = value.shape[0] // 2
        value = value[:half] + 1j * value[half:]
        error = jnp.hypot(error[:half], error[half:])
    dtype = jnp.result_type(value.dtype, out_dtype)
    return (
        jnp.reshape(value, shape).astype(dtype),
        jnp.reshape(error, shape).astype(jnp.real(jnp.zeros((), dtype)).dtype),
    )

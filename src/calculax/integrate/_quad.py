r"""``quad``: adaptive Gauss-Kronrod quadrature with error estimate and status.

The interval is first mapped onto the whole line by :func:`._maps.mapped` (end
singularities and algebraic tails become exponentially decaying ends), then
:func:`quadax.quadgk` integrates over :math:`t \in (-\infty, 0] \cup [0, \infty)`
(21-point Gauss-Kronrod rule, global adaptive bisection, QUADPACK's error
estimate). What this layer adds is the calculax contract: scalar limits that may be
infinite (and traced), tolerances named ``rtol``/``atol``, a result that carries its
error estimate and a status, ``throw=True`` by default, and derivatives with respect
to the limits and the parameters through :class:`quadax.LeibnizAdjoint` (the
derivative is itself an integral with its own error control).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import quadax

from ._maps import edge, mapped, tail

__all__ = ["quad", "QuadResult", "STATUS"]

STATUS = quadax.STATUS
_MAX_NINTER = 200


class QuadResult(eqx.Module):
    """Value, error estimate and status of :func:`quad`.

    Attributes:
        value: the integral, shape of ``f``'s output.
        error: estimate of ``|value - integral|``.
        status: integer code, ``0`` when the tolerance was met; any other code is a
            member of :data:`STATUS` whose message (``STATUS[code].message``) says
            what went wrong and what to do. ``STATUS.truncation`` (5): the part of
            the integral beyond the range the map can represent (a singularity
            nearly as strong as ``1/x``, a tail nearly as slow as ``1/x``) exceeds
            the tolerance; it is included in ``error``.
        neval: number of integrand evaluations.
    """

    value: jax.Array
    error: jax.Array
    status: jax.Array
    neval: jax.Array

    @property
    def message(self) -> str:
        """The status message (concrete results only)."""
        return STATUS[int(self.status)].message


def _check_limits(a, b) -> tuple[jax.Array, jax.Array]:
    for name, limit in (("a", a), ("b", b)):
        if jnp.ndim(limit) != 0:
            raise ValueError(
                f"quad: the limit `{name}` must be a scalar, got shape "
                f"{jnp.shape(limit)}; vmap over quad to integrate over many intervals."
            )
    dtype = jnp.result_type(float, a, b)
    return jnp.asarray(a, dtype), jnp.asarray(b, dtype)


def quad(
    f: Callable[..., jax.Array],
    a,
    b,
    *,
    args: tuple = (),
    rtol=None,
    atol=None,
    max_ninter: int = _MAX_NINTER,
    throw: bool = True,
) -> QuadResult:
    r"""Integrate ``f`` from ``a`` to ``b`` with an error estimate.

    .. math::

        I = \int_a^b f(x, *\mathrm{args})\,dx, \qquad
        |I - \text{value}| \le \max(\text{atol}, \text{rtol}\,|I|)

    is the target (QUADPACK's criterion). ``a`` and ``b`` may be ``-inf``/``inf``;
    integrable singularities at ``a`` or ``b`` (``x**-0.5``, ``log x``) are handled by
    the map to the line (:mod:`calculax.integrate._maps`). A singular or
    discontinuous point inside ``(a, b)`` should be made a limit (split the
    integral). Works under ``jit`` and ``vmap`` (limits may be traced);
    ``grad``/``jvp`` with respect to ``a``, ``b`` and ``args`` differentiate the
    mapped integral, whose derivative is an integral with its own adaptive solve.

    Args:
        f: ``f(x, *args) -> array``, JAX-traceable; ``x`` is a scalar.
        a, b: scalar limits, finite or infinite.
        args: extra arguments passed to ``f`` (pytree of arrays; differentiable).
        rtol, atol: relative and absolute tolerance; default
            ``max(eps**0.75, 1000 eps)`` of the working dtype (``1.8e-12`` in
            float64, ``1.2e-4`` in float32, where the error estimate's own floor is
            near ``1e-5``) and ``0``.
        max_ninter: maximum number of sub-intervals (static).
        throw: raise (via ``equinox.error_if``, which survives ``jit``) when the
            tolerance is not met; with ``False`` the status reports it instead.

    Returns:
        :class:`QuadResult` with ``value`` (shape of ``f``'s output), ``error``,
        ``status`` and ``neval`` (scalars).

    Raises:
        ValueError: non-scalar limits; or, with ``throw=True``, an integral whose
            tolerance was not met (the message names the reason: divergence,
            roundoff, too few sub-intervals, ...).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.integrate import quad
        >>> r = quad(lambda x: jnp.exp(-x * x), -jnp.inf, jnp.inf)
        >>> print(f"{float(r.value):.6f} {int(r.status)}")
        1.772454 0
    """
    a, b = _check_limits(a, b)
    eps = float(np.finfo(a.dtype).eps)
    rtol = max(eps**0.75, 1000 * eps) if rtol is None else rtol
    atol = 0.0 if atol is None else atol
    dtype = a.dtype
    g = jax.tree_util.Partial(_on_line, f)
    # quadax's derivative solves broadcast with implicit rank promotion; allow it
    # for this call only (reverse mode transposes outside it; under JAX's default
    # config it works).
    with jax.numpy_rank_promotion("allow"):
        value, info = quadax.quadgk(
            g,
            jnp.asarray([-jnp.inf, 0.0, jnp.inf], dtype),
            args=(a, b, args),
            epsabs=atol,
            epsrel=rtol,
            max_ninter=max_ninter,
            extrapolate=False,
            adjoint=quadax.LeibnizAdjoint(),
        )
    lost = jax.lax.stop_gradient(tail(lambda t: g(t, a, b, args), edge(dtype), dtype))
    error = info.err + jnp.max(lost)
    status = jnp.where(
        jnp.max(lost) > jnp.maximum(atol, rtol * jnp.max(jnp.abs(value))),
        jnp.maximum(info.status, STATUS.truncation),
        info.status,
    )
    if throw:
        messages = [member.message for member in STATUS]
        value = eqx.branched_error_if(value, status != STATUS.normal, status, messages)
    return QuadResult(value, error, status, info.neval)


def _on_line(f, t, a, b, args):
    """``f(x(t)) x'(t)``; ``0`` where ``x'`` underflows (the far ends)."""
    x, log_dx = mapped(t, a, b, jnp.zeros_like(a), jnp.ones_like(a))
    y = f(x, *args)
    dx = jnp.exp(log_dx)
    return jnp.where(dx > 0, y * dx, jnp.zeros_like(y))

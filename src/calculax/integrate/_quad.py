r"""``quad``: adaptive Gauss-Kronrod quadrature with error estimate and status.

The interval is first mapped onto the whole line by :func:`._maps.mapped` (end
singularities and algebraic tails become exponentially decaying ends), then
:func:`quadax.quadgk` integrates over :math:`t \in (-\infty, 0] \cup [0, \infty)`
(21-point Gauss-Kronrod rule, global adaptive bisection, QUADPACK's error
estimate). What this layer adds is the calculax contract: scalar limits that may be
infinite (and traced), tolerances named ``rtol``/``atol``, a result that carries its
error estimate and a status, ``throw=True`` by default, and derivatives with respect
to the limits and the parameters by the Leibniz rule,

.. math::

    \frac{d}{d\theta}\int_a^b f(x,\theta)\,dx
    = \int_a^b \partial_\theta f\,dx + f(b)\,b'(\theta) - f(a)\,a'(\theta),

as a :func:`jax.custom_jvp` whose tangent is linear in the tangents (a Jacobian
integral, itself a ``quad``, contracted with them; see :mod:`._line`): forward and
reverse mode, any order, under ``jit`` and ``vmap``.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import quadax

from ._line import (
    Options,
    contract,
    hoist,
    jacobian_integrand,
    live_leaves,
    solve,
)
from ._maps import mapped

__all__ = ["quad", "QuadResult", "STATUS"]

STATUS = quadax.STATUS
BY_CODE = {int(member): member for member in STATUS}  # code -> STATUS member
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
        return BY_CODE[int(self.status)].message


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
    ``jax.grad``, ``jax.vjp``, ``jax.jvp`` and higher orders with respect to ``a``,
    ``b``, ``args`` and values ``f`` closes over follow the Leibniz rule (module
    docstring): :math:`\pm f` at a finite limit (``0`` at an infinite one; ``inf``
    at an end singularity), and for the parameters a second ``quad`` of
    :math:`[\partial f/\partial\theta, |\partial f/\partial\theta|]`
    (only the parameters being differentiated; its tolerance is relative to the
    integral of :math:`|\partial f/\partial\theta|`). That derivative integral
    raises like the value with ``throw=True``, and gives a ``nan`` derivative with
    ``throw=False``, when it misses its tolerance.

    Args:
        f: ``f(x, *args) -> array``, JAX-traceable; ``x`` is a scalar.
        a, b: scalar limits, finite or infinite.
        args: extra arguments passed to ``f`` (pytree of arrays; differentiable).
        rtol, atol: relative and absolute tolerance (Python floats); default
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
    options = Options(
        float(max(eps**0.75, 1000 * eps) if rtol is None else rtol),
        float(0.0 if atol is None else atol),
        int(max_ninter),
    )
    # Values `f` closes over become explicit parameters, visible to the derivative.
    fn, params = hoist(_Unpacked(f), a, args)
    value, error, status, neval = _quad(
        a, b, params, fn=fn, options=options, throw=throw
    )
    if throw:
        messages = [member.message for member in STATUS]
        value = eqx.branched_error_if(value, status != STATUS.normal, status, messages)
    return QuadResult(value, error, status, neval)


class _Unpacked(eqx.Module):
    """``f(x, args)`` for ``f(x, *args)``."""

    f: Callable = eqx.field(static=True)

    def __call__(self, x, args):
        return self.f(x, *args)


def _on_line(fn, t, limits_params):
    """``f(x(t)) x'(t)``; ``0`` where ``x'`` underflows (the far ends)."""
    a, b, params = limits_params
    x, log_dx = mapped(t, a, b, jnp.zeros_like(a), jnp.ones_like(a))
    y = fn(x, params)
    dx = jnp.exp(log_dx)
    return jnp.where(dx > 0, y * dx, jnp.zeros_like(y))


@eqx.filter_custom_jvp
def _quad(a, b, params, *, fn, options, throw):
    del throw
    g = jax.tree_util.Partial(_on_line, fn)
    return solve(g, jnp.zeros_like(a), (a, b, params), options)


def _at_limit(fn, limit, params, tangent):
    """Boundary term ``f(limit) * tangent``; ``0`` at an infinite limit."""
    finite = jnp.isfinite(limit)
    y = fn(jnp.where(finite, limit, jnp.zeros_like(limit)), params)
    return jnp.where(finite, y, jnp.zeros_like(y)) * tangent


@_quad.def_jvp
def _quad_jvp(primals, tangents, *, fn, options, throw):
    r"""Leibniz: :math:`\dot I = \int_a^b \partial_\theta f\,\dot\theta\,dx
    + f(b)\dot b - f(a)\dot a`, the first integral as a Jacobian (see ``_line``)."""
    a, b, params = primals
    ta, tb, tparams = tangents
    out = _quad(a, b, params, fn=fn, options=options, throw=throw)
    value = out[0]
    tangent = jnp.zeros_like(value)
    _, treedef, live, tans = live_leaves(params, tparams)
    if tans:
        size_out = int(np.prod(jnp.shape(value), dtype=int))
        jac = jacobian_integrand(fn, treedef, live, size_out)
        j_value, _, j_status, _ = _quad(
            a, b, params, fn=jac, options=options, throw=throw
        )
        tangent = tangent + contract(j_value, j_status, tans, value, throw)
    if tb is not None:
        tangent = tangent + _at_limit(fn, b, params, tb)
    if ta is not None:
        tangent = tangent - _at_limit(fn, a, params, ta)
    zero_int = np.zeros((), dtype=jax.dtypes.float0)
    return out, (tangent, jnp.zeros_like(out[1]), zero_int, zero_int)

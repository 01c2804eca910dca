r"""``expectation``: integrals against a density given as a log-density."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.results import AbstractResult, finish
from .._core.validate import (
    boolean,
    callable_,
    is_traced,
    positive_float,
    positive_int,
)
from ._checks import (
    K_MAX,
    checked_points,
    checked_tolerances,
    differentiable,
    host,
    initial_slots,
    prepare,
    status_item,
    support_pair,
)
from ._solve import Options, solve

__all__ = ["expectation", "ExpectationResult"]


class ExpectationResult(AbstractResult):
    r"""``value`` :math:`= \int p\,g`, ``mass`` :math:`= \int p`, errors, status.

    Attributes:
        value: :math:`\int p(x)\,g(x)\,dx`, shape of ``g``'s output (``()``
            without ``g``: then equal to ``mass``). For a normalised ``p`` this is
            :math:`E_p[g]`.
        error: estimate of ``|value - truth|``.
        status: a :data:`calculax.RESULTS` item.
        mass: :math:`\int p(x)\,dx` over the support.
        mass_error: estimate of ``|mass - truth|``.
        modes: the peaks of the log-density the search found (sorted; ``nan``
            where unused): where the domain was cut.
        widths: the width of each mode (where the log-density drops by 1).
        neval: integrand evaluations of the adaptive rule.
    """

    value: jax.Array
    error: jax.Array
    status: Any
    mass: jax.Array
    mass_error: jax.Array
    modes: jax.Array
    widths: jax.Array
    neval: jax.Array


class _Joint(eqx.Module):
    """``x, *args -> [log p(x), g(x, log p(x), *args) flattened]``."""

    logp: Callable = eqx.field(static=True)
    fn: Callable | None = eqx.field(static=True)

    def __call__(self, x, *args):
        ell = jnp.asarray(self.logp(x, *args))
        if self.fn is None:
            return jnp.reshape(ell, (1,))
        g = jnp.reshape(jnp.asarray(self.fn(x, ell, *args)), (-1,))
        return jnp.concatenate([jnp.reshape(ell, (1,)), g.astype(ell.dtype)])


class _Density(eqx.Module):
    """``(x, params) -> (log p, [1, g])``: the log form of :math:`p\\,[1, g]`."""

    form: Callable

    def __call__(self, x, params):
        v = self.form(x, params).astype(jnp.result_type(x))
        ell = v[0]
        ones = jnp.ones((1,), v.dtype)
        return ell, jnp.concatenate([ones, v[1:]])


class _LogDensity(eqx.Module):
    form: Callable

    def __call__(self, x, params):
        return self.form(x, params)[0].astype(jnp.result_type(x))


def expectation(
    logp: Callable[..., Any],
    support,
    fn: Callable[..., Any] | None = None,
    *,
    args: tuple = (),
    modes=None,
    scale=None,
    rtol: float | None = None,
    atol: float | None = None,
    norm: str = "max",
    points=None,
    max_ninter: int = 1000,
    throw: bool = True,
) -> ExpectationResult:
    r"""Integrals against a density: :math:`\int p\,g` and :math:`\int p`.

    .. math::

        \text{value} = \int_{lo}^{hi} e^{\ell(x)}\,g(x, \ell(x))\,dx, \qquad
        \text{mass} = \int_{lo}^{hi} e^{\ell(x)}\,dx, \qquad \ell = \log p,

    computed in log space (:math:`e^{\ell + \log x'}` after the map, so that a
    density whose values under- or overflow is still integrated) by the same
    machinery as :func:`quad`: a search for the modes of :math:`\ell` over every
    scale of the support (separated modes, a density concentrated in a width
    ``1e-8`` of its location), the support cut at the modes, each piece mapped so
    that end singularities (:math:`x^{a-1}`, ``a`` down to ``1e-3``, most of whose
    mass lies below ``1e-300``) and heavy tails become decaying tails, adaptive
    Gauss-Kronrod quadrature, and what lies beyond the representable range
    integrated from a model fitted there. ``p`` need not be normalised (``mass``
    says what it integrates to).

    The result is right or flagged as :func:`quad`'s is (see its statuses). The
    search finds a mode when one of its starts lies in the mode's basin: a spike
    narrower than the grid's spacing on top of a broad density is not found
    unless ``modes=`` names it, and then ``mass`` comes out short.

    Args:
        logp: ``logp(x, *args) -> log p(x)``, a JAX-traceable scalar function
            (``-inf`` where ``p = 0``; ``nan`` is an error).
        support: ``(lo, hi)``, Python numbers, ends may be infinite.
        fn: ``fn(x, logp_x, *args) -> array`` (``g``; it gets the log-density at
            ``x`` too, so that :math:`-\log p` costs nothing). ``None``: only the
            mass.
        args: extra arguments of ``logp`` and ``fn`` (a tuple; differentiable).
        modes: hints: points near modes of ``p`` (a number or 1-D array), starts
            of the search.
        scale: the typical width of ``p`` (a positive number): the search's
            scale and the default width of a mode. Default 1.
        rtol, atol: tolerances as in :func:`quad`.
        norm: ``"max"``: the tolerance applies to the max-norm over
            ``[mass, value]``; ``"each"``: to each component.
        points: points where ``p`` has a singularity, kink or jump inside the
            support (a 1-D array of finite numbers): the support is cut there.
        max_ninter: how many sub-intervals the subdivision may add.
        throw: raise on any status but ``successful`` (default).

    Returns:
        :class:`ExpectationResult`.

    Raises:
        TypeError, ValueError: invalid arguments (each message names the
            argument and what is expected).
        calculax.NumericalError: with ``throw=True``, a non-OK status.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.integrate import expectation
        >>> logp = lambda x: -0.5 * x * x - 0.5 * jnp.log(2 * jnp.pi)
        >>> r = expectation(logp, (-jnp.inf, jnp.inf), lambda x, lp: x * x)
        >>> print(f"{float(r.mass):.6f} {float(r.value):.6f}")  # 1 and E[x^2]
        1.000000 1.000000
    """
    where = "expectation"
    lo, hi = support_pair(where, support)
    callable_(where, "logp", logp)
    if fn is not None:
        callable_(where, "fn", fn)
    dtype = jnp.dtype(jnp.result_type(float))
    rtol, atol = checked_tolerances(where, rtol, atol, dtype)
    if norm not in ("max", "each"):
        raise ValueError(f"{where}: `norm` must be 'max' or 'each'; got {norm!r}.")
    hints = checked_points(where, modes, dtype, name="modes")
    cuts = checked_points(where, points, dtype, name="points")
    scale = 1.0 if scale is None else positive_float(where, "scale", scale)
    max_ninter = positive_int(where, "max_ninter", max_ninter)
    throw = boolean(where, "throw", throw)
    _check_logp(where, logp, args, dtype)
    form, params, _, _ = prepare(where, _Joint(logp, fn), args, dtype, name="logp")
    shape = () if fn is None else _fn_shape(where, logp, fn, args, dtype)
    density = _Density(form)
    options = Options(
        rtol=rtol,
        atol=atol,
        norm=norm,
        capacity=max_ninter + initial_slots(K_MAX, cuts.shape[0]),
        k_max=K_MAX,
        differentiable=differentiable(_LogDensity(form), params, dtype),
    )
    a, b = np.asarray(lo, dtype), np.asarray(hi, dtype)
    if not is_traced((params, hints, cuts)):
        hints, cuts = host((hints, cuts), dtype)
    out = solve(
        density, _LogDensity(form), options, throw, a, b, params, hints, cuts, scale
    )
    value, error, status, intervals, peaks, widths = out
    mass, mass_error = value[0], error[0]
    if fn is None:
        v, e = mass, mass_error
    else:
        v = jnp.reshape(jnp.asarray(value[1:]), shape)
        e = jnp.reshape(jnp.asarray(error[1:]), shape)
    result = ExpectationResult(
        jnp.asarray(v),
        jnp.asarray(e),
        status_item(status),
        jnp.asarray(mass),
        jnp.asarray(mass_error),
        jnp.asarray(peaks),
        jnp.asarray(widths),
        21 * jnp.asarray(intervals),
    )
    return finish(result, throw, where)


def _fn_shape(where, logp, fn, args, dtype):
    probe = jnp.zeros((), dtype)
    try:
        out = jax.eval_shape(lambda x: fn(x, jnp.asarray(logp(x, *args)), *args), probe)
    except Exception as error:  # the user's function failed: say where
        raise TypeError(
            f"{where}: calling `fn(x, logp(x), *args)` with a scalar {dtype} `x` "
            f"failed ({type(error).__name__}: {error})."
        ) from error
    return tuple(getattr(out, "shape", ()))


def _check_logp(where, logp, args, dtype):
    if not isinstance(args, tuple):
        return  # prepare() says what is wrong with args
    try:
        out = jax.eval_shape(lambda x: logp(x, *args), jnp.zeros((), dtype))
    except Exception as error:  # the user's function failed: say where
        raise TypeError(
            f"{where}: calling `logp(x, *args)` with a scalar {dtype} `x` failed "
            f"({type(error).__name__}: {error}). `logp` must be a JAX-traceable "
            "log-density of a scalar."
        ) from error
    shape = getattr(out, "shape", None)
    dt = getattr(out, "dtype", None)
    if shape != () or dt is None or not jnp.issubdtype(dt, jnp.floating):
        raise TypeError(
            f"{where}: `logp(x, *args)` must return a real scalar (the log-density "
            f"at x); got {out!r}."
        )

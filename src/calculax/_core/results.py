r"""One result model for every answer that can be inexact or can fail.

Every calculax function whose answer is computed to a tolerance or estimated
(``quad``, ``entropy``, ``kl_divergence``, ``entropy_from_samples``, ``solve_ivp``,
``find_time``, the curvature estimators, ``check_derivative``) returns a result
with the same field names:

- ``value``: the answer (a pytree of arrays);
- ``error``: an estimate of ``|value - truth|`` (a standard error for stochastic
  estimators), same structure as ``value``;
- ``status``: a :data:`RESULTS` item, an integer array under ``jit``/``vmap``;
- ``message``: the status in words (a property).

A result is *right or flagged*: with status ``RESULTS.successful`` the value met its
tolerance; with any other status the message says what went wrong and ``error``
covers the actual error as far as it can be estimated (``inf`` or ``nan`` where it
cannot). ``throw=True``, the default everywhere, raises on any non-OK status:
:class:`NumericalError` for concrete results, an ``equinox`` runtime error (with the
same message) inside ``jit``.

The enumeration follows optimistix's ``RESULTS``: an :class:`equinox.Enumeration`
whose values *are* the user-facing messages, so that ``RESULTS[result.status]`` is the
text and ``result.status == RESULTS.successful`` works under ``jit`` and ``vmap``.

Example:
    >>> import calculax
    >>> calculax.RESULTS[calculax.RESULTS.successful]
    ''
    >>> calculax.RESULTS.successful == calculax.RESULTS.successful
    Array(True, dtype=bool)
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "RESULTS",
    "AbstractResult",
    "NumericalError",
    "finish",
    "format_array",
    "is_ok",
    "summarize",
]


class RESULTS(eqx.Enumeration):
    """The status of a calculax result; each value is its message.

    ``successful`` and ``event_occurred`` are OK; every other value is a failure
    whose message names what went wrong and what to try.
    """

    successful = ""
    event_occurred = "A terminal event occurred: the solve stopped there, as asked."

    # -- shared by every capability ------------------------------------------------
    nonfinite = (
        "A non-finite value (nan or inf) appeared in the computation; the result is "
        "not trustworthy. Check the function for nan/inf at the points it was "
        "evaluated."
    )
    max_steps_reached = (
        "The iteration limit was reached before the tolerance was met; raise the "
        "limit or loosen the tolerance."
    )
    tolerance_not_met = (
        "The requested tolerance was not met; `error` estimates the actual error."
    )

    # -- integrate (quad) and numerical entropy --------------------------------------
    max_subintervals = (
        "The adaptive subdivision used all `max_ninter` sub-intervals without "
        "reaching the tolerance; `error` is the final mesh's estimate. Raise "
        "`max_ninter`, or split the interval at a difficult interior point."
    )
    roundoff = (
        "Roundoff limits the accuracy: the tolerance is below what the integrand can "
        "be summed to in this precision (cancellation, e.g. an oscillating "
        "integrand); `error` estimates the actual error. Loosen rtol/atol, or use "
        "float64 if the computation is in a lower precision."
    )
    bad_integrand = (
        "The subdivision shrank sub-intervals to the floating-point spacing without "
        "meeting the tolerance: a non-integrable singularity, or a feature narrower "
        "than the abscissae can resolve. Put singular points at a limit."
    )
    no_convergence = (
        "The quadrature did not converge; `error` estimates the actual error."
    )
    truncation = (
        "The part of the integral beyond the range the interval map can represent "
        "(a singularity nearly as strong as 1/x, or a tail nearly as slow as 1/x) "
        "exceeds the tolerance; it is included in `error`."
    )
    divergent = (
        "The integral is probably divergent (its running total left the range of "
        "the arithmetic, or does not settle); do not use the value."
    )
    unverified = (
        "The result could not be verified: an independent check disagreed with it, "
        "or mass may lie where the rule did not sample. `error` is an estimate, not "
        "a bound."
    )
    mass_not_found = (
        "Part of the probability mass was not found: the density's integral over "
        "the searched region is below 1 and no second method confirmed the "
        "normalisation. Pass `modes=` or `scale=` hints, or a narrower `support`."
    )

    # -- ode -------------------------------------------------------------------------
    step_size_collapsed = (
        "Integration step failed: the step size fell below 10 ulp of t (a "
        "singularity, a blow-up, or a problem too stiff for the method: try "
        "method='Radau')."
    )
    nonfinite_state = "The state became non-finite (nan or inf)."
    ode_max_steps_reached = (
        "max_steps was reached before the end of the interval; raise `max_steps` "
        "(or pass max_steps=None outside jit), or try method='Radau' if the problem "
        "is stiff."
    )
    max_events_exceeded = (
        "An event occurred more often than its max_events: the solve stopped before "
        "the step that would exceed it (raise Event(max_events=...))."
    )
    nonfinite_event = (
        "An event function returned nan or inf: the solve stopped at the start of "
        "that step (its crossings after that point cannot be located)."
    )
    event_not_found = (
        "The condition never reached 0 in t_span: there is no such time (the solve "
        "reached the end of t_span)."
    )

    # -- curvature -------------------------------------------------------------------
    not_converged = (
        "The Krylov iteration did not meet its tolerance within `num_matvecs` "
        "products; `error` is the residual bound reached."
    )
    not_symmetric = (
        "The operator is not symmetric (its Krylov matrix is asymmetric beyond "
        "rounding), but the method assumes a symmetric operator: the values are not "
        "eigenvalues of the operator. Symmetrise it, (A + A^T)/2, or check the "
        "matvec."
    )

    # -- derivatives -----------------------------------------------------------------
    derivative_mismatch = (
        "The derivative disagrees with the reference beyond the tolerance."
    )
    derivative_unverified = (
        "Some entries of the derivative could not be verified: the reference is "
        "undefined (nan) there, or less precise than the tolerance (finite "
        "differences that do not converge, as at a kink, a jump or the edge of the "
        "domain, where the derivative may not exist). Use reference='truth', or "
        "check at another point."
    )


_OK_CODES = (RESULTS.successful, RESULTS.event_occurred)


def _code(item: Any) -> int:
    """The integer code of a concrete, unbatched status item."""
    return int(item._value)


class NumericalError(RuntimeError):
    """A calculax result whose status is not OK, raised with ``throw=True``.

    Attributes:
        result: the result that failed (its ``value``, ``error`` and ``status``).
    """

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


def is_ok(status) -> jax.Array:
    """``True`` where ``status`` is ``successful`` or ``event_occurred``."""
    ok = jnp.zeros(jnp.shape(status._value), dtype=bool)
    for code in _OK_CODES:
        ok = ok | (status == code)
    return ok


def _is_concrete(x) -> bool:
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(x))


def summarize(status) -> str:
    """The message of a concrete status; for a batch, counts per distinct message."""
    if not _is_concrete(status):
        return "<traced status: its message is known after jit returns>"
    codes = np.asarray(status._value)
    names = RESULTS._index_to_message
    if codes.ndim == 0:
        return names[int(codes)]
    parts = []
    for code in sorted({int(c) for c in codes.ravel()}):
        text = names[code] or "successful"
        parts.append(f"{int(np.sum(codes == code))} of {codes.size}: {text}")
    return "; ".join(parts)


_ITEM_TYPE: Any = type(RESULTS.successful)
_NAMES = {_code(getattr(RESULTS, n)): n for n in RESULTS._name_to_item}


def format_array(x: Any, precision: int = 8) -> str:
    """A short printable form of a result field: its numbers, or shape and dtype."""
    if x is None or isinstance(x, str | int | float | bool):
        return repr(x)
    if isinstance(x, _ITEM_TYPE):
        if not _is_concrete(x):
            return "<traced status>"
        value = np.asarray(getattr(x, "_value"))
        codes = value.ravel()
        names = [_NAMES[int(c)] for c in codes[:6]]
        if value.ndim == 0:
            return names[0]
        return "[" + ", ".join(names) + (", ...]" if codes.size > 6 else "]")
    if isinstance(x, jax.core.Tracer):
        return f"<traced {x.dtype}{list(x.shape)}>"
    if not hasattr(x, "shape"):
        leaves = jax.tree.leaves(x)
        if len(leaves) == 1:
            return format_array(leaves[0], precision)
        return f"<pytree of {len(leaves)} arrays>"
    arr = np.asarray(x)
    if arr.size > 12:
        return f"{arr.dtype}{list(arr.shape)}"
    with np.printoptions(precision=precision):
        return np.array2string(arr, separator=", ")


class AbstractResult(eqx.Module):
    """Base of every calculax result: ``value``, ``error``, ``status``, ``message``.

    Subclasses declare the fields ``value``, ``error`` and ``status`` (and any
    others); this base gives them ``ok``, ``message`` and a ``repr`` that prints
    the numbers.
    """

    value: eqx.AbstractVar[Any]
    error: eqx.AbstractVar[Any]
    status: eqx.AbstractVar[Any]

    @property
    def ok(self) -> jax.Array:
        """``True`` where the status is OK (``successful`` or ``event_occurred``)."""
        return is_ok(self.status)

    @property
    def message(self) -> str:
        """The status in words (per-message counts for a batch of results)."""
        return summarize(self.status)

    def __repr__(self) -> str:
        fields = []
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if callable(value) and not hasattr(value, "shape"):
                continue
            fields.append(f"{name}={format_array(value)}")
        return f"{type(self).__name__}({', '.join(fields)})"

    __str__ = __repr__


def finish(result, throw: bool, where: str):
    """Return ``result``, raising first if ``throw`` and its status is not OK.

    Concrete results raise :class:`NumericalError` (``where: message``); traced
    ones get an ``equinox.branched_error_if`` on their arrays, which raises the
    same message when the compiled program runs.
    """
    if not throw:
        return result
    status = result.status
    if _is_concrete(status):
        codes = np.asarray(status._value)
        ok_codes = [_code(code) for code in _OK_CODES]
        if not bool(np.all(np.isin(codes, ok_codes))):
            raise NumericalError(f"{where}: {summarize(status)}", result)
        return result
    ok = is_ok(status)
    messages = [
        f"{where}: {text or 'successful'}" for text in RESULTS._index_to_message
    ]
    dynamic, static = eqx.partition(result, eqx.is_array)
    index = jnp.where(ok, 0, status._value)
    dynamic = eqx.branched_error_if(dynamic, ~ok, index, messages)
    return eqx.combine(dynamic, static)

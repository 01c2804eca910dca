r"""``check_derivative``: a gradcheck whose reference is right, entry by entry.

The derivative tensor that ``calculax.derivative`` computes (with every custom rule
in ``f``), :math:`y`, is compared entry by entry with a reference :math:`r`
(``_reference``): the truth from ``f``'s jaxpr evaluated in mpmath, or
Richardson-extrapolated finite differences with their own error estimate
:math:`\delta r` (``0`` for the truth). The tolerance of an entry is its own,

.. math:: \tau = \mathrm{atol} + \mathrm{rtol}\,\big(|r| + s\big), \qquad
          s = \sum_j |x_j|\,\Big|\frac{\partial y}{\partial x_j}\Big|,

the definition of *right* of ``calculax._core.tolerance`` (within ``rtol`` of the
reference, or of the reference at inputs moved by ``rtol``), never a scale borrowed
from the other entries. The floor :math:`s` (the derivative of one order more, by
automatic differentiation, over every floating input :math:`x_j`) is what lets an
entry that vanishes or cancels carry the rounding its inputs cause; it is computed
only when some entry fails without it. Defaults: ``rtol = 2**(4 + k) * eps`` for order
``k`` in the computed dtype (32 ulp at order 1), at least ``sqrt(eps)`` of the
differencing dtype for finite differences; ``atol = tiny`` (the smallest normal
number: XLA on CPU flushes subnormal results to zero).

An entry is

* *right* when :math:`|y - r| \le \tau + 2\delta r` and :math:`2\delta r \le \tau`
  (the reference is at least as precise as the tolerance); ``nan`` against a ``nan``
  reference and equal infinities are right;
* *wrong* when :math:`|y - r| > \tau + 2\delta r`, or exactly one is non-finite;
* *unverified* otherwise: the reference is ``nan`` (the derivative may not exist
  there: ``sqrt`` at 0), or less precise than the tolerance, or did not converge
  (finite differences whose error estimate exceeds 1% of them: a kink such as
  ``sign`` at 0, a jump, the edge of the domain), or the truth changes with the
  difference step (the derivative does not exist there: the truth of a *wrong*
  entry is computed again with 256 times smaller steps to tell).

The result's status is ``RESULTS.derivative_mismatch`` if any entry is wrong,
``RESULTS.derivative_unverified`` if some could not be verified, else successful.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core import tolerance
from .._core.results import RESULTS, AbstractResult, NumericalError, summarize
from .._core.validate import boolean
from ._derivative import derivative
from ._reference import differentiable, fd_tensor, truth_tensor
from ._size_guard import DerivativeTooLargeError
from ._validate import check_args, check_callable, output_shape, steps_of

__all__ = ["check_derivative", "DerivativeCheck", "DerivativeMismatchError"]

REFERENCES = {
    "truth": "the truth (f's jaxpr in mpmath, calculax.audit.true_derivative)",
    "finite-difference": "Ridders-extrapolated central differences",
}
MAX_TRUTH_ENTRIES = 20_000
MIN_DIGITS = 20
RIGHT, WRONG, UNVERIFIED = 0, 1, 2
# A finite-difference reference whose error estimate exceeds 1% of it did not
# converge (the differences keep changing with the step): it decides nothing.
CONVERGED = 1e-2


class DerivativeMismatchError(NumericalError, ValueError):
    """``check_derivative`` found entries that disagree with the reference
    (``.result`` is the :class:`DerivativeCheck`)."""


class DerivativeCheck(AbstractResult):
    """The outcome of :func:`check_derivative`, entry by entry.

    ``value`` (also ``computed``) is the derivative tensor calculax computed, of
    shape ``out.shape + x_{s_1}.shape + ...``; ``reference`` the reference tensor and
    ``reference_error`` its own error estimate (``0`` for the truth); ``error``
    estimates ``|value - truth|`` per entry (``|value - reference| +
    reference_error``, ``inf`` where exactly one is non-finite); ``allowed`` the
    tolerance :math:`\\tau` per entry; ``verdict`` ``0`` right, ``1`` wrong, ``2``
    unverified. ``status`` is a :data:`calculax.RESULTS` item, ``message`` its words.
    """

    value: np.ndarray
    error: np.ndarray
    status: Any
    reference: np.ndarray
    reference_error: np.ndarray
    allowed: np.ndarray
    verdict: np.ndarray
    steps: tuple[int, ...] = eqx.field(static=True)
    reference_kind: str = eqx.field(static=True)
    rtol: float = eqx.field(static=True)
    atol: float = eqx.field(static=True)

    @property
    def computed(self) -> np.ndarray:
        """The derivative tensor calculax computed (``value``)."""
        return self.value

    @property
    def failures(self) -> int:
        """How many entries are wrong."""
        return int(np.sum(self.verdict == WRONG))

    @property
    def unverified(self) -> int:
        """How many entries could not be verified."""
        return int(np.sum(self.verdict == UNVERIFIED))

    def worst(
        self, count: int = 5
    ) -> list[tuple[tuple[int, ...], float, float, float, float]]:
        """``(index, computed, reference, error, allowed)`` of the ``count`` entries
        furthest from right: the wrong ones first, then the unverified, each by
        ``error / allowed``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.error == 0, 0.0, self.error / self.allowed)
        ratio = np.nan_to_num(ratio, nan=np.inf)
        rank = np.where(self.verdict == WRONG, 2, np.where(self.verdict == 2, 1, 0))
        keys = np.lexsort((-ratio.ravel(), -rank.ravel()))[:count]
        rows = []
        for flat in keys:
            index = tuple(int(i) for i in np.unravel_index(flat, self.error.shape))
            rows.append(
                (
                    index,
                    float(self.value[index]),
                    float(self.reference[index]),
                    float(self.error[index]),
                    float(self.allowed[index]),
                )
            )
        return rows

    def __str__(self) -> str:
        size = self.error.size
        parts = []
        if self.failures:
            parts.append(f"{self.failures} of {size} entries disagree with")
        if self.unverified:
            parts.append(
                f"{self.unverified} of {size} entries could not be verified against"
            )
        verdict = " and ".join(parts) if parts else "agree with"
        lines = [
            f"check_derivative: order {len(self.steps)} along argnums {self.steps}, "
            f"tensor shape {self.error.shape}: {verdict} "
            f"{REFERENCES[self.reference_kind]} (allowed per entry: atol + "
            f"rtol*(|reference| + slope) + 2*reference error, rtol={self.rtol:.3g}, "
            f"atol={self.atol:.3g}). Worst entries:"
        ]
        for index, value, reference, error, allowed in self.worst():
            lines.append(
                f"  index {index}: computed {value:.17g}, reference {reference:.17g}, "
                f"error {error:.3g} (allowed {allowed:.3g})"
            )
        if self.status != RESULTS.successful:
            lines.append(summarize(self.status))
        if self.failures:
            lines.append(
                "Where f has a kink or a jump at the point, its derivative does not "
                "exist there, and the computed value is a convention."
            )
        return "\n".join(lines)


def _checked_inputs(f: Callable, args, steps: Sequence[int]):
    if not isinstance(args, tuple | list):
        raise TypeError(
            "check_derivative: args must be a tuple of f's positional arguments, "
            f"got {type(args).__name__}; write args=(x,) for a single argument"
        )
    check_args(args, steps, "check_derivative")
    out = output_shape(f, args, "check_derivative")
    if not isinstance(out, jax.ShapeDtypeStruct):
        raise TypeError(
            "check_derivative: f must return a single array (flatten pytree outputs, "
            f"e.g. with jax.flatten_util.ravel_pytree), got {out}"
        )
    for step in sorted(set(steps)):
        leaves = jax.tree.leaves(args[step])
        if len(leaves) != 1:
            raise TypeError(
                f"check_derivative: argument {step} must be an array, not a pytree "
                "(flatten it with jax.flatten_util.ravel_pytree)"
            )
        if not bool(np.all(np.isfinite(np.asarray(leaves[0], np.float64)))):
            raise ValueError(
                f"check_derivative: argument {step} contains nan or inf; a "
                "derivative at a non-finite point is undefined"
            )
    return out


def _tolerance(name: str, value, default: float) -> float:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"check_derivative: `{name}` must be a non-negative finite number or "
            f"None; got {value!r}."
        )
    if not (0 <= float(value) < math.inf):
        raise ValueError(
            f"check_derivative: `{name}` must be a non-negative finite number or "
            f"None; got {value!r}."
        )
    return float(value)


def _digits(digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral):
        raise TypeError(
            f"check_derivative: `digits` must be an integer >= {MIN_DIGITS}; got "
            f"{digits!r}."
        )
    if digits < MIN_DIGITS:
        raise ValueError(
            f"check_derivative: `digits` must be an integer >= {MIN_DIGITS} (the "
            f"truth must be far more precise than float64's 16 digits); got {digits}."
        )
    return int(digits)


def _slope(f: Callable, args, argnums, order, shape) -> np.ndarray:
    """:math:`\\sum_j |x_j|\\,|\\partial y / \\partial x_j|` over every floating
    array input, by forward mode on the derivative (one compilation); ``0`` where it
    cannot be computed (then the check is the stricter one)."""
    inputs = tuple(
        j
        for j, arg in enumerate(args)
        if len(jax.tree.leaves(arg)) == 1
        and jax.tree.leaves(arg)[0] is arg
        and jnp.issubdtype(jnp.result_type(arg), jnp.floating)
    )
    if not inputs:
        return np.zeros(shape)
    inner = derivative(f, argnums, order)
    try:
        more = jax.jit(jax.jacfwd(inner, argnums=inputs))(*args)
    except (DerivativeTooLargeError, TypeError, ValueError):
        return np.zeros(shape)
    total = np.zeros(shape)
    for j, block in zip(inputs, more):
        block = np.abs(np.asarray(block, np.float64))
        weights = np.abs(np.asarray(args[j], np.float64))
        axes = tuple(range(block.ndim - weights.ndim, block.ndim))
        inner_axes = tuple(range(weights.ndim))
        total = total + np.tensordot(block, weights, axes=(axes, inner_axes))
    return np.where(np.isfinite(total), total, 0.0)


def _verdicts(y, r, dr, base, largest: float):
    """Per entry: RIGHT, WRONG or UNVERIFIED (module doc), and the error estimate.

    A finite reference beyond the dtype's ``largest`` number is matched by an
    infinity of its sign (the dtype cannot do better, and the overflow is loud).
    """
    finite = np.isfinite(y) & np.isfinite(r)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.where(finite, np.abs(y - r), 0.0)
        within = finite & (gap <= base + 2 * dr)
        precise = 2 * dr <= base
        converged = dr <= CONVERGED * np.abs(np.nan_to_num(r)) + base / 2
    verdict = np.where(within & precise, RIGHT, np.where(within, UNVERIFIED, WRONG))
    verdict = np.where(converged, verdict, UNVERIFIED)
    both_nan = np.isnan(y) & np.isnan(r)
    with np.errstate(invalid="ignore"):
        overflowed = np.isfinite(r) & (np.abs(r) > largest) & (y == np.sign(r) * np.inf)
    same_inf = (np.isinf(r) & (y == r)) | overflowed
    verdict = np.where(both_nan | same_inf, RIGHT, verdict)
    verdict = np.where(np.isnan(r) & ~np.isnan(y), UNVERIFIED, verdict)
    error = np.where(finite, gap + dr, np.where(both_nan | same_inf, 0.0, np.inf))
    return verdict, error


def check_derivative(
    f: Callable,
    args: Sequence,
    order: int | Sequence[int] = 1,
    argnums: int | Sequence[int] = 0,
    reference: str = "truth",
    *,
    rtol: float | None = None,
    atol: float | None = None,
    digits: int = 30,
    throw: bool = True,
) -> DerivativeCheck:
    r"""Compare ``derivative(f, argnums, order)(*args)`` with a trusted reference.

    ``reference="truth"``: every entry from ``f``'s own jaxpr evaluated in mpmath at
    ``digits`` digits and differentiated by high-precision differences
    (``calculax.audit.true_derivative``); independent of any derivative rule, exact
    to far below float64, but slow (one interpreter run per entry; refused above
    20,000 entries). ``reference="finite-difference"``: Ridders-extrapolated central
    differences of the automatic derivative of one order less (of ``f`` at order 1),
    in float64 where JAX has it, with an error estimate per entry. Each entry has its
    own tolerance; entries where the reference cannot decide are *unverified*, never
    passed (module docstring).

    Args:
        f: function of positional array arguments returning one real array.
        args: tuple of ``f``'s arguments (the point; finite).
        order: as in :func:`derivative`, at least 1.
        argnums: as in :func:`derivative`.
        reference: ``"truth"`` or ``"finite-difference"``.
        rtol: relative tolerance (default from the order and dtype).
        atol: absolute tolerance (default: the smallest normal number of the dtype).
        digits: working digits of the truth, ``>= 20``.
        throw: raise on a non-OK status (otherwise inspect ``.status``/``.ok``).

    Returns:
        A :class:`DerivativeCheck` (``value``, ``error``, ``status``, ``message``,
        the reference, the tolerance and the verdict per entry, ``worst()``).

    Raises:
        DerivativeMismatchError: (``throw=True``) an entry disagrees; the message
            lists the worst entries.
        calculax.NumericalError: (``throw=True``) some entries could not be
            verified (and none disagrees).
        ValueError: unknown ``reference``, order 0, too many entries for the truth,
            a non-finite argument, a negative tolerance, ``digits < 20``, and
            everything :func:`derivative` raises.
        TypeError: ``f`` not callable; non-tuple ``args``; pytree arguments or
            outputs; non-floating inputs or outputs; non-numeric tolerances.
        NotImplementedError: ``reference="truth"`` for a function using a primitive
            the high-precision interpreter does not evaluate (it is named).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import check_derivative
        >>> report = check_derivative(lambda x: jnp.sin(x) * x, (jnp.ones(2),))
        >>> bool(report.ok), report.value.shape, report.message
        (True, (2, 2), '')
    """
    where = "check_derivative"
    check_callable(f, where)
    if not isinstance(reference, str) or reference not in REFERENCES:
        raise ValueError(
            f"check_derivative: reference must be one of {tuple(REFERENCES)}, got "
            f"{reference!r}"
        )
    boolean(where, "throw", throw)
    digits = _digits(digits)
    steps = steps_of(argnums, order, where)
    if not steps:
        raise ValueError("check_derivative: order must be at least 1, got 0")
    out = _checked_inputs(f, args, steps)
    entries = math.prod(out.shape) * math.prod(np.size(args[s]) for s in steps)
    if reference == "truth" and entries > MAX_TRUTH_ENTRIES:
        raise ValueError(
            f"check_derivative: the truth for {entries} entries would take very long "
            f"(limit {MAX_TRUTH_ENTRIES}); check a smaller problem or use "
            "reference='finite-difference'"
        )
    computed = np.asarray(derivative(f, argnums, order)(*args), np.float64)
    default_rtol = tolerance.rtol(len(steps), out.dtype)
    if reference == "truth":
        try:
            ref = truth_tensor(f, args, steps, digits)
        except NotImplementedError as unsupported:
            raise NotImplementedError(
                f"check_derivative: {unsupported}; reference='finite-difference' "
                "works for any function"
            ) from unsupported
        uncertainty = np.zeros_like(ref)
    else:
        ref, uncertainty = fd_tensor(f, args, steps, derivative)
        fd_dtype = np.float64 if jax.config.read("jax_enable_x64") else out.dtype
        default_rtol = max(default_rtol, math.sqrt(float(np.finfo(fd_dtype).eps)))
    rtol = _tolerance("rtol", rtol, default_rtol)
    atol = _tolerance("atol", atol, float(np.finfo(out.dtype).tiny))
    with np.errstate(invalid="ignore", over="ignore"):
        base = atol + rtol * np.abs(np.nan_to_num(ref, posinf=0.0, neginf=0.0))
    largest = float(np.finfo(out.dtype).max)
    verdict, error = _verdicts(computed, ref, uncertainty, base, largest)
    if np.any(verdict != RIGHT):  # the floor is needed only here: compute it once
        base = base + rtol * _slope(f, args, argnums, order, computed.shape)
        verdict, error = _verdicts(computed, ref, uncertainty, base, largest)
    if reference == "truth" and np.any(verdict == WRONG):
        smooth = differentiable(f, args, steps, digits, verdict == WRONG)
        verdict = np.where(smooth, verdict, UNVERIFIED)
    status = (
        RESULTS.derivative_mismatch
        if np.any(verdict == WRONG)
        else RESULTS.derivative_unverified
        if np.any(verdict == UNVERIFIED)
        else RESULTS.successful
    )
    report = DerivativeCheck(
        value=computed,
        error=error,
        status=status,
        reference=np.asarray(ref, np.float64),
        reference_error=np.asarray(uncertainty, np.float64),
        allowed=base,
        verdict=verdict,
        steps=tuple(steps),
        reference_kind=reference,
        rtol=rtol,
        atol=atol,
    )
    if throw and report.failures:
        raise DerivativeMismatchError(str(report), report)
    if throw and report.unverified:
        raise NumericalError(str(report), report)
    return report

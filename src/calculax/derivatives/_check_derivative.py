r"""``check_derivative``: a gradcheck whose reference is right.

The derivative tensor that ``calculax.derivative`` computes (with every custom rule
in ``f``) is compared entry by entry with a reference (``_reference``): the truth
from ``f``'s jaxpr evaluated in mpmath, or Richardson-extrapolated finite
differences. An entry passes when

.. math:: |y - r| \le \mathrm{atol} + \mathrm{rtol}\,|r| + 2\,\delta r

where :math:`\delta r` is the finite differences' own error estimate (0 for the
truth). Defaults: ``rtol = 2**(4 + k) * eps`` for order ``k`` in the computed dtype
(32 ulp at order 1, as calculax's own tests), at least ``sqrt(eps)`` of the
differencing dtype for finite differences; ``atol = rtol * max|r|``, the tensor's
scale, because an entry that cancels to near zero carries the rounding of its
largest terms.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import jax
import numpy as np

from ._derivative import derivative
from ._reference import fd_tensor, truth_tensor
from ._validate import check_args, output_shape, steps_of

__all__ = ["check_derivative", "DerivativeCheck", "DerivativeMismatchError"]

REFERENCES = {
    "truth": "the truth (f's jaxpr in mpmath, calculax.audit.true_derivative)",
    "finite-difference": "Ridders-extrapolated central differences",
}
MAX_TRUTH_ENTRIES = 20_000


class DerivativeMismatchError(ValueError):
    """``check_derivative`` found entries that disagree with the reference."""


@dataclasses.dataclass(frozen=True)
class DerivativeCheck:
    """The outcome of :func:`check_derivative`, entry by entry.

    ``computed``, ``reference``, ``error`` (``|computed - reference|``; ``inf`` where
    exactly one is non-finite) and ``allowed`` have the derivative tensor's shape
    ``out.shape + x_{s_1}.shape + ...``.
    """

    steps: tuple[int, ...]
    reference_kind: str
    computed: np.ndarray
    reference: np.ndarray
    error: np.ndarray
    allowed: np.ndarray
    rtol: float
    atol: float

    @property
    def failures(self) -> int:
        return int(np.sum(~(self.error <= self.allowed)))

    @property
    def ok(self) -> bool:
        return self.failures == 0

    def worst(
        self, count: int = 5
    ) -> list[tuple[tuple[int, ...], float, float, float, float]]:
        """``(index, computed, reference, error, allowed)`` of the ``count`` entries
        with the largest ``error / allowed``."""
        ratio = np.where(self.error == 0, 0.0, self.error / self.allowed)
        order = np.argsort(-ratio, axis=None, kind="stable")[:count]
        rows = []
        for flat in order:
            index = tuple(int(i) for i in np.unravel_index(flat, self.error.shape))
            rows.append(
                (
                    index,
                    float(self.computed[index]),
                    float(self.reference[index]),
                    float(self.error[index]),
                    float(self.allowed[index]),
                )
            )
        return rows

    def __str__(self) -> str:
        verdict = (
            "agree with"
            if self.ok
            else f"{self.failures} of {self.error.size} entries disagree with"
        )
        lines = [
            f"check_derivative: order {len(self.steps)} along argnums {self.steps}, "
            f"tensor shape {self.error.shape}: {verdict} "
            f"{REFERENCES[self.reference_kind]} (allowed: atol + rtol*|reference|, "
            f"rtol={self.rtol:.3g}, atol={self.atol:.3g}). Worst entries:"
        ]
        for index, value, reference, error, allowed in self.worst():
            lines.append(
                f"  index {index}: computed {value:.17g}, reference {reference:.17g}, "
                f"error {error:.3g} (allowed {allowed:.3g})"
            )
        return "\n".join(lines)


def _errors(computed: np.ndarray, reference: np.ndarray) -> np.ndarray:
    finite = np.isfinite(computed) & np.isfinite(reference)
    same = (computed == reference) | (np.isnan(computed) & np.isnan(reference))
    with np.errstate(invalid="ignore"):
        gap = np.abs(computed - reference)
    return np.where(finite, gap, np.where(same, 0.0, np.inf))


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
    for step in set(steps):
        if len(jax.tree.leaves(args[step])) != 1:
            raise TypeError(
                f"check_derivative: argument {step} must be an array, not a pytree "
                "(flatten it with jax.flatten_util.ravel_pytree)"
            )
    return out


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
    in float64 where JAX has it. Tolerance: see the module docstring.

    Args:
        f: function of positional array arguments returning one real array.
        args: tuple of ``f``'s arguments (the point).
        order: as in :func:`derivative`.
        argnums: as in :func:`derivative`.
        reference: ``"truth"`` or ``"finite-difference"``.
        rtol: relative tolerance (default from the order and dtype).
        atol: absolute tolerance (default ``rtol * max|reference|``).
        digits: working digits of the truth.
        throw: raise on a mismatch (otherwise inspect ``report.ok``).

    Returns:
        A :class:`DerivativeCheck` with the computed and reference tensors, the
        errors and the worst entries.

    Raises:
        DerivativeMismatchError: (``throw=True``) an entry disagrees; the message
            lists the worst entries.
        ValueError: unknown ``reference``, order 0, too many entries for the truth,
            and everything :func:`derivative` raises.
        TypeError: non-tuple ``args``, pytree arguments or outputs, non-floating
            inputs or outputs.
        NotImplementedError: ``reference="truth"`` for a function using a primitive
            the high-precision interpreter does not evaluate (it is named).

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.derivatives import check_derivative
        >>> report = check_derivative(lambda x: jnp.sin(x) * x, (jnp.ones(2),))
        >>> report.ok, report.computed.shape
        (True, (2, 2))
    """
    if reference not in REFERENCES:
        raise ValueError(
            f"reference must be one of {tuple(REFERENCES)}, got {reference!r}"
        )
    steps = steps_of(argnums, order)
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
    eps = float(np.finfo(out.dtype).eps)
    default_rtol = 2.0 ** (4 + len(steps)) * eps
    uncertainty: float | np.ndarray
    if reference == "truth":
        try:
            ref, uncertainty = truth_tensor(f, args, steps, digits), 0.0
        except NotImplementedError as error:
            raise NotImplementedError(
                f"check_derivative: {error}; reference='finite-difference' works for "
                "any function"
            ) from error
    else:
        ref, uncertainty = fd_tensor(f, args, steps, derivative)
        fd_dtype = np.float64 if jax.config.read("jax_enable_x64") else out.dtype
        default_rtol = max(default_rtol, math.sqrt(float(np.finfo(fd_dtype).eps)))
        uncertainty = np.where(np.isfinite(uncertainty), uncertainty, 0.0)
    rtol = default_rtol if rtol is None else float(rtol)
    finite = np.abs(ref[np.isfinite(ref)])
    if atol is None:
        atol = rtol * (float(finite.max()) if finite.size else 0.0)
    allowed = atol + rtol * np.abs(np.nan_to_num(ref)) + 2 * uncertainty
    report = DerivativeCheck(
        steps, reference, computed, ref, _errors(computed, ref), allowed, rtol, atol
    )
    if throw and not report.ok:
        raise DerivativeMismatchError(str(report))
    return report

r"""Finite differences: the central stencil of any order and Ridders' extrapolation.

The central difference of order ``k`` with step ``h`` uses the points
:math:`x + o_i h` on integer offsets,

.. math:: D_h^k f(x) = h^{-k} \sum_{i=0}^{k} w_i\, f(x + o_i h), \qquad
          o_i = c\,(k/2 - i), \quad w_i = (-1)^i \binom{k}{i} / c^k,

with ``c = 2`` for odd ``k`` and ``1`` for even ``k`` (so the offsets are integers:
``(f(x+h) - f(x-h)) / 2h`` at ``k = 1``, ``(f(x+h) - 2f(x) + f(x-h)) / h^2`` at
``k = 2``). Its error is :math:`O(h^2)` truncation plus :math:`O(\epsilon/h^k)`
rounding, smallest near :func:`optimal_step` :math:`h \sim \epsilon^{1/(k+2)}`
relative to the scale of ``x``. :func:`ridders` removes the truncation error by
Richardson extrapolation over a shrinking sequence of steps, with an error estimate
per entry.

Used by ``check_derivative``'s finite-difference reference (Ridders), by
``explain``'s V curve (:func:`stencil`, :func:`combine`) and by the curvature
package's finite-difference Hessian-vector product (:func:`central_difference`
along a direction, :func:`optimal_step`).

References:
    C. J. F. Ridders, "Accurate computation of F'(x) and F'(x) F''(x)", Advances in
    Engineering Software 4(2), 75-76 (1982); Press et al., *Numerical Recipes*, 3rd
    ed., section 5.7 (``dfridr``); Nocedal and Wright, *Numerical Optimization*, 2nd
    ed., section 8.1 (the step of a central difference).

Example:
    >>> import jax.numpy as jnp
    >>> stencil(2)
    ((1.0, 0.0, -1.0), (1.0, -2.0, 1.0))
    >>> float(central_difference(lambda t: t**3, 2.0, 1e-3))  # 3 x**2 + h**2
    12.000001
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import jax
import numpy as np

__all__ = ["central_difference", "combine", "optimal_step", "ridders", "stencil"]


def stencil(order: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(offsets, weights)`` of the central difference of ``order`` (module doc),
    as Python floats (weakly typed: they keep the dtype of the arrays they meet)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"stencil: `order` must be an integer >= 1; got {order!r}.")
    spacing = 2 if order % 2 else 1
    offsets = tuple(float(spacing * (order / 2 - i)) for i in range(order + 1))
    weights = tuple(
        (-1) ** i * math.comb(order, i) / spacing**order for i in range(order + 1)
    )
    return offsets, weights


def combine(samples: Sequence, h, order: int):
    """:math:`h^{-k}\\sum_i w_i s_i` for the samples :math:`s_i = f(x + o_i h)` (NumPy
    or JAX arrays, or pytrees of them, one per offset of :func:`stencil`)."""
    _, weights = stencil(order)

    def weighted(*values):
        total = values[0] * weights[0]
        for w, value in zip(weights[1:], values[1:]):
            total = total + value * w
        return total / h**order

    return jax.tree.map(weighted, *samples)


def central_difference(f: Callable, x, h, order: int = 1):
    """:math:`D_h^k f(x)`: ``f`` of a scalar (or array) ``x`` returning any pytree.

    Jittable; ``h`` may be traced. Along a direction ``v`` of a point ``p``, pass
    ``lambda t: g(p + t * v)`` and ``x = 0``.
    """
    offsets, _ = stencil(order)
    samples = [f(x + o * h) for o in offsets]
    return combine(samples, h, order)


def optimal_step(order: int, eps: float) -> float:
    """:math:`\\epsilon^{1/(k+2)}`: the relative step that balances the
    :math:`O(h^2)` truncation and :math:`O(\\epsilon/h^k)` rounding errors."""
    return float(eps) ** (1.0 / (order + 2))


def ridders(
    difference: Callable[[np.ndarray], np.ndarray],
    h: np.ndarray,
    *,
    shrink: float = 1.6,
    steps: int = 14,
    safe: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Ridders-extrapolated limit of ``difference(h)`` as ``h -> 0``, per entry.

    ``difference(h)`` returns the differences at the steps ``h`` (an array; its last
    axis pairs with ``h``'s entries). The steps are divided by ``shrink`` up to
    ``steps`` times; the Neville tableau of each step's extrapolations gives the
    estimate whose successive-difference error is smallest, and an entry stops when
    the diagonal's error grows past ``safe`` times the best (rounding has taken
    over). Non-finite differences (a step leaving the domain) count as infinite
    error, so they are never chosen over a finite estimate.

    Returns:
        ``(estimate, error)`` as float64 arrays of ``difference``'s output shape.
        ``error`` is ``inf`` where no two finite differences were ever compared.
    """
    previous = [np.asarray(difference(h), np.float64)]
    best = previous[0].copy()
    error = np.full(best.shape, np.inf)
    active = np.ones(best.shape, dtype=bool)
    for _ in range(1, steps):
        h = h / shrink
        row = [np.asarray(difference(h), np.float64)]
        factor = shrink**2
        with np.errstate(invalid="ignore", over="ignore"):
            for j in range(1, len(previous) + 1):
                row.append((row[j - 1] * factor - previous[j - 1]) / (factor - 1))
                factor *= shrink**2
                estimate = np.maximum(
                    np.abs(row[j] - row[j - 1]), np.abs(row[j] - previous[j - 1])
                )
                estimate = np.where(np.isfinite(estimate), estimate, np.inf)
                better = active & (estimate <= error)
                best = np.where(better, row[j], best)
                error = np.where(better, estimate, error)
            growing = np.abs(row[-1] - previous[-1]) >= safe * error
        active &= ~(growing & np.isfinite(error))
        if not active.any():
            break
        previous = row
    return best, error

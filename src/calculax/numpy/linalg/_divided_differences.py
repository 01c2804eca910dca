"""Divided differences :math:`f[x_0, \\dots, x_k]` that stay accurate when points meet.

For sorted points :math:`x_0 \\le \\dots \\le x_k` two evaluations are formed and the
one with the smaller error estimate is kept, element by element:

* the recurrence :math:`(f[x_1..x_k] - f[x_0..x_{k-1}])/(x_k - x_0)` (points apart;
  dividing by the full spread :math:`x_k - x_0` is the best-conditioned choice), with
  estimated error :math:`(e_{hi} + e_{lo} + \\epsilon(|f[x_1..]| + |f[..x_{k-1}]|))
  /(x_k - x_0)`, :math:`e` being the estimates of the two lower differences;
* the Hermite--Genocchi integral over the simplex :math:`\\Sigma_k` (points close or
  equal),

  .. math::

      f[x_0, \\dots, x_k] = \\int_{\\Sigma_k} f^{(k)}\\Big(\\sum_i t_i x_i\\Big)\\,dt,

  by a conical product of Gauss--Legendre rules (positive weights summing to
  :math:`1/k!`, exact for polynomial :math:`f^{(k)}` of degree :math:`2q - k`), with
  estimated error the difference from the rule with one node fewer per direction.
  At equal points it is exactly :math:`f^{(k)}(x)/k!` up to rounding.

The estimates carry the scale of ``f`` itself, so no length scale is guessed: ``exp``
near ``100`` and ``log`` near ``1e-30`` each switch at their own scale. Only
:math:`f^{(k)}` is needed (nested ``jax.jvp`` of the element-wise ``f``), never
higher derivatives.

References:
    C. de Boor, "Divided differences", Surveys in Approximation Theory 1 (2005),
    Section 3 (Hermite--Genocchi).
    A. H. Stroud, *Approximate Calculation of Multiple Integrals*, Prentice-Hall
    1971, Section 2.7 (conical product rules on the simplex).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["divided_difference_tensor"]

# Gauss--Legendre nodes per direction of the simplex rule, by order k (cost q**k).
NODES = {1: 10, 2: 8, 3: 6, 4: 5}


def _nodes(order: int) -> int:
    return NODES.get(order, 4)


def _derivatives(f: Callable, x: jax.Array, count: int) -> list[jax.Array]:
    """``[f(x), f'(x), ..., f^(count)(x)]`` for an element-wise ``f``."""
    functions = [f]
    for _ in range(count):
        functions.append(_derivative(functions[-1]))
    return [g(x) for g in functions]


def _derivative(g: Callable) -> Callable:
    def derivative(x):
        return jax.jvp(g, (x,), (jnp.ones_like(x),))[1]

    return derivative


@functools.cache
def simplex_rule(dimension: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Barycentric nodes ``(Q, dimension + 1)`` and weights ``(Q,)`` on the simplex.

    Collapsed coordinates :math:`t_j = u_j \\prod_{i<j}(1 - u_i)` map the cube to the
    simplex with Jacobian :math:`\\prod_i (1 - u_i)^{k-i}`, folded into the weights.
    """
    u, w = np.polynomial.legendre.leggauss(nodes)
    u, w = (u + 1) / 2, w / 2
    points, weights = [], []
    for index in itertools.product(range(nodes), repeat=dimension):
        remaining, weight, t = 1.0, 1.0, []
        for i, j in enumerate(index):
            t.append(remaining * u[j])
            weight *= w[j] * remaining
            remaining *= 1 - u[j]
        points.append([remaining, *t])
        weights.append(weight)
    return np.array(points), np.array(weights)


@functools.cache
def _tuples(n: int, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted index tuples of ``order + 1`` points, and the positions of their lower
    (drop the last) and upper (drop the first) sub-tuples among those of one less."""
    tuples = list(itertools.combinations_with_replacement(range(n), order + 1))
    if order == 0:
        empty = np.zeros(0, dtype=np.int32)
        return np.array(tuples, dtype=np.int32), empty, empty
    position = {
        t: i
        for i, t in enumerate(itertools.combinations_with_replacement(range(n), order))
    }
    lower = np.array([position[t[:-1]] for t in tuples], dtype=np.int32)
    upper = np.array([position[t[1:]] for t in tuples], dtype=np.int32)
    return np.array(tuples, dtype=np.int32), lower, upper


@functools.cache
def _full_index(n: int, order: int) -> np.ndarray:
    """For every index tuple in ``range(n)**(order+1)``, its sorted tuple's position."""
    tuples, _, _ = _tuples(n, order)
    position = {tuple(t): i for i, t in enumerate(tuples.tolist())}
    grid = itertools.product(range(n), repeat=order + 1)
    return np.array([position[tuple(sorted(t))] for t in grid], dtype=np.int32)


def divided_difference_tensor(
    f: Callable, eigenvalues: jax.Array, order: int
) -> jax.Array:
    """:math:`f[\\lambda_{i_0}, \\dots, \\lambda_{i_k}]` for every index tuple.

    Args:
        f: element-wise, differentiable ``order`` times.
        eigenvalues: shape ``(..., n)``, sorted ascending along the last axis.
        order: ``k >= 0``.

    Returns:
        Shape ``(..., n, ..., n)`` with ``k + 1`` trailing axes of size ``n``,
        symmetric in them.
    """
    n = eigenvalues.shape[-1]
    dtype = eigenvalues.dtype
    eps = jnp.asarray(jnp.finfo(dtype).eps, dtype)
    values = f(eigenvalues)
    errors = eps * jnp.abs(values)
    # Quadrature nodes of every level (fine and coarse rule), evaluated in one pass.
    levels, nodes = [], []
    for level in range(1, order + 1):
        points = eigenvalues[..., _tuples(n, level)[0]]
        rules = [simplex_rule(level, q) for q in (_nodes(level), _nodes(level) - 1)]
        for barycentric, _ in rules:
            nodes.append(jnp.einsum("...j,qj->...q", points, barycentric.astype(dtype)))
        levels.append((points, [w.astype(dtype) for _, w in rules]))
    if order > 0:
        flat = jnp.concatenate([z.reshape(*z.shape[:-2], -1) for z in nodes], -1)
        derivatives = _derivatives(f, flat, order)
        split = np.cumsum([z.shape[-2] * z.shape[-1] for z in nodes])[:-1]
        pieces = [jnp.split(d, split, axis=-1) for d in derivatives]
    for level, (points, weights) in enumerate(levels, start=1):
        fine, coarse = (
            jnp.reshape(pieces[level][i], nodes[i].shape)
            for i in (2 * level - 2, 2 * level - 1)
        )
        values, errors = _level(
            values,
            errors,
            points,
            fine,
            coarse,
            weights,
            eps,
            *_tuples(n, level)[1:],
        )
    full = values[..., _full_index(n, order)]
    return jnp.reshape(full, (*values.shape[:-1], *(n,) * (order + 1)))


def _level(values, errors, points, fine, coarse, weights, eps, lower, upper):
    """Differences of one more point, from those of the level below."""
    # Recurrence over the full spread.
    spread = points[..., -1] - points[..., 0]
    apart = spread != 0
    safe = jnp.where(apart, spread, jnp.ones_like(spread))
    high, low = values[..., upper], values[..., lower]
    recurrence = (high - low) / safe
    recurrence_error = (
        errors[..., upper] + errors[..., lower] + eps * (jnp.abs(high) + jnp.abs(low))
    ) / safe
    recurrence_error = jnp.where(apart, recurrence_error, jnp.inf)
    # Hermite-Genocchi quadrature of f^(k) over the simplex.
    integral = jnp.einsum("...q,q->...", fine, weights[0])
    rough = jnp.einsum("...q,q->...", coarse, weights[1])
    integral_error = jnp.abs(integral - rough) + eps * jnp.einsum(
        "...q,q->...", jnp.abs(fine), weights[0]
    )
    integral_error = jnp.where(jnp.isnan(integral_error), jnp.inf, integral_error)
    use_integral = integral_error <= recurrence_error
    return (
        jnp.where(use_integral, integral, recurrence),
        jnp.where(use_integral, integral_error, recurrence_error),
    )

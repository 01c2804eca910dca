r"""Reference derivative tensors for ``check_derivative``: truth and finite differences.

Truth. Each entry :math:`\partial^k f_o / \partial p_1 \cdots \partial p_k` (``o`` an
output entry, ``p_s`` an entry of the argument differentiated at step ``s``) is
the true derivative (``calculax.audit.true_derivative``) of the scalar function of
the distinct entries
:math:`t_p \mapsto f(\ldots, \mathrm{where}(e_p, t_p, x), \ldots)_o`, i.e. ``f``'s
own jaxpr evaluated in mpmath and differentiated by high-precision central
differences. It does not look at any derivative rule, so it catches wrong ones.
Partial derivatives commute, so entries are computed once per multiset of positions.
Cost: one interpreter run per entry and multiset -- for small problems.

Finite differences. The last differentiation is done numerically on the automatic
derivative of the previous ones (as ``torch.autograd.gradgradcheck`` does; order 1
differences ``f`` itself): central differences for all entries of the argument at
once, Richardson-extrapolated over a shrinking sequence of steps with automatic step
selection (Ridders' method), in float64 when JAX has it enabled.

References:
    C. J. F. Ridders, "Accurate computation of F'(x) and F'(x) F''(x)", Advances
    in Engineering Software 4(2), 75-76 (1982); Press et al., *Numerical Recipes*,
    3rd ed., section 5.7 (``dfridr``).
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._core.differences import central_difference, ridders
from .._core.truth import partial_derivative

__all__ = ["differentiable", "fd_tensor", "ridders_tensor", "truth_tensor"]

SHRINK = 1.6
STEPS = 14
SAFE = 2.0


def _scalar_entry(f: Callable, args: Sequence, positions, out_index) -> Callable:
    def entry(*values):
        replaced = list(args)
        for (arg, flat), value in zip(positions, values):
            x = jnp.asarray(replaced[arg])
            mask = (jnp.arange(x.size) == flat).reshape(x.shape)
            replaced[arg] = jnp.where(mask, value.astype(x.dtype), x)
        return jnp.asarray(f(*replaced))[out_index]

    return entry


def _entries(args: Sequence, steps: Sequence[int], out_shape):
    """``(tensor index, out index, distinct positions with counts)`` per entry."""
    ranges = [range(args[step].size) for step in steps]
    for out_index in np.ndindex(out_shape):
        for flats in itertools.product(*ranges):
            key = tuple(sorted(zip(steps, flats)))
            index = out_index + tuple(
                i
                for step, flat in zip(steps, flats)
                for i in np.unravel_index(flat, args[step].shape)
            )
            yield index, out_index, key


def _truth_entry(f, args, out_index, key, digits: int, step_shift: int = 0) -> float:
    counts = collections.Counter(key)
    positions = list(counts)
    values = [args[a].reshape(-1)[i] for a, i in positions]
    entry = _scalar_entry(f, args, positions, out_index)
    orders = dict(zip(range(len(positions)), counts.values()))
    return float(partial_derivative(entry, values, orders, digits, step_shift))


def truth_tensor(f: Callable, args: Sequence, steps: Sequence[int], digits: int):
    """The derivative tensor of ``f`` along ``steps`` from the high-precision truth."""
    args = [np.asarray(a) for a in args]
    out_shape = jax.eval_shape(f, *args).shape
    shape = out_shape + tuple(s for step in steps for s in args[step].shape)
    truth = np.empty(shape, dtype=np.float64)
    cache: dict = {}
    for index, out_index, key in _entries(args, steps, out_shape):
        if (out_index, key) not in cache:
            cache[out_index, key] = _truth_entry(f, args, out_index, key, digits)
        truth[index] = cache[out_index, key]
    return truth


def differentiable(
    f: Callable, args: Sequence, steps: Sequence[int], digits: int, where: np.ndarray
) -> np.ndarray:
    """Whether the truth at the entries ``where`` (a boolean mask of the tensor)
    stays the same with 256 times smaller difference steps: ``False`` where it
    changes by more than ``10**(-digits/2)`` relative, i.e. where the derivative
    does not exist (a jump or a kink, whose differences grow like ``1/h``)."""
    args = [np.asarray(a) for a in args]
    out_shape = jax.eval_shape(f, *args).shape
    smooth = np.ones(where.shape, dtype=bool)
    for index, out_index, key in _entries(args, steps, out_shape):
        if not where[index]:
            continue
        coarse = _truth_entry(f, args, out_index, key, digits)
        fine = _truth_entry(f, args, out_index, key, digits, step_shift=8)
        scale = max(abs(coarse), abs(fine))
        smooth[index] = abs(coarse - fine) <= scale * 10.0 ** (-digits / 2)
    return smooth


def _differences(g: Callable, args: Sequence, argnum: int) -> Callable:
    """``h -> (g(x + h_i e_i) - g(x - h_i e_i)) / (2 h_i)`` for every entry ``i``."""
    x = jnp.asarray(args[argnum])

    def along(i, h):
        direction = (jnp.arange(x.size) == i).reshape(x.shape)

        def at(t):
            point = x + direction * t
            return jnp.asarray(g(*args[:argnum], point, *args[argnum + 1 :]))

        return central_difference(at, 0.0, h)

    batched = jax.jit(jax.vmap(along, in_axes=(0, 0), out_axes=-1))
    return lambda h: batched(jnp.arange(x.size), jnp.asarray(h, x.dtype).reshape(-1))


def ridders_tensor(g: Callable, args: Sequence, argnum: int):
    """Ridders-extrapolated ``d g / d args[argnum]``: ``(estimate, error estimate)``.

    Shapes ``out.shape + x.shape``. Per entry the initial step is
    ``0.1 * max(|x_i|, 1)``, divided by ``SHRINK`` up to ``STEPS`` times
    (``calculax._core.differences.ridders``).
    """
    x = np.asarray(args[argnum])
    h = 0.1 * np.maximum(np.abs(x), 1.0).reshape(-1)
    best, error = ridders(
        _differences(g, args, argnum), h, shrink=SHRINK, steps=STEPS, safe=SAFE
    )
    shape = best.shape[:-1] + x.shape
    return best.reshape(shape), error.reshape(shape)


def fd_tensor(f: Callable, args: Sequence, steps: Sequence[int], derivative):
    """Reference along ``steps``: automatic derivative of all but the last step,
    Ridders differences in the last. ``derivative`` is ``calculax.derivative``."""
    inner = f if len(steps) == 1 else _inner(f, steps[:-1], derivative)
    if jax.config.read("jax_enable_x64"):
        args = [jnp.asarray(a, jnp.float64) for a in args]
    return ridders_tensor(inner, args, steps[-1])


def _inner(f, steps, derivative):
    counts = [(a, len(list(group))) for a, group in itertools.groupby(steps)]
    argnums, orders = zip(*counts)
    return derivative(f, argnums=argnums, order=orders)

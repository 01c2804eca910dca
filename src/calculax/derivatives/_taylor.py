r"""Taylor mode: the ``k``-th derivative in a scalar argument at a cost of ``~k**2``.

Nesting ``k`` first-order derivatives of a scalar function differentiates the
derivative code of the previous level, which doubles in size each time: ``2**k``.
Taylor mode pushes the truncated series :math:`x(t) = x_0 + t` through ``f`` once and
reads off :math:`f^{(k)}(x_0)`, the series' last term (series hold derivatives, not
normalised coefficients, so no factorial over- or underflows: an order whose
derivative is representable is computed as such, and one whose derivative is not
overflows to ``inf``).

One rule table (``_series_rules``), two engines: for functions of JAX primitives only,
the coefficient engine (``_series_terms``), which traces each coefficient once and
skips the products that are known to vanish; through ``custom_jvp`` rules -- every
function of ``calculax.numpy`` and every ``calculax.stabilize``'d function is one --
the array engine (``_series``), whose traced graph does not grow with ``k`` (compile
time independent of the order). Where neither has a primitive's rule,
``jax.experimental.jet`` is used if it has them all (its graph grows with ``k``, and
it cannot follow ``custom_jvp`` rules); otherwise :class:`UnsupportedPrimitive` names
the primitive and ``derivative`` falls back to nested forward mode.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jax.experimental import jet
from jax.extend import core

from .._core.jaxpr import sub_jaxprs
from ._series_interpreter import (
    UnsupportedPrimitive,
    taylor_series,
    unrolled_derivative,
)

__all__ = ["UnsupportedPrimitive", "jet_obstacle", "taylor_derivative"]

_JET_PRIMITIVES = frozenset(p.name for p in jet.jet_rules)


def _first_obstacle(jaxpr: core.Jaxpr) -> str | None:
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name not in _JET_PRIMITIVES:
            return name
        for inner in sub_jaxprs(eqn.params):
            found = _first_obstacle(inner)
            if found is not None:
                return found
    return None


def jet_obstacle(f: Callable, args: Sequence) -> str | None:
    """The first primitive in ``f(*args)``'s jaxpr without a ``jet`` rule, or None."""
    return _first_obstacle(jax.make_jaxpr(f)(*args).jaxpr)


def taylor_derivative(
    f: Callable, args: Sequence, argnum: int, order: int, *, follow_rules: bool = True
):
    r""":math:`\partial^k f / \partial x^k` for scalar ``x = args[argnum]``.

    By the coefficient engine (plain JAX primitives), else by the array engine
    through ``custom_jvp`` rules (only when ``follow_rules``), else by ``jet``; the
    output may be any pytree of arrays. Raises
    :class:`UnsupportedPrimitive` (naming the missing primitive) where none applies.
    """
    try:  # functions of JAX primitives only: the coefficient engine, fastest
        return unrolled_derivative(f, args, argnum, order)
    except UnsupportedPrimitive:
        if not follow_rules:
            if jet_obstacle(f, args) is not None:
                raise
            return _jet_derivative(f, args, argnum, order)
    try:
        series = taylor_series(f, args, argnum, order)
    except UnsupportedPrimitive:
        if jet_obstacle(f, args) is not None:
            raise
        return _jet_derivative(f, args, argnum, order)
    return jax.tree.map(lambda c: c[order], series)


def _jet_derivative(f: Callable, args: Sequence, argnum: int, order: int):
    # jet's series are derivatives (not normalised coefficients): the input path
    # x0 + t has series (1, 0, ..., 0) and the output series' last term is the
    # order-th derivative.
    x = jnp.asarray(args[argnum])

    def of_x(value):
        return f(*args[:argnum], value, *args[argnum + 1 :])

    series = (jnp.ones_like(x),) + (jnp.zeros_like(x),) * (order - 1)
    _, out_series = jet.jet(of_x, (x,), (series,))
    leaves, tree = jax.tree.flatten(out_series, is_leaf=lambda v: isinstance(v, list))
    return jax.tree.unflatten(tree, [terms[-1] for terms in leaves])

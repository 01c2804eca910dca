r"""Taylor mode: the ``k``-th derivative in a scalar argument at a cost of ``~k**2``.

Nesting ``k`` first-order derivatives of a scalar function differentiates the
derivative code of the previous level, which doubles in size each time: ``2**k``.
Taylor mode pushes the truncated series :math:`x(t) = x_0 + t` through ``f`` once,
propagating :math:`k + 1` coefficients per operation with the Leibniz and Faa di Bruno
recurrences (quadratic in ``k``), and reads off
:math:`f^{(k)}(x_0) = k!\,[t^k]\,f(x(t))`. JAX's ``jax.experimental.jet`` implements
this for its built-in primitives.

``jet`` has no rules for ``custom_jvp``/``custom_vjp`` functions -- every function of
``calculax.numpy`` and every ``calculax.stabilize``'d function is one -- and fails on
them (``UnexpectedTracerError``); where it does not fail it would differentiate the
primal implementation and silently bypass the stable rule. So Taylor mode is used only
for functions whose jaxpr (sub-jaxprs included) has nothing but primitives with
``jet`` rules; :func:`jet_obstacle` names the first primitive that prevents it, and
``derivative`` falls back to nested forward mode (the custom rules, ``2**k``) there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
from jax.experimental import jet
from jax.extend import core

__all__ = ["jet_obstacle", "taylor_derivative"]

_JET_PRIMITIVES = frozenset(p.name for p in jet.jet_rules)


def _sub_jaxprs(params: dict):
    for value in params.values():
        items = value if isinstance(value, tuple | list) else (value,)
        for item in items:
            if isinstance(item, core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, core.Jaxpr):
                yield item


def _first_obstacle(jaxpr: core.Jaxpr) -> str | None:
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name not in _JET_PRIMITIVES:
            return name
        for inner in _sub_jaxprs(eqn.params):
            found = _first_obstacle(inner)
            if found is not None:
                return found
    return None


def jet_obstacle(f: Callable, args: Sequence) -> str | None:
    """The first primitive in ``f(*args)``'s jaxpr without a ``jet`` rule, or None."""
    return _first_obstacle(jax.make_jaxpr(f)(*args).jaxpr)


def taylor_derivative(f: Callable, args: Sequence, argnum: int, order: int):
    """:math:`\\partial^k f / \\partial x^k` for scalar ``x = args[argnum]`` by ``jet``.

    ``jet``'s series are derivatives (not normalised coefficients): the input path
    :math:`x_0 + t` has series ``(1, 0, ..., 0)`` and the output series' last term is
    the ``order``-th derivative. The output may be any pytree of arrays.
    """
    x = jnp.asarray(args[argnum])

    def of_x(value):
        return f(*args[:argnum], value, *args[argnum + 1 :])

    series = (jnp.ones_like(x),) + (jnp.zeros_like(x),) * (order - 1)
    _, out_series = jet.jet(of_x, (x,), (series,))
    leaves, tree = jax.tree.flatten(out_series, is_leaf=lambda v: isinstance(v, list))
    return jax.tree.unflatten(tree, [terms[-1] for terms in leaves])

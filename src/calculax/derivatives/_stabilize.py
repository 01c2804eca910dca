"""``stabilize(f)``: the same function, with ``calculax.numpy``'s derivative rules.

``f`` is traced to a jaxpr (``jax.make_jaxpr``) at each call's argument shapes, and
the jaxpr is evaluated again by ``_stable_interpreter``, which re-binds every
primitive with a stable counterpart to the ``calculax.numpy`` function and, with
``rewrite=True``, replaces the catastrophic patterns of ``_rewrite``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from .._core.validate import boolean
from ._stable_interpreter import Context, StabilizeReport, evaluate

__all__ = ["stabilize", "StabilizeReport"]


def stabilize(
    f: Callable | None = None, *, report: bool = False, rewrite: bool = False
) -> Callable:
    """Return ``f`` with every derivative computed by ``calculax.numpy``'s rules.

    The values are those of ``f`` (bit for bit where the calculax function uses the
    same primal, as most do; within 2 ulp otherwise, e.g. ``rsqrt`` becomes
    ``1/sqrt``, and right where JAX's ``hypot``/``norm`` composition over- or
    underflows); the derivatives of every order, forward and reverse, are those of
    the code rewritten with ``calculax.numpy``. Works with pytrees and keyword
    arguments; non-array leaves (strings, ``None``, Python objects) are static.
    Composes with ``jit``, ``vmap``, ``grad``, ``jacfwd``, ``jacrev``, ``hessian``.
    Usable as a decorator, with or without arguments.

    With ``rewrite=True`` the values change too, where ``f`` computes them badly:
    well-known catastrophic patterns (``log(1 + x)``, ``exp(x) - 1``,
    ``sqrt(x**2 + y**2)``, ``log(exp(a) + exp(b))``, ``log(sum(exp(x)))``,
    ``1/(1 + exp(-x))``, ``x / y**n``, ``x * log(x)``, ``exp(log(a) - log(b))``)
    are replaced by their stable forms (``log1p``, ``expm1``, ``hypot``, ...; the
    table is in ``calculax.derivatives._rewrite``).

    Args:
        f: the function to stabilize.
        report: keep a :class:`StabilizeReport` of the last trace as the
            attribute ``report`` of the returned function.
        rewrite: also rewrite the catastrophic patterns in the computed values.

    Raises:
        TypeError: ``f`` is not callable, or not traceable by JAX (it converts
            arrays to Python or NumPy values); ``report``/``rewrite`` not a bool.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> import calculax
        >>> def f(a, b):
        ...     return -a / b
        >>> b = jnp.float32(1e-30)
        >>> stable = calculax.stabilize(f)
        >>> jax.grad(f, argnums=1)(b, b), jax.grad(stable, argnums=1)(b, b)
        (Array(inf, dtype=float32), Array(1.e+30, dtype=float32))
        >>> log_ratio = lambda x: jnp.log(1 + x)
        >>> x = jnp.float32(1e-10)
        >>> log_ratio(x), calculax.stabilize(log_ratio, rewrite=True)(x)
        (Array(0., dtype=float32), Array(1.e-10, dtype=float32))
    """
    boolean("stabilize", "report", report)
    boolean("stabilize", "rewrite", rewrite)
    if f is None:
        return functools.partial(stabilize, report=report, rewrite=rewrite)
    if not callable(f):
        raise TypeError(
            f"stabilize expects a callable (a function of JAX arrays), got "
            f"{type(f).__name__}: {f!r:.80}"
        )

    @functools.wraps(f)
    def stabilized(*args: Any, **kwargs: Any):
        leaves, treedef = jax.tree.flatten((args, kwargs))
        dynamic = [i for i, leaf in enumerate(leaves) if _is_array(leaf)]

        def flat(*values):
            full = list(leaves)
            for i, value in zip(dynamic, values):
                full[i] = value
            inner_args, inner_kwargs = jax.tree.unflatten(treedef, full)
            return f(*inner_args, **inner_kwargs)

        values = [leaves[i] for i in dynamic]
        closed, shapes = _trace(f, flat, values)
        record = StabilizeReport()
        context = Context(record, rewrite)
        outs = evaluate(closed.jaxpr, closed.consts, values, context)
        if report:
            # An attribute of the wrapper, which functools.wraps' type does not declare.
            setattr(stabilized, "report", record)
        # Outputs that were constants of the trace come back as arrays, as from jit.
        outs = [jax.numpy.asarray(o) for o in outs]
        return jax.tree.unflatten(jax.tree.structure(shapes), outs)

    if report:
        setattr(stabilized, "report", StabilizeReport())
    return stabilized


def _trace(f: Callable, flat: Callable, values: list):
    try:
        return jax.make_jaxpr(flat, return_shape=True)(*values)
    except jax.errors.JAXTypeError as error:  # concrete values asked of tracers
        summary = str(error).strip().splitlines()[0]
        name = getattr(f, "__name__", type(f).__name__)
        raise TypeError(
            f"stabilize could not trace {name!r}: it must compute with jax.numpy / "
            f"jax.lax on its array arguments (NumPy functions, float(), or Python "
            f"`if` on array values cannot be traced). JAX said: {summary}"
        ) from error


def _is_array(leaf) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic, float, int, complex))

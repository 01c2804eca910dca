"""Trace, diagonal and Frobenius norm of an operator from matrix-vector products."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from .._core.results import RESULTS, finish
from . import _checks
from ._checks import describe
from ._estimate import Estimate
from ._functional import Diagonal, FrobeniusSquared, Trace
from ._method import (
    Auto,
    Exact,
    Hutchinson,
    HutchPlusPlus,
    XDiag,
    XNysTrace,
    XTrace,
)
from ._method._base import AbstractMethod, Raw
from ._operator import as_operator

__all__ = ["diagonal", "frobenius_norm", "trace", "METHODS"]

METHODS = {
    m.name: m
    for m in (Auto(), Hutchinson(), HutchPlusPlus(), XTrace(), XDiag(), XNysTrace())
}


def _method(where: str, method, functional, quantity: str) -> AbstractMethod:
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(
                f"{where}: `method` must be one of {sorted(METHODS)} or a method "
                f"object from `calculax.curvature.methods`; got {method!r}."
            )
        method = METHODS[method]
    if not isinstance(method, AbstractMethod):
        raise TypeError(
            f"{where}: `method` must be a string or a method object from "
            f"`calculax.curvature.methods`; got {describe(method)}."
        )
    if type(functional) not in method.functionals:
        allowed = sorted(
            n for n, m in METHODS.items() if type(functional) in m.functionals
        )
        raise ValueError(
            f"{where}: method {method.name!r} does not estimate the {quantity}; use "
            f"one of {allowed}."
        )
    return method


@eqx.filter_jit
def _run(method, functional, operator, num_matvecs, key, mesh) -> Raw:
    return method.estimate(functional, operator, num_matvecs, key, mesh)


def _estimate(
    where,
    operator,
    functional,
    quantity,
    num_matvecs,
    key,
    method,
    example,
    mesh,
    throw,
):
    _checks.throw(where, throw)
    op = as_operator(operator, example, where)
    chosen = _method(where, method, functional, quantity)
    key = _checks.key(where, key)
    mesh = _checks.mesh(where, mesh)
    budget = _checks.budget(
        where,
        num_matvecs,
        min(chosen.min_matvecs, op.size),
        f"method {chosen.name!r} needs at least {chosen.min_matvecs} products to "
        "give an estimate with a standard error",
    )
    if budget >= op.size:
        chosen, budget = Exact(), op.size
    raw = _run(chosen, functional, op, budget, key, mesh)
    return op, chosen, budget, raw


def _status(value, error):
    finite = jnp.asarray(True)
    for leaf in jax.tree_util.tree_leaves((value, error)):
        finite = finite & jnp.all(jnp.isfinite(leaf))
    return _checks.where_status(finite, RESULTS.successful, RESULTS.nonfinite)


def _result(where, throw, value, error, raw, spent, chosen) -> Estimate:
    result = Estimate(
        value, error, _status(value, error), raw.dof, spent, chosen.name, raw.choice
    )
    return finish(result, throw, where)


_SIGNATURE_DOC = """
    Args:
        operator: an operator (``hessian_operator``, ``gauss_newton_operator``, ...),
            a dense ``(n, n)`` array, or a matvec callable together with ``example``.
        num_matvecs: the budget of operator applications (a Python int). With
            ``num_matvecs >= n`` the value is computed exactly with ``n`` products.
        key: a ``jax.random`` key; the same key gives the same estimate.
        method: ``"auto"`` (default), ``"hutchinson"``, ``"hutch++"``{extra}, or a
            method object from ``calculax.curvature.methods``.
        example: for a matvec callable, a vector (pytree) of the right structure.
        mesh: optional ``jax.sharding.Mesh`` with an axis ``"probes"``
            (``probe_mesh()``) to split the probes over devices.
        throw: raise if the operator returned nan or inf (also under ``jit``);
            ``throw=False`` returns the result with ``RESULTS.nonfinite``.
"""


def trace(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str | AbstractMethod = "auto",
    example=None,
    mesh: Mesh | None = None,
    throw: bool = True,
) -> Estimate:
    r"""Estimate :math:`\operatorname{tr}(A)` with a standard error.

    .. math:: \operatorname{tr}(A) = \operatorname{tr}(Q^\top A Q)
        + \mathbb{E}_g\, g^\top (I - QQ^\top) A (I - QQ^\top) g

    with random-sign probes :math:`g`: Hutchinson (:math:`Q` empty), Hutch++
    (:math:`Q` from a sketch), XTrace (leave-one-out, every probe used twice),
    XNysTrace (leave-one-out Nyström, for positive semi-definite operators), or
    ``auto``, which decides from its first half of the budget whether the low-rank
    part captures enough of the operator to pay for itself, then spends the rest as
    XTrace or as more Hutchinson probes (see ``methods.Auto``; which method wins
    where, measured: the table in the curvature guide).
    {args}
    Returns:
        An :class:`Estimate`: scalar ``value`` and ``error`` (a standard error),
        ``status``, ``interval(level)``.

    Raises:
        ValueError, TypeError: a bad argument (budget below the method's minimum,
            unknown method, a non-square matrix, a key that is not a random key).
        calculax.NumericalError: (``throw=True``) the operator returned nan or
            inf; under ``jit`` an ``equinox`` runtime error with the same message.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import trace
        >>> x = jnp.linspace(0.0, 1.0, 200)
        >>> a = jnp.outer(x, x) + jnp.diag(x)  # trace: sum(x**2) + sum(x)
        >>> est = trace(a, num_matvecs=30, key=jax.random.key(0))
        >>> low, high = est.interval(0.95)
        >>> bool(low <= jnp.sum(x**2) + jnp.sum(x) <= high)
        True
    """
    where = "trace"
    _, chosen, spent, raw = _estimate(
        where,
        operator,
        Trace(),
        "trace",
        num_matvecs,
        key,
        method,
        example,
        mesh,
        throw,
    )
    return _result(where, throw, raw.value, raw.error, raw, spent, chosen)


def diagonal(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str | AbstractMethod = "auto",
    example=None,
    mesh: Mesh | None = None,
    throw: bool = True,
) -> Estimate:
    r"""Estimate the diagonal of :math:`A`, entry by entry, with standard errors.

    .. math:: \operatorname{diag}(A) = \operatorname{diag}(A QQ^\top)
        + \mathbb{E}_g\, g \odot A (I - QQ^\top) g

    (Bekas, Kokiopoulou & Saad 2007 for Hutchinson; Diag++ of Baston &
    Nakatsukasa 2022 with the sketch ``Q``; ``"xdiag"``, XDiag of Epperly, Tropp &
    Webber 2024, leave-one-out; ``"auto"`` chooses Hutchinson or XDiag.)
    {args}
    Returns:
        An :class:`Estimate` whose ``value`` and ``error`` have the structure of the
        operator's vectors (e.g. the parameters' pytree).

    Raises:
        ValueError: as :func:`trace`; ``"xtrace"`` is trace-only.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import diagonal
        >>> a = jnp.diag(jnp.arange(4.0))
        >>> diagonal(a, num_matvecs=4, key=jax.random.key(0)).value
        Array([0., 1., 2., 3.], dtype=float32)
    """
    where = "diagonal"
    op, chosen, spent, raw = _estimate(
        where,
        operator,
        Diagonal(),
        "diagonal",
        num_matvecs,
        key,
        method,
        example,
        mesh,
        throw,
    )
    value, error = op.flat.unravel(raw.value), op.flat.unravel(raw.error)
    return _result(where, throw, value, error, raw, spent, chosen)


def frobenius_norm(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str | AbstractMethod = "auto",
    example=None,
    mesh: Mesh | None = None,
    throw: bool = True,
) -> Estimate:
    r"""Estimate :math:`\|A\|_F` with a standard error.

    .. math:: \|A\|_F^2 = \|AQ\|_F^2 + \mathbb{E}_g \|A (I - QQ^\top) g\|^2,
        \qquad \widehat{\|A\|_F} = \sqrt{\widehat{\|A\|_F^2}}

    with the standard error of the square root by the delta method,
    :math:`\sigma/(2\sqrt{\hat s})`.
    {args}
    Returns:
        An :class:`Estimate` with scalar ``value`` and ``error``.

    Raises:
        ValueError: as :func:`trace`; ``"xtrace"`` is trace-only.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import frobenius_norm
        >>> a = 2.0 * jnp.eye(100)
        >>> frobenius_norm(a, num_matvecs=10, key=jax.random.key(0)).value
        Array(20., dtype=float32)
    """
    where = "frobenius_norm"
    _, chosen, spent, raw = _estimate(
        where,
        operator,
        FrobeniusSquared(),
        "Frobenius norm",
        num_matvecs,
        key,
        method,
        example,
        mesh,
        throw,
    )
    value = jnp.sqrt(jnp.maximum(raw.value, 0))
    # Delta method; an exactly zero norm has zero error.
    error = jnp.where(value > 0, raw.error / (2 * jnp.where(value > 0, value, 1)), 0)
    return _result(where, throw, value, error, raw, spent, chosen)


for _f, _extra in (
    (trace, ', ``"xtrace"``, ``"xnystrace"``'),
    (diagonal, ', ``"xdiag"``, ``"xnystrace"``'),
    (frobenius_norm, ""),
):
    if _f.__doc__ is not None:  # None under python -OO
        _f.__doc__ = _f.__doc__.replace("{args}", _SIGNATURE_DOC.format(extra=_extra))
del _f, _extra

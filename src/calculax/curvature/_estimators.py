"""Trace, diagonal and Frobenius norm of an operator from matrix-vector products."""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import Mesh

from ._estimate import Estimate
from ._functional import Diagonal, FrobeniusSquared, Trace
from ._method import Auto, Exact, Hutchinson, HutchPlusPlus, XDiag, XTrace
from ._method._base import AbstractMethod, Raw
from ._operator import as_operator

__all__ = ["diagonal", "frobenius_norm", "trace", "METHODS"]

METHODS = {
    m.name: m for m in (Auto(), Hutchinson(), HutchPlusPlus(), XTrace(), XDiag())
}


def _method(method: str | AbstractMethod, functional, quantity: str) -> AbstractMethod:
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(
                f"`method` for {quantity} must be one of {sorted(METHODS)} or a method "
                f"object; got {method!r}."
            )
        method = METHODS[method]
    if not isinstance(method, AbstractMethod):
        raise TypeError(
            f"`method` must be a string or a method object; got {method!r}."
        )
    if type(functional) not in method.functionals:
        allowed = sorted(
            n for n, m in METHODS.items() if type(functional) in m.functionals
        )
        raise ValueError(
            f"method {method.name!r} does not estimate the {quantity}; use one of "
            f"{allowed}."
        )
    return method


def _budget(num_matvecs: Any, method: AbstractMethod) -> int:
    if not isinstance(num_matvecs, int) or isinstance(num_matvecs, bool):
        raise TypeError(
            f"`num_matvecs` must be a Python int (it fixes array shapes); got "
            f"{num_matvecs!r}."
        )
    if num_matvecs < method.min_matvecs:
        raise ValueError(
            f"`num_matvecs={num_matvecs}` is too small for method {method.name!r}, "
            f"which needs at least {method.min_matvecs} products to give an estimate "
            "with a standard error; raise `num_matvecs`."
        )
    return num_matvecs


@eqx.filter_jit
def _run(method, functional, operator, num_matvecs, key, mesh) -> Raw:
    return method.estimate(functional, operator, num_matvecs, key, mesh)


def _estimate(operator, functional, quantity, num_matvecs, key, method, example, mesh):
    op = as_operator(operator, example)
    chosen = _method(method, functional, quantity)
    if isinstance(num_matvecs, int) and num_matvecs >= op.size:
        chosen, num_matvecs = Exact(), op.size
    _budget(num_matvecs, chosen)
    raw = _run(chosen, functional, op, num_matvecs, key, mesh)
    return op, chosen, num_matvecs, raw


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
"""


def trace(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str | AbstractMethod = "auto",
    example=None,
    mesh: Mesh | None = None,
) -> Estimate:
    r"""Estimate :math:`\operatorname{tr}(A)` with a standard error.

    .. math:: \operatorname{tr}(A) = \operatorname{tr}(Q^\top A Q)
        + \mathbb{E}_g\, g^\top (I - QQ^\top) A (I - QQ^\top) g

    with random-sign probes :math:`g`: Hutchinson (:math:`Q` empty), Hutch++
    (:math:`Q` from a sketch), XTrace (leave-one-out, every probe used twice), or
    ``auto``, which decides from its first half of the budget whether the low-rank
    part captures enough of the operator to pay for itself, then spends the rest as
    XTrace or as more Hutchinson probes (see ``methods.Auto``).
    {args}
    Returns:
        An :class:`Estimate`: scalar ``value`` and ``stderr``, ``interval(level)``.

    Raises:
        ValueError: budget below the method's minimum, unknown method, bad shapes;
            at run time (also under ``jit``) if the matvec returns nan or inf.

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
    return _scalar(operator, Trace(), "trace", num_matvecs, key, method, example, mesh)


def _scalar(operator, functional, quantity, num_matvecs, key, method, example, mesh):
    _, chosen, spent, raw = _estimate(
        operator, functional, quantity, num_matvecs, key, method, example, mesh
    )
    return Estimate(raw.value, raw.stderr, raw.dof, spent, chosen.name, raw.choice)


def diagonal(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str | AbstractMethod = "auto",
    example=None,
    mesh: Mesh | None = None,
) -> Estimate:
    r"""Estimate the diagonal of :math:`A`, entry by entry, with standard errors.

    .. math:: \operatorname{diag}(A) = \operatorname{diag}(A QQ^\top)
        + \mathbb{E}_g\, g \odot A (I - QQ^\top) g

    (Bekas, Kokiopoulou & Saad 2007 for Hutchinson; Diag++ of Baston &
    Nakatsukasa 2022 with the sketch ``Q``; ``"xdiag"``, XDiag of Epperly, Tropp &
    Webber 2024, leave-one-out; ``"auto"`` chooses Hutchinson or XDiag.)
    {args}
    Returns:
        An :class:`Estimate` whose ``value`` and ``stderr`` have the structure of the
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
    op, chosen, spent, raw = _estimate(
        operator, Diagonal(), "diagonal", num_matvecs, key, method, example, mesh
    )
    value, stderr = op.flat.unravel(raw.value), op.flat.unravel(raw.stderr)
    return Estimate(value, stderr, raw.dof, spent, chosen.name, raw.choice)


def frobenius_norm(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str | AbstractMethod = "auto",
    example=None,
    mesh: Mesh | None = None,
) -> Estimate:
    r"""Estimate :math:`\|A\|_F` with a standard error.

    .. math:: \|A\|_F^2 = \|AQ\|_F^2 + \mathbb{E}_g \|A (I - QQ^\top) g\|^2,
        \qquad \widehat{\|A\|_F} = \sqrt{\widehat{\|A\|_F^2}}

    with the standard error of the square root by the delta method,
    :math:`\sigma/(2\sqrt{\hat s})` (the seed's finite-difference recipe estimates
    :math:`\|A\|_F/\sqrt n` instead).
    {args}
    Returns:
        An :class:`Estimate` with scalar ``value`` and ``stderr``.

    Raises:
        ValueError: as :func:`trace`; ``"xtrace"`` is trace-only.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import frobenius_norm
        >>> a = 2.0 * jnp.eye(100)
        >>> frobenius_norm(a, num_matvecs=10, key=jax.random.key(0)).value
        Array(20., dtype=float32)
    """
    _, chosen, spent, raw = _estimate(
        operator,
        FrobeniusSquared(),
        "Frobenius norm",
        num_matvecs,
        key,
        method,
        example,
        mesh,
    )
    value = jnp.sqrt(jnp.maximum(raw.value, 0))
    # Delta method; an exactly zero norm has zero error.
    stderr = jnp.where(value > 0, raw.stderr / (2 * jnp.where(value > 0, value, 1)), 0)
    return Estimate(value, stderr, raw.dof, spent, chosen.name, raw.choice)


for _f, _extra in (
    (trace, ', ``"xtrace"``'),
    (diagonal, ', ``"xdiag"``'),
    (frobenius_norm, ""),
):
    if _f.__doc__ is not None:  # None under python -OO
        _f.__doc__ = _f.__doc__.replace("{args}", _SIGNATURE_DOC.format(extra=_extra))
del _f, _extra

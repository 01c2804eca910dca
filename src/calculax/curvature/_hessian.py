"""Curvature operators of a loss over a parameter pytree: Hessian, Gauss-Newton, FD.

Memory per probe: one Hessian-vector product by forward-over-reverse costs about one
gradient's memory (the reverse pass's stored activations, carried with tangents: about
twice the activations of one gradient) plus three parameter-sized vectors; with
``batches`` the batches are applied one after another (``lax.scan``), so memory is that
of one batch, and the stacked batches themselves are held on the device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._core.validate import callable_, positive_float
from ..derivatives import hvp
from ._checks import describe
from ._flat import Flat
from ._operator import AbstractOperator, trace_call

__all__ = [
    "FisherOperator",
    "GaussNewtonOperator",
    "fisher_operator",
    "HessianOperator",
    "FiniteDifferenceHessian",
    "gauss_newton_operator",
    "hessian_operator",
    "finite_difference_hessian_operator",
]


def _stack(batches: Iterable | None, where: str):
    """Stack an iterable of argument tuples along a new leading axis (or ``None``)."""
    if batches is None:
        return None
    if isinstance(batches, jax.Array | np.ndarray | str | dict):
        raise TypeError(
            f"{where}: `batches` must be an iterable (list, generator) of argument "
            f"tuples, one per batch; got {describe(batches)}. For one batch pass its "
            "arguments after `params` instead."
        )
    try:
        items = [b if isinstance(b, tuple) else (b,) for b in batches]
    except TypeError:
        raise TypeError(
            f"{where}: `batches` must be an iterable of argument tuples, one per "
            f"batch; got {describe(batches)}."
        ) from None
    if not items:
        raise ValueError(
            f"{where}: `batches` is empty; pass at least one batch of arguments."
        )
    structure = jax.tree_util.tree_structure(items[0])
    for i, item in enumerate(items):
        # jaxlib ships no stub for PyTreeDef, so mypy cannot type its `!=`.
        if jax.tree_util.tree_structure(item) != structure:  # type: ignore[operator]
            raise ValueError(
                f"{where}: `batches` item {i} has structure "
                f"{jax.tree_util.tree_structure(item)}, item 0 has {structure}; every "
                "batch must have the same structure and shapes (drop or pad a ragged "
                "last batch)."
            )
    shapes = [jax.tree_util.tree_map(np.shape, item) for item in items]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise ValueError(
                f"{where}: `batches` item {i} has shapes {shape}, item 0 has "
                f"{shapes[0]}; every batch must have the same shapes (drop or pad a "
                "ragged last batch)."
            )
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *items)


def _batch_mean(fn: Callable, v, args, batches):
    """``fn(v, *args)``, or its mean over the stacked ``batches`` (appended args)."""
    if batches is None:
        return fn(v, *args)

    def step(total, batch):
        return total + fn(v, *args, *batch), None

    zero = jnp.zeros_like(v)
    total, _ = jax.lax.scan(step, zero, batches)
    count = jax.tree_util.tree_leaves(batches)[0].shape[0]
    return total / count


def _working(tree):
    """``tree`` with float16/bfloat16 leaves cast to float32."""
    return jax.tree_util.tree_map(
        lambda x: jnp.asarray(x, jnp.promote_types(jnp.result_type(x), jnp.float32)),
        tree,
    )


def _cast_like(tree, like):
    return jax.tree_util.tree_map(
        lambda x, y: jnp.asarray(x, jnp.result_type(y)), tree, like
    )


def _check_scalar(f: Callable, params, args, batches, name: str, where: str):
    extra = () if batches is None else jax.tree_util.tree_map(lambda x: x[0], batches)
    out = trace_call(f, (params, *args, *extra), where, name)
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.shape == ()):
        raise ValueError(
            f"{where}: `{name}` must return a scalar; it returned {out}. Reduce the "
            "loss over the batch (e.g. `jnp.mean`) before taking curvature."
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise TypeError(
            f"{where}: `{name}` must return a real floating scalar; it returned "
            f"dtype {out.dtype}."
        )


class HessianOperator(AbstractOperator):
    r"""The Hessian :math:`\nabla^2 f(\theta)` of a scalar loss, matrix-free.

    ``matvec`` is :func:`calculax.derivatives.hvp` (forward over reverse,
    :math:`v \mapsto \partial_t \nabla f(\theta + t v)|_{t=0}`): about 2-3
    gradients' time.
    """

    f: Callable
    params: object
    args: tuple
    batches: object
    flat: Flat

    def tags(self) -> frozenset:
        return frozenset({"symmetric"})

    def flat_matvec(self, v):
        # float16/bfloat16 leaves are differentiated through a float32 copy (the
        # round trip to their own dtype is exact, and the cast's derivative is 1),
        # so that the product is accumulated in float32.
        working = _working(self.params)

        def product(tangent, *args):
            def loss(p):
                return self.f(_cast_like(p, self.params), *args)

            hv = hvp(loss, working, _cast_like(tangent, working))
            return self.flat.ravel(hv)

        return _batch_mean(
            lambda v, *a: product(self.flat.unravel(v), *a), v, self.args, self.batches
        )


def hessian_operator(
    f: Callable, params, *args, batches: Iterable | None = None
) -> HessianOperator:
    r"""The Hessian of ``f(params, *args)`` with respect to ``params``, matrix-free.

    .. math:: H v = \frac{d}{dt}\nabla_\theta f(\theta + t v, \dots)\Big|_{t=0}

    evaluated as ``jax.jvp(jax.grad(f), (params,), (v,))`` (forward over reverse).
    With ``batches`` (an iterable of argument tuples, appended after ``args``), the
    operator is the mean of the per-batch Hessians, the Hessian of the mean loss.

    Args:
        f: scalar loss ``f(params, *args, *batch)``.
        params: pytree of floating arrays (mixed shapes and dtypes are fine).
        *args: further fixed arguments of ``f``.
        batches: optional iterable of data batches, all of the same shapes.

    Returns:
        A :class:`HessianOperator` acting on pytrees shaped like ``params``.

    Raises:
        TypeError: ``params`` has no or non-floating leaves.
        ValueError: ``f`` does not return a scalar, or ``batches`` are ragged.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.curvature import hessian_operator
        >>> f = lambda p: jnp.sum(p["a"] ** 3) + p["b"] ** 2
        >>> op = hessian_operator(f, {"a": jnp.ones(2), "b": jnp.float32(1.0)})
        >>> op.matvec({"a": jnp.array([1.0, 0.0]), "b": jnp.float32(1.0)})
        {'a': Array([6., 0.], dtype=float32), 'b': Array(2., dtype=float32)}
    """
    where = "hessian_operator"
    callable_(where, "f", f)
    flat = Flat.of(params, "params")
    stacked = _stack(batches, where)
    _check_scalar(f, params, args, stacked, "f(params, *args)", where)
    return HessianOperator(
        f=f, params=params, args=tuple(args), batches=stacked, flat=flat
    )


class GaussNewtonOperator(AbstractOperator):
    r"""The Gauss-Newton matrix :math:`J^\top \nabla^2_z \ell\, J` of
    :math:`\ell(m(\theta, x), y)`, with :math:`J = \partial m/\partial\theta`."""

    model: Callable
    loss: Callable
    params: object
    data: tuple
    batches: object
    flat: Flat

    def tags(self) -> frozenset:
        return frozenset({"symmetric", "psd"})

    def flat_matvec(self, v):
        params = self.params

        def gnvp(v, x, y):
            def model(p):
                return self.model(p, x)

            out, jv = jax.jvp(model, (params,), (self.flat.unravel(v),))
            grad = jax.grad(lambda z: self.loss(z, y))
            hjv = jax.jvp(grad, (out,), (jv,))[1]
            return self.flat.ravel(jax.vjp(model, params)[1](hjv)[0])

        return _batch_mean(gnvp, v, self.data, self.batches)


def gauss_newton_operator(
    model: Callable,
    loss: Callable,
    params,
    x=None,
    y=None,
    *,
    batches: Iterable | None = None,
) -> GaussNewtonOperator:
    r"""The generalised Gauss-Newton operator of ``loss(model(params, x), y)``.

    .. math:: G v = J^\top \big(\nabla_z^2 \ell(z, y)\big) J v,\qquad
        z = m(\theta, x),\; J = \partial z / \partial \theta

    ``J v`` by ``jvp``, the loss Hessian by ``jvp`` of ``grad``, ``J^T`` by ``vjp``:
    about the cost of one Hessian-vector product. Positive semi-definite when the
    loss is convex in ``z``. For softmax cross-entropy on logits (and any negative
    log-likelihood of an exponential family in its natural parameter) it is the
    Fisher information matrix of the model's predictive distribution; the
    *empirical* Fisher (outer products of per-example gradients) is
    :func:`fisher_operator`.

    Args:
        model: ``model(params, x)`` -> outputs (any pytree).
        loss: ``loss(outputs, y)`` -> scalar.
        params: pytree of floating arrays.
        x, y: one batch of inputs and targets; or ``None`` with ``batches``.
        batches: optional iterable of ``(x, y)`` batches; the operator is their mean.

    Returns:
        A :class:`GaussNewtonOperator` on pytrees shaped like ``params``.

    Raises:
        ValueError: the loss is not scalar, or neither ``x, y`` nor ``batches``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.curvature import gauss_newton_operator
        >>> model = lambda w, x: x @ w
        >>> loss = lambda z, y: 0.5 * jnp.sum((z - y) ** 2)
        >>> x = jnp.array([[1.0, 0.0], [1.0, 1.0]])
        >>> op = gauss_newton_operator(model, loss, jnp.zeros(2), x, jnp.zeros(2))
        >>> op.matvec(jnp.array([1.0, 0.0]))  # x.T @ x @ v
        Array([2., 1.], dtype=float32)
    """
    where = "gauss_newton_operator"
    callable_(where, "model", model)
    callable_(where, "loss", loss)
    flat = Flat.of(params, "params")
    stacked = _stack(batches, where)
    if stacked is None and (x is None or y is None):
        raise ValueError(
            f"{where}: pass one batch as `x, y`, or an iterable `batches=` of "
            "`(x, y)` pairs."
        )
    if stacked is not None and (x is not None or y is not None):
        raise ValueError(
            f"{where}: pass either one batch as `x, y` or `batches=`, not both."
        )
    data = () if stacked is not None else (x, y)

    def composed(p, x, y):
        return loss(model(p, x), y)

    _check_scalar(composed, params, data, stacked, "loss(model(params, x), y)", where)
    return GaussNewtonOperator(
        model=model, loss=loss, params=params, data=data, batches=stacked, flat=flat
    )


class FiniteDifferenceHessian(AbstractOperator):
    r"""Central differences of a gradient: :math:`(g(\theta+hv)-g(\theta-hv))/2h`."""

    gradient: Callable
    params: object
    args: tuple
    step: float | None = eqx.field(static=True)
    flat: Flat

    def flat_matvec(self, v):
        x = self.flat.ravel(self.params, "params")
        h = self._step(x, v)

        def g(z):
            return self.flat.ravel(self.gradient(self.flat.unravel(z), *self.args))

        return (g(x + h * v) - g(x - h * v)) / (2 * h)

    def _step(self, x, v):
        if self.step is not None:
            return jnp.asarray(self.step, self.dtype)
        eps = max(float(np.finfo(d).eps) for d in self.flat.dtypes)
        scale = jnp.maximum(1.0, jnp.max(jnp.abs(x)))
        size = jnp.max(jnp.abs(v))
        # A zero direction: any step gives 0; use 1 instead of dividing by 0.
        size = jnp.where(size > 0, size, 1.0)
        return eps ** (1 / 3) * scale / size


def finite_difference_hessian_operator(
    gradient: Callable, params, *args, step: float | None = None
) -> FiniteDifferenceHessian:
    r"""A Hessian-vector product from a gradient alone, by central differences.

    .. math:: H v \approx \frac{g(\theta + h v) - g(\theta - h v)}{2h},\qquad
        h = \epsilon^{1/3}\,\frac{\max(1, \|\theta\|_\infty)}{\|v\|_\infty}

    The step balances the :math:`O(h^2)` truncation error against the
    :math:`O(\epsilon/h)` rounding error of the difference (Nocedal & Wright,
    *Numerical Optimization*, 2nd ed., §8.1), with the step measured in units of the
    parameters' size along ``v``; relative error :math:`\sim\epsilon^{2/3}`. The
    whole gradient is differenced along one direction ``v``, which is exactly a
    Hessian-vector product (differencing entry by entry and dividing by the probe
    is not). Use it only where
    ``jvp`` of the gradient is unavailable: ``hessian_operator`` is exact.

    Args:
        gradient: ``gradient(params, *args)`` -> pytree shaped like ``params``.
        params: pytree of floating arrays.
        *args: fixed further arguments.
        step: a fixed ``h`` instead of the rule above.

    Returns:
        A :class:`FiniteDifferenceHessian`.

    Raises:
        ValueError: ``gradient`` returns another structure than ``params``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import finite_difference_hessian_operator
        >>> g = jax.grad(lambda p: jnp.sum(p**3))
        >>> op = finite_difference_hessian_operator(g, jnp.array([1.0, 2.0]))
        >>> jnp.round(op.matvec(jnp.array([1.0, 0.0])), 4)  # 6 p v, error ~eps**(2/3)
        Array([6., 0.], dtype=float32)
    """
    where = "finite_difference_hessian_operator"
    callable_(where, "gradient", gradient)
    flat = Flat.of(params, "params")
    flat.check(
        trace_call(gradient, (params, *args), where, "gradient(params, *args)"),
        "gradient(params)",
    )
    if step is not None:
        step = positive_float(where, "step", step)
    return FiniteDifferenceHessian(
        gradient=gradient, params=params, args=tuple(args), step=step, flat=flat
    )


class FisherOperator(AbstractOperator):
    r"""The empirical Fisher :math:`\frac1N\sum_i \nabla\ell_i \nabla\ell_i^\top`."""

    losses: Callable
    params: object
    args: tuple
    batches: object
    flat: Flat

    def tags(self) -> frozenset:
        return frozenset({"symmetric", "psd"})

    def flat_matvec(self, v):
        params = self.params

        def product(v, *args):
            def per_example(p):
                return self.losses(p, *args)

            _, jv = jax.jvp(per_example, (params,), (self.flat.unravel(v),))
            _, pullback = jax.vjp(per_example, params)
            return self.flat.ravel(pullback(jv / jv.shape[0])[0])

        return _batch_mean(product, v, self.args, self.batches)


def fisher_operator(
    losses: Callable, params, *args, batches: Iterable | None = None
) -> FisherOperator:
    r"""The empirical Fisher matrix of per-example losses, matrix-free.

    .. math:: F v = \frac1N \sum_{i=1}^N \nabla\ell_i(\theta)\,
        \big(\nabla\ell_i(\theta)^\top v\big) = \frac1N J^\top (J v),
        \qquad J = \partial(\ell_1, \dots, \ell_N)/\partial\theta

    ``J v`` by ``jvp`` of the vector of per-example losses, ``J^T u`` by ``vjp``:
    about two gradients' cost, no per-example gradients stored. Positive
    semi-definite. With ``batches``, the mean of the per-batch matrices. (The
    Fisher of the model's predictive distribution, for softmax cross-entropy, is
    the Gauss-Newton matrix: :func:`gauss_newton_operator`.)

    Args:
        losses: ``losses(params, *args, *batch)`` -> per-example losses, shape
            ``(N,)``.
        params: pytree of floating arrays.
        *args: further fixed arguments.
        batches: optional iterable of data batches, all of the same shapes.

    Returns:
        A :class:`FisherOperator` on pytrees shaped like ``params``.

    Raises:
        TypeError: ``losses`` not callable; ``params`` with non-floating leaves.
        ValueError: ``losses`` does not return a vector; ragged ``batches``.

    Example:
        >>> import jax.numpy as jnp
        >>> from calculax.curvature import fisher_operator
        >>> x = jnp.array([[1.0, 0.0], [1.0, 2.0]])
        >>> losses = lambda w, x: (x @ w - 1.0) ** 2  # gradients 2 r_i x_i
        >>> op = fisher_operator(losses, jnp.zeros(2), x)
        >>> op.matvec(jnp.array([1.0, 0.0]))  # (4/2) sum_i x_i x_i^T e_1
        Array([4., 4.], dtype=float32)
    """
    where = "fisher_operator"
    callable_(where, "losses", losses)
    flat = Flat.of(params, "params")
    stacked = _stack(batches, where)
    extra = () if stacked is None else jax.tree_util.tree_map(lambda x: x[0], stacked)
    out = trace_call(losses, (params, *args, *extra), where, "losses(params, *args)")
    if not (isinstance(out, jax.ShapeDtypeStruct) and out.ndim == 1 and out.size):
        raise ValueError(
            f"{where}: `losses` must return the per-example losses, a vector of "
            f"shape (N,) with N >= 1; it returned {out}."
        )
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise TypeError(
            f"{where}: `losses` must return real floating values; got dtype "
            f"{out.dtype}."
        )
    return FisherOperator(
        losses=losses, params=params, args=tuple(args), batches=stacked, flat=flat
    )

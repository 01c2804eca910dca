r"""Tour chapter: tensor derivatives, worked with ``calculax.derivative``.

For ``Z(X, Y) = X @ X @ Y`` (``X`` square ``n x n``, ``Y`` ``n x p``) the mixed partial
:math:`\partial_Y \partial_X Z` is a 6-index tensor of shape ``(n, p, n, n, n, p)``:

.. math:: T_{abijkl} = \frac{\partial^2 Z_{ab}}{\partial X_{ij}\,\partial Y_{kl}}
    = \delta_{ai} X_{jk} \delta_{bl} + X_{ai} \delta_{jk} \delta_{bl}.

For the loss :math:`L = \lVert Z \rVert_F` the blocks :math:`\partial^2 L/\partial Y^2`
and :math:`\partial_X \partial_Y L` are 4-index tensors, checked against the truth
(``check_derivative``, ``f``'s jaxpr evaluated in mpmath). The "trace trick" --
differentiating the scalar :math:`\sum_{ab} Z_{ab}` (what ``Z.backward(ones)`` does)
and then the sum of that gradient -- returns the contraction
:math:`\sum_{abij} T_{abijkl}`, a matrix shaped like ``Y``, not the mixed partial.
With ``X`` constrained to symmetric matrices (at a symmetric ``X``) the mixed
partial is ``T`` symmetrised in ``(i, j)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import jax
import jax.numpy as jnp
import numpy as np

from .._core.plot import figure, save
from ..derivatives import check_derivative, derivative

__all__ = [
    "chapter",
    "my_formula",
    "loss",
    "analytic_mixed",
    "trace_trick",
    "example_point",
    "FIGURE",
]

FIGURE = "tensor_derivatives.png"


def my_formula(x, y):
    """``Z = X @ X @ Y``."""
    return x @ x @ y


def loss(x, y):
    """The Frobenius-norm loss ``||X @ X @ Y||_F``, as ``jnp.linalg.norm``.

    (``calculax.numpy.linalg.norm`` is the stable choice at ``Z = 0``; it scales by
    exponent bit manipulation, which the high-precision interpreter does not read.)
    """
    return jnp.linalg.norm(my_formula(x, y))


def analytic_mixed(x, p: int):
    """:math:`T_{abijkl} = \\delta_{ai} X_{jk} \\delta_{bl} + X_{ai} \\delta_{jk}
    \\delta_{bl}` for ``Y`` with ``p`` columns."""
    eye_n, eye_p = jnp.eye(x.shape[0], dtype=x.dtype), jnp.eye(p, dtype=x.dtype)
    return jnp.einsum("ai,jk,bl->abijkl", eye_n, x, eye_p) + jnp.einsum(
        "ai,jk,bl->abijkl", x, eye_n, eye_p
    )


def trace_trick(x, y):
    """Gradient in ``Y`` of the summed gradient in ``X`` of the summed ``Z``."""

    def summed_gradient(y):
        return jnp.sum(jax.grad(lambda x: jnp.sum(my_formula(x, y)))(x))

    return jax.grad(summed_gradient)(y)


def example_point(dtype, n: int = 2, p: int = 2):
    """A fixed, non-symmetric ``X`` (``n x n``) and ``Y`` (``n x p``)."""
    x = (np.arange(1.0, n * n + 1).reshape(n, n) / (n * n) - 0.3).astype(dtype)
    x[0, -1] += 0.5
    y = (np.cos(np.arange(1.0, n * p + 1)).reshape(n, p)).astype(dtype)
    return jnp.asarray(x), jnp.asarray(y)


def _plot(mixed, trick, path: Path) -> Path:
    fig = figure((9, 3.2), layout=None)
    left, right = fig.subplots(1, 2, width_ratios=[3, 1])
    n, p = mixed.shape[0], mixed.shape[1]
    scale = float(max(np.max(np.abs(mixed)), np.max(np.abs(trick))))
    colours = {"cmap": "RdBu_r", "vmin": -scale, "vmax": scale}
    image = left.imshow(np.asarray(mixed).reshape(n * p, -1), **colours)
    left.set_title(f"d/dY d/dX Z: {mixed.shape} as ({n * p}, {mixed.size // (n * p)})")
    left.set_xlabel("(i, j, k, l)")
    left.set_ylabel("(a, b)")
    fig.colorbar(image, ax=left)
    right.imshow(np.asarray(trick), **colours)
    right.set_title(f"trace trick: {trick.shape}")
    right.set_xlabel("l")
    right.set_ylabel("k")
    fig.tight_layout()
    return save(fig, path, dpi=100)


def chapter(out_dir: Path, dtype, stream: TextIO) -> dict:
    """Shapes, checks against the formula and the truth, the trace trick, a figure."""
    dtype = np.dtype(dtype)
    x, y = example_point(dtype)
    if x.dtype != dtype:
        raise ValueError(f"dtype {dtype} needs jax_enable_x64 (got {x.dtype})")
    eps = float(np.finfo(dtype).eps)
    mixed = derivative(my_formula, argnums=(0, 1))(x, y)
    formula = analytic_mixed(x, y.shape[1])
    x_sym = (x + x.T) / 2
    sym = derivative(my_formula, argnums=(0, 1), symmetric=(0,))(x_sym, y)
    at_sym = analytic_mixed(x_sym, y.shape[1])
    sym_formula = (at_sym + jnp.swapaxes(at_sym, 2, 3)) / 2
    trick = trace_trick(x, y)
    results = {
        "mixed_shape": mixed.shape,
        "mixed_error": float(jnp.max(jnp.abs(mixed - formula))),
        "symmetric_error": float(jnp.max(jnp.abs(sym - sym_formula))),
        "trick_shape": trick.shape,
        "trick_error": float(jnp.max(jnp.abs(trick - formula.sum(axis=(0, 1, 2, 3))))),
    }
    stream.write(
        "Tensor derivatives: Z = X @ X @ Y and "
        "loss = ||Z||_F\n"
        f"  X {x.shape}, Y {y.shape}, {dtype.name}. Shape convention: out.shape + "
        "x_i.shape + x_j.shape\n"
        f"  d/dY d/dX Z: shape {mixed.shape}; max |calculax - formula| = "
        f"{results['mixed_error']:.3g}\n"
        "  X symmetric (derivative(..., symmetric=(0,)) at (X + X^T)/2): "
        f"max |calculax - sym_ij(formula)| = {results['symmetric_error']:.3g}\n"
    )
    for name, argnums, order in (
        ("d2 loss/dY2", 1, 2),
        ("d/dX [d loss/dY]", (1, 0), 1),
    ):
        report = check_derivative(loss, (x, y), order, argnums)
        worst = report.worst(1)[0]
        results[name] = (report.computed.shape, worst[3])
        stream.write(
            f"  {name}: shape {report.computed.shape}; against the truth (mpmath): "
            f"worst error {worst[3]:.3g} (allowed {worst[4]:.3g}), "
            f"{report.error.size - report.failures}/{report.error.size} right\n"
        )
    stream.write(
        f"  trace trick (grad_Y sum(grad_X sum(Z))): shape {trick.shape}, equals "
        f"sum_abij T_abijkl (max difference {results['trick_error']:.3g}, eps "
        f"{eps:.3g}):\n  a contraction of the 6-index tensor, not the mixed partial\n"
    )
    path = _plot(mixed, trick, Path(out_dir) / FIGURE)
    stream.write(f"  figure: {path}\n")
    return results

"""Spectral density by stochastic Lanczos quadrature (SLQ)."""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._core.results import RESULTS, AbstractResult, finish
from .._core.validate import choice, positive_float, positive_int
from . import _checks
from ._estimate import Estimate
from ._lanczos import lanczos
from ._operator import as_operator, require_symmetric
from ._probes import AXIS, rademacher

__all__ = ["SpectralDensity", "spectral_density"]


class SpectralDensity(AbstractResult):
    r"""A smoothed eigenvalue density on a grid, with pointwise standard errors.

    Attributes:
        value: ``(num_points,)`` density :math:`\hat\rho(x)`, integrating to 1.
        error: ``(num_points,)`` standard error over the probes.
        status: ``RESULTS.successful``, ``RESULTS.not_symmetric`` or
            ``RESULTS.nonfinite``.
        grid: ``(num_points,)`` abscissae, spanning the Ritz values :math:`\pm 4`
            bandwidths.
        nodes, weights: ``(num_probes, lanczos_steps)`` Gauss quadrature of each
            probe: :math:`\sum_j w_{pj} f(\theta_{pj}) \approx \frac1n\operatorname{tr}
            f(A)`, exact in expectation for polynomials of degree
            :math:`< 2\,\text{lanczos\_steps}` (for every polynomial when the
            Krylov space is exhausted: nodes are then eigenvalues).
        bandwidth: the Gaussian kernel's standard deviation.
        dof: ``num_probes - 1``.
        asymmetry: largest relative asymmetry of the Krylov matrices.
        num_matvecs: operator applications spent (static).
    """

    value: jax.Array
    error: jax.Array
    status: object
    grid: jax.Array
    nodes: jax.Array
    weights: jax.Array
    bandwidth: jax.Array
    dof: jax.Array
    asymmetry: jax.Array
    num_matvecs: int = eqx.field(static=True)

    def interval(self, level: float = 0.95):
        """Pointwise Student-t interval ``(low, high)`` of the density."""
        estimate = Estimate(
            self.value, self.error, self.status, self.dof, self.num_matvecs, "slq"
        )
        return estimate.interval(level)

    def plot(self, path: str | Path, *, title: str = "spectral density (SLQ)") -> Path:
        """Write the density with its 95% band on a log-density axis; return ``path``.

        Example:
            >>> import jax, jax.numpy as jnp, tempfile, pathlib
            >>> from calculax.curvature import spectral_density
            >>> d = spectral_density(jnp.diag(jnp.linspace(0.0, 1.0, 64)),
            ...                      num_matvecs=64, key=jax.random.key(0))
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     d.plot(pathlib.Path(tmp) / "density.png").name
            'density.png'
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        grid, value = np.asarray(self.grid), np.asarray(self.value)
        low, high = self.interval(0.95)
        floor = max(float(value.max()) * 1e-6, np.finfo(np.float64).tiny)
        figure = Figure(figsize=(6.0, 4.0), layout="constrained")
        FigureCanvasAgg(figure)
        ax = figure.subplots()
        ax.fill_between(
            grid,
            np.maximum(low, floor),
            np.maximum(high, floor),
            color="tab:blue",
            alpha=0.25,
            lw=0,
            label="95% interval",
        )
        ax.plot(grid, np.maximum(value, floor), color="tab:blue", label="SLQ density")
        ax.set_yscale("log")
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        ax.set_title(title)
        ax.legend()
        path = Path(path)
        figure.savefig(path, dpi=110)
        return path


def _quadrature(matvec, start, steps, key):
    """Nodes and weights of one probe's Gauss quadrature (Golub & Meurant)."""
    kry = lanczos(matvec, start / jnp.linalg.norm(start), steps, key, measure=False)
    h = kry.hessenberg
    theta, vectors = jnp.linalg.eigh((h + h.T) / 2)
    return theta, vectors[0] ** 2, kry.asymmetry, kry.finite


@eqx.filter_jit
def _slq(operator, key, probes: int, steps: int, num_points: int, bandwidth, mesh):
    probe_key, restart_key = jax.random.split(key)
    starts = rademacher(probe_key, operator.size, probes, operator.dtype).T
    keys = jax.random.split(restart_key, probes)
    if mesh is not None and mesh.size > 1 and probes % mesh.shape[AXIS] == 0:
        starts = jax.lax.with_sharding_constraint(
            starts, NamedSharding(mesh, PartitionSpec(AXIS, None))
        )
    nodes, weights, asym, finite = jax.vmap(
        lambda s, k: _quadrature(operator.flat_matvec, s, steps, k)
    )(starts, keys)
    # Nodes of zero weight (from restarts after a breakdown) do not set the range.
    used = weights > 0
    low = jnp.min(jnp.where(used, nodes, jnp.inf))
    high = jnp.max(jnp.where(used, nodes, -jnp.inf))
    span = jnp.maximum(high - low, jnp.finfo(nodes.dtype).eps * (1 + jnp.abs(high)))
    sigma = span / 50 if bandwidth is None else jnp.asarray(bandwidth, nodes.dtype)
    grid = jnp.linspace(low - 4 * sigma, high + 4 * sigma, num_points)
    z = (grid[None, None, :] - nodes[:, :, None]) / sigma
    kernel = jnp.exp(-0.5 * z**2) / (sigma * jnp.sqrt(2 * jnp.pi))
    per_probe = jnp.sum(weights[:, :, None] * kernel, axis=1)
    value = jnp.mean(per_probe, axis=0)
    error = jnp.std(per_probe, axis=0, ddof=1) / jnp.sqrt(probes)
    return grid, value, error, nodes, weights, sigma, jnp.max(asym), jnp.all(finite)


def spectral_density(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str = "auto",
    lanczos_steps: int | None = None,
    num_points: int = 256,
    bandwidth: float | None = None,
    throw: bool = True,
    example=None,
    mesh: Mesh | None = None,
) -> SpectralDensity:
    r"""The eigenvalue density of a symmetric operator by stochastic Lanczos quadrature.

    .. math:: \hat\rho(x) = \frac1p \sum_{p'=1}^{p} \sum_{j=1}^{s} w_{p'j}\,
        \phi_\sigma(x - \theta_{p'j}),\qquad
        \mathbb{E}\,\hat\rho = \frac1n \sum_i \phi_\sigma(x - \lambda_i)

    with :math:`p` random-sign probes, :math:`s` Lanczos steps each (full
    reorthogonalisation; a breakdown, when the Krylov space is exhausted, makes the
    quadrature exact), Ritz values :math:`\theta` and weights :math:`w` (squared
    first components of the Ritz vectors), and a Gaussian kernel :math:`\phi_\sigma`.

    Args:
        operator: as for ``trace``.
        num_matvecs: budget; ``num_probes = num_matvecs // lanczos_steps`` (at
            least 2).
        key: probe key.
        method: ``"auto"`` or ``"slq"`` (the same).
        lanczos_steps: Krylov depth per probe (default ``min(n, 32)``).
        num_points: grid size (at least 2).
        bandwidth: kernel width :math:`\sigma` (default: 1/50 of the Ritz range).
        throw: raise unless the status is successful.
        example: for a matvec callable.
        mesh: optional probe mesh (used when ``num_probes`` divides evenly).

    Returns:
        :class:`SpectralDensity` (``grid``, ``value``, ``error``, ``plot(path)``).

    Raises:
        ValueError, TypeError: fewer than 2 probes fit the budget, a non-symmetric
            dense matrix, or another bad argument.
        calculax.NumericalError: (``throw=True``) a non-symmetric operator or
            non-finite products.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import spectral_density
        >>> a = jnp.diag(jnp.linspace(-1.0, 1.0, 100))
        >>> d = spectral_density(a, num_matvecs=128, key=jax.random.key(0))
        >>> round(float(jnp.sum(d.value) * (d.grid[1] - d.grid[0])), 3)
        1.0
    """
    where = "spectral_density"
    _checks.throw(where, throw)
    op = as_operator(operator, example, where)
    require_symmetric(op, where)
    choice(where, "method", method, ("auto", "slq"))
    key = _checks.key(where, key)
    mesh = _checks.mesh(where, mesh)
    if lanczos_steps is None:
        steps = min(op.size, 32)
    else:
        steps = positive_int(where, "lanczos_steps", lanczos_steps)
        if steps > op.size:
            raise ValueError(
                f"{where}: `lanczos_steps` must be at most the operator's size n = "
                f"{op.size}; got {steps}."
            )
    num_points = positive_int(where, "num_points", num_points, minimum=2)
    if bandwidth is not None:
        bandwidth = positive_float(where, "bandwidth", bandwidth)
    num_matvecs = _checks.budget(
        where,
        num_matvecs,
        2 * steps,
        f"SLQ needs at least 2 probes of lanczos_steps = {steps} products each for "
        "a standard error; or lower `lanczos_steps`",
    )
    probes = num_matvecs // steps
    out = _slq(op, key, probes, steps, num_points, bandwidth, mesh)
    grid, value, error, nodes, weights, sigma, asym, finite = out
    eps = jnp.finfo(op.dtype).eps
    status = _checks.where_status(
        asym > jnp.sqrt(eps), RESULTS.not_symmetric, RESULTS.successful
    )
    status = _checks.where_status(finite, status, RESULTS.nonfinite)
    result = SpectralDensity(
        value=value,
        error=error,
        status=status,
        grid=grid,
        nodes=nodes,
        weights=weights,
        bandwidth=sigma,
        dof=jnp.asarray(probes - 1),
        asymmetry=asym,
        num_matvecs=probes * steps,
    )
    return finish(result, throw, where)

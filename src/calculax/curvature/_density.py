"""Spectral density by stochastic Lanczos quadrature (SLQ)."""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._estimate import Estimate
from ._lanczos import asymmetry_warning, krylov
from ._operator import as_operator
from ._probes import AXIS, rademacher

__all__ = ["SpectralDensity", "spectral_density"]


class SpectralDensity(eqx.Module):
    r"""A smoothed eigenvalue density on a grid, with pointwise standard errors.

    Attributes:
        grid: ``(num_points,)`` abscissae.
        value: ``(num_points,)`` density :math:`\hat\rho(x)`, integrating to 1.
        stderr: ``(num_points,)`` standard error over the probes.
        nodes, weights: ``(num_probes, lanczos_steps)`` Gauss quadrature of each
            probe: :math:`\sum_j w_{pj} f(\theta_{pj}) \approx \frac1n\operatorname{tr}
            f(A)`, exact in expectation for polynomials of degree
            :math:`< 2\,\text{lanczos\_steps}`.
        bandwidth: the Gaussian kernel's standard deviation.
        dof: ``num_probes - 1``.
        asymmetry: largest relative asymmetry of the Krylov matrices.
        num_matvecs: operator applications spent (static).
    """

    grid: jax.Array
    value: jax.Array
    stderr: jax.Array
    nodes: jax.Array
    weights: jax.Array
    bandwidth: jax.Array
    dof: jax.Array
    asymmetry: jax.Array
    num_matvecs: int = eqx.field(static=True)

    def interval(self, level: float = 0.95):
        """Pointwise Student-t interval ``(low, high)`` of the density."""
        estimate = Estimate(self.value, self.stderr, self.dof, self.num_matvecs, "slq")
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


def _quadrature(operator, start, steps):
    """Nodes and weights of one probe's Gauss quadrature (Golub & Meurant)."""
    kry = krylov(operator, start / jnp.linalg.norm(start), steps)
    theta, vectors = jnp.linalg.eigh((kry.hessenberg + kry.hessenberg.T) / 2)
    return theta, vectors[0] ** 2, kry.asymmetry


@eqx.filter_jit
def _slq(operator, key, probes: int, steps: int, num_points: int, bandwidth, mesh):
    starts = rademacher(key, operator.size, probes, operator.dtype).T
    if mesh is not None and mesh.size > 1 and probes % mesh.shape[AXIS] == 0:
        starts = jax.lax.with_sharding_constraint(
            starts, NamedSharding(mesh, PartitionSpec(AXIS, None))
        )
    nodes, weights, asym = jax.vmap(lambda s: _quadrature(operator, s, steps))(starts)
    low, high = jnp.min(nodes), jnp.max(nodes)
    span = jnp.maximum(high - low, jnp.finfo(nodes.dtype).eps * (1 + jnp.abs(high)))
    sigma = span / 50 if bandwidth is None else jnp.asarray(bandwidth, nodes.dtype)
    grid = jnp.linspace(low - 4 * sigma, high + 4 * sigma, num_points)
    z = (grid[None, None, :] - nodes[:, :, None]) / sigma
    kernel = jnp.exp(-0.5 * z**2) / (sigma * jnp.sqrt(2 * jnp.pi))
    per_probe = jnp.sum(weights[:, :, None] * kernel, axis=1)
    value = jnp.mean(per_probe, axis=0)
    stderr = jnp.std(per_probe, axis=0, ddof=1) / jnp.sqrt(probes)
    return grid, value, stderr, nodes, weights, sigma, jnp.max(asym)


def spectral_density(
    operator,
    *,
    num_matvecs: int,
    key: jax.Array,
    method: str = "auto",
    lanczos_steps: int | None = None,
    num_points: int = 256,
    bandwidth: float | None = None,
    example=None,
    mesh: Mesh | None = None,
) -> SpectralDensity:
    r"""The eigenvalue density of a symmetric operator by stochastic Lanczos quadrature.

    .. math:: \hat\rho(x) = \frac1p \sum_{p'=1}^{p} \sum_{j=1}^{s} w_{p'j}\,
        \phi_\sigma(x - \theta_{p'j}),\qquad
        \mathbb{E}\,\hat\rho = \frac1n \sum_i \phi_\sigma(x - \lambda_i)

    with :math:`p` random-sign probes, :math:`s` Lanczos steps each (matfree, full
    reorthogonalisation), Ritz values :math:`\theta` and weights :math:`w` (squared
    first components of the Ritz vectors), and a Gaussian kernel :math:`\phi_\sigma`.

    Args:
        operator: as for ``trace``.
        num_matvecs: budget; ``num_probes = num_matvecs // lanczos_steps``.
        key: probe key.
        method: ``"auto"`` or ``"slq"`` (the same).
        lanczos_steps: Krylov depth per probe (default ``min(n, 32)``).
        num_points: grid size.
        bandwidth: kernel width :math:`\sigma` (default: 1/50 of the Ritz range).
        example: for a matvec callable.
        mesh: optional probe mesh (used when ``num_probes`` divides evenly).

    Returns:
        :class:`SpectralDensity` (``grid``, ``value``, ``stderr``, ``plot(path)``).

    Raises:
        ValueError: fewer than 2 probes fit the budget, or a bad option.

    Warns:
        UserWarning: the operator is visibly non-symmetric.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from calculax.curvature import spectral_density
        >>> a = jnp.diag(jnp.linspace(-1.0, 1.0, 100))
        >>> d = spectral_density(a, num_matvecs=128, key=jax.random.key(0))
        >>> round(float(jnp.sum(d.value) * (d.grid[1] - d.grid[0])), 3)
        1.0
    """
    op = as_operator(operator, example)
    if method not in ("auto", "slq"):
        raise ValueError(f"`method` must be 'auto' or 'slq'; got {method!r}.")
    steps = min(op.size, 32) if lanczos_steps is None else lanczos_steps
    if not (isinstance(steps, int) and 1 <= steps <= op.size):
        raise ValueError(
            f"`lanczos_steps` must be an int in [1, {op.size}]; got {steps}."
        )
    probes = num_matvecs // steps if isinstance(num_matvecs, int) else 0
    if probes < 2:
        raise ValueError(
            f"`num_matvecs={num_matvecs!r}` is too small: SLQ needs at least 2 probes "
            f"of lanczos_steps={steps} products each (>= {2 * steps}) for a standard "
            "error; raise `num_matvecs` or lower `lanczos_steps`."
        )
    out = _slq(op, key, probes, steps, num_points, bandwidth, mesh)
    grid, value, stderr, nodes, weights, sigma, asym = out
    asymmetry_warning(asym, op.dtype, "spectral_density")
    return SpectralDensity(
        grid,
        value,
        stderr,
        nodes,
        weights,
        sigma,
        jnp.asarray(probes - 1),
        asym,
        num_matvecs=probes * steps,
    )

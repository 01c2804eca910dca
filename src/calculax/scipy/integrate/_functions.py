r"""The user's functions as :func:`calculax.ode.solve_ivp` runs them.

SciPy calls ``fun(t, y, *args)`` with ``y`` a NumPy array, so ported functions
often use NumPy and Python branches on ``t`` or ``y``. Each function (``fun``,
each event, ``jac``) is first traced with JAX (:class:`Traced`); JAX refuses
the constructs it cannot trace (``if t > 5:``, ``np.array(...)`` on a traced
value, ``float(y[0])``) and such a function is then called on the host with
NumPy values through ``jax.pure_callback`` (:class:`Host`), inside the same
compiled solver.

Host functions are compiled once per *signature* (state size, complex or real,
vectorized, which function): the compiled program calls whatever functions are
registered for that signature when it runs (a :class:`Slot`, set before each
solve), so a new NumPy function does not recompile. Their derivatives (event
slopes, touch tests, the Newton polish of event times) are central differences
on the host; the Jacobian that Radau needs is a forward-difference one on the
host (grouping the columns that ``jac_sparsity`` says are independent, as
SciPy's ``num_jac`` does) unless ``jac`` is given. Measured on SciPy's test
problems: a host evaluation costs ~30 us against ~1 us traced, so a traceable
function runs ~10-30x faster after its compile (~2-4 s per function); a NumPy
function starts at once after the first compile of its signature.

A complex state of size ``n`` is integrated as the real state
``(Re y, Im y)`` of size ``2n``; a complex Jacobian ``J`` becomes
:math:`\begin{pmatrix}\Re J & -\Im J\\ \Im J & \Re J\end{pmatrix}`
(``fun`` analytic in ``y``, as SciPy's complex solvers assume).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Host", "Slot", "Spec", "Traced", "fd_jacobian", "traceable"]


@dataclasses.dataclass(frozen=True)
class Spec:
    """The state as the user sees it: ``n`` numbers, complex or real."""

    n: int
    complex: bool
    vectorized: bool

    @property
    def size(self) -> int:
        """The real state's size."""
        return 2 * self.n if self.complex else self.n

    def to_user(self, u, xp=jnp):
        if self.complex:
            return u[..., : self.n] + 1j * u[..., self.n :]
        return u

    def to_real(self, y, xp=jnp):
        if self.complex:
            return xp.concatenate([xp.real(y), xp.imag(y)], axis=-1)
        return xp.real(y) if xp.iscomplexobj(y) else y

    def real_jacobian(self, jac, xp=jnp):
        if not self.complex:
            return xp.real(jac) if xp.iscomplexobj(jac) else jac
        re, im = xp.real(jac), xp.imag(jac)
        return xp.block([[re, -im], [im, re]])


def _call(fn, spec: Spec, t, y, args, xp):
    """``fn(t, y, *args)`` with SciPy's ``vectorized`` convention."""
    if spec.vectorized:
        out = xp.asarray(fn(t, y[:, None], *args))
        return out.reshape(out.shape[0], -1)[:, 0] if out.ndim else out
    return xp.asarray(fn(t, y, *args))


def _shaped(out, shape: tuple, kind: str):
    """``out`` reshaped to ``shape``, or a ``ValueError`` naming the function."""
    if int(np.size(out)) != int(np.prod(shape, dtype=int)):
        expected = {
            "fun": f"an array of shape {shape}, one derivative per component of `y0`",
            "event": "a scalar (one value per event function)",
            "jac": f"a matrix of shape {shape}",
        }[kind]
        name = {"fun": "`fun`", "event": "an event function", "jac": "`jac`"}[kind]
        raise ValueError(
            f"solve_ivp: {name} must return {expected}; got shape {np.shape(out)}."
        )
    return out.reshape(shape)


class Traced:
    """A user function traced with JAX, in SciPy's calling convention, on the
    real state. ``kind``: ``"fun"`` (returns ``(size,)``), ``"event"`` (a real
    scalar) or ``"jac"`` (``(size, size)``)."""

    def __init__(self, fn: Callable, spec: Spec, kind: str):
        self.fn, self.spec, self.kind = fn, spec, kind

    def __calculax_key__(self):
        return (self.fn, self.spec, self.kind)

    def __call__(self, t, u, *args):
        spec = self.spec
        y = spec.to_user(u)
        if self.kind == "event":
            out = jnp.asarray(self.fn(t, y, *args))
            return jnp.real(_shaped(out, (), "event")).astype(u.dtype)
        if self.kind == "jac":
            jac = _shaped(
                jnp.asarray(_dense(self.fn(t, y, *args))), (spec.n,) * 2, "jac"
            )
            return spec.real_jacobian(jac).astype(u.dtype)
        out = _shaped(_call(self.fn, spec, t, y, args, jnp), (spec.n,), "fun")
        out = out.astype(y.dtype) if spec.complex else jnp.real(out).astype(u.dtype)
        return spec.to_real(out)


def traceable(
    fn: Callable, spec: Spec, t0, y0, args, kind: str
) -> BaseException | None:
    """``None`` when JAX traces ``fn`` at ``(t0, y0)``, else the refusal (a
    construct JAX cannot trace; other errors propagate: they are the user's)."""
    from ..._core.validate import untraceable

    wrapped = Traced(fn, spec, kind)
    u0 = spec.to_real(np.asarray(y0), np)
    try:
        jax.eval_shape(lambda t, u: wrapped(t, u, *args), t0, u0)
    except Exception as error:
        if untraceable(error) is not None:
            return error
        raise
    return None


@dataclasses.dataclass
class Slot:
    """The host functions a compiled signature calls, set before each solve;
    the first exception they raised (re-raised after the solve)."""

    spec: Spec
    fun: Callable | None = None
    events: tuple = ()
    jac: Callable | None = None
    sparsity: tuple | None = None  # (pattern (n, n) bool, column groups)
    args: tuple = ()
    error: BaseException | None = None

    def evaluate(self, kind: str, index: int, t, u):
        """The value on the host; ``nan`` (and the exception kept) on failure."""
        spec = self.spec
        shape = {"fun": (spec.size,), "event": (), "jac": (spec.size,) * 2}[kind]
        if not (np.isfinite(t) and np.all(np.isfinite(u))):
            return np.full(shape, np.nan)  # never call the user's function on nan
        y = spec.to_user(np.asarray(u, np.float64), np)
        try:
            if kind == "fun":
                out = _call(self.fun, spec, float(t), y, self.args, np)
                out = _shaped(out, (spec.n,), "fun")
                return np.asarray(spec.to_real(out.astype(y.dtype), np), np.float64)
            if kind == "event":
                out = np.asarray(self.events[index](float(t), y, *self.args))
                return np.asarray(np.real(_shaped(out, (), "event")), np.float64)
            return np.asarray(self.jacobian(float(t), u), np.float64)
        except Exception as error:  # kept, re-raised after the solve
            if self.error is None:
                self.error = error
            return np.full(shape, np.nan)

    def jacobian(self, t: float, u):
        """``jac`` when given, else forward differences (``fd_jacobian``)."""
        spec = self.spec
        if self.jac is not None:
            y = spec.to_user(np.asarray(u, np.float64), np)
            jac = _shaped(
                np.asarray(_dense(self.jac(t, y, *self.args))), (spec.n,) * 2, "jac"
            )
            return spec.real_jacobian(jac, np)

        def field(t, u):
            return self.evaluate("fun", 0, t, u)

        return fd_jacobian(field, t, np.asarray(u, np.float64), self.sparsity)

    def gradient(self, kind: str, index: int, t, u):
        """Central differences of an event (or ``fun``) in ``(t, u)``."""
        t, u = float(t), np.asarray(u, np.float64)
        base = self.evaluate(kind, index, t, u)
        scale = np.finfo(np.float64).eps ** (1 / 3)
        h_t = scale * max(1.0, abs(t))
        d_t = (
            self.evaluate(kind, index, t + h_t, u)
            - self.evaluate(kind, index, t - h_t, u)
        ) / (2 * h_t)
        columns = []
        for j in range(u.shape[0]):
            h = scale * max(1.0, abs(u[j]))
            step = np.zeros_like(u)
            step[j] = h
            plus = self.evaluate(kind, index, t, u + step)
            minus = self.evaluate(kind, index, t, u - step)
            columns.append((plus - minus) / (2 * h))
        d_u = np.stack(columns, axis=-1) if columns else np.zeros((*base.shape, 0))
        return d_t, d_u


def _dense(jac):
    return jac.toarray() if hasattr(jac, "toarray") else jac


def fd_jacobian(field, t: float, u, sparsity=None):
    r"""Forward differences :math:`(f(u + h_j e_j) - f(u)) / h_j`,
    :math:`h_j = \sqrt\epsilon\max(1, |u_j|)`; with ``sparsity = (pattern,
    groups)`` the columns of a group are perturbed together (no two share a
    row), as in A. Curtis, M. J. D. Powell and J. Reid (1974)."""
    f0 = field(t, u)
    m = u.shape[0]
    h = np.sqrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(u))
    jac = np.zeros((f0.shape[0], m))
    if sparsity is None:
        groups = [[j] for j in range(m)]
        pattern = None
    else:
        pattern, groups = sparsity
    for group in groups:
        step = np.zeros(m)
        step[group] = h[group]
        diff = field(t, u + step) - f0
        for j in group:
            rows = slice(None) if pattern is None else pattern[:, j]
            jac[rows, j] = diff[rows] / h[j]
    return jac


def column_groups(pattern) -> list[list[int]]:
    """Greedy groups of columns of ``pattern`` with no row in common."""
    pattern = np.asarray(pattern, bool)
    groups: list[list[int]] = []
    rows: list[np.ndarray] = []
    for j in range(pattern.shape[1]):
        for k, used in enumerate(rows):
            if not np.any(used & pattern[:, j]):
                groups[k].append(j)
                rows[k] = used | pattern[:, j]
                break
        else:
            groups.append([j])
            rows.append(pattern[:, j].copy())
    return groups


_SLOTS: dict[tuple, Slot] = {}


def slot(spec: Spec, n_events: int) -> tuple:
    """The key of the slot for ``spec`` with ``n_events`` events (``vectorized``
    only changes how the host calls the function: it is not part of the key)."""
    key = (Spec(spec.n, spec.complex, False), n_events)
    if key not in _SLOTS:
        _SLOTS[key] = Slot(spec)
    _SLOTS[key].spec = spec
    return key


class Host:
    """A traced stand-in that calls the host function registered in a slot.

    ``kind``: ``"fun"``, ``"event"`` (``index``-th) or ``"jac"``. Keyed by the
    slot and kind, not by the user's function (which the compiled program never
    sees)."""

    def __init__(self, key: tuple, kind: str, index: int = 0):
        self.key, self.kind, self.index = key, kind, index

    def __calculax_key__(self):
        return ("host", self.key, self.kind, self.index)

    def __call__(self, t, u, *args):
        del args  # the host functions read the slot's
        return _host(self.key, self.kind, self.index)(t, u)


@functools.cache
def _host(key: tuple, kind: str, index: int):
    """The ``custom_jvp`` function calling the host (one per slot and kind)."""
    spec: Spec = key[0]
    shape = {"fun": (spec.size,), "event": (), "jac": (spec.size, spec.size)}[kind]

    def evaluate(t, u):
        return _SLOTS[key].evaluate(kind, index, t, u)

    def gradient(t, u):
        return _SLOTS[key].gradient(kind, index, t, u)

    @jax.custom_jvp
    def call(t, u):
        out = jax.ShapeDtypeStruct(shape, u.dtype)
        return jax.pure_callback(evaluate, out, t, u, vmap_method="sequential")

    @call.defjvp
    def call_jvp(primals, tangents):
        t, u = primals
        dt, du = tangents
        value = call(t, u)
        specs = (
            jax.ShapeDtypeStruct(shape, u.dtype),
            jax.ShapeDtypeStruct((*shape, spec.size), u.dtype),
        )
        d_t, d_u = jax.pure_callback(gradient, specs, t, u, vmap_method="sequential")
        # Linear in the tangents (J v with J from the host): transposable.
        return value, d_t * dt + d_u @ du

    return call

r"""Steppers: one attempted step and the next step size, for each kind of method.

The integration loop (``_loop.py``) asks a stepper for one *attempt* on
``[s0, s1]``: whether it is accepted, the state at ``s1``, the step's
interpolation data, the size of the next attempt, the stepper's new state and
the evaluations it cost (``nfev``, ``njev``, ``nlu``). Two kinds:

- :class:`DiffraxStepper`: a diffrax Runge--Kutta solver (or its written-out form,
  ``_explicit.py``) under diffrax's ``PIDController`` (an integral controller,
  exponent ``1/error_order``, as SciPy's ``RK45``/``DOP853``/``RK23``), with
  ``max_step`` as its ``dtmax``. It also estimates :math:`h\rho`, :math:`\rho` the
  Jacobian's spectral radius, from two stages evaluated at the same time
  (E. Hairer and G. Wanner's stiffness test in DOPRI5), for ``method="auto"``;
- :class:`~calculax.ode._radau.Radau`, which has its own controller.

:func:`initial_step` is SciPy's (and Hairer, Norsett and Wanner's, section II.4)
starting step, never reaching beyond the end of the interval or ``max_step``.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._radau import Radau

__all__ = ["DiffraxStepper", "Radau", "initial_step", "stiffness_ratio_pair"]


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.abs(x) ** 2)) if x.size else jnp.zeros((), x.dtype)


def initial_step(field, s0, y0, f0, s_end, order, rtol, atol, max_step):
    r"""The first step size (SciPy's ``select_initial_step``): from
    :math:`d_0 = \|y_0\|`, :math:`d_1 = \|f_0\|` and the change :math:`d_2` of
    :math:`f` over a trial Euler step, :math:`h = (0.01/\max(d_1,d_2))^{1/q}`
    with :math:`q` the error estimate's order; at most ``100 h0``, the interval
    and ``max_step``. One evaluation of the field (at a point inside the
    interval)."""
    dtype = y0.dtype
    length = s_end - s0
    scale = atol + jnp.abs(y0) * rtol
    d0, d1 = _rms(y0 / scale), _rms(f0 / scale)
    small = (d0 < 1e-5) | (d1 < 1e-5)
    h0 = jnp.where(small, 1e-6, 0.01 * d0 / jnp.where(small, 1, d1))
    h0 = jnp.minimum(h0, length).astype(dtype)
    safe_h0 = jnp.where(h0 > 0, h0, 1)
    f1 = field(s0 + h0, y0 + h0 * f0)
    d2 = _rms((f1 - f0) / scale) / safe_h0
    flat = (d1 <= 1e-15) & (d2 <= 1e-15)
    big = jnp.maximum(d1, d2)
    h1 = jnp.where(
        flat,
        jnp.maximum(1e-6, h0 * 1e-3),
        (0.01 / jnp.where(flat, 1, big)) ** (1 / order),
    )
    h = jnp.minimum(jnp.minimum(100 * h0, h1), jnp.minimum(length, max_step))
    return jnp.where(length > 0, h, 0).astype(dtype)


def stiffness_ratio_pair(tableau: diffrax.ButcherTableau) -> tuple[int, int]:
    """Two stages of the tableau evaluated at the same time (the last two when
    no two share one): their difference of slopes over their difference of
    states is the Jacobian along that direction."""
    c = [0.0, *np.asarray(tableau.c, dtype=float).tolist()]
    for a in range(len(c) - 1, 0, -1):
        for b in range(a - 1, -1, -1):
            if c[a] == c[b]:
                return b, a
    return len(c) - 2, len(c) - 1


class DiffraxStepper(eqx.Module):
    """A diffrax Runge--Kutta solver under its PID controller."""

    solver: object  # diffrax.AbstractERK or UnrolledERK
    controller: diffrax.PIDController
    stages: int = eqx.field(static=True)
    fsal: bool = eqx.field(static=True)
    pair: tuple[int, int] = eqx.field(static=True)
    a_rows: tuple = eqx.field(static=True)

    @property
    def interpolation_cls(self):
        return self.solver.interpolation_cls

    def error_order(self, term):
        return self.solver.error_order(term)

    def init(self, term, s0, y0, args, f0):
        """Solver state at a step start whose field value ``f0`` is known."""
        state = self.solver.init(term, s0, s0, y0, args)
        if isinstance(state, tuple) and len(state) == 2:  # FSAL: (first_step, f0)
            state = (jnp.asarray(False), f0)
        one = jnp.ones((), y0.dtype)
        return state, (one, one, jnp.asarray(False))

    def attempt(self, term, s0, s1, y, args, state):
        solver_state, controller_state = state
        y1, y_error, info, new_solver_state, result = self.solver.step(
            term, s0, s1, y, args, solver_state, False
        )
        y_error = jnp.where(jnp.isnan(y_error), jnp.inf, y_error)
        accept, next_s0, next_s1, _, new_controller_state, _ = (
            self.controller.adapt_step_size(
                s0,
                s1,
                y,
                y1,
                args,
                y_error,
                self.error_order(term),
                controller_state,
            )
        )
        failed = accept & (result != diffrax.RESULTS.successful)
        h_next = (next_s1 - next_s0).astype(y.dtype)
        nfev = self.stages - int(self.fsal)
        counts = jnp.array([nfev, 0, 0], jnp.int32)
        new_state = (
            jax.tree.map(
                lambda a, b: jnp.where(accept, a, b), new_solver_state, solver_state
            ),
            new_controller_state,
        )
        return accept & ~failed, y1, info, h_next, new_state, counts, failed

    def stiffness(self, info, h):
        r""":math:`h\rho` along the step's last stages (``_steppers`` docstring)."""
        ks, y0 = info["k"], info["y0"]
        a, b = self.pair

        def stage_state(i):
            if i == 0:
                return y0
            row = self.a_rows[i - 1]
            out = y0
            for j, w in enumerate(row):
                if w != 0:
                    out = out + jnp.asarray(w, y0.dtype) * ks[j]
            return out

        num = jnp.sqrt(jnp.sum((ks[b] - ks[a]) ** 2))
        den = jnp.sqrt(jnp.sum((stage_state(b) - stage_state(a)) ** 2))
        return jnp.where(den > 0, num / jnp.where(den > 0, den, 1), 0)

    def step_to(self, term, s0, s1, s, y, args, state, info):
        """A fresh step of the method from ``s0`` to ``s`` (as accurate as the
        steps; the interpolant is less so)."""
        del s1, info
        y_s = self.solver.step(term, s0, s, y, args, state[0], False)[0]
        return jnp.where(s == s0, y, y_s)

    def restep(self, term, s0, s1, y0, args):
        f0 = term.vf(s0, y0, args)
        state = self.init(term, s0, y0, args, f0)
        y1, _, info, _, _ = self.solver.step(term, s0, s1, y0, args, state[0], False)
        return y1, info, state

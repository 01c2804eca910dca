r"""diffrax's explicit Runge--Kutta steps with the stages written out.

diffrax runs the stages of a step in a loop over a stage buffer (one loop for
explicit and implicit methods alike; its first stage is skipped by the loop's
start index when the step reuses the last one, FSAL). Under ``jax.vmap`` on CPU
that loop dominated the cost of an ensemble's steps: each stage dynamic-slices
a tableau row, contracts it with the whole stage buffer and writes one row back,
with copies of the buffer (measured with ``jax.profiler``: ~30% of a 1,000-member
spring ensemble with events). Written out, stage :math:`i` is

.. math:: k_i = h\,f\Bigl(t_0 + c_i h,\; y_0 + \sum_{j<i} a_{ij} k_j\Bigr),

with the tableau's nonzero :math:`a_{ij}` as constants, which XLA fuses (the same
ensemble without events, Tsit5: 0.20 s per solve of the batch with diffrax's
stage loop, 0.08 s written out; 2 CPU cores). The step
is diffrax's in every other respect: the same tableau
(:class:`diffrax.ButcherTableau`), the FSAL state ``(first_step, f0)`` (the first
stage is evaluated when any member of a batch needs it, as diffrax does), the
solution :math:`y_1` (the last stage for SSAL tableaus), the error estimate
:math:`\sum_i b^{err}_i k_i`, and the dense information ``{y0, y1, k}`` that the
method's own interpolation class reads. Only for :class:`diffrax.ODETerm` and
explicit tableaus; ``make_solver`` uses it for Tsit5 and Dopri5 (Dopri8's 14
stages written out cost more compile time than they save).
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import equinox.internal as eqxi
import jax.numpy as jnp
from jax import lax

__all__ = ["UnrolledERK"]


class UnrolledERK(eqx.Module):
    """``solver`` (an explicit diffrax Runge--Kutta method) with its stages written
    out; ``init``, ``func``, ``error_order`` and ``interpolation_cls`` (what the
    integration loop uses) are the solver's own."""

    solver: diffrax.AbstractERK

    @property
    def interpolation_cls(self):
        return self.solver.interpolation_cls

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def init(self, terms, t0, t1, y0, args):
        return self.solver.init(terms, t0, t1, y0, args)

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        tableau = self.solver.tableau
        dtype = y0.dtype
        h = t1 - t0

        def combine(base, weights, ks):
            out = base
            for w, k in zip(weights, ks):
                if w != 0:
                    out = out + jnp.asarray(w, dtype) * k
            return out

        first_step, f0 = solver_state  # FSAL (checked in make_solver's use)
        needed = first_step | made_jump
        f0 = lax.cond(
            eqxi.unvmap_any(needed),
            lambda: jnp.where(needed, terms.vf(t0, y0, args), f0),
            lambda: f0,
        )
        ks = [h * f0]
        y_i = f_i = y0
        for c, a_row in zip(tableau.c, tableau.a_lower):
            y_i = combine(y0, a_row, ks)
            f_i = terms.vf(t0 + jnp.asarray(c, dtype) * h, y_i, args)
            ks.append(h * f_i)
        if tableau.ssal:
            y1 = y_i
        else:
            y1 = combine(y0, tableau.b_sol, ks)
        y_error = combine(jnp.zeros_like(y0), tableau.b_error, ks)
        dense_info = dict(y0=y0, y1=y1, k=jnp.stack(ks))
        return (
            y1,
            y_error,
            dense_info,
            (jnp.asarray(False), f_i),
            diffrax.RESULTS.successful,
        )

r"""Radau IIA of order 5: the implicit method for stiff problems.

The three-stage Radau IIA collocation method (order 5, L-stable, stiffly
accurate), implemented as in E. Hairer and G. Wanner's RADAU5 and SciPy's
``Radau``: the stage equations are solved by a simplified Newton iteration on
the transformed system (one real and one complex LU factorisation of
:math:`\mu/h\,I - J` instead of one :math:`3n \times 3n` system); the local
error is the third-order embedded estimate filtered through the real LU; the
step size follows the predictive (Gustafsson) controller, and is held when the
change would be below 20% so that the factorisations are reused; the Jacobian
is reused across steps and recomputed only when Newton converges slowly or
fails. The dense output is the collocation polynomial of each step, of degree 3.

Written by hand because diffrax has no fully implicit Runge--Kutta method: its
ESDIRK ``Kvaerno5`` solves each stage with its own Jacobian and factorisation
(six per step, none reused), and its dense output is a cubic Hermite
interpolant, about ``1e-8`` relative at ``rtol=1e-10`` where this collocation
polynomial gives ``~1e-11`` (the van der Pol oscillator, mu = 1, on [0, 2]).

References:
    E. Hairer, G. Wanner, *Solving Ordinary Differential Equations II: Stiff and
    Differential-Algebraic Problems*, 2nd ed., Springer (1996), sections IV.8.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jax import lax

__all__ = ["Radau", "RadauInterpolation", "RadauState"]

_S6 = 6**0.5
_C = np.array([(4 - _S6) / 10, (4 + _S6) / 10, 1.0])
_E = np.array([-13 - 7 * _S6, -13 + 7 * _S6, -1.0]) / 3
_MU_REAL = 3 + 3 ** (2 / 3) - 3 ** (1 / 3)
_MU_COMPLEX = (
    3 + 0.5 * (3 ** (1 / 3) - 3 ** (2 / 3)) - 0.5j * (3 ** (5 / 6) + 3 ** (7 / 6))
)
# A = T diag(MU_REAL, MU_COMPLEX, conj) T^-1 (the eigendecomposition of the
# inverse Radau IIA matrix, in its real form).
_T = np.array(
    [
        [0.09443876248897524, -0.14125529502095421, 0.03002919410514742],
        [0.25021312296533332, 0.20412935229379994, -0.38294211275726192],
        [1.0, 1.0, 0.0],
    ]
)
_TI = np.array(
    [
        [4.17871859155190428, 0.32768282076106237, 0.52337644549944951],
        [-4.17871859155190428, -0.32768282076106237, 0.47662355450055044],
        [0.50287263494578682, -2.57192694985560522, 0.59603920482822492],
    ]
)
# The collocation polynomial y0 + sum_k q_k x^k, x = (t - t0)/h, q = P^T Z.
_P = np.array(
    [
        [13 / 3 + 7 * _S6 / 3, -23 / 3 - 22 * _S6 / 3, 10 / 3 + 5 * _S6],
        [13 / 3 - 7 * _S6 / 3, -23 / 3 + 22 * _S6 / 3, 10 / 3 - 5 * _S6],
        [1 / 3, -8 / 3, 10 / 3],
    ]
)
_NEWTON_MAXITER = 6
_MIN_FACTOR, _MAX_FACTOR = 0.2, 10.0
_HOLD_BELOW = 1.2  # step-size changes below 20% keep the factorisations


class RadauInterpolation(eqx.Module):
    """The collocation polynomial of one step: ``y0 + q^T (x, x^2, x^3)``."""

    t0: jax.Array
    t1: jax.Array
    y0: jax.Array
    q: jax.Array  # (3, n)

    def evaluate(self, t0, t1=None, left=True):
        del left
        if t1 is not None:
            return self.evaluate(t1) - self.evaluate(t0)
        x = (t0 - self.t0) / (self.t1 - self.t0)
        powers = jnp.stack([x, x * x, x * x * x]).astype(self.q.dtype)
        return self.y0 + powers @ self.q


class RadauState(NamedTuple):
    """What one attempt hands the next: the field at the step start, the
    Jacobian and its factorisations (``lu_valid``: for the current step size,
    as SciPy keeps them also when the last step is clipped to the end), the
    controller's memory and the previous step's polynomial (Newton's guess)."""

    f: jax.Array
    jac: jax.Array
    lu_real: tuple
    lu_complex: tuple
    lu_valid: jax.Array
    current_jac: jax.Array
    h_old: jax.Array
    err_old: jax.Array
    rejected: jax.Array
    prev_s0: jax.Array
    prev_h: jax.Array
    prev_y0: jax.Array
    prev_q: jax.Array
    has_prev: jax.Array


class _Newton(NamedTuple):
    converged: jax.Array
    iterations: jax.Array
    z: jax.Array
    rate: jax.Array


def _rms(x):
    return jnp.sqrt(jnp.mean(jnp.abs(x) ** 2)) if x.size else jnp.zeros((), x.dtype)


class Radau(eqx.Module):
    """Radau IIA (order 5) as a stepper of the integration loop.

    ``jacobian(s, y)`` gives :math:`\\partial f / \\partial y` (forward mode of
    the field unless the user passed ``jac``); ``constant_jac`` marks a constant
    one (never re-evaluated, not counted).
    """

    rtol: jax.Array
    atol: jax.Array
    max_step: jax.Array
    jacobian: Callable = eqx.field(static=True)  # (s, y, args) -> (n, n)
    constant_jac: bool = eqx.field(static=True, default=False)

    interpolation_cls = RadauInterpolation

    def error_order(self, term):
        del term
        return 4  # of the embedded estimate: the controller's exponent is 1/4

    def _newton_tol(self, dtype):
        eps = jnp.finfo(dtype).eps
        rtol = jnp.min(self.rtol)
        return jnp.maximum(10 * eps / rtol, jnp.minimum(0.03, jnp.sqrt(rtol)))

    def _factor(self, jac, h):
        n, dtype = jac.shape[0], jac.dtype
        cdtype = jnp.result_type(dtype, jnp.complex64)
        eye = jnp.eye(n, dtype=dtype)
        lu_real = jsl.lu_factor(jnp.asarray(_MU_REAL, dtype) / h * eye - jac)
        mu = jnp.asarray(_MU_COMPLEX, cdtype) / h.astype(cdtype)
        lu_complex = jsl.lu_factor(mu * eye.astype(cdtype) - jac.astype(cdtype))
        return lu_real, lu_complex

    def init(self, term, s0, y0, args, f0) -> RadauState:
        """The state at a step start whose field value ``f0`` is known (the
        Jacobian is evaluated there: one ``njev`` unless constant)."""
        jac = self.jacobian(s0, y0, args)
        n, dtype = y0.shape[0], y0.dtype
        cdtype = jnp.result_type(dtype, jnp.complex64)
        nan = jnp.asarray(jnp.nan, dtype)
        piv = jnp.zeros(n, jnp.int32)
        state = RadauState(
            f=f0,
            jac=jac,
            lu_real=(jnp.zeros((n, n), dtype), piv),
            lu_complex=(jnp.zeros((n, n), cdtype), piv),
            lu_valid=jnp.asarray(False),
            current_jac=jnp.asarray(True),
            h_old=nan,
            err_old=nan,
            rejected=jnp.asarray(False),
            prev_s0=s0,
            prev_h=jnp.ones((), dtype),
            prev_y0=y0,
            prev_q=jnp.zeros((3, n), dtype),
            has_prev=jnp.asarray(False),
        )
        return state

    def init_counts(self):
        """``(nfev, njev, nlu)`` that :meth:`init` costs beyond ``f0``."""
        return jnp.array([0, 0 if self.constant_jac else 1, 0], jnp.int32)

    def _solve_stages(
        self, field, s0, y, h, z0, scale, lus
    ) -> tuple[_Newton, jax.Array]:
        """The collocation system by simplified Newton (SciPy's
        ``solve_collocation_system``); also the number of field evaluations."""
        dtype = y.dtype
        cdtype = jnp.result_type(dtype, jnp.complex64)
        tol = self._newton_tol(dtype)
        c = jnp.asarray(_C, dtype)
        t_, ti = jnp.asarray(_T, dtype), jnp.asarray(_TI, dtype)
        ti_complex = (ti[1] + 1j * ti[2]).astype(cdtype)
        m_real = jnp.asarray(_MU_REAL, dtype) / h
        m_complex = jnp.asarray(_MU_COMPLEX, cdtype) / h.astype(cdtype)
        lu_real, lu_complex = lus

        def cond(carry):
            k, _, _, _, _, done, _ = carry
            return (k < _NEWTON_MAXITER) & ~done

        def body(carry):
            k, w, z, norm_old, rate, _, converged = carry
            f = jax.vmap(lambda ci, zi: field(s0 + ci * h, y + zi))(c, z)
            finite = jnp.all(jnp.isfinite(f))
            f = jnp.where(finite, f, 0)
            f_real = f.T @ ti[0] - m_real * w[0]
            f_complex = f.T.astype(cdtype) @ ti_complex - m_complex * (w[1] + 1j * w[2])
            dw_real = jsl.lu_solve(lu_real, f_real)
            dw_complex = jsl.lu_solve(lu_complex, f_complex)
            dw = jnp.stack([dw_real, dw_complex.real, dw_complex.imag]).astype(dtype)
            norm = _rms(dw / scale[None, :])
            new_rate = jnp.where(k > 0, norm / jnp.where(k > 0, norm_old, 1), jnp.nan)
            slow = (k > 0) & (
                (new_rate >= 1)
                | (new_rate ** (_NEWTON_MAXITER - k) / (1 - new_rate) * norm > tol)
            )
            stop = ~finite | slow
            w = jnp.where(stop, w, w + dw)
            z = jnp.where(stop, z, t_ @ w)
            done_now = ~stop & (
                (norm == 0) | ((k > 0) & (new_rate / (1 - new_rate) * norm < tol))
            )
            rate = jnp.where(k > 0, new_rate, rate)
            return k + 1, w, z, norm, rate, stop | done_now, converged | done_now

        zero = jnp.zeros((), dtype)
        init = (jnp.asarray(0), ti @ z0, z0, zero, jnp.asarray(jnp.nan, dtype),
                jnp.asarray(False), jnp.asarray(False))  # fmt: skip
        k, _, z, _, rate, _, converged = lax.while_loop(cond, body, init)
        return _Newton(converged, k, z, rate), 3 * k

    def _guess(self, state: RadauState, s0, y, h):
        """Newton's starting stages: the previous step's polynomial extrapolated."""
        c = jnp.asarray(_C, y.dtype)
        prev = RadauInterpolation(
            state.prev_s0, state.prev_s0 + state.prev_h, state.prev_y0, state.prev_q
        )
        extrapolated = jax.vmap(prev.evaluate)(s0 + c * h) - y[None, :]
        return jnp.where(state.has_prev, extrapolated, 0)

    def attempt(self, term, s0, s1, y, args, state: RadauState):
        """One attempted step ``[s0, s1]`` (SciPy's ``Radau._step_impl``, one pass
        of its loop): ``(accept, y1, info, h_next, state, counts, failed)``."""

        def field(s, y):
            return term.vf(s, y, args)

        dtype = y.dtype
        h = s1 - s0
        refactor = ~state.lu_valid
        lus = lax.cond(
            refactor,
            lambda: self._factor(state.jac, h),
            lambda: (state.lu_real, state.lu_complex),
        )
        z0 = self._guess(state, s0, y, h)
        scale = self.atol + jnp.abs(y) * self.rtol
        newton, nfev = self._solve_stages(field, s0, y, h, z0, scale, lus)
        # Not converged with an old Jacobian: a fresh one, the same step again.
        retry = ~newton.converged & ~state.current_jac & (not self.constant_jac)
        jac, lus, newton, nfev2 = lax.cond(
            retry,
            lambda: self._retry(field, s0, y, args, h, z0, scale),
            lambda: (state.jac, lus, newton, jnp.asarray(0)),
        )
        current_jac = state.current_jac | retry
        z = newton.z
        y_new = y + z[-1]
        ze = z.T @ jnp.asarray(_E, dtype) / h
        error = jsl.lu_solve(lus[0], state.f + ze)
        scale = self.atol + jnp.maximum(jnp.abs(y), jnp.abs(y_new)) * self.rtol
        err = _rms(error / scale)
        refine = newton.converged & state.rejected & (err > 1)
        error = lax.cond(
            refine,
            lambda: jsl.lu_solve(lus[0], field(s0, y + error) + ze),
            lambda: error,
        )
        err = jnp.where(refine, _rms(error / scale), err)
        err = jnp.where(jnp.isnan(err), jnp.inf, err)
        accept = newton.converged & (err <= 1)
        safety = (
            0.9 * (2 * _NEWTON_MAXITER + 1) / (2 * _NEWTON_MAXITER + newton.iterations)
        )
        predicted = self._predict(h, state.h_old, err, state.err_old)
        recompute_jac = (
            (not self.constant_jac) & (newton.iterations > 2) & (newton.rate > 1e-3)
        )
        grow = jnp.minimum(_MAX_FACTOR, safety * predicted)
        hold = accept & ~recompute_jac & (grow < _HOLD_BELOW)
        factor = jnp.where(
            accept,
            jnp.where(hold, 1.0, grow),
            jnp.where(
                newton.converged, jnp.maximum(_MIN_FACTOR, safety * predicted), 0.5
            ),
        )
        h_next = jnp.minimum(h * factor, self.max_step).astype(dtype)
        s_new = s0 + h
        f_new = lax.cond(accept, lambda: field(s_new, y_new), lambda: state.f)
        new_jac = lax.cond(
            accept & recompute_jac,
            lambda: self.jacobian(s_new, y_new, args),
            lambda: jac,
        )
        q = jnp.asarray(_P, dtype).T @ z
        new_state = RadauState(
            f=f_new,
            jac=new_jac,
            lu_real=lus[0],
            lu_complex=lus[1],
            lu_valid=accept & hold,
            current_jac=jnp.where(accept, recompute_jac, current_jac),
            h_old=jnp.where(accept, h, state.h_old),
            err_old=jnp.where(accept, err, state.err_old),
            rejected=~accept,
            prev_s0=jnp.where(accept, s0, state.prev_s0),
            prev_h=jnp.where(accept, h, state.prev_h),
            prev_y0=jnp.where(accept, y, state.prev_y0),
            prev_q=jnp.where(accept, q, state.prev_q),
            has_prev=state.has_prev | accept,
        )
        counts = jnp.stack(
            [
                nfev + nfev2 + refine + accept,
                retry.astype(jnp.int32) + (accept & recompute_jac),
                2 * (refactor.astype(jnp.int32) + retry),
            ]
        ).astype(jnp.int32)
        info = dict(y0=y, q=q)
        return accept, y_new, info, h_next, new_state, counts, jnp.asarray(False)

    def _retry(self, field, s0, y, args, h, z0, scale):
        jac = self.jacobian(s0, y, args)
        lus = self._factor(jac, h)
        newton, nfev = self._solve_stages(field, s0, y, h, z0, scale, lus)
        return jac, lus, newton, nfev

    @staticmethod
    def _predict(h, h_old, err, err_old):
        """SciPy's ``predict_factor`` (Hairer and Wanner, section IV.8)."""
        first = jnp.isnan(h_old) | jnp.isnan(err_old) | (err == 0)
        safe_err = jnp.where(err == 0, 1, err)
        ratio = (
            h
            / jnp.where(first, 1, h_old)
            * (jnp.where(first, 1, err_old) / safe_err) ** 0.25
        )
        multiplier = jnp.where(first, 1, ratio)
        return jnp.where(
            err == 0, _MAX_FACTOR, jnp.minimum(1, multiplier) * safe_err**-0.25
        )

    def step_to(self, term, s0, s1, s, y, args, state: RadauState, info):
        """The state at ``s`` from the step's collocation polynomial (as SciPy's
        dense output and event location: a fresh Radau step would need a
        factorisation per point)."""
        del term, args, state
        return RadauInterpolation(s0, s1, **info).evaluate(s)

    def restep(self, term, s0, s1, y0, args):
        """The step ``[s0, s1]`` again from a fresh state: ``(y1, info, state)``."""
        f0 = term.vf(s0, y0, args)
        state = self.init(term, s0, y0, args, f0)
        _, y1, info, _, _, _, _ = self.attempt(term, s0, s1, y0, args, state)
        return y1, info, state

    def stiffness(self, state: RadauState, h):
        r""":math:`h\rho` with :math:`\rho` the Jacobian's spectral radius (power
        iteration): below an explicit method's stability limit, the step is set
        by accuracy, not stability."""
        n = state.jac.shape[0]
        v = jnp.ones(n, state.jac.dtype)

        def body(_, carry):
            v, _ = carry
            w = state.jac @ v
            size = jnp.sqrt(jnp.sum(w * w))
            return jnp.where(size > 0, w / jnp.where(size > 0, size, 1), v), size

        v = v / jnp.sqrt(jnp.sum(v * v))
        _, size = lax.fori_loop(0, 8, body, (v, jnp.zeros((), v.dtype)))
        return h * size

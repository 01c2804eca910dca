"""SciPy's result layout: ``OdeResult`` and ``OdeSolution``."""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["OdeResult", "OdeSolution"]


class OdeResult(dict):
    """SciPy's ``OdeResult``: a ``dict`` whose keys are also attributes.

    Keys: ``t`` ``(n_points,)``, ``y`` ``(n, n_points)``, ``sol`` (an
    :class:`OdeSolution` or ``None``), ``t_events`` and ``y_events`` (a list with
    one array per event, only the events found; ``None`` without events),
    ``nfev``, ``njev``, ``nlu``, ``status`` (0: the end was reached, 1: a
    terminal event, -1: the integration failed), ``message``, ``success``.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self) -> str:
        if not self:
            return f"{type(self).__name__}()"
        width = max(map(len, self.keys())) + 1
        with np.printoptions(threshold=12, edgeitems=3):
            return "\n".join(f"{k.rjust(width)}: {v!r}" for k, v in self.items())


class OdeSolution:
    """SciPy's ``OdeSolution``: the continuous solution, ``sol(t)`` of shape
    ``(n,)`` for a scalar ``t`` and ``(n, len(t))`` for an array; outside
    ``[t_min, t_max]`` the first or last step's interpolant continued.

    Attributes:
        ts: the times of the steps (``n_segments + 1``), in the direction of
            integration.
        t_min, t_max: the interval covered.
        n_segments: the number of steps.
    """

    def __init__(self, dense, spec, ts, y0):
        self._dense, self._spec, self._y0 = dense, spec, np.asarray(y0)
        self.ts = np.asarray(ts)
        self.n_segments = max(len(self.ts) - 1, 0)
        self.t_min = float(np.min(self.ts))
        self.t_max = float(np.max(self.ts))
        self.ascending = bool(self.ts[-1] >= self.ts[0])

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        if t.ndim > 1:
            raise ValueError("`t` must be a float or a 1-D array.")
        spec = self._spec
        if spec.n == 0:
            return np.zeros((0,) + t.shape)
        if self._dense is None:  # no step taken: the initial state
            y = np.broadcast_to(self._y0, t.shape + (spec.n,))
        else:
            with jax.enable_x64(True):
                u = np.asarray(self._dense(t, extrapolate=True))
            y = spec.to_user(u, np)
        return np.array(y.T if t.ndim else y)

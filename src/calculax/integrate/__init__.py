"""Robust one-dimensional integrals: ``quad`` for functions, ``expectation`` for
integrals against a log-density; finite, semi-infinite and infinite intervals, with
derivatives in the limits and parameters.

Design: the algorithm on the host, the integrand compiled
---------------------------------------------------------
The adaptive algorithm (mode search, cuts and maps, Gauss-Kronrod bisection, tail
models) runs in NumPy; the user's integrand is one compiled, vectorised JAX kernel
evaluated on batches of nodes. Under ``jax.jit``, ``jax.vmap`` and ``jax.grad`` the
same host computation is reached through ``jax.pure_callback``, so the traced
program is a few operations around one callback, and a call under a transformation
returns the numbers of a plain call.

Why, measured (``benchmarks/integrate_callback.py``: a Gaussian with a parameter on
the whole line, float64, against ``quadax.quadgk``, whose whole loop is one XLA
program; a shared 2-core CPU machine at load 12, so compare within a row):

=====================================  =====================  ====================
first call (trace + compile + run)     calculax               quadax
=====================================  =====================  ====================
``jit(quad)``                          0.84 s                 5.5 s
``jit(vmap(quad))``, 16 parameters     1.4 s                  10.6 s
``jit(grad)`` in the parameter         1.2 s                  20.5 s
``jit(grad)`` in the upper limit       0.6 s                  19.7 s
``jit(grad(grad))`` in the parameter   1.7 s                  28.4 s
``jit`` of a function calling a jitted
``quad`` (nested)                      0.3 s                  8.2 s
=====================================  =====================  ====================

Every one of these agrees with the closed form to 9e-16. The price is paid on
warm calls, which run Python: 40 ms per ``quad`` against quadax's 0.3 ms, 100 ms
per gradient against 2.7 ms. For one-off questions and for derivatives of any
order the first-call time dominates; for an integral inside a hot loop that is
compiled once and called a million times, quadax's single program is the faster
tool.

* ``vmap``: ``vmap_method="sequential"``: one host solve per batch element (each
  element gets its own adaptive partition, as a loop of plain calls would); the
  cost is linear in the batch (688 ms for 16 elements above, 43 ms each).
* ``grad``/``jvp``/``vjp`` in the parameters and limits: a custom linear rule
  (:mod:`calculax._core.linear_jvp`) whose Jacobian is another host solve of the
  integrand's Jacobian plus the Leibniz terms at finite limits, so derivatives of
  every order exist in both modes; a derivative integral that misses its tolerance
  is ``nan`` (or raises with ``throw=True``), never a silent number.
* Nested ``jit``: works as above (the callback is an ordinary primitive).
* Known limitation, accelerators: the callback runs on the host. On a GPU or TPU
  every call copies its inputs to the host and its outputs back, and the
  integrand's kernel is dispatched from inside the callback (one dispatch and one
  host-device copy per batch of up to 8192 nodes). JAX does not promise that a
  computation launched from inside a callback makes progress (re-entrant
  dispatch has hung with asynchronous dispatch, jax-ml/jax#24219, and on TPU,
  jax-ml/jax#24720). It is tested here on CPU only; on an accelerator, call
  ``quad`` outside ``jit`` (concrete inputs do not use the callback) or use
  ``quadax`` inside device-resident loops.
"""

from ._expectation import ExpectationResult as ExpectationResult
from ._expectation import expectation as expectation
from ._quad import QuadResult as QuadResult
from ._quad import quad as quad

__all__ = [
    "ExpectationResult",
    "QuadResult",
    "expectation",
    "quad",
]

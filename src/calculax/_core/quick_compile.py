"""Compiling a one-off program quickly: an XLA option for programs run once or twice.

A script that asks one question (when does ``y`` reach 0.8?) runs one compiled
program for a few milliseconds, and pays for its compilation first: on CPU, most
of that is XLA's code generation. XLA's option ``xla_cpu_use_fusion_emitters =
False`` emits each fused kernel with its established element-wise emitters
instead of its newer fusion emitters, which compile faster. The operations are
the same IEEE operations (no fast-math); a reduction may add in another order,
so results can differ by rounding (with the option set for every program, every
ODE test gave bit-identical results and ``calculax tour`` differed in the last
bit of two of its numbers).

Measured on a 2-core CPU, fresh processes (``benchmarks/cold_start.py`` and
``benchmarks/ode_compile_options.py``; the seed's ``find_time`` at rtol 1e-10, one
Dopri8 program with an event): XLA compile 2.1 s -> 1.0 s, the whole script
3.2 s -> 2.1 s beyond ``import jax``; a 12,000-step solve of a 6-dimensional
spring with events ran 1.03 times as long, with the same steps.
LLVM's optimisation level 0 (``xla_backend_optimization_level``) would save
another 0.35 s of compile, but it changed the rounding, and so the steps, of
that solve, and ran a ``vmap`` ensemble 6.7x slower: not used.

Only programs called with concrete inputs outside any transformation of the
user's use the option: JAX accepts compile options only on a top-level ``jit``,
and a program inside a user's ``jit`` is compiled as part of the user's
program, with the user's options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax

from .validate import is_traced, staging

__all__ = ["QUICK_CPU_OPTIONS", "QuickJit"]

QUICK_CPU_OPTIONS: dict[str, Any] = {"xla_cpu_use_fusion_emitters": False}


class QuickJit:
    """``equinox.filter_jit(fun)`` (``.traced``) and a version compiled with
    :data:`QUICK_CPU_OPTIONS` (``.on_cpu``). Called, it runs ``.on_cpu`` on CPU when
    no argument is traced and JAX is not staging a program (``jit``, a ``lax``
    loop's body), ``.traced`` otherwise (module docstring)."""

    def __init__(self, fun: Callable):
        self.traced = eqx.filter_jit(fun)
        # filter_jit passes jax.jit's keywords on (its stubs do not list them)
        self.on_cpu = eqx.filter_jit(  # type: ignore[call-overload]
            fun, compiler_options=QUICK_CPU_OPTIONS
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if (
            jax.default_backend() == "cpu"
            and not staging()
            and not is_traced((args, kwargs))
        ):
            return self.on_cpu(*args, **kwargs)
        return self.traced(*args, **kwargs)

"""Which JAX primitives :func:`calculax.stabilize` re-binds, and to what.

Each entry maps a ``jax.lax`` primitive (by name) to the ``calculax.numpy`` function
with the same values and stable derivative rules. Only floating-point (and, where
``calculax.numpy`` supports it, complex) operands are rewritten; integer arithmetic
keeps the original primitive. ``custom_jvp`` functions and compositions that JAX
itself defines are matched by name and defining module (``jax.numpy.logaddexp``,
``hypot``, ``sinc``; ``jax.nn``'s smooth activations; ``jax.scipy.special``'s
``xlogy``, ``logit``, ...; the full table is in ``docs/replaced_functions.md``); a
user's own ``custom_jvp``/``custom_vjp`` is never replaced.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from .. import numpy as cnp
from ..numpy import nn, special
from ._stable_forms import power_log

__all__ = [
    "STABLE_PRIMITIVES",
    "STABLE_CUSTOM_JVP",
    "STABLE_JAX_FUNCTIONS",
    "stable_counterpart",
    "replaced_whole",
]


def _rsqrt(x, **params):
    return cnp.reciprocal(cnp.sqrt(x))


def _unary(function: Callable) -> Callable:
    # lax's element-wise primitives carry parameters (e.g. ``accuracy``) that the
    # calculax function does not take; they select an implementation, not a value.
    return lambda x, **params: function(x)


def _binary(function: Callable) -> Callable:
    return lambda x, y, **params: function(x, y)


STABLE_PRIMITIVES: dict[str, Callable] = {
    "div": _binary(cnp.divide),
    "integer_pow": lambda x, *, y: cnp.power(x, int(y)),
    "pow": _binary(cnp.power),
    "square": _unary(cnp.square),
    "sqrt": _unary(cnp.sqrt),
    "rsqrt": _rsqrt,
    "cbrt": _unary(cnp.cbrt),
    "abs": _unary(cnp.abs),
    "exp": _unary(cnp.exp),
    "exp2": _unary(cnp.exp2),
    "expm1": _unary(cnp.expm1),
    "log": _unary(cnp.log),
    "log1p": _unary(cnp.log1p),
    "sinh": _unary(cnp.sinh),
    "cosh": _unary(cnp.cosh),
    "tanh": _unary(cnp.tanh),
    "asinh": _unary(cnp.arcsinh),
    "acosh": _unary(cnp.arccosh),
    "atanh": _unary(cnp.arctanh),
    "asin": _unary(cnp.arcsin),
    "acos": _unary(cnp.arccos),
    "atan": _unary(cnp.arctan),
    "atan2": _binary(cnp.arctan2),
    "logistic": _unary(special.expit),
    "lgamma": _unary(special.gammaln),
    "digamma": _unary(special.digamma),
}

# custom_jvp functions defined by JAX (matched by name and defining module): their
# rules are JAX's quotients (``x / y`` differentiated again as ``x / y**2``) or
# ``expm1(x) + 1``-style complements. ``_xlogx`` is ``jax.scipy.special``'s
# ``x log x`` (inside ``entr``, ``rel_entr``, ``kl_div``).
STABLE_CUSTOM_JVP: dict[str, Callable] = {
    "logaddexp": cnp.logaddexp,
    "log1mexp": nn.log1mexp,
    "xlogy": special.xlogy,
    "xlog1py": special.xlog1py,
    "_xlogx": power_log(1),
    "logit": special.logit,
    "log_ndtr": special.log_ndtr,
    "_erfcx": special.erfcx,
}

# JAX functions that are compositions (a ``jit`` of several primitives whose chain
# rule is unstable), matched by name and defining module and replaced whole. The
# ``jax.nn`` activations take their optional parameters positionally (``elu(x,
# alpha)``), as the traced ``jit`` does.
STABLE_JAX_FUNCTIONS: dict[str, Callable] = {
    "hypot": cnp.hypot,
    "sinc": cnp.sinc,
    "softplus": nn.softplus,
    "log_sigmoid": nn.log_sigmoid,
    "silu": nn.silu,
    "mish": nn.mish,
    "elu": nn.elu,
    "celu": nn.celu,
    "selu": nn.selu,
    "squareplus": nn.squareplus,
    "soft_sign": nn.soft_sign,
}


def stable_counterpart(name: str, invals) -> Callable | None:
    """The stable function for primitive ``name`` on these operands, or ``None``."""
    function = STABLE_PRIMITIVES.get(name)
    if function is None:
        return None
    if not all(jnp.issubdtype(jax.numpy.result_type(v), jnp.inexact) for v in invals):
        return None  # integer or boolean arithmetic: nothing to stabilize
    if name != "abs" and any(
        jnp.issubdtype(jax.numpy.result_type(v), jnp.complexfloating) for v in invals
    ):
        return None  # complex operands: only abs is rewritten (hypot-based modulus)
    return function


def replaced_whole(jaxpr) -> bool:
    """Whether ``jaxpr`` is the body of a JAX function ``stabilize`` replaces whole
    (by name and defining module, as the interpreter matches them)."""
    info = getattr(jaxpr, "debug_info", None)
    if info is None:
        return False
    source = (info.func_src_info or "").replace("\\", "/")
    names = set(STABLE_JAX_FUNCTIONS) | set(STABLE_CUSTOM_JVP) | {"norm"}
    return "/jax/_src/" in source and info.func_name in names

"""The forward-mode (JVP) rule of each JAX primitive, written as a formula.

``JAX_RULES`` transcribes JAX's own rules (``jax/_src/lax/lax.py``, the ``ad.defjvp``
calls), ``CALCULAX_RULES`` the rules that :func:`calculax.stabilize` binds instead
(``calculax.numpy``, the comment above each ``stable_rule``). Operands are ``x`` (and
``y``), tangents ``dx`` (and ``dy``); ``*`` is a product, ``**`` a power, and the
factors are grouped as the rule groups them, since the grouping decides what can
overflow. A primitive without an entry gets a generic row (:func:`rule_formula`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["JAX_RULES", "CALCULAX_RULES", "rule_formula"]

_LINEAR = (
    "convert_element_type broadcast_in_dim reshape squeeze expand_dims transpose "
    "slice dynamic_slice concatenate stack copy copy_p reduce_precision real imag"
).split()
_CONSTANT = (
    "sign floor ceil round is_finite eq ne gt ge lt le and or not xor iota argmax "
    "argmin"
).split()


def _integer_pow(params: Mapping[str, Any]) -> str:
    n = params["y"]
    if n == 0:
        return "d(x**0) = 0"
    if n == 1:
        return "d(x**1) = dx"
    if n == 2:
        return "d(x**2) = dx*(2*x)"
    return f"d(x**{n}) = dx*({n}*x**{n - 1})"


def _stable_integer_pow(params: Mapping[str, Any]) -> str:
    n = params["y"]
    if n < 0:
        return (
            f"d(x**{n}) = dx*({n}*x**{n - 1}) as a strong product (power family: "
            "every order is one power of x, never a quotient of overflowed terms)"
        )
    return f"d(x**{n}) = dx*({n}*x**{n - 1}), x**{n - 1} with its own stable rule"


JAX_RULES: dict[str, str | Callable[[Mapping[str, Any]], str]] = {
    "neg": "d(-x) = -dx",
    "add": "d(x + y) = dx + dy",
    "sub": "d(x - y) = dx - dy",
    "mul": "d(x*y) = dx*y + x*dy",
    "div": "d(x/y) = dx/y - x*dy*y**-2",
    "integer_pow": _integer_pow,
    "pow": "d(x**y) = dx*(y*x**(y-1)) + dy*(log(x)*x**y)",
    "square": "d(x**2) = dx*(2*x)",
    "sqrt": "d sqrt(x) = dx*(0.5/sqrt(x))",
    "rsqrt": "d rsqrt(x) = dx*(-0.5*rsqrt(x)/x)",
    "cbrt": "d cbrt(x) = dx*((1/3)*cbrt(x)**-2)",
    "abs": "d|x| = dx where x >= 0, -dx elsewhere",
    "exp": "d exp(x) = dx*exp(x)",
    "exp2": "d 2**x = log(2)*(dx*2**x)",
    "expm1": "d expm1(x) = dx*(expm1(x) + 1)",
    "log": "d log(x) = dx/x",
    "log1p": "d log1p(x) = dx/(x + 1)",
    "sin": "d sin(x) = dx*cos(x)",
    "cos": "d cos(x) = dx*(-sin(x))",
    "tan": "d tan(x) = dx*(1 + tan(x)**2)",
    "asin": "d asin(x) = dx*rsqrt(1 - x**2)",
    "acos": "d acos(x) = dx*(-rsqrt(1 - x**2))",
    "atan": "d atan(x) = dx/(1 + x**2)",
    "atan2": "d atan2(x, y) = dx*(y/(x**2 + y**2)) + dy*(-x/(x**2 + y**2))",
    "sinh": "d sinh(x) = dx*cosh(x)",
    "cosh": "d cosh(x) = dx*sinh(x)",
    "tanh": "d tanh(x) = (dx + dx*tanh(x))*(1 - tanh(x))",
    "asinh": "d asinh(x) = dx*rsqrt(x**2 + 1)",
    "acosh": "d acosh(x) = dx*rsqrt(x**2 - 1)",
    "atanh": "d atanh(x) = (1/(1 + x))*(dx/(1 - x))",
    "logistic": "d s(x) = dx*(s(x)*(1 - s(x))), s = logistic",
    "erf": "d erf(x) = dx*(2/sqrt(pi))*exp(-x**2)",
    "erfc": "d erfc(x) = -dx*(2/sqrt(pi))*exp(-x**2)",
    "lgamma": "d lgamma(x) = dx*digamma(x)",
    "max": "d max(x, y) = dx where x > y, dy where y > x, (dx + dy)/2 at ties",
    "min": "d min(x, y) = dx where x < y, dy where y < x, (dx + dy)/2 at ties",
    "select_n": "d select_n(p, x0, x1, ..) = select_n(p, dx0, dx1, ..)",
    "reduce_sum": "d sum(x) = sum(dx)",
    "cumsum": "d cumsum(x) = cumsum(dx)",
    "cumprod": "d cumprod(x)_k = sum_{j<=k} dx_j * prod_{i<=k, i!=j} x_i",
    "cummax": "d cummax(x)_k = dx at the running maximum",
    "cummin": "d cummin(x)_k = dx at the running minimum",
    "reduce_max": "d max(x) = mean of dx over the maximal elements",
    "reduce_min": "d min(x) = mean of dx over the minimal elements",
    "reduce_prod": "d prod(x) = sum_i dx_i * prod_(j != i) x_j",
    "dot_general": "d(x.y) = dx.y + x.dy",
    "stop_gradient": "d stop_gradient(x) = 0",
    "cond": "JAX's rule for cond: the rules of the branch taken",
    "while": "JAX's rule for while: the rules of the loop body, every iteration",
    "scan": "JAX's rule for scan: the rules of the scanned body, every step",
    **{name: f"linear: d {name}(x) = {name}(dx)" for name in _LINEAR},
    **{name: f"d {name}(..) = 0 (piecewise constant)" for name in _CONSTANT},
}

CALCULAX_RULES: dict[str, str | Callable[[Mapping[str, Any]], str]] = {
    "div": "d(x/y) = dx/y - dy*((x*r)*r), r = 1/y: never forms y**2",
    "integer_pow": _stable_integer_pow,
    "pow": "d(x**y) = dx*(y*x**(y-1)) + dy*(x**y*log(x)), strong products",
    "square": "d(x**2) = dx*(x + x)",
    "sqrt": "d sqrt(x) = dx/(sqrt(x) + sqrt(x))",
    "rsqrt": "rsqrt(x) = 1/s, s = sqrt(x): d = -(dx/(s + s))*((1/s)/s)",
    "cbrt": "d cbrt(x) = (dx/(3*cbrt(x)))/cbrt(x): no square of cbrt(x)",
    "abs": "d|x| = dx*sign(x)",
    "exp": "d exp(x) = dx*exp(x)",
    "exp2": "d 2**x = (dx*2**x)*log(2)",
    "expm1": "d expm1(x) = dx*exp(x): exp(x) keeps the tail expm1(x) + 1 loses",
    "log": "d log(x) = dx/x",
    "log1p": "d log1p(x) = dx/(1 + x)",
    "sinh": "d sinh(x) = dx*cosh(x)",
    "cosh": "d cosh(x) = dx*sinh(x)",
    "tanh": "d tanh(x) = dx*(1/cosh(x))**2: never 1 - tanh(x)**2",
    "asinh": "d asinh(x) = dx/hypot(x, 1): no x**2",
    "acosh": "d acosh(x) = (dx/sqrt(x - 1))/sqrt(x + 1)",
    "atanh": "d atanh(x) = dx/(1 - x**2), 1 - x**2 as (1 - x)*(1 + x) for |x| >= 1/2",
    "asin": "d asin(x) = dx/sqrt(1 - x**2), 1 - x**2 without cancellation",
    "acos": "d acos(x) = -dx/sqrt(1 - x**2), 1 - x**2 without cancellation",
    "atan": "d atan(x) = dx/(1 + x**2) for |x| <= 1, dx*(r**2/(1 + r**2)), r = 1/x, "
    "beyond",
    "atan2": "d atan2(x, y) = dx*(y/h**2) - dy*(x/h**2), h = hypot(x, y), each ratio "
    "a closed form that never squares x or y",
    "logistic": "d s(x) = dx*(s(x)*s(-x)), s = logistic: never 1 - s(x)",
    "logaddexp": "d logaddexp(x, y) = dx*s(x - y) + dy*s(y - x), s = logistic",
    "lgamma": "d lgamma(x) = dx*digamma(x), digamma with its own rule",
    "digamma": "d digamma(x) = dx*polygamma(1, x), asymptotic series for x >= 1e6",
    "log1mexp": "d log1mexp(x) = dx*s, s = 1/expm1(x), ds = -s*(1 + s)*dx",
    "xlogy": "d(x*log(y)) = dx*log(y) + dy*(x/y), strong products",
    "xlog1py": "d(x*log1p(y)) = dx*log1p(y) + dy*(x/(1 + y)), strong products",
    "_xlogx": "d(x*log(x)) = dx*(log(x) + 1), each order x**n*(a*log(x) + b) "
    "with one power",
    "logit": "d logit(p) = dp/p + dp/(1 - p): never p*(1 - p)",
    "log_ndtr": "d log(Phi(x)) = dx*(sqrt(2)*rho_1(-x/sqrt(2)) - x) for x < 0, "
    "dx*phi(x)/Phi(x) for x >= 0",
    "_erfcx": "d erfcx(x) = -2*E_1(x)*dx, E_n = exp(x**2)*i^n erfc(x) > 0: "
    "never 2*x*erfcx(x) - 2/sqrt(pi)",
}


def rule_formula(name: str, params: Mapping[str, Any], stable: bool) -> str:
    """The rule applied to primitive ``name``: calculax's if ``stable``, else JAX's.

    ``custom_jvp_call`` rows name the function whose own rule runs; a primitive
    without an entry is ``"JAX's rule for <name>"``.
    """
    table = CALCULAX_RULES if stable else JAX_RULES
    entry = table.get(name)
    if entry is None:
        return f"JAX's rule for {name}"
    return entry(params) if callable(entry) else entry

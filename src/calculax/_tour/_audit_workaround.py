"""Tour chapter 2: ``calculax.audit`` on the ratio ``-a / b`` and on a workaround.

A common workaround replaces ``-a / b`` by ``-exp(log(a) - log(b))`` to get a finite
first derivative. Both are audited at ``a = b = 10**k`` over the whole float32 range
at orders 1-3: plain ``jax.grad`` against ``calculax.stabilize`` and
``calculax.stabilize(f, rewrite=True)`` (which turns the workaround back into a
quotient), all against the truth that ``calculax.audit`` computes from the
function's own jaxpr with mpmath.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import jax.numpy as jnp
import numpy as np

from .._core.tolerance import LABELS
from ..audit import audit

__all__ = ["chapter", "EXPRESSIONS", "FIGURE"]

FIGURE = "audit_workaround.png"


def _ratio(a, b):
    return -a / b


def _workaround(a, b):
    return -jnp.exp(jnp.log(a) - jnp.log(b))


EXPRESSIONS = {"-a / b": _ratio, "-exp(log(a) - log(b))": _workaround}
ORDERS = (1, 2, 3)


def chapter(out_dir: Path, dtype, stream: TextIO) -> dict:
    """Audit both expressions at orders 1-3; print the table; plot one audit."""
    dtype = np.dtype(dtype)
    stream.write(
        "calculax.audit: the ratio -a / b and its workaround "
        "-exp(log(a) - log(b))\n"
        f"  d^k/db^k at a = b = {dtype.name}(10**k) over the whole range; truth from\n"
        "  the function's jaxpr evaluated with mpmath (calculax.audit.true_derivative)."
        "\n  jax = jax.grad of the expression; stabilized = jax.grad of "
        "calculax.stabilize(expression);\n  rewritten = jax.grad of "
        "calculax.stabilize(expression, rewrite=True)\n\n"
    )
    header = f"  {'expression':<24}{'order':>6}  {'method':<11}{'right/n':>9}"
    stream.write(header + "".join(f"{label:>12}" for label in LABELS[1:]) + "\n")
    results = {}
    for name, f in EXPRESSIONS.items():
        for order in ORDERS:
            report = audit(f, wrt=1, tie=[0], order=order, dtype=dtype, rewrite=True)
            results[name, order] = report.counts
            for method, counts in report.counts.items():
                cells = "".join(f"{getattr(counts, k):>12}" for k in LABELS[1:])
                stream.write(
                    f"  {name:<24}{order:>6}  {method:<11}"
                    f"{f'{counts.right}/{counts.representable}':>9}{cells}\n"
                )
            if (name, order) == ("-exp(log(a) - log(b))", 2):
                path = report.plot(Path(out_dir) / FIGURE)
    stream.write(f"  figure: {path}\n")
    return results

"""Seed question 4: "How does pytorch compute derivatives for simple functions?".

    "Does pytorch hardcode a whole list of basic functions with their analytical
    derivatives, or does it compute the gradients using numerical methods?"

The first: autodiff applies each primitive's exact rule and chains them; it takes
no finite-difference step. Run ``python examples/04_how_derivatives_are_computed.py
[OUT_DIR]``: prints ``calculax.explain`` of ``x**2`` at ``x = 1`` (the rule, autodiff
against the truth, finite differences for steps 1e-1..1e-15) and of
``-a / b`` at ``1e-30`` (the row where JAX's rule overflows), and writes the error
curve ``explain_square.png`` into OUT_DIR. (No tour chapter: this is the whole
example.)
"""

import sys
from pathlib import Path

from calculax import explain


def answer(out_dir: str = ".") -> dict[str, float]:
    """Explain ``d(x**2)/dx`` at 1 and ``d(-a/b)/db`` at ``a = b = 1e-30``."""
    square = explain(lambda x: x**2)(1.0)
    print(square.to_markdown())
    ratio = explain(lambda a, b: -a / b, argnums=1)(1e-30, 1e-30)
    stable = explain(lambda a, b: -a / b, argnums=1, stabilized=True)(1e-30, 1e-30)
    print(ratio.to_markdown())
    print(f"stabilized rule: {stable.steps[-1].rule}; derivative {stable.derivative}")
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    path = square.plot(Path(out_dir) / "explain_square.png")
    print(f"figure: {path}")
    best = square.best_finite_difference()
    return {
        "autodiff": float(square.autodiff),
        "best_finite_difference_error": float(best.error),
        "ratio_jax": float(ratio.derivative),
        "ratio_stabilized": float(stable.derivative),
    }


def main(out_dir: str = ".") -> dict[str, float]:
    return answer(out_dir)


if __name__ == "__main__":
    main(*sys.argv[1:])

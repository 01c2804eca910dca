"""Seed question 3: "Differential entropy is calculated with integrate.quad in
scipy.stats?".

    "By which estimation method, and which formula, exactly is it calculating
    differential entropy? [...] Could it be in the call to integrate.quad?"

Yes: SciPy's generic ``_entropy`` integrates ``entr(pdf)`` with ``integrate.quad``,
which returns 0 or wild values for narrow or singular densities.
Run ``python examples/03_differential_entropy.py [OUT_DIR]``: prints the seed's
``beta(0.5, 0.5)`` and a case where SciPy's quadrature fails, by calculax's closed
forms, then chapter 4 of ``calculax tour`` (nine cases against mpmath), writing
``entropy.png`` into OUT_DIR.
"""

import sys

import scipy.stats

from calculax._tour import run
from calculax.information import entropy

CHAPTERS = (4,)


def answer() -> dict[str, float]:
    """``h(beta(0.5, 0.5)) = log(pi/4)`` and ``h(gamma(1e4))``, by calculax."""
    beta = float(entropy(scipy.stats.beta(0.5, 0.5)))
    gamma = float(entropy(scipy.stats.gamma(1e4)))
    print(f"h(beta(0.5, 0.5)) = {beta:.6f}  (closed form log(pi/4) = -0.241564)")
    print(f"h(gamma(1e4))     = {gamma:.6f}  (SciPy's generic quad path gives 0)")
    return {"beta": beta, "gamma": gamma}


def main(out_dir: str = ".") -> dict[str, float]:
    result = answer()
    print()
    run(out_dir, only=CHAPTERS)
    return result


if __name__ == "__main__":
    main(*sys.argv[1:])

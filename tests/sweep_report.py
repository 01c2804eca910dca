"""Print the sweep counts behind the tests: right / representable, per order and dtype.

Run from the repository root: ``python -m tests.sweep_report`` (about 10 minutes on
two cores). Each cell is ``right/representable`` summed over the points (and, for two
arguments, over every mixed partial of that order), with the sweeps, points, truths
and tolerances of ``tests/test_numpy_elementary.py``, ``tests/test_special.py`` and
``tests/test_nn.py`` (reverse mode at odd orders, forward at even ones).
"""

from __future__ import annotations

import sys

import jax
import numpy as np

from tests import helpers
from tests import test_nn as nn_tests
from tests import test_numpy_elementary as elementary
from tests import test_special as special_tests


def _binary_elementary(case, dtype, order):
    total = helpers.Classified()
    for orders in helpers.partial_orders(2, order):
        result = elementary.sweep_binary(case, dtype, orders)
        total.right += result.right
        total.representable += result.representable
    return total


def _unary_special(case, dtype, order):
    return helpers.sweep(
        case.function,
        case.truth,
        case.points(dtype)[:, None],
        (order,),
        dtype,
        singular=case.singular,
        mode="rev" if order % 2 else "fwd",
    )


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    rows = (
        [(c.name, c, elementary.sweep_unary) for c in elementary.UNARY]
        + [(c.name, c, _binary_elementary) for c in elementary.BINARY]
        + [(f"special.{c.name}", c, _unary_special) for c in special_tests.UNARY]
        + [(f"nn.{c.name}", c, _unary_special) for c in nn_tests.NN_UNARY]
    )
    header = "| function | dtype | order 1 | order 2 | order 3 | order 4 |"
    print(header)
    print("|" + "---|" * 6)
    for name, case, run in rows:
        for dtype in helpers.DTYPES:
            cells = []
            for order in range(1, 5):
                result = run(case, dtype, order)
                cells.append(f"{result.right}/{result.representable}")
            print(f"| {name} | {np.dtype(dtype).name} | " + " | ".join(cells) + " |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

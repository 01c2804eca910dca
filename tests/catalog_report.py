"""Run the catalog (``tests/catalog.py``) and print right / checks per mode and dtype.

Run from the repository root::

    python -m tests.catalog_report [--variants jax,stabilize,rewrite,cnp]
        [--dtypes float32,float64] [--orders 1,2,3,4] [--match REGEX]
        [--failures FILE]

For each variant and dtype it prints, per mode (``f``/``r`` at order 1; ``ff``,
``fr``, ``rf``, ``rr`` at order 2; ``fff``/``rrr`` and ``ffff``/``rrrr`` at orders 3
and 4) the number of checks computed right, and two totals per check: *nested*
(right in nested forward **and** nested reverse mode, the all-``f`` and all-``r``
nestings) and *every mode*. ``--failures`` writes each failing check with its labels.
Works on any checkout of calculax (``PYTHONPATH=.../src``), so "before" and "after"
numbers come from the same catalog.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time

import jax
import numpy as np

from tests import catalog


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="jax,stabilize,rewrite,cnp")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--orders", default="1,2,3,4")
    parser.add_argument("--match", default="")
    parser.add_argument("--failures", default="")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    orders = [int(o) for o in args.orders.split(",")]
    entries = [e for e in catalog.CATALOG if re.search(args.match, e.name)]
    failures = []
    start = time.time()
    summary = []
    for variant in args.variants.split(","):
        for dtype_name in args.dtypes.split(","):
            dtype = np.dtype(dtype_name).type
            per_mode: dict = collections.defaultdict(lambda: [0, 0])
            nested = [0, 0]
            every = [0, 0]
            missing = 0
            for entry in entries:
                outcomes = catalog.evaluate(entry, variant, dtype, orders)
                if outcomes is None:
                    missing += 1
                    continue
                for o in outcomes:
                    for mode, label in o.labels.items():
                        per_mode[mode][0] += label == "right"
                        per_mode[mode][1] += 1
                    k = o.order
                    ends = ("f" * k, "r" * k)
                    ok_nested = all(o.labels.get(m) == "right" for m in ends)
                    ok_every = all(v == "right" for v in o.labels.values())
                    nested[0] += ok_nested
                    nested[1] += 1
                    every[0] += ok_every
                    every[1] += 1
                    if not ok_every:
                        failures.append((variant, o))
            cells = " ".join(
                f"{m}={r}/{n}" for m, (r, n) in sorted(per_mode.items(), key=_mode_key)
            )
            line = (
                f"{variant:9s} {dtype_name:7s} nested {nested[0]}/{nested[1]} "
                f"every-mode {every[0]}/{every[1]} | {cells}"
                + (f" | {missing} entries without this variant" if missing else "")
            )
            summary.append(line)
            print(line, f"({time.time() - start:.0f} s)", flush=True)
    print("\n".join(summary))
    if args.failures:
        with open(args.failures, "w") as out:
            for variant, o in failures:
                labels = " ".join(f"{m}:{v}" for m, v in o.labels.items())
                out.write(
                    f"{variant}\t{o.dtype}\t{o.entry}\targ{o.argnum}\torder {o.order}"
                    f"\t{o.point}\t{labels}\n"
                )


def _mode_key(item):
    return (len(item[0]), item[0])


if __name__ == "__main__":
    sys.exit(main())

"""Table of the adversarial log-density cases: truth (mpmath), value, error, status.

Run ``PYTHONPATH=src python benchmarks/entropy_cases.py`` (float64). Prints one row
per case of ``tests/entropy_cases.py`` and a summary: within 1e-9, flagged with an
error that covers the actual error, or neither (silently wrong).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mpmath as mp  # noqa: E402

import calculax  # noqa: E402
from tests import entropy_references as refs  # noqa: E402
from tests.entropy_cases import CASES  # noqa: E402


def main(names=None) -> int:
    rows, silent = [], 0
    print(
        f"{'case':30s} {'truth':>22s} {'value':>22s} {'|diff|':>9s} "
        f"{'error':>9s}  status"
    )
    for name, (logpdf, support) in CASES.items():
        if names and name not in names:
            continue
        truth = refs.logdensity_truth(name)
        start = time.perf_counter()
        try:
            r = calculax.entropy(logpdf, support=support, full_output=True, throw=False)
            value, error, status = float(r.value), float(r.error), r.status
            label = calculax.RESULTS._index_to_message  # noqa: F841
            status_name = repr(r).split("status=")[1].split(",")[0]
        except Exception as exc:  # an error is a result here
            value, error, status_name = float("nan"), float("nan"), type(exc).__name__
            status = None
        seconds = time.perf_counter() - start
        diff = float(abs(mp.mpf(value) - truth)) if value == value else float("inf")
        ok = status is not None and bool(r.ok)
        right = diff <= 1e-9 and ok
        flagged = (not ok) and (error >= diff)
        silent += not (right or flagged)
        verdict = "right" if right else ("flagged" if flagged else "WRONG")
        rows.append((name, verdict))
        print(
            f"{name:30s} {mp.nstr(truth, 17):>22s} {value:22.16g} {diff:9.2e} "
            f"{error:9.2e}  {status_name} [{verdict}] {seconds:.1f}s"
        )
    right = sum(v == "right" for _, v in rows)
    flagged = sum(v == "flagged" for _, v in rows)
    print(
        f"\n{len(rows)} cases: {right} right, {flagged} flagged, "
        f"{silent} silently wrong"
    )
    return silent


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

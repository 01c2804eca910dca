"""Run the tour: each chapter prints its table and writes its figure, in order.

A chapter is a function ``chapter(out_dir, dtype, stream) -> results`` whose output
starts with its title; :func:`run` numbers the chapters in the order of
:data:`CHAPTERS`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from . import (
    _audit_workaround,
    _curvature,
    _entropy,
    _ode_events,
    _stable_division,
    _tensor_derivatives,
)

__all__ = ["CHAPTERS", "run"]

CHAPTERS = (
    _stable_division.chapter,
    _audit_workaround.chapter,
    _tensor_derivatives.chapter,
    _entropy.chapter,
    _curvature.chapter,
    _ode_events.chapter,
)


def run(out_dir: str | Path = ".", dtype="float32", stream: TextIO | None = None):
    """Run every chapter, writing figures to ``out_dir``; return their results."""
    stream = sys.stdout if stream is None else stream
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for number, chapter in enumerate(CHAPTERS, start=1):
        if number > 1:
            stream.write("\n")
        stream.write(f"Chapter {number}. ")
        results.append(chapter(out, dtype, stream))
    return results

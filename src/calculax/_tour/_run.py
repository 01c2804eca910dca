"""Run the tour: each chapter prints its table and writes its figure, in order.

A chapter is a function ``chapter(out_dir, dtype, stream) -> results`` whose output
starts with its title; :func:`run` numbers the chapters in the order of
:data:`CHAPTERS`. The gallery (``examples/`` in the repository) runs the same
chapters one at a time with ``run(out_dir, only=(n,))``, so that a gallery script and
``calculax tour`` print the same table and write the same figure from one copy of
the code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
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


def run(
    out_dir: str | Path = ".",
    dtype="float32",
    stream: TextIO | None = None,
    only: Sequence[int] | None = None,
) -> list:
    """Run the chapters, writing figures to ``out_dir``; return their results.

    Args:
        out_dir: folder for the figures (created if missing).
        dtype: the floating-point type of the worked problems.
        stream: where the tables go (default: standard output).
        only: the chapter numbers to run (1-based, as printed); default all.

    Returns:
        One result per chapter run, in order.

    Raises:
        ValueError: a number in ``only`` that is not a chapter.
    """
    stream = sys.stdout if stream is None else stream
    numbers = range(1, len(CHAPTERS) + 1)
    selected = list(numbers) if only is None else list(only)
    unknown = [n for n in selected if n not in numbers]
    if unknown:
        raise ValueError(
            f"only: chapters are numbered 1..{len(CHAPTERS)}, got {unknown}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for position, number in enumerate(selected):
        if position > 0:
            stream.write("\n")
        stream.write(f"Chapter {number}. ")
        results.append(CHAPTERS[number - 1](out, dtype, stream))
    return results

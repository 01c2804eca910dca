"""Where the benchmarks write their JSON: ``benchmarks/results/<name>-<UTC time>.json``.

Imported by the scripts of this folder (run as ``python benchmarks/<area>.py``, so
this folder is on ``sys.path``).
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path

__all__ = ["RESULTS", "write_results"]

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, record, folder: Path = RESULTS, indent: int = 2) -> Path:
    """Write ``record`` as ``folder/<name>-<UTC time stamp>.json``; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{name}-{stamp}.json"
    path.write_text(json.dumps(record, indent=indent, default=str))
    return path

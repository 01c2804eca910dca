"""Polynomials in two variables as hashable terms, for the closed derivative families.

A polynomial is a sorted tuple of ``(e1, e2, c)``: the term ``c u^e1 v^e2`` with an
integer coefficient ``c != 0``. Hashable, so a family member built from it can be
cached (``_ratio_polynomial``: ``u, v = x/h, y/h``; ``_powers``: ``u, v = log x, y``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

__all__ = ["Terms", "combine_terms"]

Terms = tuple[tuple[int, int, int], ...]


def combine_terms(triples: Iterable[tuple[int, int, int]]) -> Terms:
    """Sum the coefficients of equal exponents, drop zeros, sort."""
    total: dict[tuple[int, int], int] = defaultdict(int)
    for e1, e2, c in triples:
        total[(e1, e2)] += c
    return tuple(sorted((e1, e2, c) for (e1, e2), c in total.items() if c != 0))

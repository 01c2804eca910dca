"""Ordinary differential equations with events: ``solve_ivp`` on diffrax's
solvers and Radau IIA.

``solve_ivp`` records every occurrence of each :class:`Event` (terminal or not,
to a few ulp in ``t``), works under ``jit``/``vmap``/``jax.jacfwd``/``jax.grad``,
and caches its compiled solver per function object; ``find_time`` and
``second_order`` are conveniences on top.
"""

from ._conveniences import EventTime as EventTime
from ._conveniences import find_time as find_time
from ._conveniences import second_order as second_order
from ._event import Event as Event
from ._solution import DenseSolution as DenseSolution
from ._solution import Solution as Solution
from ._solution import Stats as Stats
from ._solve_ivp import solve_ivp as solve_ivp

__all__ = [
    "DenseSolution",
    "Event",
    "EventTime",
    "Solution",
    "Stats",
    "find_time",
    "second_order",
    "solve_ivp",
]

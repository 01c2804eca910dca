"""Test configuration shared by ``tests/`` and the doctests in ``src/``.

float64 is enabled for the test run (tests name their dtypes); docstring examples and
the tests marked ``default_precision`` (the docs pages, the gallery scripts) run in
JAX's default 32-bit mode, as a user runs them. Implicit rank promotion is an error,
and pytest treats warnings as errors (``pyproject.toml``).

Switching ``jax_enable_x64`` inside one process is not free: JAX (0.10) converts a
NumPy constant that a traced function stages (``jnp.asarray(TABLE)``) once per array
object and hands the same converted copy to every later trace *in either mode* for as
long as that copy is alive, and a compiled program keeps it alive. A float32 copy
made under a 32-bit doctest would then enter later float64 programs (quadax's
Gauss-Kronrod tables did: float32 accuracy, status ``roundoff``). So the 32-bit items
run first (collection order; each ``pytest-xdist`` worker gets its items in that
order) and the mode switches, with one ``jax.clear_caches()``, only where the mode of
the next item differs from the current one: at most twice per worker, instead of
after every doctest, so that the doctests share their compiled programs and the
64-bit tests keep theirs. First, because a clear is as slow as the caches are big
(tens of seconds after the 64-bit tests, measured): the 32-bit items compile less.

Before them run the items that use the built wheel (``tests/test_cli.py``): they
hold the longest single job of the suite (the tour, in a fresh process), which
overlaps best with the rest when it starts early, and compile nothing in this
process.

Every compiled XLA program holds a few memory mappings (about 3 on CPU), and one
process may hold at most ``vm.max_map_count`` (65,530 by default) of them: past it,
the next compile cannot map its code and LLVM aborts the worker ("Fatal Python error:
Aborted" in ``backend_compile_and_load``). One worker of the full suite reaches about
50,000 (measured); so before an item starts, the caches are cleared once the process
holds more than half of its limit (then at most once per 4,096 new mappings, so that
programs something else keeps alive cannot make it clear before every item), and the
programs they kept are compiled again on demand.

Hypothesis runs derandomized by default (profile ``ci``: the same examples on every
run, so CI cannot fail by chance); ``python -m pytest --hypothesis-profile=explore``
draws fresh examples (that is how the sinc window at ``x = 0.25`` was found).
"""

import gc

import jax
import pytest
from _pytest.doctest import DoctestItem
from hypothesis import settings

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")


def in_default_precision(item: pytest.Item) -> bool:
    """Whether ``item`` runs in JAX's default 32-bit mode (doctests, marked tests)."""
    return isinstance(item, DoctestItem) or (
        item.get_closest_marker("default_precision") is not None
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Wheel users first, then the 32-bit items; otherwise the collection order."""
    items.sort(
        key=lambda item: (
            "wheel" not in getattr(item, "fixturenames", ()),
            not in_default_precision(item),
        )
    )


def _map_limit() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return 0  # not Linux: no such limit to watch


MAP_LIMIT = _map_limit()
_held_after_clear = 0  # what the last clear left (kept programs): never thrash


def _maps_held() -> int:
    with open("/proc/self/maps", "rb") as maps:
        return maps.read().count(b"\n")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Set the item's precision before any of its fixtures runs, and release the
    compiled programs when they near the process's mapping limit (see module doc)."""
    global _held_after_clear
    x64 = not in_default_precision(item)
    if jax.config.read("jax_enable_x64") != x64:
        jax.config.update("jax_enable_x64", x64)
        jax.clear_caches()  # drop the other mode's converted constants
    elif MAP_LIMIT and _maps_held() > max(MAP_LIMIT // 2, _held_after_clear + 4096):
        jax.clear_caches()
        gc.collect()
        _held_after_clear = _maps_held()

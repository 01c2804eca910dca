"""Test configuration shared by ``tests/`` and the doctests in ``src/``.

float64 is enabled for the test run (tests name their dtypes); docstring examples run
in JAX's default 32-bit mode, as a user would run them. Implicit rank promotion is an
error, and pytest treats warnings as errors (``pyproject.toml``).

Hypothesis runs derandomized by default (profile ``ci``: the same examples on every
run, so CI cannot fail by chance); ``python -m pytest --hypothesis-profile=explore``
draws fresh examples (that is how the sinc window at ``x = 0.25`` was found).
"""

import jax
import pytest
from _pytest.doctest import DoctestItem
from hypothesis import settings

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _doctests_in_default_precision(request):
    """Docstring examples run as a user runs them: JAX's default 32-bit mode."""
    if not isinstance(request.node, DoctestItem):
        yield
        return
    jax.config.update("jax_enable_x64", False)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", True)
        jax.clear_caches()  # see tests/helpers.py: default_precision

"""Test configuration shared by ``tests/`` and the doctests in ``src/``.

float64 is enabled for the test run (tests name their dtypes); docstring examples run
in JAX's default 32-bit mode, as a user would run them. Implicit rank promotion is an
error, and pytest treats warnings as errors (``pyproject.toml``).
"""

import jax
import pytest
from _pytest.doctest import DoctestItem

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


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

"""Test configuration shared by ``tests/`` and the doctests in ``src/``.

float64 is enabled for the whole run (float32 results are unaffected: every test and
doctest names its dtype), implicit rank promotion is an error, and pytest treats
warnings as errors (``pyproject.toml``).
"""

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")

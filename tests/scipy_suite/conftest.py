"""Markers and fixtures that SciPy's own test files use (they come from SciPy's
test configuration, which is not installed with SciPy)."""

import pytest


def pytest_configure(config):
    for marker in (
        "thread_unsafe: SciPy's marker (tests that cannot run in threads)",
        "fail_slow(seconds): SciPy's marker (a time budget; not enforced here)",
    ):
        config.addinivalue_line("markers", marker)


@pytest.fixture
def num_parallel_threads():
    """SciPy's fixture: the tests run in one thread here."""
    return 1

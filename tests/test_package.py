"""Package metadata and the public API: version, ``__all__``, ``py.typed``.

The public API of ``calculax`` and of each subpackage is what its ``__init__.py``
re-exports in the explicit ``from ._x import name as name`` form (STYLE.md). These
tests check that ``__all__`` (every package defines one) lists exactly those names,
that every public attribute is one of them (no helper such as ``jnp`` or ``np``
leaks out), and that no re-exported name is private.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import tomllib
import types
from importlib import metadata
from pathlib import Path

import pytest

import calculax

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "calculax"
PACKAGES = [
    "calculax",
    "calculax.audit",
    "calculax.curvature",
    "calculax.curvature.methods",
    "calculax.derivatives",
    "calculax.information",
    "calculax.integrate",
    "calculax.numpy",
    "calculax.numpy.linalg",
    "calculax.numpy.nn",
    "calculax.numpy.special",
    "calculax.ode",
]
# Submodules that become attributes of their package once imported by anyone.
LAZY_SUBMODULES = {"calculax": {"cli"}}
# A dependency's object re-exported on purpose, with the reason.
FOREIGN: dict[str, str] = {}


def test_version_comes_from_the_installed_metadata():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert calculax.__version__ == metadata.version("calculax")
    assert calculax.__version__ == pyproject["project"]["version"]


def test_py_typed_marker_ships():
    assert (SRC / "py.typed").is_file()


def _source(name: str) -> Path:
    path = ROOT / "src" / Path(*name.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _reexports(name: str) -> set[str]:
    """Names bound by ``from ... import x as x`` / ``import a.b as b`` in the file."""
    names = set()
    for node in ast.walk(ast.parse(_source(name).read_text())):
        if isinstance(node, ast.ImportFrom | ast.Import):
            names |= {alias.asname for alias in node.names if alias.asname}
    return names


def _module(name: str) -> types.ModuleType:
    importlib.import_module(name)
    return sys.modules[name]  # the subpackage, also where an attribute shadows it


@pytest.mark.parametrize("name", PACKAGES)
def test_public_names_are_exactly_the_reexports(name):
    module = _module(name)
    exported = {n for n in _reexports(name) if not n.startswith("_")}
    public = {n for n in vars(module) if not n.startswith("_")}
    public -= LAZY_SUBMODULES.get(name, set())
    assert public == exported, f"{name}: leaked {public - exported}"
    assert "__all__" in vars(module), f"{name} defines no __all__"
    assert sorted(module.__all__) == sorted(exported)
    assert len(set(module.__all__)) == len(module.__all__)


def test_top_level_defines_all():
    assert "__all__" in vars(calculax)
    for name in calculax.__all__:
        assert getattr(calculax, name) is not None


@pytest.mark.parametrize("name", PACKAGES)
def test_public_objects_are_calculax_objects(name):
    module = _module(name)
    for attr in sorted(n for n in vars(module) if not n.startswith("_")):
        value = getattr(module, attr)
        origin = getattr(value, "__module__", None) or getattr(value, "__name__", "")
        if isinstance(value, types.ModuleType):
            origin = value.__name__
        if origin.startswith("calculax") or f"{name}.{attr}" in FOREIGN:
            continue
        # constants (tuples, dicts, frozensets of names) are calculax's own data
        assert isinstance(value, tuple | dict | frozenset | str | int | float), (
            f"{name}.{attr} is {value!r} from {origin!r}"
        )


def test_mypy_is_clean_on_src(tmp_path):
    """``python -m mypy`` with pyproject's ``[tool.mypy]`` (``files = src/calculax``)
    reports no error. The cache goes to ``tmp_path``, so this is a cold run (~25 s
    of CPU) that leaves nothing in the repository."""
    command = [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, (
        f"`python -m mypy` failed (exit {result.returncode}); fix the errors below "
        f"(CONTRIBUTING.md):\n{result.stdout}{result.stderr}"
    )

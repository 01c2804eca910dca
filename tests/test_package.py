"""Package metadata and the public API: version, ``__all__``, ``py.typed``.

The public API of each subpackage is what its ``__init__.py`` re-exports in the
explicit ``from ._x import name as name`` form (STYLE.md); the top level imports its
names on first use (``_EXPORTS``, PEP 562), with the same names re-exported for type
checkers under ``TYPE_CHECKING``. These tests check that ``__all__`` (every package
defines one) lists exactly those names, that every public attribute is one of them
(no helper such as ``jnp`` or ``np`` leaks out), that no re-exported name is
private, and that ``import calculax`` alone loads none of its dependencies.
"""

from __future__ import annotations

import ast
import importlib
import os
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
# Every public package (a folder with an __init__.py and no private part in its
# path), and the public modules that re-export a package's names.
PACKAGES = sorted(
    ".".join(init.parent.relative_to(SRC.parent).parts)
    for init in SRC.rglob("__init__.py")
    if not any(part.startswith("_") for part in init.parent.relative_to(SRC).parts)
) + ["calculax.curvature.methods"]
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


def _submodules(module: types.ModuleType) -> set[str]:
    """Attributes that are the package's own submodules (bound once imported)."""
    return {
        n
        for n, v in vars(module).items()
        if isinstance(v, types.ModuleType) and v.__name__ == f"{module.__name__}.{n}"
    }


@pytest.mark.parametrize("name", [p for p in PACKAGES if p != "calculax"])
def test_public_names_are_exactly_the_reexports(name):
    module = _module(name)
    exported = {n for n in _reexports(name) if not n.startswith("_")}
    public = {n for n in vars(module) if not n.startswith("_")}
    public -= _submodules(module) - exported
    assert public == exported, f"{name}: leaked {public - exported}"
    assert "__all__" in vars(module), f"{name} defines no __all__"
    assert sorted(module.__all__) == sorted(exported)
    assert len(set(module.__all__)) == len(module.__all__)


def test_top_level_defines_all():
    assert "__all__" in vars(calculax)
    for name in calculax.__all__:
        assert getattr(calculax, name) is not None


def _exports_for_type_checkers() -> dict[str, tuple[str, str | None]]:
    """The ``TYPE_CHECKING`` imports of ``calculax/__init__.py``, as ``_EXPORTS``."""
    tree = ast.parse((SRC / "__init__.py").read_text())
    (block,) = [
        n
        for n in tree.body
        if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
    ]
    found = {}
    for node in block.body:
        if isinstance(node, ast.ImportFrom):
            module = "calculax" + ("." + node.module if node.module else "")
            for alias in node.names:
                if node.module:
                    found[alias.asname] = (module, alias.name)
                else:
                    found[alias.asname] = (f"calculax.{alias.name}", None)
    return found


def test_top_level_names_load_on_first_use_and_match_the_typing_block():
    exports = calculax._EXPORTS
    assert sorted(calculax.__all__) == sorted(exports)
    assert _exports_for_type_checkers() == exports
    for name, (module_name, attribute) in exports.items():
        module = importlib.import_module(module_name)
        expected = module if attribute is None else getattr(module, attribute)
        assert getattr(calculax, name) is expected, name
    public = {n for n in dir(calculax) if not n.startswith("_")}
    assert public - (_submodules(calculax) - set(exports)) == set(exports)
    assert "__version__" in dir(calculax)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        calculax.no_such_name  # noqa: B018


# One fresh interpreter: what `import calculax` loads, and the entropy function
# (the subpackage is `calculax.information`: no name of calculax is both).
FRESH = """
import sys
import calculax
heavy = sorted({m.split(".")[0] for m in sys.modules} & {
    "jax", "jaxlib", "numpy", "scipy", "matplotlib", "mpmath", "diffrax", "equinox",
    "optimistix", "lineax", "matfree", "quadax"})
print(heavy)
from calculax.information import kl_divergence
import calculax.information
print(callable(calculax.entropy), calculax.entropy.__module__.startswith("calculax."))
from calculax import entropy, solve_ivp, RESULTS, NumericalError
print(entropy is calculax.entropy, solve_ivp.__name__, RESULTS.__name__)
"""


def test_import_calculax_loads_no_dependency_and_keeps_entropy_the_function():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(SRC.parent)
    script = FRESH
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    heavy, entropy, names = done.stdout.strip().splitlines()
    assert heavy == "[]", f"import calculax loads {heavy}"
    assert entropy == "True True"
    assert names == "True solve_ivp RESULTS"


@pytest.mark.parametrize("name", PACKAGES)
def test_public_objects_are_calculax_objects(name):
    module = _module(name)
    names = module.__all__ if name == "calculax" else vars(module)
    for attr in sorted(n for n in names if not n.startswith("_")):
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

"""The package structure: imports between calculax's packages flow one way.

A static check of ``src/calculax`` (no import is executed): every ``import`` and
``from ... import`` between two top-level packages of calculax is an edge of the
package graph. The graph must have no cycle, no package may import a private module
or name of another public package (what one package needs from another is that
package's public API, or lives in the private shared layer ``calculax._core``), and
every declared runtime dependency must be imported somewhere.
"""

from __future__ import annotations

import ast
import pathlib
import re
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "calculax"


def _module_name(path: pathlib.Path) -> tuple[str, bool]:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _imports(path: pathlib.Path):
    """``(target module, imported name or None)`` for each import in ``path``."""
    module, is_package = _module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                yield target, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "calculax"


def _graph():
    edges: dict[str, set[str]] = {}
    private: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        source = _package(_module_name(path)[0])
        for target, name in _imports(path):
            if not (target == "calculax" or target.startswith("calculax.")):
                continue
            named = target == "calculax" and name is not None
            full = f"calculax.{name}" if named else target
            destination = _package(full)
            if destination in (source, "calculax"):
                continue
            edges.setdefault(source, set()).add(destination)
            inner = full.split(".")[2:] + ([name] if name and full == target else [])
            if not destination.startswith("_") and any(
                part.startswith("_") and not part.startswith("__") for part in inner
            ):
                private.append(f"{path.relative_to(ROOT)}: {target}.{name}")
    return edges, private


def _cycles(edges):
    found = set()
    for start in edges:
        stack = [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    found.add(tuple(sorted(path)))
                elif nxt not in path:
                    stack.append((nxt, path + (nxt,)))
    return sorted(found)


def test_no_import_cycle_between_packages():
    edges, _ = _graph()
    assert _cycles(edges) == []


def test_no_private_module_or_name_of_another_public_package():
    _, private = _graph()
    assert private == []


def test_the_shared_layer_imports_no_public_package():
    edges, _ = _graph()
    assert {p for p in edges.get("_core", set()) if not p.startswith("_")} == set()


# Declared for a reason other than an import: jaxlib is JAX's compiled backend.
_NOT_IMPORTED_BY_DESIGN = {"jaxlib"}


@pytest.mark.parametrize(
    "requirement",
    tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"],
)
def test_every_declared_dependency_is_imported(requirement):
    name = re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower()
    if name in _NOT_IMPORTED_BY_DESIGN:
        return
    module = name.replace("-", "_")
    pattern = re.compile(rf"^\s*(from|import)\s+{module}\b", re.MULTILINE)
    assert any(
        pattern.search(path.read_text(encoding="utf-8")) for path in SRC.rglob("*.py")
    ), f"{name} is declared in pyproject.toml but no module of calculax imports it"


def test_the_check_sees_a_cycle_and_a_private_import():
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [("a", "b")]
    assert _cycles({"a": {"b"}, "b": set()}) == []

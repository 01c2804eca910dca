"""The documentation site: every Python code block in ``docs/`` runs, and the site
builds with ``mkdocs build --strict``.

Each page's ``python`` blocks run in order in one namespace, in JAX's default 32-bit
mode (as a reader runs them; the rest of the suite enables float64; see
``conftest.py``), with the current folder a temporary one so that blocks writing
figures write there. Every block asserts its own claims against closed forms, mpmath
or an independent method; a block that raises fails with the page and block number.
Docstring examples are doctests (collected from ``src/``), not repeated here.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if "api" not in p.parts)
BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)


def _blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text())


def test_the_pages_have_their_examples():
    counts = {p.name: len(_blocks(p)) for p in PAGES}
    assert counts["tensor_derivatives.md"] >= 6
    for name in (
        "index.md",
        "stable_derivatives.md",
        "entropy.md",
        "how_derivatives_are_computed.md",
        "curvature.md",
        "ode_events.md",
    ):
        assert counts[name] >= 1, name


@pytest.mark.default_precision
@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.stem)
def test_code_blocks_run(page, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs.{page.stem}"}
    for number, block in enumerate(_blocks(page), start=1):
        try:
            exec(compile(block, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 -- report which block failed
            pytest.fail(f"block {number} of {page.name} raised {error!r}")
    if page.name == "tensor_derivatives.md":
        assert "disagree" in capsys.readouterr().out
    if page.name == "how_derivatives_are_computed.md":
        assert (tmp_path / "explain_square.png").read_bytes()[:4] == b"\x89PNG"


def test_images_referenced_by_the_pages_exist():
    for page in PAGES:
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name}: {target}"


def _public(module: types.ModuleType) -> set[str]:
    # calculax.numpy and its subpackages serve JAX's names lazily (a module
    # __getattr__): their own names, documented here, are their __all__.
    listed = module.__all__ if hasattr(module, "__getattr__") else dir(module)
    return {
        name
        for name in listed
        if not name.startswith("_")
        and not isinstance(getattr(module, name), types.ModuleType)
    }


def _api_pages() -> dict[str, str]:
    """Module -> API page, from ``docs/hooks/api_pages.py`` (which writes them)."""
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        pages = importlib.import_module("api_pages").PAGES
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    return {module: page for page, modules in pages.items() for module in modules}


API_PAGES = _api_pages()
SRC = ROOT / "src" / "calculax"


def test_every_public_package_has_an_api_page():
    packages = {
        ".".join(init.parent.relative_to(SRC.parent).parts)
        for init in SRC.rglob("__init__.py")
        if not any(part.startswith("_") for part in init.parent.relative_to(SRC).parts)
    }
    assert packages - {"calculax"} <= set(API_PAGES), (
        "run python docs/hooks/api_pages.py"
    )


@pytest.mark.parametrize("module_name", sorted(API_PAGES))
def test_api_reference_lists_every_public_name(module_name):
    importlib.import_module(module_name)
    module = sys.modules[
        module_name
    ]  # (a subpackage, also where an attribute of its parent shadows it)
    page = (DOCS / "api" / f"{API_PAGES[module_name]}.md").read_text()
    listed = set(re.findall(rf"^::: {re.escape(module_name)}\.(\w+)$", page, re.M))
    submodules = {n for n in listed if isinstance(getattr(module, n), types.ModuleType)}
    assert listed - submodules == _public(module), "run python docs/hooks/api_pages.py"


def test_docstring_math_becomes_markdown():
    sys.path.insert(0, str(DOCS / "hooks"))
    try:
        from griffe_rst import to_markdown
    finally:
        sys.path.remove(str(DOCS / "hooks"))
    text = (
        "Computes :math:`x^2` (see :func:`~calculax.derivative`).\n\n"
        "    .. math:: a = b\n        + c\n\n    Example:\n        >>> 1\n"
    )
    assert to_markdown(text) == (
        "Computes $x^2$ (see `calculax.derivative`).\n\n"
        "    $$\n    a = b\n    + c\n    $$\n\n\n    Examples:\n        >>> 1"
    )


def test_mkdocs_build_strict(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"]
        + ["--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for page in ("index.html", "api/numpy/index.html", "comparison/index.html"):
        assert (tmp_path / page).is_file()
    api = (tmp_path / "api" / "numpy" / "index.html").read_text()
    assert 'id="calculax.numpy.divide"' in api
    assert ":math:" not in api and 'class="arithmatex"' in api


def test_compare_names_a_command_for_every_benchmark(tmp_path, monkeypatch):
    # benchmarks/results/ is not tracked: with no records, every table says which
    # command produces it, and every command names a script that exists.
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    compare = importlib.import_module("compare")
    text = compare.table(tmp_path)
    for name, command in compare.COMMANDS.items():
        assert f"### `{name}`" in text and command in text
        assert (ROOT / "benchmarks" / f"{name}.py").is_file()
    assert text.count("No results yet") == len(compare.COMMANDS)


@pytest.mark.default_precision
def test_readme_code_blocks_run(tmp_path, monkeypatch, capsys):
    # The README's Python examples (indented ones in lists included), in order, in
    # one namespace, as a reader would paste them.
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.S | re.M)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "README"}
    for number, (_, block) in enumerate(blocks, start=1):
        try:
            code = compile(textwrap.dedent(block), f"README[{number}]", "exec")
            exec(code, namespace)
        except Exception as error:  # noqa: BLE001 -- report which block failed
            pytest.fail(f"block {number} of README.md raised {error!r}")

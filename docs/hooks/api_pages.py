"""Write ``docs/api/<page>.md``: one mkdocstrings entry per public name.

mkdocstrings lists a package's members from its ``__all__``; calculax's subpackages
re-export with ``from ._x import name as name`` instead, so each page names every
public object explicitly. ``tests/test_docs.py`` checks that the pages list exactly
the public names; after adding or removing one, run::

    python docs/hooks/api_pages.py
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

API = Path(__file__).resolve().parents[1] / "api"
PAGES = {
    "numpy": (
        "calculax.numpy",
        "calculax.numpy.special",
        "calculax.numpy.nn",
        "calculax.numpy.linalg",
    ),
    "derivatives": ("calculax.derivatives",),
    "audit": ("calculax.audit",),
    "curvature": ("calculax.curvature", "calculax.curvature.methods"),
    "entropy": ("calculax.information",),
    "integrate": ("calculax.integrate",),
    "ode": ("calculax.ode",),
    "scipy": ("calculax.scipy", "calculax.scipy.integrate"),
}
NOTES = {
    "entropy": "The subpackage is `calculax.information`; `calculax.entropy`, "
    "`calculax.kl_divergence`,\n`calculax.cross_entropy` and "
    "`calculax.entropy_from_samples` are its functions, re-exported.\n",
}


def public_names(module: types.ModuleType) -> list[str]:
    """Functions first, then classes and constants, each alphabetically.

    A package that serves JAX's names lazily (a module ``__getattr__``, as
    ``calculax.numpy``) is documented by its own names, its ``__all__``.
    """
    listed = module.__all__ if hasattr(module, "__getattr__") else dir(module)
    names = [
        n
        for n in listed
        if not n.startswith("_")
        and not isinstance(getattr(module, n), types.ModuleType)
    ]

    def key(name: str) -> tuple[bool, str]:
        value = getattr(module, name)
        return (not callable(value) or isinstance(value, type), name.lower())

    return sorted(names, key=key)


def page(name: str, modules: tuple[str, ...]) -> str:
    lines = [f"# calculax.{name}\n"]
    if name in NOTES:
        lines.append(NOTES[name])
    for module_name in modules:
        importlib.import_module(module_name)
        module = sys.modules[module_name]  # (a subpackage, also where an attribute of its parent shadows it)
        lines.append(
            f"::: {module_name}\n    options:\n      members: false\n"
            "      heading_level: 2\n"
        )
        for member in public_names(module):
            lines.append(
                f"::: {module_name}.{member}\n    options:\n      heading_level: 3\n"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    for name, modules in PAGES.items():
        (API / f"{name}.md").write_text(page(name, modules))
        print(f"wrote {API / name}.md")

"""Griffe extension: the docstrings' reStructuredText idioms, as Markdown.

calculax's docstrings follow JAX's and Sphinx's habits -- ``:math:`...```,
``.. math::`` blocks, ``:func:`name``` cross-references and an ``Example:`` section
of doctest lines -- which mkdocstrings would show verbatim (and the ``>>>`` prompts as
nested block quotes). Before the docstrings are parsed this rewrites them to what the
site renders: ``$...$`` and ``$$...$$`` (``pymdownx.arithmatex``, drawn by the
vendored KaTeX), inline code for the roles, and ``Examples:``, the Google-style
section whose ``>>>`` lines mkdocstrings shows as Python code. A docstring that is a
template completed at import time (a line ``{args}``) is read from the imported
object instead. The source
docstrings are left as they are: the doctests run them unchanged.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap

import griffe

_INLINE_MATH = re.compile(r":math:`([^`]+)`")
_ROLE = re.compile(r":(?:func|class|meth|data|mod|attr|obj):`~?([^`]+)`")
_TEMPLATE = re.compile(r"^\s*\{\w+\}\s*$", re.MULTILINE)
_EXAMPLE = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)
_BLOCK_MATH = re.compile(
    r"^([ \t]*)\.\. math::[ \t]*(.*)\n((?:\1[ \t]+\S.*\n|[ \t]*\n(?=\1[ \t]+\S))*)",
    re.MULTILINE,
)


def _block(match: re.Match) -> str:
    indent = match.group(1)
    body = (match.group(2) + "\n" + textwrap.dedent(match.group(3))).strip()
    return f"{indent}$$\n{textwrap.indent(body, indent)}\n{indent}$$\n\n"


def to_markdown(text: str) -> str:
    """Rewrite the reStructuredText idioms of one docstring as Markdown."""
    text = _BLOCK_MATH.sub(_block, text + "\n")
    text = _INLINE_MATH.sub(lambda m: f"${m.group(1).strip()}$", text)
    text = _ROLE.sub(r"`\1`", text)
    return _EXAMPLE.sub(r"\1Examples:", text).rstrip("\n")


def _runtime_docstring(obj: griffe.Object) -> str | None:
    """The docstring after import, for one filled in at import time (``{args}``)."""
    try:
        value = importlib.import_module(obj.module.path)
        for part in obj.path[len(obj.module.path) + 1 :].split("."):
            value = getattr(value, part)
    except (ImportError, AttributeError):
        return None
    return inspect.getdoc(value)


class RstToMarkdown(griffe.Extension):
    """Apply :func:`to_markdown` to every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is None:
            return
        text = obj.docstring.value
        if _TEMPLATE.search(text):  # a template completed at import time
            text = _runtime_docstring(obj) or text
        obj.docstring.value = to_markdown(text)

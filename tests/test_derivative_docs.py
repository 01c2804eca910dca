"""The code blocks of docs/tensor_derivatives.md run, in order, in one namespace.

Each block asserts its own claims against closed forms or the truth; a block that
raises fails this test with the block's number.
"""

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "tensor_derivatives.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)


def test_the_page_has_its_examples():
    assert len(BLOCKS) >= 6


def test_code_blocks_run(capsys):
    namespace: dict = {}
    for number, block in enumerate(BLOCKS, start=1):
        try:
            exec(compile(block, f"{PAGE.name}[block {number}]", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 -- report which block failed
            pytest.fail(f"block {number} of {PAGE.name} raised {error!r}")
    assert "disagree" in capsys.readouterr().out

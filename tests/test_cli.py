"""The ``calculax`` command line: the tour runs, prints its table, writes its figure."""

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from calculax.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour") / "figures"  # created by the tour
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = main(["tour", "--out", out])
    return status, stdout.getvalue(), out


def _row(table: str, order: str, method: str) -> list[str]:
    match = re.search(rf"^\s*{order}\s+{method}\s+(.*)$", table, flags=re.MULTILINE)
    assert match, f"no row for {order} {method} in:\n{table}"
    return match.group(1).split()


def test_tour_succeeds_and_writes_the_figure(tour):
    status, _, out = tour
    assert status == 0
    figure = out / "stable_division.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tour_table_calculax_is_right_everywhere(tour):
    # float32, a = b = 10**k for k = -45..38: the first derivative 1/b is a normal
    # float32 at 75 points (k = -37..37: smaller inputs are subnormal and flushed to 0
    # by XLA on CPU, and 1/1e38 is subnormal); -2/b**2 at 39 (k = -19..19).
    _, table, _ = tour
    assert _row(table, "first", "calculax")[0] == "75/75"
    assert _row(table, "second", "calculax")[0] == "39/39"


def test_tour_table_naive_jax_fails_as_in_the_seed(tour):
    # jax.grad forms a/b**2: b**2 underflows (inf) or overflows (zero).
    _, table, _ = tour
    right, inaccurate, inf, zero, nan = _row(table, "first", "jax")
    assert (right, inf, zero, nan) == ("37/75", "19", "19", "0")
    right, inaccurate, inf, zero, nan = _row(table, "second", "jax")
    assert (right, inf, zero, nan) == ("25/39", "7", "7", "0")


def test_tour_audit_chapter(tour):
    # Chapter 2: calculax.audit with truths from the jaxpr interpreter; the seed's
    # ratio, stabilized, is right at every representable point at orders 1-3.
    _, table, out = tour
    rows = {
        (m.group(1).strip(), int(m.group(2)), m.group(3)): m.group(4)
        for m in re.finditer(
            r"^\s+(-a / b|-exp\(log\(a\) - log\(b\)\))\s+(\d)\s+(jax|stabilized)"
            r"\s+(\d+/\d+)",
            table,
            flags=re.MULTILINE,
        )
    }
    assert rows["-a / b", 1, "jax"] == "37/75"
    for order, n in ((1, 75), (2, 39), (3, 25)):
        assert rows["-a / b", order, "stabilized"] == f"{n}/{n}"
    assert len(rows) == 12
    assert (out / "audit_workaround.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv",
    [[], ["tor"], ["tour", "--dtype", "float16"], ["tour", "--bogus"]],
    ids=["no-command", "unknown-command", "bad-dtype", "unknown-option"],
)
def test_bad_arguments_give_one_line_and_nonzero_status(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    assert status != 0
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calculax: error:")


def test_unwritable_out_is_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status = main(["tour", "--out", str(blocker)])
    captured = capsys.readouterr()
    assert status == 1
    assert len(captured.err.strip().splitlines()) == 1


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    script = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    command = script[-1].strip()
    assert shlex.split(command)[:3] == ["python", "-m", "pip"]
    assert f"\n{command}\n" in readme

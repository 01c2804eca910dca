# ruff: noqa: E501
"""Bad and edge command lines: every failure is one line, ``calculax: error: ...``.

Each case runs ``calculax.cli.main(argv)`` in this process (cheap: most fail before
anything is traced) and states its expected outcome: exit status 2 (a bad command
line or expression) or 1 (a failure while running: an import, the function, a file)
with a fragment of the specific message, or status 0 with a check of what was
written. Two cases run the real entry point in a fresh process (bytes that are not
UTF-8; an expression too deep for Python's parser).

``python -m tests.bad_input.test_cli`` prints the outcome classes per command for
whichever calculax is importable (``PYTHONPATH=.../src``); the counts before and
after are in ``notes/infra.md``.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import io
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from calculax.cli import main

ROOT = Path(__file__).resolve().parents[2]
F = "lambda x: jnp.exp(x)"


@dataclasses.dataclass(frozen=True)
class Case:
    """``argv`` (``{tmp}`` is the case's folder), the status, and what to check.

    For an error: ``fragment`` must be in the one line on standard error. For
    status 0: ``check(stdout, tmp)`` must hold.
    """

    name: str
    argv: tuple[str, ...]
    status: int
    fragment: str = ""
    check: Callable[[str, Path], bool] | None = None

    @property
    def command(self) -> str:
        known = ("tour", "audit", "explain")
        return self.argv[0] if self.argv and self.argv[0] in known else "(none)"


def _balanced_sum(leaves: int) -> str:
    terms = ["x"] * leaves
    while len(terms) > 1:
        terms = [f"({a}+{b})" for a, b in zip(terms[::2], terms[1::2])]
    return terms[0]


MODULES = {  # written into the case's folder, the current folder of the run
    "cx_bad_raises.py": "raise RuntimeError('broken on import')\n",
    "cx_bad_exits.py": "import sys\nsys.exit(3)\n",
    "cx_bad_attrs.py": (
        "NOT_A_FUNCTION = 3\n"
        "def no_arguments():\n    return 1.0\n"
        "def divide_by_zero(x):\n    return 1 / 0\n"
        "def exits(x):\n    raise SystemExit(4)\n"
        "def vector(x):\n    import jax.numpy as jnp\n    return jnp.ones(3) * x\n"
        "def __getattr__(name):\n    raise RuntimeError('no ' + name)\n"
    ),
}


def _wrote_png(name: str):
    def check(out: str, tmp: Path) -> bool:
        path = tmp / name
        return (
            path.read_bytes()[:4] == b"\x89PNG" and f"Figure written to {path}" in out
        )

    return check


def _same_table_as_forward(out: str, tmp: Path) -> bool:
    return "| jax | 5/5 |" in out and "| stabilized | 5/5 |" in out


CASES = [
    # --- the command line itself (argparse) -----------------------------------
    Case("no-command", (), 2, "choose a command"),
    Case("unknown-command", ("tor",), 2, "invalid choice"),
    Case("unknown-option", ("tour", "--bogus"), 2, "unrecognized arguments"),
    Case("bad-dtype", ("tour", "--dtype", "float16"), 2, "invalid choice"),
    Case("missing-function", ("explain",), 2, "FUNCTION"),
    Case("order-not-int", ("explain", F, "--order", "abc"), 2, "invalid int value"),
    Case("order-zero", ("explain", F, "--order", "0"), 2, "--order must be"),
    Case(
        "order-negative",
        ("explain", F, "--order", "-1"),
        2,
        "--order must be",
    ),
    Case(
        "order-huge", ("explain", F, "--order", "100"), 2, "--order must be between 1"
    ),
    # --- the expression -------------------------------------------------------
    Case(
        "empty-function",
        ("explain", ""),
        2,
        "expected 'lambda ...' or 'module:function'",
    ),
    Case(
        "blank-function",
        ("explain", "   "),
        2,
        "expected 'lambda ...' or 'module:function'",
    ),
    Case(
        "not-a-lambda",
        ("explain", "lambdax + 1"),
        2,
        "expected a lambda such as",
    ),
    Case("unclosed", ("explain", "lambda x: jnp.tanh(x"), 2, "never closed"),
    Case(
        "unknown-function",
        ("explain", "lambda x: jnp.cumsum(x)"),
        2,
        "unknown function jnp.cumsum",
    ),
    Case(
        "unknown-namespace",
        ("explain", "lambda x: os.system(x)"),
        2,
        "the namespace 'os'",
    ),
    Case(
        "attribute-of-parameter",
        ("explain", "lambda x: x.real"),
        2,
        "the namespace 'x'",
    ),
    Case(
        "nested-attribute",
        ("explain", "lambda x: jnp.linalg.inv(x)"),
        2,
        "as a function",
    ),
    Case(
        "dunder-import",
        ("explain", "lambda x: __import__('os').getcwd()"),
        2,
        "the dunder name '__import__'",
    ),
    Case(
        "dunder-attribute",
        ("explain", "lambda x: ().__class__"),
        2,
        "the dunder name '__class__'",
    ),
    Case(
        "dunder-fullwidth",
        ("explain", "lambda x: __\uff49\uff4d\uff50\uff4f\uff52\uff54__('os')"),
        2,
        "the dunder name '__import__'",
    ),
    Case("subscript", ("explain", "lambda x: x[0]"), 2, "a subscript"),
    Case(
        "comprehension", ("explain", "lambda x: [x for _ in ()]"), 2, "a comprehension"
    ),
    Case("comparison", ("explain", "lambda x: x > 0"), 2, "a comparison"),
    Case(
        "conditional",
        ("explain", "lambda x: x if x else 1.0"),
        2,
        "a conditional expression",
    ),
    Case(
        "keyword-argument",
        ("explain", "lambda x: jnp.sin(x=x)"),
        2,
        "a keyword argument",
    ),
    Case(
        "string-constant", ("explain", "lambda x: 'x'"), 2, "only numbers are allowed"
    ),
    Case(
        "bool-constant",
        ("explain", "lambda x: x * True"),
        2,
        "only numbers are allowed",
    ),
    Case(
        "power-of-constants",
        ("explain", "lambda x: x + 9 ** 9 ** 9"),
        2,
        "a power of two constants",
    ),
    Case(
        "integer-beyond-64-bits",
        ("explain", "lambda x: x * 99999999999999999999"),
        2,
        "beyond 32",
    ),
    Case(
        "integer-beyond-32-bits",
        ("explain", "lambda x: x * 10000000000"),
        2,
        "write it as a float",
    ),
    Case(
        "integer-of-5000-digits",
        ("explain", "lambda x: x * 1" + "0" * 5000),
        2,
        "cannot parse",
    ),
    Case(
        "arity-zero",
        ("explain", "lambda x: jnp.sin()"),
        2,
        "jnp.sin with 0 arguments (it takes 1)",
    ),
    Case(
        "arity-one-of-two",
        ("explain", "lambda x: jnp.arctan2(x)"),
        2,
        "jnp.arctan2 with 1 argument (it takes 2)",
    ),
    Case(
        "starred-argument",
        ("explain", "lambda x: jnp.sin(*x)"),
        2,
        "a starred argument",
    ),
    Case("no-parameters", ("explain", "lambda: 1.0"), 2, "at least one parameter"),
    Case(
        "var-parameters", ("explain", "lambda *a: a"), 2, "plain positional parameters"
    ),
    Case(
        "default-parameter",
        ("explain", "lambda x=1.0: x"),
        2,
        "plain positional parameters",
    ),
    Case(
        "duplicate-parameter",
        ("explain", "lambda x, x: x"),
        2,
        "duplicate parameter names",
    ),
    Case(
        "parameter-shadows-namespace",
        ("explain", "lambda jnp: jnp"),
        2,
        "shadows the namespace 'jnp'",
    ),
    Case(
        "5000-deep-minus",
        ("explain", "lambda x: " + "-" * 5000 + "x"),
        2,
        "nests too deeply",
    ),
    Case(
        "20000-term-sum",
        ("explain", "lambda x: " + "+".join(["x"] * 20000)),
        2,
        "nests too deeply",
    ),
    Case(
        "2000-term-sum",
        ("explain", "lambda x: " + "+".join(["x"] * 2000)),
        2,
        "more than 200 levels deep",
    ),
    Case(
        "wide-balanced-sum",
        ("explain", "lambda x: " + _balanced_sum(256)),
        0,
        check=lambda out, _: "- chain of rules (last row): 256" in out,
    ),
    Case("null-character", ("explain", "lambda x: x\x00"), 2, "cannot parse"),
    Case("lone-surrogate", ("explain", "lambda x: x\udcff"), 2, "not valid text"),
    Case("file-path", ("explain", "path/to/mine.py:f"), 2, "is a file path"),
    Case(
        "module-without-function",
        ("explain", "cx_bad_attrs:"),
        2,
        "expected 'lambda ...' or 'module:function'",
    ),
    # --- the options ------------------------------------------------------------
    Case(
        "wrt-unknown",
        ("explain", "lambda x: x", "--wrt", "y"),
        2,
        "--wrt: unknown argument 'y'",
    ),
    Case(
        "at-unknown",
        ("explain", "lambda x: x", "--at", "y=1"),
        2,
        "--at: unknown argument 'y'",
    ),
    Case(
        "at-not-a-number",
        ("explain", "lambda x: x", "--at", "x=abc"),
        2,
        "'abc' is not a number",
    ),
    Case(
        "at-twice",
        ("explain", "lambda x: x", "--at", "x=1", "--at", "x=2"),
        2,
        "given twice",
    ),
    Case(
        "at-overflows-float32",
        ("explain", "lambda x: x", "--at", "x=1e39"),
        2,
        "overflows float32",
    ),
    Case(
        "at-without-value",
        ("explain", "lambda x: x", "--at", "x"),
        2,
        "expects NAME=VALUE",
    ),
    Case(
        "tie-without-equals",
        ("audit", "lambda a, b: a", "--tie", "a"),
        2,
        "expects NAME=VALUE",
    ),
    Case(
        "tie-without-wrt",
        ("audit", "lambda a, b, c: a", "--tie", "b=c"),
        2,
        "one side must be --wrt a",
    ),
    Case(
        "tie-unknown",
        ("audit", "lambda a, b: a", "--tie", "a=z"),
        2,
        "--tie: unknown argument 'z'",
    ),
    Case("range-one-number", ("audit", "lambda a: a", "--range", "1e5"), 2, "LO:HI"),
    Case("range-not-numbers", ("audit", "lambda a: a", "--range", "abc:1"), 2, "LO:HI"),
    Case(
        "range-nan", ("audit", "lambda a: a", "--range", "nan:1"), 2, "must be finite"
    ),
    Case(
        "range-inf", ("audit", "lambda a: a", "--range", "1:inf"), 2, "must be finite"
    ),
    Case(
        "range-zero",
        ("audit", "lambda a: a", "--range", "0:1"),
        2,
        "nonzero and of the same sign",
    ),
    Case(
        "range-mixed-signs", ("audit", "lambda a: a", "--range", "1:-1"), 2, "same sign"
    ),
    Case(
        "range-empty",
        ("audit", "lambda a: a", "--range", "2:3"),
        2,
        "contains no power of ten",
    ),
    Case(
        "range-beyond-float32",
        ("audit", "lambda a: a", "--range", "1e-50:1e50"),
        2,
        "float32 represents powers of ten from 1e-44 to 1e38",
    ),
    Case(
        "plot-unknown-format",
        ("explain", F, "--plot", "{tmp}/v.xyz"),
        2,
        "unknown figure format 'xyz'",
    ),
    Case("plot-a-folder", ("explain", F, "--plot", "{tmp}"), 2, "is a folder"),
    Case("plot-empty", ("explain", F, "--plot", ""), 2, "give a file name"),
    Case("out-empty", ("tour", "--out", ""), 2, "give a folder"),
    # --- failures while running (status 1) ---------------------------------------
    Case(
        "module-missing",
        ("explain", "cx_no_such_module:f"),
        1,
        "cannot import module 'cx_no_such_module'",
    ),
    Case(
        "module-raises",
        ("explain", "cx_bad_raises:f"),
        1,
        "RuntimeError: broken on import",
    ),
    Case("module-exits", ("explain", "cx_bad_exits:f"), 1, "it called exit(3)"),
    Case(
        "attribute-missing",
        ("explain", "cx_bad_attrs:nothing_here"),
        1,
        "has no attribute 'nothing_here'",
    ),
    Case(
        "attribute-not-callable",
        ("explain", "cx_bad_attrs:NOT_A_FUNCTION"),
        1,
        "is a int, not a function",
    ),
    Case(
        "function-without-arguments",
        ("explain", "cx_bad_attrs:no_arguments"),
        1,
        "takes no positional arguments",
    ),
    Case(
        "function-raises",
        ("explain", "cx_bad_attrs:divide_by_zero"),
        1,
        "ZeroDivisionError",
    ),
    Case("function-exits", ("explain", "cx_bad_attrs:exits"), 1, "it called exit(4)"),
    Case(
        "function-not-traceable", ("explain", "math:sqrt"), 1, "write it with jax.numpy"
    ),
    Case(
        "function-not-scalar",
        ("explain", "cx_bad_attrs:vector"),
        1,
        "cannot explain cx_bad_attrs:vector",
    ),
    Case(
        "plot-folder-missing",
        ("explain", F, "--plot", "{tmp}/missing/v.png"),
        1,
        "cannot write the figure to",
    ),
    Case(
        "out-is-a-file",
        ("tour", "--out", "{tmp}/cx_bad_raises.py"),
        1,
        "cannot write the figures",
    ),
    Case(
        "out-under-a-file",
        ("tour", "--out", "{tmp}/cx_bad_raises.py/sub"),
        1,
        "cannot write the figures",
    ),
    # --- edge inputs with a right outcome (status 0) ------------------------------
    Case(
        "plot-without-suffix",
        ("explain", F, "--plot", "{tmp}/v"),
        0,
        check=_wrote_png("v.png"),
    ),
    Case(
        "plot-upper-case-suffix",
        ("explain", F, "--plot", "{tmp}/v.PNG"),
        0,
        check=_wrote_png("v.PNG"),
    ),
    Case(
        "range-reversed",
        ("audit", "lambda x: jnp.sin(x)", "--range", "1e2:1e-2"),
        0,
        check=_same_table_as_forward,
    ),
    Case(
        "at-infinity",
        ("explain", "lambda x: jnp.tanh(x)", "--at", "x=inf"),
        1,
        "must be finite (a derivative at nan or inf is undefined)",
    ),
    Case(
        "version", ("--version",), 0, check=lambda out, _: out.startswith("calculax ")
    ),
    Case("help", ("--help",), 0, check=lambda out, _: "usage: calculax" in out),
]


def _prepare(tmp: Path) -> None:
    for name, text in MODULES.items():
        (tmp / name).write_text(text)


def _run(case: Case, tmp: Path) -> tuple[int, str, str]:
    """``main(argv)`` with ``tmp`` the current folder: (status, stdout, stderr)."""
    argv = [a.replace("{tmp}", str(tmp)) for a in case.argv]
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
    finally:
        os.chdir(cwd)
    return status, out.getvalue(), err.getvalue()


def outcome(case: Case, status: int, out: str, err: str, tmp: Path) -> str:
    """The class of a finished run (a raise out of ``main`` is a crash)."""
    lines = err.strip().splitlines()
    if case.status == 0:
        if status == 0 and case.check(out, tmp):
            return "right"
        return "silent wrong" if status == 0 else "generic error"
    if status == 0:
        return "silent wrong"
    if (
        "Traceback" in err
        or len(lines) != 1
        or not lines[0].startswith("calculax: error:")
    ):
        return "crash"
    if status == case.status and case.fragment in lines[0]:
        return "specific error"
    return "generic error"


@pytest.fixture
def tmp(tmp_path):
    _prepare(tmp_path)
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_command_line(case, tmp):
    status, out, err = _run(case, tmp)
    expected = "right" if case.status == 0 else "specific error"
    assert outcome(case, status, out, err, tmp) == expected, (status, err, out[-500:])


def test_dtype_float64_enables_x64_for_the_command_only(tmp):
    import jax

    with jax.enable_x64(False):
        status, out, _ = _run(
            Case(
                "x64",
                ("explain", "lambda x: x * x", "--at", "x=0.1", "--dtype", "float64"),
                0,
            ),
            tmp,
        )
        assert jax.config.read("jax_enable_x64") is False
    # 0.1**2 in float64, not float32's 0.010000001
    assert status == 0 and "| 0.010000000000000002 | 0.2 |" in out


# --- the real entry point, in a fresh process ------------------------------------


def _process(*argv: str | bytes) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(ROOT / "src")
    return subprocess.run(
        [sys.executable, "-m", "calculax.cli", *argv], capture_output=True, env=env
    )


def test_bytes_that_are_not_utf8_are_one_line_in_a_real_process():
    done = _process("explain", b"lambda x: x\xff")
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("calculax: error:"), err
    assert "not valid text" in err


def test_a_deep_expression_is_one_line_in_a_real_process():
    done = _process("audit", "lambda x: " + "-" * 5000 + "x", "--range", "1:10")
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert err.count("\n") == 1 and "nests too deeply" in err and "Traceback" not in err


# --- python -m tests.bad_input.test_cli: the outcome classes ------------------------

CLASSES = ("right", "specific error", "generic error", "silent wrong", "crash", "hang")


def _count() -> None:
    def alarm(*_):
        raise TimeoutError

    signal.signal(signal.SIGALRM, alarm)
    table: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            _prepare(tmp)
            signal.alarm(120)
            try:
                status, out, err = _run(case, tmp)
                kind = outcome(case, status, out, err, tmp)
            except TimeoutError:
                kind = "hang"
            except BaseException:  # noqa: BLE001 - out of main: a crash
                kind = "crash"
            finally:
                signal.alarm(0)
        table[case.command][kind] += 1
        print(f"{case.name}: {kind}", file=sys.stderr)
    total: collections.Counter = collections.Counter()
    print("| command | " + " | ".join(CLASSES) + " |")
    print("|---|" + "---|" * len(CLASSES))
    for command, counter in sorted(table.items()):
        total.update(counter)
        print(f"| {command} | " + " | ".join(str(counter[c]) for c in CLASSES) + " |")
    print("| **all** | " + " | ".join(str(total[c]) for c in CLASSES) + " |")


if __name__ == "__main__":
    import jax

    jax.config.update("jax_enable_x64", True)  # as the test suite runs
    _count()

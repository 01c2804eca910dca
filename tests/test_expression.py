"""The command line's function parser: a whitelisted lambda, or ``module:function``."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from calculax._expression import (
    ExpressionError,
    ImportFailure,
    load_function,
    parse_lambda,
)

# (source, arguments, closed form evaluated with Python's math module)
ACCEPTED = [
    ("lambda a, b: -a / b", (1.5, 4.0), lambda a, b: -a / b),
    ("lambda x: jnp.tanh(x)", (0.3,), math.tanh),
    ("lambda x: +x ** 3 - 2 * x", (1.25,), lambda x: x**3 - 2 * x),
    ("lambda x: math.sin(x) * math.pi", (0.5,), lambda x: math.sin(x) * math.pi),
    ("lambda x: np.exp(x) + np.e", (0.5,), lambda x: math.exp(x) + math.e),
    ("lambda x: cnp.log1p(x) ** 2", (0.25,), lambda x: math.log1p(x) ** 2),
    ("lambda a, b: jnp.arctan2(a, b)", (1.0, -2.0), math.atan2),
    ("lambda x: math.hypot(x, 3.0) / math.pow(x, 2)", (4.0,), lambda x: 5.0 / 16.0),
    ("  lambda x: jnp.exp(jnp.log(x) - jnp.log(2))  ", (3.0,), lambda x: 1.5),
]


@pytest.mark.parametrize("source, args, exact", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted_lambdas_compute_their_formula(source, args, exact):
    f = parse_lambda(source)
    value = float(f(*[np.float64(a) for a in args]))
    assert value == pytest.approx(exact(*args), rel=16 * np.finfo(np.float64).eps)
    assert f.__code__.co_argcount == len(args)  # audit reads the arity from here
    assert f.__name__ == source.strip()


# (source, a fragment of the message, the column it must name)
REJECTED = [
    ("lambda x: __import__('os').system('touch PWNED')", "'__import__'", 11),
    ("lambda x: x.__class__", "'__class__'", 11),
    ("lambda x: os.system(x)", "namespace 'os'", 11),
    ("lambda x: jnp.cumsum(x)", "unknown function jnp.cumsum", 11),
    ("lambda x: jnp.linalg", "unknown constant jnp.linalg", 11),
    ("lambda x: x[0]", "subscript", 11),
    ("lambda x: [v for v in x]", "comprehension", 11),
    ("lambda x: jnp.exp(x, out=x)", "keyword argument", 22),
    ("lambda x: x if x > 0 else -x", "conditional expression", 11),
    ("lambda x: x > 0", "comparison", 11),
    ("lambda x: x % 2", "operator Mod", 11),
    ("lambda x: x + 9**9**9**9", "power of two constants", 15),
    ("lambda x: x * (2**10) ** 2", "power of two constants", 15),
    ("lambda x: 'text'", "constant 'text'", 11),
    ("lambda x: True", "constant True", 11),
    ("lambda x: y", "name 'y'", 11),
    ("lambda x: exp(x)", "as a function", 11),
    ("lambda x: jnp.sin(x).real(x)", "attribute .real", 11),
    ("lambda x: (lambda: x)()", "nested lambda", 12),
    ("lambda x: (y := x)", "assignment expression", 12),
    ("lambda x: (", "never closed", 11),
    ("import os", "invalid syntax", 1),
    ("x + 1", "expected a lambda", 1),
    ("lambda x: x * 10000000000", "beyond 32", 15),
    ("lambda x: jnp.sin(x, x)", "jnp.sin with 2 arguments (it takes 1)", 11),
    ("lambda x: jnp.hypot(x)", "jnp.hypot with 1 argument (it takes 2)", 11),
]


@pytest.mark.parametrize(
    "source, fragment, column", REJECTED, ids=[r[0] for r in REJECTED]
)
def test_rejected_constructs_are_named_with_their_column(
    source, fragment, column, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExpressionError) as raised:
        parse_lambda(source)
    message = str(raised.value)
    assert fragment in message
    assert f"column {column}" in message
    assert not (tmp_path / "PWNED").exists()  # nothing of it ran


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("lambda x=1: x", "plain positional"),
        ("lambda *x: x", "plain positional"),
        ("lambda: 1", "at least one parameter"),
        ("lambda jnp: jnp", "shadows the namespace"),
        ("lambda __x: __x", "dunder"),
    ],
)
def test_rejected_parameters(source, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        parse_lambda(source)


def test_the_whitelist_holds_no_builtins_and_no_modules():
    # The namespace the checked tree runs in: the four prefixes, each holding only
    # functions of jax.numpy / calculax.numpy.
    from calculax._expression import FUNCTIONS

    assert sorted(FUNCTIONS) == ["cnp", "jnp", "math", "np"]
    for table in FUNCTIONS.values():
        for function in table.values():
            module = getattr(function, "__module__", "") or ""
            assert module.startswith(("jax", "calculax")), function


def test_module_function_is_imported_from_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "cx_user_module.py").write_text(
        "import jax.numpy as jnp\n\ndef ratio(a, b):\n    return -a / b\n"
    )
    monkeypatch.chdir(tmp_path)
    path = list(sys.path)
    f = load_function("cx_user_module:ratio")
    assert float(f(1.0, 4.0)) == -0.25
    assert sys.path == path  # the folder was added for the import only
    assert load_function("lambda x: x * 2")(3.0) == 6.0


@pytest.mark.parametrize(
    "spec, error, fragment",
    [
        ("cx_no_such_module:f", ImportFailure, "cannot import module"),
        ("math:no_such_function", ImportFailure, "no attribute"),
        ("math:pi", ImportFailure, "not a function"),
        ("math", ExpressionError, "module:function"),
        (":f", ExpressionError, "module:function"),
    ],
)
def test_module_function_errors(spec, error, fragment):
    with pytest.raises(error, match=fragment):
        load_function(spec)


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("lambda x: " + "-" * 5000 + "x", "nests too deeply for Python's parser"),
        (
            "lambda x: " + "+".join(["x"] * 20000),
            "nests too deeply for Python's parser",
        ),
        ("lambda x: x\x00", "cannot parse"),
        ("lambda x: x\udcff", "not valid text"),
        ("lambda x: " + "+".join(["x"] * 300), "more than 200 levels deep"),
    ],
    ids=["5000-deep", "20000-terms", "null", "surrogate", "300-terms"],
)
def test_sources_python_cannot_parse_are_expression_errors(source, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        parse_lambda(source)


def test_the_deepest_accepted_expression_compiles_and_runs():
    # MAX_DEPTH levels (the lambda, MAX_DEPTH - 2 additions, the leftmost x) is far
    # from CPython's own recursion limits.
    from calculax._expression import MAX_DEPTH

    f = parse_lambda("lambda x: " + "+".join(["x"] * (MAX_DEPTH - 1)))
    assert float(f(np.float64(1.5))) == 1.5 * (MAX_DEPTH - 1)
    with pytest.raises(ExpressionError, match="more than 200 levels"):
        parse_lambda("lambda x: " + "+".join(["x"] * MAX_DEPTH))


@pytest.mark.parametrize(
    "module, fragment",
    [
        ("raise RuntimeError('broken')", "RuntimeError: broken"),
        ("import sys; sys.exit(3)", r"it called exit\(3\)"),
    ],
)
def test_a_module_that_fails_on_import_is_an_import_failure(
    module, fragment, tmp_path, monkeypatch
):
    (tmp_path / "cx_failing_module.py").write_text(module + "\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImportFailure, match=fragment):
        load_function("cx_failing_module:f")


def test_a_file_path_is_not_a_module_name():
    with pytest.raises(ExpressionError, match="is a file path.*mine:f"):
        load_function("src/mine.py:f")

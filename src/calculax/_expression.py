"""Functions from the command line: a whitelisted ``lambda``, or ``module:function``.

:func:`parse_lambda` reads a string such as ``'lambda a, b: -a / b'`` with
``ast.parse`` and walks the tree before anything runs. Accepted: one ``lambda`` with
plain positional parameters, whose body uses only ``+ - * / **``, unary ``-``/``+``,
numeric constants, its own parameters, calls ``ns.name(...)`` of the functions in
:data:`FUNCTIONS` (``ns`` one of ``jnp``, ``cnp``, ``np``, ``math``) with positional
arguments (as many as the function takes), and the constants ``ns.pi``, ``ns.e``,
``ns.inf`` (but no power of two constants, which Python would compute with unbounded
integers, and no integer constant beyond 32 bits, which JAX's default mode cannot
represent: write ``1e10``, not ``10000000000``).
Everything else (other attributes, subscripts, comprehensions, comparisons,
keywords, dunder names, imports, strings...) raises :class:`ExpressionError` naming
the construct and its column, and so does an expression nested deeper than
:data:`MAX_DEPTH` levels (Python's own parser and compiler recurse on the nesting;
write a deeper function in a module and pass ``module:function``). The checked tree
is then compiled and evaluated with the whitelisted functions as its only names (the
body can name nothing else, builtins included): the text itself never reaches
``eval``.

``np.name`` and ``math.name`` mean the ``jax.numpy`` function of that name (so the
lambda can be traced and differentiated); ``cnp.name`` is ``calculax.numpy``'s.

Written by hand: Python's ``ast.literal_eval`` accepts no names or calls, and no
library of the ecosystem parses restricted arithmetic expressions.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import inspect
import math
import os
import sys
import types
from collections.abc import Callable
from typing import NoReturn

__all__ = [
    "ExpressionError",
    "ImportFailure",
    "NAMESPACES",
    "MAX_DEPTH",
    "parse_lambda",
    "load_function",
    "one_line",
]

MAX_DEPTH = 200  # nesting levels: far below where CPython's compiler recurses out


class ExpressionError(ValueError):
    """A command-line function that cannot be used (the message says why)."""


class ImportFailure(ExpressionError):
    """``module:function`` names a module that cannot be imported, or no function."""


_JNP_NAMES = (
    "sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh "
    "exp exp2 expm1 log log2 log10 log1p logaddexp sqrt cbrt square abs absolute "
    "power divide true_divide reciprocal hypot sign maximum minimum sinc float_power"
).split()
_MATH_NAMES = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "exp": "exp",
    "exp2": "exp2",
    "expm1": "expm1",
    "log": "log",
    "log2": "log2",
    "log10": "log10",
    "log1p": "log1p",
    "sqrt": "sqrt",
    "cbrt": "cbrt",
    "fabs": "abs",
    "hypot": "hypot",
    "pow": "power",
}

NAMESPACES = ("cnp", "jnp", "math", "np")


@functools.cache
def _functions() -> dict[str, dict[str, Callable]]:
    """The whitelisted functions (imports JAX: a malformed expression fails first)."""
    import jax.numpy as jnp

    from . import numpy as cnp

    return {
        "jnp": {name: getattr(jnp, name) for name in _JNP_NAMES},
        "np": {name: getattr(jnp, name) for name in _JNP_NAMES},
        "math": {name: getattr(jnp, target) for name, target in _MATH_NAMES.items()},
        "cnp": {name: getattr(cnp, name) for name in _JNP_NAMES if hasattr(cnp, name)},
    }


def __getattr__(name: str):
    if name == "FUNCTIONS":  # namespace -> function name -> function
        return _functions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf}
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_UNARY = (ast.USub, ast.UAdd)
_DESCRIPTIONS = {
    ast.Subscript: "a subscript",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "a boolean operator",
    ast.IfExp: "a conditional expression",
    ast.Lambda: "a nested lambda",
    ast.Starred: "a starred argument",
    ast.NamedExpr: "an assignment expression",
    ast.JoinedStr: "an f-string",
    ast.Await: "await",
}


def parse_lambda(source: str) -> Callable:
    """The function written by ``source``, a whitelisted ``lambda`` (module doc).

    Returns a Python function with the lambda's parameters (``__name__`` is the
    source text).

    Raises:
        ExpressionError: a syntax error or a construct outside the whitelist, named
            with its column (1-based).

    Example:
        >>> from calculax._expression import parse_lambda
        >>> f = parse_lambda("lambda a, b: -a / b + jnp.sqrt(b)")
        >>> float(f(1.0, 4.0))
        1.75
        >>> parse_lambda("lambda x: __import__('os')")
        Traceback (most recent call last):
        ...
        calculax._expression.ExpressionError: not allowed in an expression: the dunder
        name '__import__' at column 11
    """
    text = source.strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(
            f"cannot parse {_shown(source)}: {error.msg} at column {error.offset}"
        ) from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            f"cannot parse the expression ({len(text):,} characters): it nests too "
            f"deeply for Python's parser (at most {MAX_DEPTH} levels are supported; "
            "write a deeper function in a module and pass module:function)"
        ) from None
    except UnicodeError:
        raise ExpressionError(
            f"cannot parse {_shown(source)}: it is not valid text (bytes that are "
            "not UTF-8 on the command line)"
        ) from None
    except ValueError as error:  # e.g. a null character
        raise ExpressionError(f"cannot parse {_shown(source)}: {error}") from None
    function = tree.body
    if not isinstance(function, ast.Lambda):
        raise ExpressionError(
            f"expected a lambda such as 'lambda x: jnp.tanh(x)', got "
            f"{_describe(function)} at column 1"
        )
    _check_depth(function)
    for node in ast.walk(function):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        _check_name(name, node)
    parameters = _parameters(function.args)
    _check(function.body, parameters)
    # The checker lets the body name only its parameters and the four namespaces,
    # so no builtin is reachable from the text; the frame keeps the real builtins
    # because JAX's C++ dispatch imports through the calling frame's __import__.
    namespace: dict = {"__builtins__": builtins}
    for prefix, table in _functions().items():
        namespace[prefix] = types.SimpleNamespace(**table, **_CONSTANTS)
    try:
        code = compile(tree, "<calculax expression>", "eval")
    except (RecursionError, MemoryError, ValueError) as error:  # pragma: no cover
        raise ExpressionError(f"cannot compile the expression: {error}") from None
    result = eval(code, namespace)  # noqa: S307 - the checked tree only
    result.__name__ = text
    result.__qualname__ = text
    return result


def _shown(source: str, limit: int = 80) -> str:
    """``source`` for a message: repr, shortened in the middle."""
    text = repr(source)
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]}...{text[-limit // 2 :]} ({len(source):,} characters)"


def _check_depth(root: ast.expr) -> None:
    """The nesting of the tree, walked without recursion."""
    stack: list[tuple[ast.expr, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression nests more than {MAX_DEPTH} levels deep (at column "
                f"{node.col_offset + 1}); write a deeper function in a module and "
                "pass module:function"
            )
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if isinstance(child, ast.expr)  # not operators, contexts, arguments
        )


def _parameters(arguments: ast.arguments) -> set[str]:
    extra = (
        arguments.posonlyargs
        or arguments.kwonlyargs
        or arguments.vararg
        or arguments.kwarg
        or arguments.defaults
    )
    if extra:
        raise ExpressionError(
            "the lambda may only have plain positional parameters (no defaults, "
            "*args, keyword-only or ** parameters)"
        )
    names = [a.arg for a in arguments.args]
    for argument in arguments.args:
        _check_name(argument.arg, argument)
        if argument.arg in NAMESPACES:
            raise ExpressionError(
                f"parameter {argument.arg!r} at column {argument.col_offset + 1} "
                f"shadows the namespace {argument.arg!r}: rename it"
            )
    if not names:
        raise ExpressionError("the lambda needs at least one parameter")
    if len(set(names)) != len(names):
        raise ExpressionError(f"duplicate parameter names in {names}")
    return set(names)


def _check(root: ast.AST, parameters: set[str]) -> None:
    """Every node of the body against the whitelist (module doc), without recursion."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, _OPERATORS):
            if (
                isinstance(node.op, ast.Pow)
                and _constant(node.left)
                and _constant(node.right)
            ):
                # Python would compute it with unbounded integers (9**9**9 never
                # ends).
                _reject(node, "a power of two constants (write its value)")
            stack += [node.left, node.right]
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
            stack.append(node.operand)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _reject(node, f"the constant {value!r} (only numbers are allowed)")
            if isinstance(value, int) and not -(2**31) <= value < 2**31:
                # JAX's 32-bit mode cannot take it (an OverflowError at trace time)
                _reject(
                    node,
                    f"an integer of {value.bit_length()} bits, beyond 32 (write it as "
                    "a float, such as 1e10 for 10000000000)",
                )
        elif isinstance(node, ast.Name):
            _check_name(node.id, node)
            if node.id not in parameters:
                _reject(node, f"the name {node.id!r} (not a parameter of the lambda)")
        elif isinstance(node, ast.Attribute):
            _check_attribute(node, _CONSTANTS, "constant")
        elif isinstance(node, ast.Call):
            _check_attribute(node.func, None, "function")
            if node.keywords:
                _reject(node.keywords[0], "a keyword argument")
            _check_arity(node)
            stack += node.args
        else:
            _reject(node, _describe(node))


def _check_arity(call: ast.Call) -> None:
    """The whitelisted function accepts that many positional arguments."""
    assert isinstance(call.func, ast.Attribute) and isinstance(
        call.func.value, ast.Name
    )
    namespace, name = call.func.value.id, call.func.attr
    if any(isinstance(a, ast.Starred) for a in call.args):
        return  # rejected by _check with its own message
    try:
        signature = inspect.signature(_functions()[namespace][name])
    except (TypeError, ValueError):  # pragma: no cover - no signature to check
        return
    try:
        signature.bind(*call.args)
    except TypeError:
        takes = sum(
            p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            and p.default is p.empty
            for p in signature.parameters.values()
        )
        _reject(
            call,
            f"{namespace}.{name} with {len(call.args)} argument"
            f"{'' if len(call.args) == 1 else 's'} (it takes {takes})",
        )


def _constant(node: ast.AST) -> bool:
    return not any(isinstance(n, (ast.Name, ast.Call)) for n in ast.walk(node))


def _check_attribute(node: ast.AST, allowed, kind: str) -> None:
    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
        _reject(node, f"{_describe(node)} as a function (write e.g. jnp.exp(x))")
    namespace, name = node.value.id, node.attr
    _check_name(name, node)
    if namespace not in NAMESPACES:
        _reject(node, f"the namespace {namespace!r} (use one of {list(NAMESPACES)})")
    table = _functions()[namespace] if allowed is None else allowed
    if name not in table:
        _reject(
            node,
            f"the unknown {kind} {namespace}.{name} (allowed: "
            f"{', '.join(sorted(table))})",
        )


def _check_name(name: str, node: ast.AST) -> None:
    if name.startswith("__") or name.endswith("__"):
        _reject(node, f"the dunder name {name!r}")


def _reject(node: ast.AST, what: str) -> NoReturn:
    column = getattr(node, "col_offset", -1) + 1
    raise ExpressionError(f"not allowed in an expression: {what} at column {column}")


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return f"a call of {node.func.id!r}"
    if isinstance(node, ast.Call):
        return "a call of a computed function"
    if isinstance(node, ast.Attribute):
        return f"the attribute .{node.attr} of {_describe(node.value)}"
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return f"the operator {type(node.op).__name__}"
    return _DESCRIPTIONS.get(type(node), f"an expression of type {type(node).__name__}")


def load_function(spec: str) -> Callable:
    """``module:function`` imported (the current folder first on ``sys.path``), or a
    whitelisted lambda (:func:`parse_lambda`) when ``spec`` starts with ``lambda``.

    Raises:
        ExpressionError: a malformed ``spec`` or lambda.
        ImportFailure: a module that cannot be imported, a missing or non-callable
            attribute.
    """
    text = spec.strip()
    if text.startswith("lambda"):
        return parse_lambda(text)
    module_name, colon, attribute = text.partition(":")
    if not colon or not module_name or not attribute:
        raise ExpressionError(
            f"expected 'lambda ...' or 'module:function' (e.g. mypkg.mod:f), "
            f"got {spec!r}"
        )
    if "/" in module_name or "\\" in module_name or module_name.endswith(".py"):
        raise ExpressionError(
            f"{module_name!r} is a file path; give the module's name as Python "
            f"imports it from the current folder, e.g. "
            f"{os.path.splitext(os.path.basename(module_name))[0]}:{attribute}"
        )
    try:
        cwd = os.getcwd()
    except OSError:  # the current folder was removed
        cwd = ""
    added = bool(cwd) and cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        target = importlib.import_module(module_name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # ImportError, the module's own error, exit()
        raise ImportFailure(
            f"cannot import module {module_name!r}: {one_line(error)}"
        ) from None
    finally:
        if added:
            sys.path.remove(cwd)
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except KeyboardInterrupt:
            raise
        except BaseException:  # AttributeError, or a property that raises
            raise ImportFailure(
                f"module {module_name!r} has no attribute {attribute!r}"
            ) from None
    if not callable(target):
        raise ImportFailure(f"{spec!r} is a {type(target).__name__}, not a function")
    return target


def one_line(error: BaseException) -> str:
    """``Type: first line of the message`` (the exit code for ``SystemExit``)."""
    if isinstance(error, SystemExit):
        return f"it called exit({error.code!r})"
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")

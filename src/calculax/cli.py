"""The ``calculax`` command line.

``calculax tour [--out DIR] [--dtype float32]`` runs the tour: each chapter pits naive
JAX against calculax on a worked problem, prints a table of right / inaccurate / inf /
zero / nan counts and writes a PNG figure to ``DIR``.

``calculax audit FUNCTION --wrt b --tie a=b --range 1e-45:1e38 --dtype float32
--order 2 [--plot audit.png]`` sweeps argument ``b`` (and ``a``, tied to it) over the
powers of ten in the range and prints :func:`calculax.audit.audit`'s report as
Markdown. ``calculax explain FUNCTION --at x=20 [--order 1] [--stabilized]
[--plot v.png]`` prints :func:`calculax.audit.explain`'s report. ``FUNCTION`` is a
whitelisted lambda (``'lambda a, b: -a / b'``, see :mod:`calculax._expression`) or
``module:function``.

Exit status: ``0`` on success, ``2`` on a bad command line (including a malformed
expression, an unknown name, a bad ``--range``), ``1`` when a module cannot be
imported, the function cannot be evaluated or a file cannot be written; errors are
reported as one line on standard error.
"""

from __future__ import annotations

import argparse
import inspect
import io
import math
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

__all__ = ["main"]

DTYPES = ("float32", "float64")


class _UsageError(Exception):
    pass


class _Failure(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises instead of printing usage and exiting."""

    def error(self, message):
        raise _UsageError(message)


def _parser() -> _Parser:
    parser = _Parser(
        prog="calculax",
        description="Calculus done right in JAX: derivatives that stay finite and "
        "accurate at every order.",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser
    )
    tour = commands.add_parser(
        "tour",
        help="run the worked problems, naive JAX against calculax",
        description="Run the tour: print a table per chapter and write its figure.",
    )
    tour.add_argument(
        "--out",
        default=".",
        metavar="DIR",
        help="folder for the figures (created if missing; default: .)",
    )
    _dtype_option(tour, "the sweeps")
    audit = commands.add_parser(
        "audit",
        help="where in its input range is a derivative of a function wrong?",
        description="Sweep one argument over powers of ten and classify JAX's and "
        "stabilize(f)'s derivatives against the mpmath truth.",
    )
    _function_options(audit)
    audit.add_argument(
        "--tie",
        action="append",
        default=[],
        metavar="A=B",
        help="set argument A equal to B (one of them the --wrt argument)",
    )
    audit.add_argument(
        "--range",
        metavar="LO:HI",
        help="sweep the powers of ten between LO and HI, both positive or both "
        "negative, e.g. --range=-1e3:-1e-3 (default: the whole positive range of "
        "--dtype)",
    )
    audit.add_argument(
        "--rewrite",
        action="store_true",
        help="also audit calculax.stabilize(f, rewrite=True), which rewrites "
        "catastrophic patterns such as log(1 + x) or exp(log(a) - log(b))",
    )
    audit.add_argument(
        "--progress",
        action="store_true",
        help="draw the progress bar even when standard error is not a terminal",
    )
    explain = commands.add_parser(
        "explain",
        help="how a derivative is computed, rule by rule, against finite differences",
        description="Show each primitive, the derivative rule applied to it, the "
        "values and tangents, and the V curve of central finite differences.",
    )
    _function_options(explain)
    explain.add_argument(
        "--stabilized",
        action="store_true",
        help="show calculax's rules (calculax.stabilize) instead of JAX's",
    )
    return parser


def _dtype_option(parser: _Parser, what: str) -> None:
    parser.add_argument(
        "--dtype",
        default="float32",
        choices=DTYPES,
        help=f"floating-point type of {what} (default: float32)",
    )


def _function_options(parser: _Parser) -> None:
    parser.add_argument(
        "function",
        metavar="FUNCTION",
        help="'lambda a, b: -a / b' (arithmetic and jnp/cnp/np/math functions) or "
        "module:function",
    )
    parser.add_argument(
        "--wrt", metavar="NAME", help="the argument to differentiate (default: first)"
    )
    parser.add_argument(
        "--at",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="value of an argument (default: 1)",
    )
    parser.add_argument(
        "--order", type=int, default=1, help="derivative order, >= 1 (default: 1)"
    )
    _dtype_option(parser, "the arguments")
    parser.add_argument("--plot", metavar="PATH", help="also write the figure (PNG)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Example:
        >>> from calculax.cli import main
        >>> main(["tour", "--dtype", "float16"])
        2
    """
    parser = _parser()
    try:
        args = parser.parse_args(None if argv is None else [str(a) for a in argv])
        if args.command is None:
            raise _UsageError("choose a command: tour, audit or explain")
        if args.dtype == "float64":
            import jax

            jax.config.update("jax_enable_x64", True)
        command = {"tour": _tour, "audit": _audit, "explain": _explain}[args.command]
        command(args)
    except _UsageError as error:
        print(f"calculax: error: {error} (see 'calculax --help')", file=sys.stderr)
        return 2
    except _Failure as error:
        print(f"calculax: error: {error}", file=sys.stderr)
        return 1
    except SystemExit as exit_:  # --help, --version: argparse has printed them
        return int(exit_.code or 0)
    except BrokenPipeError:  # e.g. `calculax explain ... | head`: the reader left
        _discard_stdout()
        return 1
    return 0


def _discard_stdout() -> None:
    # Python would report the failed flush of stdout at exit (Python docs, "Note on
    # SIGPIPE"): point it at /dev/null instead.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _tour(args) -> None:
    from ._tour import run

    try:
        run(args.out, dtype=args.dtype)
    except OSError as error:
        raise _Failure(
            f"cannot write the figures to {args.out!r}: {error.strerror or error}"
        ) from None


def _function(args) -> tuple[Callable, list[str], int, list[float]]:
    """The function, its parameter names, the index of --wrt and the --at values."""
    from ._expression import ExpressionError, ImportFailure, load_function

    if args.order < 1:
        raise _UsageError(f"--order must be >= 1, got {args.order}")
    try:
        function = load_function(args.function)
    except ImportFailure as error:
        raise _Failure(str(error)) from None
    except ExpressionError as error:
        raise _UsageError(str(error)) from None
    names = _parameter_names(function)
    wrt = _index(names, args.wrt or names[0], "--wrt")
    values = [1.0] * len(names)
    for item in args.at:
        name, value = _pair(item, "--at")
        try:
            values[_index(names, name, "--at")] = float(value)
        except ValueError:
            raise _UsageError(f"--at {item}: {value!r} is not a number") from None
    return function, names, wrt, values


def _parameter_names(function: Callable) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        raise _Failure(f"cannot read the parameters of {function!r:.60}") from None
    names = [
        p.name
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.default is p.empty
    ]
    if not names:
        raise _Failure(f"{function!r:.60} takes no positional arguments")
    return names


def _index(names: list[str], name: str, option: str) -> int:
    if name not in names:
        raise _UsageError(
            f"{option}: unknown argument {name!r} (the function takes "
            f"{', '.join(names)})"
        )
    return names.index(name)


def _pair(item: str, option: str) -> tuple[str, str]:
    left, equals, right = item.partition("=")
    if not equals or not left.strip() or not right.strip():
        raise _UsageError(f"{option} expects NAME=VALUE, got {item!r}")
    return left.strip(), right.strip()


def _exponents(text: str | None) -> tuple[range | None, float]:
    """The powers of ten in ``LO:HI`` and their sign."""
    if text is None:
        return None, 1.0
    low, colon, high = text.partition(":")
    try:
        bounds = sorted([float(low), float(high)], key=abs)
    except ValueError:
        bounds = []
    if not colon or len(bounds) != 2 or not all(math.isfinite(b) for b in bounds):
        raise _UsageError(f"--range expects LO:HI with two numbers, got {text!r}")
    if bounds[0] == 0 or (bounds[0] > 0) != (bounds[1] > 0):
        raise _UsageError(
            f"--range {text}: both ends must be nonzero and of the same sign "
            "(sweep negative values with --range=-HI:-LO)"
        )
    first = math.ceil(math.log10(abs(bounds[0])) - 1e-9)
    last = math.floor(math.log10(abs(bounds[1])) + 1e-9)
    if first > last:
        raise _UsageError(f"--range {text} contains no power of ten")
    return range(first, last + 1), math.copysign(1.0, bounds[0])


def _audit(args) -> None:
    from .audit import audit

    function, names, wrt, values = _function(args)
    tie: list[int] = []
    for item in args.tie:
        pair = [_index(names, n, "--tie") for n in _pair(item, "--tie")]
        if wrt not in pair:
            raise _UsageError(f"--tie {item}: one side must be --wrt {names[wrt]}")
        tie.extend(i for i in pair if i != wrt)
    exponents, sign = _exponents(args.range)
    show = args.progress or sys.stderr.isatty()
    try:
        report = audit(
            function,
            wrt=wrt,
            tie=tie,
            at=values,
            order=args.order,
            dtype=args.dtype,
            exponents=exponents,
            sign=sign,
            progress=ProgressBar(sys.stderr) if show else None,
            rewrite=args.rewrite,
        )
    except Exception as error:  # the user's function: report it in one line
        raise _Failure(f"cannot audit {args.function}: {_one_line(error)}") from None
    print(
        f"## audit of `{args.function}`: derivative of order {args.order} in "
        f"{names[wrt]} ({args.dtype})\n"
    )
    print(report.to_markdown())
    for method in report.counts:
        worst = report.worst(method, 3)
        if worst:
            print(f"\nWorst points of {method} (computed, truth):")
            for point, value, truth in worst:
                print(f"- {names[wrt]} = {point:.3g}: {value:.8g}, {truth:.8g}")
    _plot(report, args.plot)


def _explain(args) -> None:
    import numpy as np

    from .audit import explain

    function, names, wrt, values = _function(args)
    dtype = np.dtype(args.dtype).type
    try:
        report = explain(
            function, argnums=wrt, order=args.order, stabilized=args.stabilized
        )(*[dtype(v) for v in values])
    except Exception as error:  # the user's function: report it in one line
        raise _Failure(f"cannot explain {args.function}: {_one_line(error)}") from None
    print(report.to_markdown())
    _plot(report, args.plot)


def _plot(report, path: str | None) -> None:
    if path is None:
        return
    try:
        report.plot(path)
    except OSError as error:
        raise _Failure(
            f"cannot write the figure to {path!r}: {error.strerror or error}"
        ) from None
    print(f"\nFigure written to {path}")


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


class ProgressBar:
    """A text progress bar on ``stream``, redrawn in place: ``[####......] 4/10``."""

    def __init__(self, stream: TextIO, width: int = 30, label: str = "truths"):
        self.stream, self.width, self.label = stream, width, label

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r[{bar}] {done}/{total} {self.label}{end}")
        self.stream.flush()


if __name__ == "__main__":
    sys.exit(main())

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
expression, an unknown name, a bad ``--range``, ``--at`` or ``--plot``), ``1`` when a
module cannot be imported, the function cannot be evaluated or a file cannot be
written, ``130`` when interrupted (Ctrl-C); every error is reported as one line,
``calculax: error: ...``, on standard error. Files are checked before the work
starts: a figure path whose folder is missing fails at once, not after the sweep.
``--dtype float64`` enables JAX's 64-bit mode for the command only.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np

__all__ = ["main"]

DTYPES = ("float32", "float64")
MAX_ORDER = 8  # --order: each order doubles the nested derivatives (9: ~100 s)


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
    parser.add_argument("--version", action="version", version=_version())
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
    _mode_option(audit, "reverse")
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
    _mode_option(explain, "forward")
    return parser


def _mode_option(parser: _Parser, default: str) -> None:
    parser.add_argument(
        "--mode",
        default=default,
        choices=("forward", "reverse"),
        help="nest forward-mode (jax.jvp) or reverse-mode (jax.grad) derivatives; "
        f"the two can differ at extreme inputs (default: {default})",
    )


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
    parser.add_argument(
        "--plot",
        metavar="PATH",
        help="also write the figure (the format from the suffix: .png, .pdf, .svg, "
        "...; no suffix: .png)",
    )


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
        command = {"tour": _tour, "audit": _audit, "explain": _explain}[args.command]
        with _precision(args.dtype):
            command(args)
    except _UsageError as error:
        _error(f"{error} (see 'calculax --help')")
        return 2
    except _Failure as error:
        _error(str(error))
        return 1
    except SystemExit as exit_:  # --help, --version: argparse has printed them
        return exit_.code if isinstance(exit_.code, int) else 0
    except BrokenPipeError:  # e.g. `calculax explain ... | head`: the reader left
        _discard_stdout()
        return 1
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as error:  # noqa: BLE001 - a bug of calculax: still one line
        _error(f"internal error, please report it: {_one_line(error)}")
        return 1
    return 0


def _error(message: str) -> None:
    """``calculax: error: MESSAGE`` as one line on standard error."""
    line = " ".join(message.split())  # one line whatever the message holds
    try:
        print(f"calculax: error: {line}", file=sys.stderr)
    except (OSError, ValueError):  # standard error closed: nothing to report to
        pass


def _version() -> str:
    from importlib import metadata

    try:
        return f"calculax {metadata.version('calculax')}"
    except metadata.PackageNotFoundError:  # a source tree never installed
        return "calculax (not installed)"


@contextlib.contextmanager
def _precision(dtype: str):
    """JAX's 64-bit mode for ``--dtype float64``, for this command only."""
    if dtype != "float64":
        yield
        return
    import jax

    with jax.enable_x64(True):
        yield


def _discard_stdout() -> None:
    # Python would report the failed flush of stdout at exit (Python docs, "Note on
    # SIGPIPE"): point it at /dev/null instead.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _tour(args) -> None:
    out = _writable_folder(args.out)
    from ._tour import run

    try:
        run(out, dtype=args.dtype)
    except OSError as error:
        raise _Failure(
            f"cannot write the figures to {args.out!r}: {error.strerror or error}"
        ) from None


def _writable_folder(path: str) -> Path:
    """``--out``: the folder, created if missing, checked writable before the run."""
    if not path.strip():
        raise _UsageError("--out: give a folder (the current one is '.')")
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.TemporaryFile(dir=folder)
        probe.close()
    except OSError as error:
        raise _Failure(
            f"cannot write the figures to {path!r}: {error.strerror or error}"
        ) from None
    return folder


def _function(args) -> tuple[Callable, list[str], int, list[float]]:
    """The function, its parameter names, the index of --wrt and the --at values."""
    from ._expression import ExpressionError, ImportFailure, load_function

    if not 1 <= args.order <= MAX_ORDER:
        raise _UsageError(
            f"--order must be between 1 and {MAX_ORDER}, got {args.order}"
        )
    try:
        function = load_function(args.function)
    except ImportFailure as error:
        raise _Failure(str(error)) from None
    except ExpressionError as error:
        raise _UsageError(str(error)) from None
    names = _parameter_names(function)
    wrt = _index(names, args.wrt or names[0], "--wrt")
    values = [1.0] * len(names)
    given: set[str] = set()
    for item in args.at:
        name, value = _pair(item, "--at")
        index = _index(names, name, "--at")
        if name in given:
            raise _UsageError(f"--at {name} is given twice")
        given.add(name)
        values[index] = _number(value, args.dtype, f"--at {item}")
    return function, names, wrt, values


def _number(text: str, dtype: str, where: str) -> float:
    """A float that ``dtype`` represents (inf and nan are allowed, as written)."""
    try:
        value = float(text)
    except ValueError:
        raise _UsageError(f"{where}: {text!r} is not a number") from None
    largest = float(np.finfo(dtype).max)
    if math.isfinite(value) and abs(value) > largest:
        raise _UsageError(
            f"{where}: {text} overflows {dtype} (largest {largest:.7g}; write inf "
            "to mean infinity)"
        )
    return value


def _parameter_names(function: Callable) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        raise _Failure(f"cannot read the parameters of {function!r:.60}") from None
    except RecursionError:  # pragma: no cover - a pathological __signature__
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


def _exponents(text: str | None, dtype: str) -> tuple[range | None, float]:
    """The powers of ten in ``LO:HI`` and their sign."""
    if text is None:
        return None, 1.0
    low, colon, high = text.partition(":")
    try:
        bounds = sorted([float(low), float(high)], key=abs)
    except ValueError:
        bounds = []
    if not colon or len(bounds) != 2:
        raise _UsageError(f"--range expects LO:HI with two numbers, got {text!r}")
    if not all(math.isfinite(b) for b in bounds):
        raise _UsageError(
            f"--range {text}: both ends must be finite (the default range is the "
            f"whole positive range of --dtype)"
        )
    if bounds[0] == 0 or (bounds[0] > 0) != (bounds[1] > 0):
        raise _UsageError(
            f"--range {text}: both ends must be nonzero and of the same sign "
            "(sweep negative values with --range=-HI:-LO)"
        )
    first = math.ceil(math.log10(abs(bounds[0])) - 1e-9)
    last = math.floor(math.log10(abs(bounds[1])) + 1e-9)
    if first > last:
        raise _UsageError(f"--range {text} contains no power of ten")
    info = np.finfo(dtype)
    lowest = math.ceil(math.log10(float(info.smallest_subnormal)))
    highest = math.floor(math.log10(float(info.max)))
    if first < lowest or last > highest:
        raise _UsageError(
            f"--range {text}: {dtype} represents powers of ten from 1e{lowest} to "
            f"1e{highest} only (choose --dtype float64 for a wider range)"
        )
    return range(first, last + 1), math.copysign(1.0, bounds[0])


def _audit(args) -> None:
    function, names, wrt, values = _function(args)
    tie: list[int] = []
    for item in args.tie:
        pair = [_index(names, n, "--tie") for n in _pair(item, "--tie")]
        if wrt not in pair:
            raise _UsageError(f"--tie {item}: one side must be --wrt {names[wrt]}")
        tie.extend(i for i in pair if i != wrt)
    exponents, sign = _exponents(args.range, args.dtype)
    plot = _figure_path(args.plot)
    show = args.progress or _isatty(sys.stderr)
    from .audit import audit  # JAX: after the command line is checked

    with _users_code(f"audit {_shown(args.function)}"):
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
            mode=args.mode,
        )
    print(
        f"## audit of `{_shown(args.function)}`: derivative of order {args.order} in "
        f"{names[wrt]} ({args.dtype})\n"
    )
    print(report.to_markdown())
    for method in report.counts:
        worst = report.worst(method, 3)
        if worst:
            print(f"\nWorst points of {method} (computed, truth):")
            for point, value, truth in worst:
                print(f"- {names[wrt]} = {point:.3g}: {value:.8g}, {truth:.8g}")
    _plot(report, plot)


def _explain(args) -> None:
    function, names, wrt, values = _function(args)
    plot = _figure_path(args.plot)
    from .audit import explain  # JAX: after the command line is checked

    dtype = np.dtype(args.dtype).type
    with _users_code(f"explain {_shown(args.function)}"):
        report = explain(
            function,
            argnums=wrt,
            order=args.order,
            stabilized=args.stabilized,
            mode=args.mode,
        )(*[dtype(v) for v in values])
    print(report.to_markdown())
    _plot(report, plot)


@contextlib.contextmanager
def _users_code(what: str):
    """Whatever the user's function raises (or exits with): one line, status 1."""
    try:
        yield
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        raise _Failure(f"cannot {what}: {_one_line(error)}") from None


def _figure_path(path: str | None) -> Path | None:
    """``--plot``: the file that will be written, checked before the work starts.

    No suffix means PNG (matplotlib's default), so ``--plot v`` writes ``v.png``;
    an unknown suffix or a folder is a bad command line; a missing or read-only
    folder is a failure to write.
    """
    if path is None:
        return None
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    if not path.strip():
        raise _UsageError("--plot: give a file name such as figure.png")
    target = Path(path)
    if target.is_dir():
        raise _UsageError(
            f"--plot {path}: is a folder; give a file name such as "
            f"{target / 'figure.png'}"
        )
    suffix = target.suffix[1:].lower()
    if not suffix:
        target = target.with_name(target.name + ".png")
    elif suffix not in formats:
        raise _UsageError(
            f"--plot {path}: unknown figure format {suffix!r} (one of "
            f"{', '.join(sorted(formats))})"
        )
    folder = target.parent
    if not folder.is_dir():
        raise _Failure(
            f"cannot write the figure to {str(target)!r}: no folder {str(folder)!r}"
        )
    if not os.access(folder, os.W_OK):
        raise _Failure(
            f"cannot write the figure to {str(target)!r}: folder {str(folder)!r} is "
            "not writable"
        )
    return target


def _plot(report, path: Path | None) -> None:
    if path is None:
        return
    try:
        written = report.plot(path)
    except OSError as error:
        raise _Failure(
            f"cannot write the figure to {str(path)!r}: {error.strerror or error}"
        ) from None
    print(f"\nFigure written to {written}")


def _shown(text: str, limit: int = 80) -> str:
    """``text`` for a one-line message: shortened in the middle."""
    if len(text) <= limit:
        return text
    return f"{text[: limit // 2]}...{text[-limit // 2 :]}"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed stream
        return False


def _one_line(error: BaseException) -> str:
    """``Type: first line`` (see ``_expression``), with a hint for JAX's tracers."""
    from ._expression import one_line

    line = one_line(error)
    if "Tracer" in type(error).__name__ or "Concretization" in type(error).__name__:
        line += (
            " (JAX traces FUNCTION: write it with jax.numpy, without Python "
            "branches on its values; math and numpy functions cannot be traced)"
        )
    return line


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

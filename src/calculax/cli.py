"""The ``calculax`` command line.

``calculax tour [--out DIR] [--dtype float32]`` runs the tour: each chapter pits naive
JAX against calculax on a worked problem, prints a table of right / inaccurate / inf /
zero / nan counts and writes a PNG figure to ``DIR``.

Exit status: ``0`` on success, ``2`` on a bad command line, ``1`` when the figures
cannot be written; errors are reported as one line on standard error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]

DTYPES = ("float32", "float64")


class _UsageError(Exception):
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
    tour.add_argument(
        "--dtype",
        default="float32",
        choices=DTYPES,
        help="floating-point type of the sweeps (default: float32)",
    )
    return parser


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
            raise _UsageError("choose a command: tour")
    except _UsageError as error:
        print(f"calculax: error: {error} (see 'calculax --help')", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help, --version: argparse has printed them
        return int(exit_.code or 0)
    if args.dtype == "float64":
        import jax

        jax.config.update("jax_enable_x64", True)
    from ._tour import run

    try:
        run(args.out, dtype=args.dtype)
    except OSError as error:
        print(
            f"calculax: error: cannot write the figures to {args.out!r}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

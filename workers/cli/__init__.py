"""``mpscope`` on the command line: run, compare, list strategies and workloads (no Qt).

Exit codes: 0 correct result; 1 run failed or wrong result; 2 bad input; 130 interrupted.
The subcommands live in this package's modules: ``run``, ``compare``, the listings in
``output``, and what they share (the options that make a RunSpec) in ``options``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from mpscope.workers.cli.compare import add_compare_parser, run_compare
from mpscope.workers.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    Parser,
)
from mpscope.workers.cli.output import list_strategies, list_workloads
from mpscope.workers.cli.run import Interrupted, add_run_parser, run_command
from mpscope.workers.spec import SpecError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "BadInput", "main"]


def _build_parser() -> Parser:
    parser = Parser(
        prog="mpscope",
        description="See what Python's parallel strategies really do on your machine. "
        "With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    add_run_parser(sub)
    add_compare_parser(sub)
    for name, helptext in (
        ("strategies", "list strategies and the workloads each accepts"),
        ("workloads", "list workloads and their closed forms"),
    ):
        listing = sub.add_parser(name, help=helptext)
        listing.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the headless commands; returns the exit code."""
    try:
        code = _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # whoever read our output stopped early (`mpscope strategies | head`): no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return code


def _main(argv: Sequence[str] | None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise BadInput("mpscope: no command given: use run, compare, strategies or workloads")
        if args.command == "strategies":
            list_strategies(args.json, sys.stdout)
            return EXIT_OK
        if args.command == "workloads":
            list_workloads(args.json, sys.stdout)
            return EXIT_OK
        if args.command == "compare":
            return run_compare(args)
        return run_command(args)
    except (BadInput, SpecError) as exc:
        print(f"mpscope: {exc}" if isinstance(exc, SpecError) else str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (Interrupted, KeyboardInterrupt):
        print(
            "mpscope: interrupted; the run was stopped and nothing is left running", file=sys.stderr
        )
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``mpscope`` on the command line: run, compare, list strategies and workloads, trace a
program and open a saved trace (no Qt).

Exit codes: 0 correct result; 1 run failed or wrong result; 2 bad input; 130 interrupted;
``trace``: the traced program's own. The subcommands live in this package's modules: ``run``,
``compare``, ``trace`` (with ``open``), the listings in ``output``, and what they share (the
options that make a RunSpec) in ``options``. The window, for ``trace`` and ``open``, is handed
in by the console script (``windows``): the engine never imports it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

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
from mpscope.workers.cli.trace import (
    ProgramKilled,
    TraceWindows,
    add_trace_parsers,
    die,
    run_open,
    run_trace,
)
from mpscope.workers.spec import SpecError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "BadInput", "main"]


def _build_parser() -> Parser:
    # compare, and the runner under it, only when a command needs them: ``mpscope trace`` starts
    # the program sooner without them (about 0.2 s)
    from mpscope.workers.cli.compare import add_compare_parser

    parser = Parser(
        prog="mpscope",
        description="See what Python's parallel strategies really do on your machine. "
        "With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    add_run_parser(sub)
    add_compare_parser(sub)
    add_trace_parsers(sub)
    for name, helptext in (
        ("strategies", "list strategies and the workloads each accepts"),
        ("workloads", "list workloads and their closed forms"),
    ):
        listing = sub.add_parser(name, help=helptext)
        listing.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None, windows: TraceWindows | None = None) -> int:
    """Entry point for the headless commands; returns the exit code. ``windows``: the trace
    window's entry points, if there is a display (``mpscope trace`` without one records only).

    A traced program that died by a signal ends mpscope by the same signal.
    """
    try:
        code = _main(argv, windows)
        sys.stdout.flush()
    except ProgramKilled as killed:
        die(killed)
    except BrokenPipeError:
        # whoever read our output stopped early (`mpscope strategies | head`): no traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return code


def _main(argv: Sequence[str] | None, windows: TraceWindows | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["trace"]:  # the program's own arguments follow: split by trace
            return run_trace(args_list[1:], windows)
        args = _build_parser().parse_args(args_list)
        if args.command is None:
            raise BadInput(
                "mpscope: no command given: use run, compare, trace, open, strategies or workloads"
            )
        if args.command == "strategies":
            list_strategies(args.json, sys.stdout)
            return EXIT_OK
        if args.command == "workloads":
            list_workloads(args.json, sys.stdout)
            return EXIT_OK
        if args.command == "compare":
            from mpscope.workers.cli.compare import run_compare

            return run_compare(args)
        if args.command == "open":
            return run_open(args, windows)
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

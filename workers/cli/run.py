"""``mpscope run``: one strategy, headless, with a progress bar; the record as a table or JSON.

For a strategy whose lock mode decides what a correct counter holds (shared-counter), the exit
code follows ``as_guaranteed``: a --lock none run that loses updates exits 0 and reports them.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

from mpscope.workers.cli.options import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    add_spec_arguments,
    add_strategy_options,
    run_spec,
    whole,
)
from mpscope.workers.cli.output import ProgressBar, print_table
from mpscope.workers.events import RunStatus
from mpscope.workers.spec import INJECT_KINDS, RunSpec, max_workers


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(signal.Signals(signum).name)


def add_run_parser(sub: Any) -> None:
    """Add the ``run`` subcommand to the ``mpscope`` subparsers ``sub``."""
    run = sub.add_parser("run", help="run one strategy headless and print what it measured")
    run.add_argument(
        "--strategy", "-s", default=None, help="strategy id (see strategies; default pool-map)"
    )
    run.add_argument(
        "--workers",
        "-k",
        type=whole("workers"),
        default=None,
        help=f"worker processes/threads, 1..{max_workers()} (default: cores; shared-counter: 2)",
    )
    add_spec_arguments(run)
    run.add_argument(
        "--inject",
        default=None,
        metavar="KIND@ITEM",
        help=f"inject a fault at item ITEM: {', '.join(INJECT_KINDS)} (to see how failures look)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_strategy_options(run)


def execute(spec: RunSpec, show_progress: bool = True) -> dict[str, Any]:
    """Run ``spec`` to the end in this process's foreground; return the summary record.

    Raises SpecError for bad input, Interrupted on SIGINT/SIGTERM (after cancelling).
    """
    from mpscope.workers.runner import CONSUMER_POLL_S, start_run

    handle = start_run(spec)
    bar = ProgressBar(show_progress)
    try:
        while not handle.finished:
            handle.drain(budget_s=0.02)
            bar.update(handle)
            if not handle.finished:
                handle.pause(CONSUMER_POLL_S)
    except Interrupted:
        handle.cancel()
        raise
    finally:
        bar.close()
        if not handle.finished:
            handle.cancel()
    handle.close()
    return handle.tally.summary()


def run_command(args: argparse.Namespace) -> int:
    """``mpscope run``: run the spec the arguments ask for, print its record; the exit code."""
    spec = run_spec(args, args.strategy)
    previous = {s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        record = execute(spec, show_progress=not args.no_progress)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.json:
        json.dump(record, sys.stdout)
        print()
    if record.get("refused"):  # the user's job cannot run: one line, as any bad input
        print(f"mpscope: {record['error']}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.json:
        print_table(record, sys.stdout)
    # a counter: the value its lock mode guarantees (lost updates under --lock none are what
    # was asked for, reported in "lost"); every other strategy: its check (None: unchecked,
    # as asked with --no-check or where results cannot be compared, which the record says)
    finished = record["status"] == RunStatus.FINISHED
    ok = finished and record.get("as_guaranteed", record.get("correct")) is not False
    return EXIT_OK if ok else EXIT_FAILED

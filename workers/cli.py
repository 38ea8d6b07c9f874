"""``mpscope`` on the command line: run, compare, list strategies and workloads (no Qt).

Exit codes: 0 correct result; 1 run failed or wrong result; 2 bad input; 130 interrupted.
For shared-counter "correct" for the exit code means "the value its lock mode guarantees"
(``as_guaranteed``): a --lock none run that loses updates exits 0 and reports them in ``lost``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from mpscope.workers.catalog import STRATEGIES
from mpscope.workers.cli_output import ProgressBar, list_strategies, list_workloads, print_table
from mpscope.workers.spec import (
    DEFAULT_TICK_S,
    INJECT_KINDS,
    LOCK_MODES,
    MAX_DELAY_S,
    RunSpec,
    SpecError,
    available_start_methods,
    default_start_method,
    max_workers,
)
from mpscope.workers.units import parse_count

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class BadInput(Exception):
    """One-line bad-input message; exits 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad input as one line (no usage dump) and exits 2."""

    def error(self, message: str) -> NoReturn:
        raise BadInput(f"{self.prog}: {message} (see {self.prog} --help)")


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived."""


def _count(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return parse_count(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{name} {exc}") from None

    parse.__name__ = name
    return parse


def _chunksize(text: str) -> int | None:
    if text.strip().lower() == "auto":
        return None
    try:
        return parse_count(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"chunksize {text!r} is invalid: allowed a whole number >= 1, or auto"
        ) from None


def _whole(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r} is not a whole number") from None

    parse.__name__ = name
    return parse


def _seconds(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} {text!r} is not a number of seconds"
            ) from None

    parse.__name__ = name
    return parse


COUNTER_OPTIONS = ("--lock", "--delay", "--force-race", "--trace")


def add_counter_arguments(parser: argparse.ArgumentParser) -> None:
    """shared-counter's own options (rejected with any other strategy)."""
    group = parser.add_argument_group(
        "shared-counter",
        "K processes add 1 to one shared Value, --items times each (the seed's In [20]). "
        "Exit code 0 means the counter holds what the lock mode guarantees: with --lock none "
        "lost updates are reported (lost = expected - result), not a failure.",
    )
    group.add_argument(
        "--lock",
        default=None,
        metavar="{" + ",".join(LOCK_MODES) + "}",
        help="whole: one lock around each worker's loop (the seed, default); step: the lock "
        "around each increment (workers interleave); none: no lock (updates get lost)",
    )
    group.add_argument(
        "--delay",
        type=_seconds("delay"),
        default=None,
        metavar="S",
        help=f"seconds of sleep per increment, 0..{MAX_DELAY_S:g} (default 0.1, as the seed)",
    )
    group.add_argument(
        "--force-race",
        action="store_true",
        help="with --lock none: a barrier between every read and write, so every round loses "
        "K-1 updates (result exactly --items)",
    )
    group.add_argument(
        "--trace",
        action="store_true",
        help="report the ordered [worker, value] steps (JSON key trace; a very long run keeps "
        "its first steps and says so in trace_note)",
    )


def add_spec_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that make a RunSpec (shared by ``run`` and ``compare``)."""
    parser.add_argument("--workload", "-w", default="square", help="workload id (see workloads)")
    parser.add_argument(
        "--items",
        "-n",
        type=_count("items"),
        default=None,
        help="number of items N (10000000, 10,000,000, 1e7 or 10M; default: the workload's)",
    )
    parser.add_argument(
        "--chunksize",
        "-c",
        type=_chunksize,
        default=None,
        help="items per task for pool strategies, or auto (default)",
    )
    parser.add_argument(
        "--start-method",
        "-m",
        default=None,
        help=f"how workers start: {', '.join(available_start_methods())} "
        f"(default {default_start_method()})",
    )
    parser.add_argument(
        "--grain", type=_whole("grain"), default=2000, help="heavy: iterations per item"
    )
    parser.add_argument("--sleep-ms", type=float, default=10.0, help="sleep: milliseconds per item")
    parser.add_argument(
        "--tick",
        type=_seconds("tick"),
        default=DEFAULT_TICK_S,
        metavar="SECONDS",
        help=f"how often each worker reports its progress, 0.005..1 s (default "
        f"{DEFAULT_TICK_S:g}); a longer tick makes the live view coarser and the probe's own "
        "CPU smaller",
    )


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="mpscope",
        description="See what Python's parallel strategies really do on your machine. "
        "With no command, opens the window.",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    run = sub.add_parser("run", help="run one strategy headless and print what it measured")
    run.add_argument("--strategy", "-s", default="pool-map", help="strategy id (see strategies)")
    run.add_argument(
        "--workers",
        "-k",
        type=_whole("workers"),
        default=None,
        help=f"worker processes/threads, 1..{max_workers()} "
        "(default: cores; shared-counter: 2, as the seed)",
    )
    add_spec_arguments(run)
    run.set_defaults(workload=None)  # None: the strategy's own (square; shared-counter: increment)
    run.add_argument(
        "--inject",
        default=None,
        metavar="KIND@ITEM",
        help=f"inject a fault at item ITEM: {', '.join(INJECT_KINDS)} (to see how failures look)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    run.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    run.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="dask only: use this running Dask scheduler and its workers instead of starting "
        "a LocalCluster",
    )
    add_counter_arguments(run)
    from mpscope.workers.compare.command import add_compare_parser  # late: it imports this module

    add_compare_parser(sub, add_spec_arguments)
    for name, helptext in (
        ("strategies", "list strategies and the workloads each accepts"),
        ("workloads", "list workloads and their closed forms"),
    ):
        listing = sub.add_parser(name, help=helptext)
        listing.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _counter_fields(args: argparse.Namespace) -> dict[str, Any]:
    """shared-counter's RunSpec fields that were given; BadInput if given to another strategy."""
    given = {
        "lock": getattr(args, "lock", None),
        "delay_s": getattr(args, "delay", None),
        "force_race": getattr(args, "force_race", False) or None,
        "trace": getattr(args, "trace", False) or None,
    }
    fields = {name: value for name, value in given.items() if value is not None}
    if fields and args.strategy != "shared-counter":
        raise BadInput(
            f"mpscope: {', '.join(COUNTER_OPTIONS)} apply to shared-counter only, not to "
            f"{args.strategy}"
        )
    return fields


def _scheduler(args: argparse.Namespace) -> str | None:
    """--scheduler, if given; BadInput if given to a strategy other than dask."""
    scheduler: str | None = getattr(args, "scheduler", None)
    if scheduler is not None and args.strategy != "dask":
        raise BadInput(f"mpscope: --scheduler applies to dask only, not to {args.strategy}")
    return scheduler


def _spec_from(args: argparse.Namespace) -> RunSpec:
    info = STRATEGIES.get(args.strategy)
    workload = args.workload or (info.default_workload if info else "square")
    return RunSpec(
        strategy=args.strategy,
        workload=workload,
        items=args.items,
        workers=args.workers,
        chunksize=args.chunksize,
        start_method=args.start_method,
        grain=args.grain,
        sleep_ms=args.sleep_ms,
        sample_interval_s=args.tick,
        inject=args.inject,
        **_counter_fields(args),
        scheduler=_scheduler(args),
    )


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise _Interrupted(signal.Signals(signum).name)


def execute(spec: RunSpec, show_progress: bool = True) -> dict[str, Any]:
    """Run ``spec`` to the end in this process's foreground; return the summary record.

    Raises SpecError for bad input, _Interrupted on SIGINT/SIGTERM (after cancelling).
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
    except _Interrupted:
        handle.cancel()
        raise
    finally:
        bar.close()
        if not handle.finished:
            handle.cancel()
    handle.close()
    return handle.tally.summary()


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
            from mpscope.workers.compare.command import run_compare

            return run_compare(args)
        spec = _spec_from(args)
        previous = {
            s: signal.signal(s, _raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            record = execute(spec, show_progress=not args.no_progress)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    except (BadInput, SpecError) as exc:
        print(f"mpscope: {exc}" if isinstance(exc, SpecError) else str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except (_Interrupted, KeyboardInterrupt):
        print(
            "mpscope: interrupted; the run was stopped and nothing is left running", file=sys.stderr
        )
        return EXIT_INTERRUPTED
    if args.json:
        json.dump(record, sys.stdout)
        print()
    else:
        print_table(record, sys.stdout)
    # shared-counter: the value its lock mode guarantees (lost updates under --lock none are
    # what was asked for, reported in "lost"); every other strategy: the closed form
    ok = record["status"] == "finished" and record.get("as_guaranteed", record.get("correct"))
    return EXIT_OK if ok else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

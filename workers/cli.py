"""``mpscope`` on the command line: run, list strategies and workloads (headless, no Qt).

Exit codes: 0 correct result; 1 run failed or wrong result; 2 bad input; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from workers.catalog import STRATEGIES, accepted_workloads
from workers.spec import (
    INJECT_KINDS,
    RunSpec,
    SpecError,
    available_start_methods,
    default_start_method,
    max_workers,
)
from workers.units import format_count, format_rate, format_seconds, parse_count
from workers.workloads import WORKLOADS

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
        help=f"worker processes/threads, 1..{max_workers()} (default: cores)",
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
    for name, helptext in (
        ("strategies", "list strategies and the workloads each accepts"),
        ("workloads", "list workloads and their closed forms"),
    ):
        listing = sub.add_parser(name, help=helptext)
        listing.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _spec_from(args: argparse.Namespace) -> RunSpec:
    return RunSpec(
        strategy=args.strategy,
        workload=args.workload,
        items=args.items,
        workers=args.workers,
        chunksize=args.chunksize,
        start_method=args.start_method,
        grain=args.grain,
        sleep_ms=args.sleep_ms,
        inject=args.inject,
    )


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise _Interrupted(signal.Signals(signum).name)


class _ProgressBar:
    """A tqdm bar on stderr when stderr is a terminal (else nothing)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def update(self, handle: Any) -> None:
        if not self.enabled:
            return
        started = handle.tally.started
        if started is None:
            return
        if self.bar is None:
            from tqdm import tqdm

            try:
                columns, rows = os.get_terminal_size(sys.stderr.fileno())
            except OSError:
                columns, rows = 0, 0
            self.bar = tqdm(
                ncols=columns or 80,  # a terminal that reports no size still gets a bar
                nrows=rows or 24,
                total=started.units,
                unit="it",
                unit_scale=True,
                file=sys.stderr,
                desc=handle.spec.strategy,
                leave=False,
            )
        self.bar.n = handle.tally.done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def execute(spec: RunSpec, show_progress: bool = True) -> dict[str, Any]:
    """Run ``spec`` to the end in this process's foreground; return the summary record.

    Raises SpecError for bad input, _Interrupted on SIGINT/SIGTERM (after cancelling).
    """
    from workers.runner import start_run

    handle = start_run(spec)
    bar = _ProgressBar(show_progress)
    try:
        while not handle.finished:
            handle.drain(budget_s=0.02)
            bar.update(handle)
            if not handle.finished:
                time.sleep(0.05)
    except _Interrupted:
        handle.cancel()
        raise
    finally:
        bar.close()
        if not handle.finished:
            handle.cancel()
    handle.close()
    return handle.tally.summary()


def _print_table(record: dict[str, Any], out: TextIO) -> None:
    head = (
        f"{record['strategy']} · {record['workload']} · N={format_count(record['items'])} · "
        f"K={record['workers']}"
    )
    if record.get("chunksize"):
        head += f" · chunksize {format_count(record['chunksize'])}"
    head += f" · {record['start_method']}"
    print(head, file=out)
    status = record["status"]
    if status == "finished":
        mark = "correct" if record["correct"] else "WRONG"
        print(f"  result     {record['result']}  [{mark}]", file=out)
        print(f"  expected   {record['expected']}  (closed form)", file=out)
        wall, cpu = record["wall_s"], record["cpu_s"]
        print(f"  wall       {format_seconds(wall)}", file=out)
        print(
            f"  cpu        {format_seconds(cpu)}  ({cpu / wall:.2f} cores busy on average)"
            if wall > 0
            else f"  cpu        {format_seconds(cpu)}",
            file=out,
        )
        print(f"  rate       {format_rate(record['items_per_s'] or 0)}", file=out)
        print(
            f"  start-up   {format_seconds(record['startup_s'])} (conductor, not in wall)", file=out
        )
        print(f"  teardown   {format_seconds(record['teardown_s'])} (not in wall)", file=out)
        share = record["probe_cpu_s"] / cpu if cpu else 0.0
        print(f"  probe      {format_seconds(record['probe_cpu_s'])} CPU ({share:.2%})", file=out)
    elif status == "failed":
        print(f"  FAILED     {record['error']}", file=out)
        if record.get("traceback"):
            print("  " + record["traceback"].rstrip().replace("\n", "\n  "), file=out)
    else:
        print(f"  {status}", file=out)
    print(f"  events     {record['events']}", file=out)
    if record["per_worker"]:
        print("  worker  pid       items          busy        cpu", file=out)
        for w in record["per_worker"]:
            cpu_text = "-" if w["cpu_s"] is None else format_seconds(w["cpu_s"])
            print(
                f"  {w['worker']:<7} {w['pid']:<9} {format_count(w['items']):<14} "
                f"{format_seconds(w['busy_s']):<11} {cpu_text}",
                file=out,
            )


def _list_strategies(as_json: bool, out: TextIO) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": s.id,
            "description": s.description,
            "call": s.call,
            "chunked": s.chunked,
            "auto_chunksize": s.auto_chunksize_note or None,
            "workloads": accepted_workloads(s.id),
        }
        for s in STRATEGIES.values()
    ]
    if as_json:
        json.dump(rows, out, indent=2)
        print(file=out)
        return
    for row in rows:
        print(f"{row['id']:<14} {row['description']}", file=out)
        print(f"{'':<14} workloads: {', '.join(row['workloads'])}", file=out)


def _list_workloads(as_json: bool, out: TextIO) -> None:
    rows: list[dict[str, Any]] = [
        {
            "id": w.id,
            "description": w.description,
            "arguments": w.arity,
            "closed_form": w.formula,
            "default_items": w.default_items,
        }
        for w in WORKLOADS.values()
    ]
    if as_json:
        json.dump(rows, out, indent=2)
        print(file=out)
        return
    for row in rows:
        print(f"{row['id']:<12} {row['description']}", file=out)
        print(
            f"{'':<12} sum = {row['closed_form']}; default N = {row['default_items']:,}", file=out
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for the headless commands; returns the exit code."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise BadInput("mpscope: no command given: use run, strategies or workloads")
        if args.command == "strategies":
            _list_strategies(args.json, sys.stdout)
            return EXIT_OK
        if args.command == "workloads":
            _list_workloads(args.json, sys.stdout)
            return EXIT_OK
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
        _print_table(record, sys.stdout)
    ok = record["status"] == "finished" and record.get("correct")
    return EXIT_OK if ok else EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""``mpscope compare``: run a strategy x workers matrix headless, print the summary and verdict.

Records every run that ends (finished or failed; not a cancelled one) in the history store
unless ``--no-history``. Exit codes as ``mpscope run``: 0 every run correct, 1 a run failed
or was wrong, 2 bad input, 130 interrupted (the run in progress is stopped, nothing is left
running, the runs already done stay in the history).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Any, TextIO

from mpscope.workers.cli.options import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BadInput,
    add_spec_arguments,
    spec_fields,
)
from mpscope.workers.compare.matrix import MatrixEvent, MatrixRun, MatrixRunEnded, run_matrix
from mpscope.workers.compare.plan import DEFAULT_REPEATS, MatrixPlan, plan_matrix
from mpscope.workers.compare.schedule import MatrixResult
from mpscope.workers.compare.summary import CellSummary
from mpscope.workers.events import RunStatus
from mpscope.workers.records.export import results_document, write_csv
from mpscope.workers.records.history import HistoryError, HistoryStore, default_path
from mpscope.workers.spec import RunSpec, cpu_count, job_label, size_label
from mpscope.workers.strategies import all_strategies, baseline
from mpscope.workers.units import format_count, format_seconds


def default_strategies() -> str:
    """The strategies a comparison runs when none are named (their ``compared_by_default``)."""
    return ",".join(s.id for s in all_strategies().values() if s.compared_by_default)


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _counts(text: str) -> list[int]:
    counts = []
    for part in _names(text):
        try:
            counts.append(int(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"workers {part!r} is not a whole number") from None
    return counts


def add_compare_parser(sub: Any) -> None:
    """Add the ``compare`` subcommand to the ``mpscope`` subparsers ``sub``."""
    compare = sub.add_parser(
        "compare",
        help="run strategies x worker counts, repeated, and compare them with the sequential loop",
        description="Run every strategy at every worker count, --repeat times each, one run at "
        "a time and interleaved, with the sequential loop as the baseline (speed-up = its median "
        "wall / a setting's median wall). Every run that ends is recorded in the history "
        f"({default_path()}; $MPSCOPE_DATA_DIR moves it) unless --no-history.",
    )
    compare.add_argument(
        "--strategies",
        "-s",
        type=_names,
        default=_names(default_strategies()),
        help=f"comma-separated strategy ids (default {default_strategies()}); the "
        f"{baseline().id} loop always runs as the baseline",
    )
    compare.add_argument(
        "--workers",
        "-k",
        type=_counts,
        default=sorted({1, cpu_count()}),
        help=f"comma-separated worker counts (default 1,{cpu_count()})",
    )
    add_spec_arguments(compare)
    compare.add_argument(
        "--repeat",
        "-r",
        type=int,
        default=DEFAULT_REPEATS,
        help=f"runs of each setting, interleaved (default {DEFAULT_REPEATS})",
    )
    out = compare.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    out.add_argument("--csv", metavar="FILE", help="also write every run to FILE as CSV")
    compare.add_argument(
        "--no-history", action="store_true", help="do not record the runs in the history"
    )
    compare.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")


def plan_from(args: argparse.Namespace) -> MatrixPlan:
    """The comparison the arguments ask for (SpecError: one line, exit 2)."""
    base = RunSpec(**spec_fields(args))
    return plan_matrix(args.strategies, args.workers, base, args.repeat)


class _Progress:
    """A tqdm bar over the matrix's runs on stderr, when stderr is a terminal."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.bar: Any = None
        if enabled and sys.stderr.isatty():
            from tqdm import tqdm

            try:
                columns, rows = os.get_terminal_size(sys.stderr.fileno())
            except OSError:
                columns, rows = 0, 0
            self.bar = tqdm(
                total=total,
                unit="run",
                file=sys.stderr,
                leave=False,
                ncols=columns or 100,  # a terminal that reports no size still gets a bar
                nrows=rows or 24,
            )

    def update(self, event: MatrixEvent, matrix: MatrixRun) -> None:
        if self.bar is None:
            return
        if isinstance(event, MatrixRunEnded):
            self.bar.update(1)
        self.bar.set_description_str(matrix.status().text(), refresh=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Recorder:
    """Stores each ended run in the history; warns once (stderr) if the history is unusable."""

    def __init__(self, enabled: bool) -> None:
        self.store: HistoryStore | None = None
        self.batch = f"compare-{uuid.uuid4().hex[:12]}"
        if not enabled:
            return
        try:
            self.store = HistoryStore()
        except HistoryError as exc:
            print(f"mpscope: runs will not be recorded: {exc}", file=sys.stderr)
            return
        if self.store.notice:
            print(f"mpscope: {self.store.notice}", file=sys.stderr)

    def record(self, event: MatrixEvent) -> None:
        if self.store is None or not isinstance(event, MatrixRunEnded):
            return
        if event.record.get("status") == RunStatus.CANCELLED:
            return
        try:
            self.store.add(event.record, batch=self.batch)
        except HistoryError as exc:
            print(f"mpscope: runs will not be recorded: {exc}", file=sys.stderr)
            self.close()

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "s":
        return format_seconds(value)
    if kind == "x":
        return f"{value:.2f}x"
    return f"{value:.0%}"


def print_summary(
    plan: MatrixPlan, result: MatrixResult, verdict: list[str], out: TextIO = sys.stdout
) -> None:
    """The summary table, the skipped settings and the verdict, for people."""
    seq = plan.cells[0]
    cells = result.summary()
    base = next((c for c in cells if c.strategy == baseline().id), None)
    head = f"compare · {job_label(seq)} · N={size_label(seq)} · {seq.start_method}"
    head += f" · {plan.repeats} repeat{'s' if plan.repeats != 1 else ''}"
    if base is not None and base.median_wall_s is not None:
        head += f" · baseline: sequential median {format_seconds(base.median_wall_s)}"
    print(head, file=out)
    print(
        f"  {'strategy':<14}{'K':>3}  {'chunksize':>11}  {'median':>10}  {'min':>10}  "
        f"{'max':>10}  {'speed-up':>8}  {'effic.':>6}  ok",
        file=out,
    )
    for cell in cells:
        print(_row(cell), file=out)
    for skipped in plan.skipped:
        who = skipped.strategy + ("" if skipped.workers is None else f" K={skipped.workers}")
        print(f"  skipped {who}: {skipped.reason}", file=out)
    if verdict:
        print(file=out)
        print(textwrap.fill(" ".join(verdict), width=100), file=out)


def _row(cell: CellSummary) -> str:
    chunks = "-" if cell.chunksize is None else format_count(cell.chunksize)
    return (
        f"  {cell.strategy:<14}{cell.workers:>3}  {chunks:>11}  "
        f"{_fmt(cell.median_wall_s, 's'):>10}  {_fmt(cell.min_wall_s, 's'):>10}  "
        f"{_fmt(cell.max_wall_s, 's'):>10}  {_fmt(cell.speedup, 'x'):>8}  "
        f"{_fmt(cell.efficiency, '%'):>6}  {cell.ok}/{cell.runs}"
    )


def _check_csv_target(path: str | None) -> None:
    if path is None:
        return
    folder = Path(path).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise BadInput(f"mpscope compare: --csv {path!r}: no writable folder {str(folder)!r}")
    if Path(path).is_dir():
        raise BadInput(f"mpscope compare: --csv {path!r} is a folder: give a file name")


def run_compare(args: argparse.Namespace) -> int:
    """Run the comparison the arguments describe; returns the exit code.

    Raises SpecError / BadInput for bad input (before anything runs).
    """
    plan = plan_from(args)
    _check_csv_target(args.csv)
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    recorder = _Recorder(not args.no_history)
    progress = _Progress(not args.no_progress, plan.total_runs)

    def on_event(event: MatrixEvent, matrix: MatrixRun) -> None:
        recorder.record(event)
        progress.update(event, matrix)

    try:
        result = run_matrix(plan, on_event, should_stop=stop.is_set)
    finally:
        progress.close()
        recorder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if result.cancelled:
        print(
            "mpscope: interrupted; the run in progress was stopped and nothing is left running",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    verdict = result.verdict(cores=cpu_count())
    if args.json:
        document = results_document(result.records, skipped=plan.skipped, verdict=" ".join(verdict))
        json.dump(document, sys.stdout)
        print()
    else:
        print_summary(plan, result, verdict)
        if args.csv:
            try:
                write_csv(args.csv, result.records)
            except OSError as exc:
                print(f"mpscope: {args.csv}: not written: {exc.strerror or exc}", file=sys.stderr)
                return EXIT_FAILED
            print(f"every run: {args.csv}")
    return EXIT_OK if result.all_good else EXIT_FAILED

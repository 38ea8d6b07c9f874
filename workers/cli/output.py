"""What ``mpscope run`` prints: the progress bar, the run's table and the listings."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from mpscope.workers.events import RunStatus
from mpscope.workers.optional import install_command, unavailable_reason
from mpscope.workers.strategies import accepted_workloads, all_strategies
from mpscope.workers.units import format_count, format_rate, format_seconds
from mpscope.workers.workloads import WORKLOADS


class ProgressBar:
    """A tqdm bar on stderr when stderr is a terminal (else nothing)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.bar: Any = None

    def update(self, handle: Any) -> None:
        """Show how far the run behind ``handle`` is (created at its first RunStarted)."""
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
        """Take the bar off the terminal."""
        if self.bar is not None:
            self.bar.close()


def print_table(record: dict[str, Any], out: TextIO) -> None:
    """The run's record as a readable table (what `mpscope run` prints without --json)."""
    head = (
        f"{record['strategy']} · {record['workload']} · N={format_count(record['items'])} · "
        f"K={record['workers']}"
    )
    if record.get("chunksize"):
        head += f" · chunksize {format_count(record['chunksize'])}"
    head += f" · {record['start_method']}"
    print(head, file=out)
    if record.get("job"):
        inputs = record.get("inputs") or f"range({format_count(record['items'])})"
        print(f"  job        {record['job']} over {inputs}", file=out)
    status = record["status"]
    strategy = all_strategies().get(record["strategy"])
    if status == RunStatus.FINISHED:
        mark = {True: "correct", False: "WRONG", None: "unchecked"}[record["correct"]]
        if record["correct"] is False and record.get("as_guaranteed"):
            mark = f"{record['lost']:,} lost, as lock {record.get('lock')} allows"
        if record.get("job"):  # the user's function: its results against the loop's
            print(f"  results    {record['result']:,}  [{mark}]", file=out)
            print(f"  check      {record.get('check_line', '')}", file=out)
        else:
            print(f"  result     {record['result']}  [{mark}]", file=out)
            basis = "closed form" if strategy is None or strategy.checks_closed_form else "its own"
            if "lost" in record:
                basis = "workers x items"
            print(f"  expected   {record['expected']}  ({basis})", file=out)
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
        tick = record.get("tick_s")
        every = f", a report every {format_seconds(tick)} per worker" if tick else ""
        print(
            f"  probe      {format_seconds(record['probe_cpu_s'])} CPU ({share:.2%}){every}",
            file=out,
        )
        if "cluster_startup_s" in record:
            print(
                f"  cluster    {record['cluster']}: started in "
                f"{format_seconds(record['cluster_startup_s'])} (inside wall), "
                f"{record['dask_workers']} workers, {format_count(record['tasks'])} tasks",
                file=out,
            )
        if record.get("note"):
            print(f"  note       {record['note']}", file=out)
        if strategy is not None and strategy.report_lines is not None:
            for line in strategy.report_lines(record):
                print(f"  {line}", file=out)
    elif status == RunStatus.FAILED:
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
        print(
            "  (busy: wall time inside its chunks; cpu: CPU time its process or thread used, "
            "start-up included)",
            file=out,
        )


def list_strategies(as_json: bool, out: TextIO) -> None:
    """`mpscope strategies`: each strategy, what it calls, its workloads and availability."""
    rows: list[dict[str, Any]] = [
        {
            "id": s.id,
            "label": s.label,
            "description": s.description,
            "call": s.call,
            "chunked": s.chunked,
            "auto_chunksize": s.chunksize_rule or None,
            "workloads": accepted_workloads(s),
            "options": [f"{o.flag} {o.metavar or ''}".rstrip() + f": {o.help}" for o in s.options],
            "available": unavailable_reason(s.id) is None,
            "install": install_command(s.extra) if s.extra else None,
        }
        for s in all_strategies().values()
    ]
    if as_json:
        json.dump(rows, out, indent=2)
        print(file=out)
        return
    for row in rows:
        print(f"{row['id']:<14} {row['description']}", file=out)
        if not row["available"]:
            print(f"{'':<14} unavailable: install with {row['install']}", file=out)
        print(f"{'':<14} workloads: {', '.join(row['workloads'])}", file=out)
        for option in row["options"]:
            print(f"{'':<14} {option}", file=out)


def list_workloads(as_json: bool, out: TextIO) -> None:
    """`mpscope workloads`: each workload, its closed form and its default size."""
    rows: list[dict[str, Any]] = [
        {
            "id": w.id,
            "description": w.description,
            "arguments": w.arity,
            "closed_form": w.formula or None,
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
        form = f"sum = {row['closed_form']}" if row["closed_form"] else "no closed form"
        print(f"{'':<12} {form}; default N = {row['default_items']:,}", file=out)

"""The history with many runs: how long the window's history takes to open, grow and export.

Fills a fresh history file (in a temporary folder, never the user's) with N run records (real
records of this machine: a few short runs through the engine, repeated with their figures
varied), then, offscreen, times what a user waits for:

* opening the history (``RunHistory``: reading every stored run);
* the Compare page's History tab becoming visible with all N rows (``HistoryPanel``);
* a run ending while the tab is shown (one record stored, the table brought up to date);
* exporting every run to JSON and CSV, and reading the JSON back (it must give the N records
  unchanged: export stays correct).

Each timing is the median of ``--repeats`` (target for opening the tab: under 1 s at 10,000).

    python benchmarks/history_scale.py                 # N = 10,000
    python benchmarks/history_scale.py --runs 50000 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def real_records() -> list[dict[str, Any]]:
    """A few records of real short runs on this machine (the CLI's JSON, as the window keeps)."""
    import json

    records = []
    for strategy in ("sequential", "pool-map", "thread-pool", "executor"):
        out = subprocess.run(
            [sys.executable, "-m", "mpscope", "run", "-s", strategy, "-n", "2000", "--json"],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        records.append(json.loads(out))
    return records


def varied(records: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """N records made from the real ones, their sizes and figures varied."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        record = dict(records[i % len(records)])
        scale = rng.uniform(0.5, 2.0)
        record["items"] = int(record["items"] * rng.choice((1, 10, 100)))
        record["wall_s"] = round(record["wall_s"] * scale, 6)
        record["workers"] = rng.choice((1, 2, 4, 8)) if record["strategy"] != "sequential" else 1
        out.append(record)
    return out


def median_s(action: Callable[[], Any], repeats: int) -> float:
    """The median wall time of ``action`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        action()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    """Build the history, time each step, print a Markdown table for README."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from mpscope.gui.compare.history_panel import HistoryPanel
    from mpscope.gui.compare.run_history import RunHistory
    from mpscope.workers.records.export import read_json, write_csv, write_json
    from mpscope.workers.records.history import HistoryStore

    app = QApplication.instance() or QApplication([])
    records = varied(real_records(), args.runs)
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "history.sqlite3")
        with HistoryStore(path) as store:
            t0 = time.perf_counter()
            store.add_many(records)
            fill_s = time.perf_counter() - t0
        size = Path(path).stat().st_size

        open_s = median_s(lambda: RunHistory(path).close(), args.repeats)

        def open_tab() -> None:
            history = RunHistory(path)
            panel = HistoryPanel(history, [])
            panel.resize(1200, 700)
            panel.show()
            app.processEvents()
            assert panel.model.rowCount() == len(history.runs)
            panel.close()
            panel.deleteLater()
            history.close()
            app.processEvents()

        tab_s = median_s(open_tab, args.repeats)

        history = RunHistory(path)
        panel = HistoryPanel(history, [])
        panel.show()
        app.processEvents()
        # a pool-map run (the common case), and a sequential one (it moves its job's baseline)
        pooled = next(r for r in records if r["strategy"] == "pool-map")
        sequential = next(r for r in records if r["strategy"] == "sequential")
        run_end_s = median_s(lambda: (history.add(pooled), app.processEvents()), args.repeats)
        baseline_end_s = median_s(
            lambda: (history.add(sequential), app.processEvents()), args.repeats
        )
        rows_before = panel.model.rowCount()
        panel.close()
        history.close()

        with HistoryStore(path) as store:
            stored = [run.export_record() for run in store.runs()]
        out_json = Path(folder) / "runs.json"
        out_csv = Path(folder) / "runs.csv"
        export_s = median_s(lambda: write_json(out_json, stored), args.repeats)
        csv_s = median_s(lambda: write_csv(out_csv, stored), args.repeats)
        back = read_json(out_json)
        assert back == stored, "the JSON export did not read back unchanged"
        csv_rows = out_csv.read_text().count("\n") - 1

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# history_scale, {args.runs:,} runs, {when}, Python {platform.python_version()}")
    print(f"history file: {size / 2**20:.1f} MiB, filled in {fill_s:.2f} s")
    print("| step | median | target |")
    print("|---|---|---|")
    print(f"| open the history ({args.runs:,} runs) | {open_s * 1000:.0f} ms | |")
    print(f"| History tab shown, all rows | {tab_s * 1000:.0f} ms | < 1 s |")
    shown = f"while the tab is shown ({rows_before:,} rows)"
    print(f"| a pool-map run ends {shown} | {run_end_s * 1000:.0f} ms | |")
    print(f"| a sequential run ends {shown} | {baseline_end_s * 1000:.0f} ms | |")
    print(f"| export JSON ({len(stored):,} runs, read back equal) | {export_s * 1000:.0f} ms | |")
    print(f"| export CSV ({csv_rows:,} rows) | {csv_s * 1000:.0f} ms | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

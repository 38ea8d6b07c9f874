"""Endurance: the window watching one long run, then many short ones, its memory and redraws.

Phase 1, one long run: the window (offscreen unless ``--platform xcb``) runs pool-map over the
sleep workload for ``--minutes`` (2 workers, 2 ms an item, chunksize 8: a steady stream of
progress and task spans), while this script samples, every ``--every`` seconds, the window
process's RSS (psutil), the rows its views' buffers hold, and the time the views' redraws took
in that interval. The report compares the end with the end of the first minute: memory must stay
flat after it (within 10 %), redraws must not get slower as the run grows.

Phase 2, many short runs (``--short-runs``, pool-map, N = 2,000 each): the history file must
grow by exactly one row per run, and the window's memory stay flat across them.

    python benchmarks/soak.py --minutes 10
    python benchmarks/soak.py --minutes 1 --every 5 --short-runs 20      # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SLEEP_MS = 2.0
WORKERS = 2


def buffer_rows(model) -> int:
    """Rows held by the run model's drawing buffers (every lane's samples and spans, total)."""
    rows = len(model.total)
    for lane in model.lanes.values():
        rows += len(lane.progress) + len(lane.spans)
    return rows


def main() -> int:
    """Run both phases; print what they measured as Markdown for README."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--short-runs", type=int, default=30)
    parser.add_argument("--platform", default="offscreen")
    args = parser.parse_args()
    os.environ["QT_QPA_PLATFORM"] = args.platform
    data_dir = tempfile.mkdtemp(prefix="mpscope-soak-")
    os.environ["MPSCOPE_DATA_DIR"] = data_dir  # never the user's own history

    import psutil
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from mpscope.gui.app import create_window
    from mpscope.workers.records.history import HistoryStore
    from mpscope.workers.spec import RunSpec
    from mpscope.workers.validation import validate_spec

    app = QApplication.instance() or QApplication([])
    window = create_window()
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    me = psutil.Process()

    redraw_s = [0.0]
    originals = [view.refresh for view in window.views]

    def timed(original):
        def refresh() -> None:
            t0 = time.perf_counter()
            original()
            redraw_s[0] += time.perf_counter() - t0

        return refresh

    for view, original in zip(window.views, originals):
        view.refresh = timed(original)

    # phase 1: one long run
    items = int(args.minutes * 60 * 1000 / SLEEP_MS * WORKERS)
    spec = validate_spec(
        RunSpec(
            strategy="pool-map",
            workload="sleep",
            sleep_ms=SLEEP_MS,
            items=items,
            workers=WORKERS,
            chunksize=8,
        )
    )
    samples: list[tuple[float, float, int, float]] = []  # t, RSS MiB, buffer rows, redraw ms/s
    start = time.perf_counter()
    last = [start, 0.0]

    def sample() -> None:
        now = time.perf_counter()
        spent = redraw_s[0] - last[1]
        rate = 1000 * spent / (now - last[0]) if now > last[0] else 0.0
        last[0], last[1] = now, redraw_s[0]
        samples.append((now - start, me.memory_info().rss / 2**20, buffer_rows(window.model), rate))

    sampler = QTimer()
    sampler.setInterval(int(args.every * 1000))
    sampler.timeout.connect(sample)
    loop = QEventLoop()
    window.controller.run_ended.connect(loop.quit)
    sampler.start()
    if not window.controller.start(spec):
        raise SystemExit(f"could not start {spec}")
    loop.exec()
    sampler.stop()
    window.controller.run_ended.disconnect(loop.quit)
    outcome = window.model.outcome
    if not getattr(outcome, "correct", False):
        raise SystemExit(f"the long run did not finish correctly: {outcome}")

    # phase 2: many short runs
    short = validate_spec(RunSpec(strategy="pool-map", workload="square", items=2000))
    with HistoryStore() as store:
        before_runs = store.count()
    rss_short = []
    for _ in range(args.short_runs):
        loop = QEventLoop()
        window.controller.run_ended.connect(loop.quit)
        window.controller.start(short)
        loop.exec()
        window.controller.run_ended.disconnect(loop.quit)
        app.processEvents()
        rss_short.append(me.memory_info().rss / 2**20)
    with HistoryStore() as store:
        after_runs = store.count()
    window.close()

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"# soak, {args.minutes:g} min, {when}, Python {platform.python_version()}, {args.platform}"
    )
    print(
        f"long run: pool-map, sleep {SLEEP_MS:g} ms, N={items:,}, K={WORKERS}, "
        f"wall {getattr(outcome, 'wall_s', float('nan')):.1f} s, correct"
    )
    print("| t | GUI RSS | buffer rows | redraw time |")
    print("|---|---|---|---|")
    for t, rss, rows, rate in samples:
        print(f"| {t:.0f} s | {rss:.1f} MiB | {rows:,} | {rate:.1f} ms/s |")
    after_first_minute = [s for s in samples if s[0] >= 60] or samples
    base, end = after_first_minute[0], samples[-1]
    print(
        f"\nRSS at {base[0]:.0f} s: {base[1]:.1f} MiB; at the end: {end[1]:.1f} MiB; "
        f"ratio {end[1] / base[1]:.3f} (target <= 1.10)"
    )
    first_rates = [s[3] for s in samples[: max(1, len(samples) // 4)]]
    last_rates = [s[3] for s in samples[-max(1, len(samples) // 4) :]]
    print(
        f"redraw time, first quarter median {statistics.median(first_rates):.1f} ms/s, "
        f"last quarter {statistics.median(last_rates):.1f} ms/s"
    )
    if rss_short:
        print(
            f"short runs: {args.short_runs}, history rows {before_runs} -> {after_runs} "
            f"(+{after_runs - before_runs}); GUI RSS after the first {rss_short[0]:.1f} MiB, "
            f"after the last {rss_short[-1]:.1f} MiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What watching costs: the window's responsiveness during a run, and its effect on the run.

During a run at full event rate with all four live views visible:

* a 10 ms heartbeat QTimer measures event-loop stalls (target: the longest gap < 50 ms);
* redraws per second (the window's redraw timer; target <= 30);
* the GUI process's own CPU while the run is live (target <= 10 % of one core);

and the observer effect: the wall time (measured inside the conductor) of the same run started
from the window and headless (``python -m mpscope run --json``), alternating A B A B, reported
as the median of the per-pair ratios GUI / headless (target <= 1.05; on 2 cores the window's
own CPU use steals from the workers).

    python benchmarks/gui_latency.py                      # offscreen, the default run
    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/gui_latency.py --platform xcb
    python benchmarks/gui_latency.py --strategy pool-map --workload square --items 1e7 \\
        --chunksize 10000 --pairs 5
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEARTBEAT_MS = 10


@dataclass
class GuiRun:
    """What one run started from the window measured."""

    wall_s: float
    live_s: float
    max_gap_ms: float
    p99_gap_ms: float
    beats: int
    redraws_per_s: float  # refresh() calls per view per second
    gui_cpu_share: float  # CPU seconds of the GUI process per second of the live run
    events: int
    correct: bool
    gaps_ms: list[float] = field(default_factory=list, repr=False)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    from mpscope.workers.cli.options import add_spec_arguments, add_strategy_options, whole

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategy", "-s", default=None, help="default: pool-map")
    parser.add_argument("--workers", "-k", type=whole("workers"), default=None)
    add_spec_arguments(parser)  # the same job options as `mpscope run`
    add_strategy_options(parser)
    # a job that shows a lot: heavy items in small chunks (many task spans)
    parser.set_defaults(workload="heavy", items=40_000, chunksize=50)
    parser.add_argument("--pairs", type=int, default=5, help="GUI/headless pairs (default 5)")
    parser.add_argument(
        "--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"), help="Qt platform"
    )
    parser.add_argument(
        "--control-s",
        type=float,
        default=10.0,
        help="seconds of the control (idle window, niced busy loops on every core); 0 skips it",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    return parser.parse_args(argv)


def _spec(args: argparse.Namespace):  # -> ResolvedSpec
    from mpscope.workers.cli.options import run_spec
    from mpscope.workers.validation import validate_spec

    return validate_spec(run_spec(args, args.strategy))


def run_in_window(window, spec) -> GuiRun:
    """Start ``spec`` from ``window``'s controller; measure the loop while it runs."""
    import psutil
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from mpscope.workers.events import RunStatus

    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    refreshes = [0]
    originals = [view.refresh for view in window.views]

    def counting(original):
        def refresh() -> None:
            refreshes[0] += 1
            original()

        return refresh

    for view, original in zip(window.views, originals):
        view.refresh = counting(original)
    me = psutil.Process()
    loop = QEventLoop()
    # the live phase: from the conductor's RunStarted being shown to the terminal event being
    # folded in (start-up, and the summary/history work after the end, are not "watching")
    marks: dict[str, tuple[float, float]] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, (time.perf_counter(), sum(me.cpu_times()[:2])))

    def on_state(state: str) -> None:
        if state == RunStatus.RUNNING:
            mark("live")

    def on_ended(_state: str) -> None:
        mark("ended")

    window.controller.state_changed.connect(on_state)
    window.model.ended.connect(on_ended)
    window.controller.run_ended.connect(loop.quit)
    try:
        heartbeat.start()
        if not window.controller.start(spec):
            raise SystemExit(f"could not start {spec}")
        loop.exec()
        heartbeat.stop()
    finally:
        window.controller.run_ended.disconnect(loop.quit)
        window.controller.state_changed.disconnect(on_state)
        window.model.ended.disconnect(on_ended)
        for view, original in zip(window.views, originals):
            view.refresh = original
    (t_live, cpu_live), (t_end, cpu_end) = marks["live"], marks["ended"]
    live_s, cpu_s = t_end - t_live, cpu_end - cpu_live
    beats = [b for b in beats if t_live <= b <= t_end]
    gaps = [1e3 * (b - a) for a, b in itertools.pairwise(beats)]
    outcome = window.model.outcome
    gaps_sorted = sorted(gaps) or [0.0]
    return GuiRun(
        wall_s=getattr(outcome, "wall_s", float("nan")),
        live_s=live_s,
        max_gap_ms=max(gaps_sorted),
        p99_gap_ms=gaps_sorted[min(len(gaps_sorted) - 1, int(0.99 * len(gaps_sorted)))],
        beats=len(beats),
        redraws_per_s=refreshes[0] / len(window.views) / live_s if live_s > 0 else 0.0,
        gui_cpu_share=cpu_s / live_s if live_s > 0 else 0.0,
        events=window.model.tally.events if window.model.tally else 0,
        correct=bool(getattr(outcome, "correct", False)),
        gaps_ms=gaps,
    )


def _burn() -> None:
    """A busy loop (pure Python, like the workers): the control's load."""
    while True:
        pass


def control_gaps(window, seconds: float, burners: int) -> tuple[float, float]:
    """The machine's own stalls: the same heartbeat with the window idle while ``burners``
    plain busy processes (niced as runs are) hold the cores. Returns (max, p99) gap in ms."""
    import multiprocessing as mp

    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from mpscope.gui.run_controller import RUN_NICENESS

    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_burn, daemon=True) for _ in range(burners)]
    for proc in procs:
        proc.start()
        os.setpriority(os.PRIO_PROCESS, proc.pid, RUN_NICENESS)
    beats: list[float] = []
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(lambda: beats.append(time.perf_counter()))
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    try:
        time.sleep(0.3)  # let the burners get going
        heartbeat.start()
        loop.exec()
        heartbeat.stop()
    finally:
        for proc in procs:
            proc.kill()
            proc.join()
    gaps = sorted(1e3 * (b - a) for a, b in itertools.pairwise(beats)) or [0.0]
    return gaps[-1], gaps[min(len(gaps) - 1, int(0.99 * len(gaps)))]


def run_headless(spec) -> float:
    """The same spec through the headless CLI in a fresh process; its wall_s."""
    cmd = [
        sys.executable,
        "-m",
        "mpscope",
        "run",
        "--strategy",
        spec.strategy,
        "--workload",
        spec.workload,
        "--items",
        str(spec.items),
        "--workers",
        str(spec.workers),
        "--start-method",
        spec.start_method,
        "--grain",
        str(spec.grain),
        "--sleep-ms",
        str(spec.sleep_ms),
        "--json",
        "--no-progress",
    ]
    if spec.chunksize:
        cmd += ["--chunksize", str(spec.chunksize)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"headless run failed ({done.returncode}): {done.stderr[-800:]}")
    record = json.loads(done.stdout)
    if not record.get("correct"):
        raise SystemExit(f"headless run gave a wrong result: {record}")
    return float(record["wall_s"])


def main(argv: list[str] | None = None) -> int:
    """Run the pairs and print the report."""
    args = _parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("MPSCOPE_NO_CALIBRATION", "1")
    from PySide6.QtWidgets import QApplication

    from mpscope.gui.app import create_window

    spec = _spec(args)
    window = create_window()
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    runs: list[GuiRun] = []
    headless: list[float] = []
    print(
        f"{spec.strategy} · {spec.workload} · N={spec.items:,} · K={spec.workers} · "
        f"chunksize {spec.chunksize} · {spec.start_method} · Qt platform {args.platform}"
    )
    print(
        f"{'pair':>4} {'GUI wall s':>10} {'headless s':>10} {'ratio':>6} {'max gap ms':>10} "
        f"{'p99 ms':>7} {'redraw/s':>8} {'GUI CPU':>8} {'events':>7}"
    )
    for i in range(args.pairs):
        run = run_in_window(window, spec)
        if not run.correct:
            raise SystemExit(f"the GUI run did not finish correctly: {window.model.outcome}")
        wall_b = run_headless(spec)
        runs.append(run)
        headless.append(wall_b)
        print(
            f"{i + 1:>4} {run.wall_s:>10.3f} {wall_b:>10.3f} {run.wall_s / wall_b:>6.3f} "
            f"{run.max_gap_ms:>10.1f} {run.p99_gap_ms:>7.1f} {run.redraws_per_s:>8.1f} "
            f"{100 * run.gui_cpu_share:>7.1f}% {run.events:>7}",
            flush=True,
        )
    control = (
        control_gaps(window, args.control_s, os.cpu_count() or 2) if args.control_s > 0 else None
    )
    window.close()

    ratios = [r.wall_s / h for r, h in zip(runs, headless)]
    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()}",
        "spec": f"{spec.strategy} {spec.workload} N={spec.items} K={spec.workers} "
        f"chunksize={spec.chunksize} {spec.start_method}",
        "platform": args.platform,
        "max_stall_ms": round(max(r.max_gap_ms for r in runs) - HEARTBEAT_MS, 1),
        "median_max_gap_ms": round(statistics.median(r.max_gap_ms for r in runs), 1),
        "redraws_per_s": round(statistics.median(r.redraws_per_s for r in runs), 1),
        "gui_cpu_percent_of_one_core": round(
            100 * statistics.median(r.gui_cpu_share for r in runs), 1
        ),
        "observer_ratio_median": round(statistics.median(ratios), 3),
        "observer_ratios": [round(r, 3) for r in ratios],
    }
    stall_ok = max(r.max_gap_ms for r in runs) < 50
    print()
    print(
        f"event-loop stalls: longest heartbeat gap {max(r.max_gap_ms for r in runs):.1f} ms "
        f"(10 ms timer; target < 50 ms) {'OK' if stall_ok else 'OVER'}"
    )
    if control is not None:
        print(
            f"control (window idle, {os.cpu_count()} niced busy loops, {args.control_s:g} s): "
            f"longest gap {control[0]:.1f} ms, p99 {control[1]:.1f} ms: the machine's own stalls"
        )
        summary["control_max_gap_ms"] = round(control[0], 1)
        summary["control_p99_gap_ms"] = round(control[1], 1)
    print(f"redraws per second: {summary['redraws_per_s']} (target <= 30)")
    print(
        f"GUI process CPU while live: {summary['gui_cpu_percent_of_one_core']}% of one core "
        f"(target <= 10%)"
    )
    print(
        f"observer effect: GUI / headless wall, median of {len(ratios)} pairs = "
        f"{summary['observer_ratio_median']} (target <= 1.05; pairs: "
        f"{', '.join(f'{r:.3f}' for r in ratios)})"
    )
    print(f"{summary['date']} · {summary['machine']}")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

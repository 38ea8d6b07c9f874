"""What watching costs: the window's responsiveness during a run, and its effect on the run.

During a run at full event rate with all four live views visible:

* a 10 ms heartbeat QTimer measures event-loop stalls (target: the longest gap < 50 ms);
* redraws per second: each view's refresh() calls, and its paints (target <= 30);
* the GUI process's own CPU while the run is live (target <= 10 % of one core; with more
  workers than the views show one by one, 64 say, <= 15 %), and each view's share of it (its
  refresh() and its paints, on the GUI thread), to see where the time goes;

and the observer effect: the wall time (measured inside the conductor) of the same run started
from the window and headless (``python -m mpscope run --json``), alternating A B A B, reported
as the median of the per-pair ratios GUI / headless (target <= 1.05; on 2 cores the window's
own CPU use steals from the workers).

    python benchmarks/gui_latency.py                      # offscreen, the default run
    xvfb-run -a -s "-screen 0 1400x900x24" python benchmarks/gui_latency.py --platform xcb
    python benchmarks/gui_latency.py --strategy pool-map --workload square --items 1e7 \\
        --chunksize 10000 --pairs 5
    python benchmarks/gui_latency.py --workers 64 --cases scale --pairs 2   # 64 lanes
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
CPU_TARGET = 0.10  # of one core, while live
CPU_TARGET_MANY_LANES = 0.15  # issue 19: 64 workers streaming at full rate
# --cases scale: the engine's scale cases (benchmarks/queue_scale.py), each at --workers (64)
SCALE_CASES = ("pool-map:sleep", "pool-map:square", "thread-pool:sleep", "thread-pool:square")


@dataclass
class GuiRun:
    """What one run started from the window measured."""

    wall_s: float
    live_s: float
    max_gap_ms: float
    p99_gap_ms: float
    beats: int
    # the most CPU the GUI thread spent between two beats: a stall of the window's own making
    # (the longest gap also holds the time the machine gave to other processes)
    max_busy_ms: float
    redraws_per_s: float  # refresh() calls per view per second
    gui_cpu_share: float  # CPU seconds of the GUI process per second of the live run
    events: int
    correct: bool
    gaps_ms: list[float] = field(default_factory=list, repr=False)
    # view -> (refresh CPU ms per s, paint CPU ms per s, paints per s), while live
    views: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    @property
    def paints_per_s(self) -> float:
        """The most often painted view's paints per second."""
        return max((paints for _, _, paints in self.views.values()), default=0.0)


class ViewMeter:
    """Counts and times each live view's refresh() and the paints of its plot, while live.

    Times are the GUI thread's CPU (``time.thread_time``); a view without a plot widget (the
    progress bars) is timed for its refresh() only.
    """

    def __init__(self, views: list) -> None:
        self.live = False
        self.refresh_s: dict[str, float] = {}
        self.paint_s: dict[str, float] = {}
        self.paints: dict[str, int] = {}
        self.refreshes: dict[str, int] = {}
        self._restore: list[tuple[object, str]] = []
        for view in views:
            name = view.objectName()
            self.refresh_s[name] = self.paint_s[name] = 0.0
            self.paints[name] = self.refreshes[name] = 0
            self._wrap(view, "refresh", name, self.refresh_s, self.refreshes)
            plot_widget = getattr(view, "plot_widget", None)
            if plot_widget is not None:
                self._wrap(plot_widget, "paintEvent", name, self.paint_s, self.paints)

    def _wrap(self, obj, method: str, name: str, seconds: dict, counts: dict) -> None:
        original = getattr(obj, method)

        def timed(*args):
            t = time.thread_time()
            try:
                return original(*args)
            finally:
                if self.live:
                    seconds[name] += time.thread_time() - t
                    counts[name] += 1

        setattr(obj, method, timed)  # PySide calls an instance's own override of a virtual
        self._restore.append((obj, method))

    def restore(self) -> None:
        """Take the wrappers off."""
        for obj, method in self._restore:
            delattr(obj, method)

    def refreshes_per_view_per_s(self, live_s: float) -> float:
        """refresh() calls per view and second: how often the window redraws each view."""
        calls = sum(self.refreshes.values())
        return calls / len(self.refreshes) / live_s if live_s > 0 and self.refreshes else 0.0

    def per_view(self, live_s: float) -> dict[str, tuple[float, float, float]]:
        """View -> (refresh CPU ms/s, paint CPU ms/s, paints/s) over ``live_s`` seconds."""
        per_s = 1.0 / live_s if live_s > 0 else 0.0
        return {
            name: (
                1e3 * self.refresh_s[name] * per_s,
                1e3 * self.paint_s[name] * per_s,
                self.paints[name] * per_s,
            )
            for name in self.refresh_s
        }


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
        "--cases",
        default=None,
        help="strategy:workload,... with benchmarks/queue_scale.py's N, chunksize and sleep "
        "for each (or 'scale': its four: pool-map and thread-pool, sleep and square); "
        "--workers applies to every case (default 64)",
    )
    parser.add_argument(
        "--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"), help="Qt platform"
    )
    parser.add_argument(
        "--control-s",
        type=float,
        default=10.0,
        help="seconds of the control (idle window, niced busy loops on every core); 0 skips it",
    )
    parser.add_argument(
        "--qt-fill-pool",
        action="store_true",
        help="leave Qt's helper threads for fills on, as the window had them before "
        "(mpscope.gui.app.keep_fills_on_the_gui_thread): one side of a side-by-side comparison",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    return parser.parse_args(argv)


def _spec(args: argparse.Namespace):  # -> ResolvedSpec
    from mpscope.workers.cli.options import run_spec
    from mpscope.workers.validation import validate_spec

    return validate_spec(run_spec(args, args.strategy))


def _specs(args: argparse.Namespace) -> list:  # -> list[ResolvedSpec]
    """The spec of the arguments, or one per ``--cases`` case (queue_scale.py's sizes)."""
    if not args.cases:
        return [_spec(args)]
    from queue_scale import CASES  # beside this script: the engine's own scale benchmark

    names = SCALE_CASES if args.cases == "scale" else tuple(args.cases.split(","))
    specs = []
    for name in names:
        strategy, _, workload = name.partition(":")
        if name not in CASES:
            raise SystemExit(f"--cases: no case {name!r}; the cases are {', '.join(CASES)}")
        case = argparse.Namespace(**vars(args))
        case.strategy, case.workload = strategy, workload
        case.workers = args.workers or 64
        case.chunksize = None
        for key, value in CASES[name].items():
            setattr(case, key, value)
        specs.append(_spec(case))
    return specs


def run_in_window(window, spec) -> GuiRun:
    """Start ``spec`` from ``window``'s controller; measure the loop while it runs."""
    import psutil
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from mpscope.workers.events import RunStatus

    beats: list[float] = []
    busy: list[float] = []  # the GUI thread's CPU time at each beat
    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(
        lambda: (beats.append(time.perf_counter()), busy.append(time.thread_time()))
    )
    meter = ViewMeter(window.views)
    me = psutil.Process()
    loop = QEventLoop()
    # the live phase: from the conductor's RunStarted being shown to the terminal event being
    # folded in (start-up, and the summary/history work after the end, are not "watching")
    marks: dict[str, tuple[float, float]] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, (time.perf_counter(), sum(me.cpu_times()[:2])))
        meter.live = name == "live"

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
        meter.restore()
    (t_live, cpu_live), (t_end, cpu_end) = marks["live"], marks["ended"]
    live_s, cpu_s = t_end - t_live, cpu_end - cpu_live
    live = [(b, c) for b, c in zip(beats, busy) if t_live <= b <= t_end]
    beats = [b for b, _ in live]
    gaps = [1e3 * (b - a) for a, b in itertools.pairwise(beats)]
    busy_ms = [1e3 * (d - c) for (_, c), (_, d) in itertools.pairwise(live)]
    outcome = window.model.outcome
    gaps_sorted = sorted(gaps) or [0.0]
    return GuiRun(
        wall_s=getattr(outcome, "wall_s", float("nan")),
        live_s=live_s,
        max_gap_ms=max(gaps_sorted),
        p99_gap_ms=gaps_sorted[min(len(gaps_sorted) - 1, int(0.99 * len(gaps_sorted)))],
        beats=len(beats),
        max_busy_ms=max(busy_ms, default=0.0),
        redraws_per_s=meter.refreshes_per_view_per_s(live_s),
        gui_cpu_share=cpu_s / live_s if live_s > 0 else 0.0,
        events=window.model.tally.events if window.model.tally else 0,
        correct=bool(getattr(outcome, "correct", False)),
        gaps_ms=gaps,
        views=meter.per_view(live_s),
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


def _describe(spec) -> str:
    return (
        f"{spec.strategy} · {spec.workload} · N={spec.items:,} · K={spec.workers} · "
        f"chunksize {spec.chunksize} · {spec.start_method}"
        + (f" · sleep {spec.sleep_ms:g} ms" if spec.workload == "sleep" else "")
    )


def run_pairs(window, spec, pairs: int) -> tuple[list[GuiRun], list[float]]:
    """``pairs`` runs of ``spec`` from the window, each followed by the same run headless."""
    runs: list[GuiRun] = []
    headless: list[float] = []
    print(
        f"{'pair':>4} {'GUI wall s':>10} {'headless s':>10} {'ratio':>6} {'max gap ms':>10} "
        f"{'p99 ms':>7} {'busy ms':>7} {'redraw/s':>8} {'paints/s':>8} {'GUI CPU':>8} "
        f"{'events':>7}"
    )
    for i in range(pairs):
        run = run_in_window(window, spec)
        if not run.correct:
            raise SystemExit(f"the GUI run did not finish correctly: {window.model.outcome}")
        wall_b = run_headless(spec)
        runs.append(run)
        headless.append(wall_b)
        print(
            f"{i + 1:>4} {run.wall_s:>10.3f} {wall_b:>10.3f} {run.wall_s / wall_b:>6.3f} "
            f"{run.max_gap_ms:>10.1f} {run.p99_gap_ms:>7.1f} {run.max_busy_ms:>7.1f} "
            f"{run.redraws_per_s:>8.1f} "
            f"{run.paints_per_s:>8.1f} {100 * run.gui_cpu_share:>7.1f}% {run.events:>7}",
            flush=True,
        )
    return runs, headless


def summarize(spec, runs: list[GuiRun], headless: list[float]) -> dict:
    """One case's figures (medians over its pairs), printed and returned."""
    from mpscope.gui.views.lane_choice import MANY_LANES

    ratios = [r.wall_s / h for r, h in zip(runs, headless)]
    cpu_target = CPU_TARGET_MANY_LANES if spec.workers > MANY_LANES else CPU_TARGET
    views = {
        name: [round(statistics.median(r.views[name][k] for r in runs), 1) for k in range(3)]
        for name in runs[0].views
    }
    summary = {
        "spec": f"{spec.strategy} {spec.workload} N={spec.items} K={spec.workers} "
        f"chunksize={spec.chunksize} {spec.start_method}",
        "max_stall_ms": round(max(r.max_gap_ms for r in runs) - HEARTBEAT_MS, 1),
        "max_gap_ms": round(max(r.max_gap_ms for r in runs), 1),
        "median_max_gap_ms": round(statistics.median(r.max_gap_ms for r in runs), 1),
        "max_busy_ms": round(max(r.max_busy_ms for r in runs), 1),
        "redraws_per_s": round(statistics.median(r.redraws_per_s for r in runs), 1),
        "paints_per_s_max": round(max(r.paints_per_s for r in runs), 1),
        "gui_cpu_percent_of_one_core": round(
            100 * statistics.median(r.gui_cpu_share for r in runs), 1
        ),
        "gui_cpu_target_percent": round(100 * cpu_target),
        "observer_ratio_median": round(statistics.median(ratios), 3),
        "observer_ratios": [round(r, 3) for r in ratios],
        "views_refresh_paint_ms_per_s_paints_per_s": views,
    }
    stall_ok = summary["max_gap_ms"] < 50
    print(
        f"event-loop stalls: longest heartbeat gap {summary['max_gap_ms']:.1f} ms "
        f"(10 ms timer; target < 50 ms) {'OK' if stall_ok else 'OVER'}; the most GUI-thread "
        f"CPU between two beats: {summary['max_busy_ms']:.1f} ms (the rest of a gap is the "
        "machine running other processes)"
    )
    print(
        f"redraws per second: {summary['redraws_per_s']} refresh() per view, at most "
        f"{summary['paints_per_s_max']} paints of a view (target <= 30)"
    )
    print(
        f"GUI process CPU while live: {summary['gui_cpu_percent_of_one_core']}% of one core "
        f"(target <= {summary['gui_cpu_target_percent']}%); of it, on the GUI thread, per view "
        "(refresh + paint, ms of CPU per s): "
        + ", ".join(f"{name} {r:.0f} + {p:.0f}" for name, (r, p, _) in views.items())
    )
    print(
        f"observer effect: GUI / headless wall, median of {len(ratios)} pairs = "
        f"{summary['observer_ratio_median']} (target <= 1.05; pairs: "
        f"{', '.join(f'{r:.3f}' for r in ratios)})"
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    """Run the pairs of every case and print the report."""
    args = _parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("MPSCOPE_NO_CALIBRATION", "1")
    from PySide6.QtWidgets import QApplication

    from mpscope.gui import app as gui_app
    from mpscope.gui.app import create_window, settle_heap

    if args.qt_fill_pool:  # the start-up as it was: Qt's pool is created at the first fill
        gui_app.keep_fills_on_the_gui_thread = lambda: None
    specs = _specs(args)
    window = create_window()
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    settle_heap()  # as run_app() does
    load = os.getloadavg()
    print(f"Qt platform {args.platform} · load average before: {load[0]:.2f}, {load[1]:.2f}")
    cases = []
    for spec in specs:
        print(f"\n{_describe(spec)}")
        runs, headless = run_pairs(window, spec, args.pairs)
        cases.append(summarize(spec, runs, headless))
    control = (
        control_gaps(window, args.control_s, os.cpu_count() or 2) if args.control_s > 0 else None
    )
    window.close()

    summary = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {platform.system()}",
        "platform": args.platform,
        "load_average_before": [round(x, 2) for x in load],
        "qt_fill_pool": args.qt_fill_pool,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **(cases[0] if len(cases) == 1 else {"cases": cases}),
    }
    print()
    if control is not None:
        print(
            f"control (window idle, {os.cpu_count()} niced busy loops, {args.control_s:g} s): "
            f"longest gap {control[0]:.1f} ms, p99 {control[1]:.1f} ms: the machine's own stalls"
        )
        summary["control_max_gap_ms"] = round(control[0], 1)
        summary["control_p99_gap_ms"] = round(control[1], 1)
    after = summary["load_average_after"]
    print(f"{summary['date']} · {summary['machine']} · load average after: {after[0]}, {after[1]}")
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What Qt's helper threads for fills cost a plot's repaint, with every core busy or not.

Qt's raster engine hands a fill of more than 96 rows (a plot's axis with its grid) to a pool of
helper threads and waits for them; the window turns that pool off for itself
(``mpscope.gui.app.keep_fills_on_the_gui_thread``). Qt reads its switch once per process, so
each side runs in a process of its own, alternately (pool, serial, pool, serial ...): a plot
styled as the views are (count axis, y grid, cached axes) is repainted after each change of its
y range, the axis's re-render included, and the GUI thread's CPU and the wall time of each
repaint are taken. ``--busy N`` runs N busy loops beside it, niced as the window's workers are.

    python benchmarks/plot_repaint.py                 # 2 busy loops, 5 rounds
    python benchmarks/plot_repaint.py --busy 0
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time


def repaint_times(repaints: int) -> dict[str, float]:
    """In this process: median and p95 of each repaint's GUI-thread CPU and wall, in ms."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from mpscope.gui.palette import style_plot_widget
    from mpscope.gui.views.plot_helpers import CountAxis, cache_axes

    app = QApplication.instance() or QApplication([])
    widget = pg.GraphicsLayoutWidget()
    widget.resize(438, 307)  # a view's size in a 1280x800 window
    plot = widget.addPlot(axisItems={"left": CountAxis("left")})
    plot.setLabel("left", "items/s")
    plot.setLabel("bottom", "time since start", units="s")
    plot.showGrid(x=False, y=True, alpha=0.15)
    cache_axes(plot)
    style_plot_widget(widget, widget.palette())
    plot.plot(np.arange(100.0), np.random.default_rng(1).random(100) * 100)
    widget.show()
    app.processEvents()
    cpu, wall = [], []
    for i in range(repaints):
        plot.setYRange(0, 100 + 10 * (i % 50 + 1), padding=0)  # a new range: the axis re-renders
        t_cpu, t_wall = time.thread_time(), time.perf_counter()
        widget.viewport().repaint()
        cpu.append(time.thread_time() - t_cpu)
        wall.append(time.perf_counter() - t_wall)
    widget.close()

    def ms(values: list[float], q: int) -> float:
        return round(1e3 * statistics.quantiles(values, n=100)[q - 1], 3)

    return {
        "cpu_median_ms": round(1e3 * statistics.median(cpu), 3),
        "cpu_p95_ms": ms(cpu, 95),
        "wall_median_ms": round(1e3 * statistics.median(wall), 3),
        "wall_p95_ms": ms(wall, 95),
        "wall_max_ms": round(1e3 * max(wall), 3),
    }


def child(mode: str, repaints: int) -> None:
    """One side, in a fresh process: Qt's pool on (as before) or off (as the window has it)."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if mode == "serial":
        from mpscope.gui.app import ensure_application

        ensure_application([])
    print(json.dumps(repaint_times(repaints)))


def run_side(mode: str, repaints: int) -> dict[str, float]:
    """One side's figures, from a process of its own."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--repaints", str(repaints)],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    """Alternate the two sides ``--rounds`` times beside ``--busy`` busy loops; print both."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repaints", type=int, default=300)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--child", choices=("pool", "serial"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.repaints)
        return 0
    from mpscope.gui.run_controller import RUN_NICENESS  # niced as the window's runs are

    loops = [
        subprocess.Popen(
            [sys.executable, "-c", f"import os; os.nice({RUN_NICENESS})\nwhile True: pass"]
        )
        for _ in range(args.busy)
    ]
    sides: dict[str, list[dict[str, float]]] = {"pool": [], "serial": []}
    try:
        print(f"{args.busy} busy loops (nice {RUN_NICENESS}), {args.repaints} repaints a side")
        print("round side    CPU median  p95   wall median  p95    max (ms)")
        for round_ in range(1, args.rounds + 1):
            for mode in ("pool", "serial"):
                f = run_side(mode, args.repaints)
                sides[mode].append(f)
                print(
                    f"{round_:5} {mode:6} {f['cpu_median_ms']:9.2f} {f['cpu_p95_ms']:6.2f}"
                    f" {f['wall_median_ms']:10.2f} {f['wall_p95_ms']:6.2f} {f['wall_max_ms']:7.2f}"
                )
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    for key in ("cpu_median_ms", "wall_median_ms", "wall_p95_ms"):
        ratios = [s[key] / p[key] for p, s in zip(sides["pool"], sides["serial"])]
        print(
            f"serial / pool, {key}: median {statistics.median(ratios):.2f} "
            f"(rounds {min(ratios):.2f}-{max(ratios):.2f})"
        )
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(f"{now} · {os.cpu_count()} CPUs · Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

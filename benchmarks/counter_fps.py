"""How smoothly the counter page animates: frames per second and the longest frame gap.

Runs shared-counter from the window (the Run button's path) and counts the counter view's
frames (``advance()`` calls) while the run is live and during the replay to its end; the
target is >= 30 frames/s, with no gap between frames a viewer would notice.

    python benchmarks/counter_fps.py                    # the seed: 2 x 10, 0.1 s, lock whole
    python benchmarks/counter_fps.py --lock step --items 200000 --delay 0
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    """Run the counter ``--runs`` times from the window and print frames/s and frame gaps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", default="whole", choices=("whole", "step", "none"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--items", type=int, default=10, help="increments per worker")
    parser.add_argument("--delay", type=float, default=0.1, help="seconds per increment")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--platform", default=os.environ.get("QT_QPA_PLATFORM", "offscreen"), help="Qt platform"
    )
    args = parser.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = args.platform
    os.environ.setdefault("MPSCOPE_NO_CALIBRATION", "1")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from mpscope.gui.app import create_window
    from mpscope.workers.spec import RunSpec

    window = create_window()
    window.resize(1280, 800)
    window.show()
    QApplication.processEvents()
    view = window.counter_view
    spec = RunSpec(
        strategy="shared-counter",
        workload="increment",
        items=args.items,
        workers=args.workers,
        lock=args.lock,
        delay_s=args.delay,
    )
    frames: list[float] = []
    original = view.advance

    def counting() -> None:
        frames.append(time.perf_counter())
        original()

    view.advance = counting
    view.timer.timeout.disconnect()
    view.timer.timeout.connect(counting)
    print(
        f"shared-counter · lock {args.lock} · {args.workers} x {args.items:,} · "
        f"delay {args.delay:g} s · Qt platform {args.platform}"
    )
    print(f"{'run':>3} {'seconds':>8} {'frames/s':>9} {'longest gap ms':>15} {'result':>10}")
    rates, worst = [], []
    for i in range(args.runs):
        frames.clear()
        loop = QEventLoop()
        window.controller.run_ended.connect(loop.quit)
        window.pages.setCurrentWidget(view)
        if not window.controller.start(spec):
            raise SystemExit("could not start the counter run")
        loop.exec()
        window.controller.run_ended.disconnect(loop.quit)
        settle = QEventLoop()  # the replay catches up with the end, then the timer stops
        deadline = time.monotonic() + 10.0

        def check(settle: QEventLoop = settle, deadline: float = deadline) -> None:
            if not view.animating or time.monotonic() > deadline:
                settle.quit()

        poll = QTimer()
        poll.timeout.connect(check)
        poll.start(50)
        settle.exec()
        poll.stop()
        span = frames[-1] - frames[0] if len(frames) > 1 else 0.0
        rate = (len(frames) - 1) / span if span > 0 else 0.0
        gap = max((1e3 * (b - a) for a, b in itertools.pairwise(frames)), default=0.0)
        outcome = window.model.outcome
        rates.append(rate)
        worst.append(gap)
        print(
            f"{i + 1:>3} {span:>8.2f} {rate:>9.1f} {gap:>15.1f} "
            f"{getattr(outcome, 'result', '?')!s:>10}",
            flush=True,
        )
    window.close()
    print()
    print(
        f"frames per second: median {statistics.median(rates):.1f} (target >= 30); "
        f"longest frame gap {max(worst):.1f} ms"
    )
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    print(f"{stamp} · {os.cpu_count()} CPUs · Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The engine at scale: 64 workers' reports through one queue, and what reading them costs.

Runs each case (strategy x workload, 64 workers by default) headless through ``start_run`` and
drains it as the window does (``drain(budget_s=0.01)`` every 33 ms: the window's tick), while it
counts what came through the run's queue: events and packets per second, each packet's size as
the queue carries it (its pickle), the events per packet, and the CPU the consumer (this
process: the drains, unpickling, the tally) used per second of the run. What the design promises
is a bounded rate whatever N and K are: every worker flushes at most once per tick (50 ms), so
64 workers send at most ~1,280 packets/s, each a few dozen bytes per event.

    python benchmarks/queue_scale.py                          # the README's four cases
    python benchmarks/queue_scale.py --workers 128 --cases pool-map:sleep
"""

from __future__ import annotations

import argparse
import datetime
import pickle
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK_S = 0.033  # the window drains and redraws on a ~30 Hz timer
# N per case, for about 5-10 s of run on 2 cores with 64 workers
CASES = {
    "pool-map:sleep": dict(items=64 * 1000, sleep_ms=5.0, chunksize=4),
    "pool-map:square": dict(items=30_000_000, chunksize=20_000),
    "thread-pool:sleep": dict(items=64 * 1000, sleep_ms=5.0, chunksize=4),
    "thread-pool:square": dict(items=20_000_000, chunksize=2_000),
}


@dataclass
class Measured:
    """What one run's queue carried, and what reading it cost."""

    case: str
    wall_s: float
    events: int
    packets: int
    bytes_mean: float
    bytes_max: int
    events_per_packet_max: int
    consumer_cpu_s: float
    correct: bool | None

    def row(self) -> str:
        """One Markdown table row."""
        per_s = self.wall_s or 1.0
        return (
            f"| {self.case} | {self.wall_s:.2f} s | {self.events / per_s:,.0f} | "
            f"{self.packets / per_s:,.0f} | {self.bytes_mean:.0f} B (max {self.bytes_max:,} B, "
            f"{self.events_per_packet_max} events) | {100 * self.consumer_cpu_s / per_s:.1f} % |"
            f" {self.correct} |"
        )


class CountingReader:
    """Wraps a run's queue reader: every packet it hands out is counted and weighed."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self.packets = 0
        self.sizes: list[int] = []
        self.events_max = 0

    def get_nowait(self) -> Any:
        """The next packet, counted (its pickle is what the queue carried)."""
        packet = self._reader.get_nowait()
        self.packets += 1
        self.sizes.append(len(pickle.dumps(packet, protocol=pickle.HIGHEST_PROTOCOL)))
        if isinstance(packet, tuple):
            self.events_max = max(self.events_max, len(packet))
        return packet


def measure(case: str, workers: int, start_method: str | None) -> Measured:
    """Run one case to its end, draining it as the window does; what came through."""
    from mpscope.workers import RunSpec, start_run
    from mpscope.workers.events import RunFinished

    strategy, workload = case.split(":")
    spec = RunSpec(
        strategy=strategy,
        workload=workload,
        workers=workers,
        start_method=start_method,
        **CASES.get(case, {}),  # type: ignore[arg-type]
    )
    handle = start_run(spec)
    counting = CountingReader(handle._events_reader)
    handle._events_reader = counting
    events = 0
    cpu0 = time.process_time()
    try:
        while not handle.finished:
            events += len(handle.drain(budget_s=0.01))
            time.sleep(TICK_S)
        events += len(handle.drain())
    finally:
        handle.close()
    cpu = time.process_time() - cpu0
    outcome = handle.outcome
    wall = outcome.wall_s if isinstance(outcome, RunFinished) else float("nan")
    correct = outcome.correct if isinstance(outcome, RunFinished) else False
    sizes = counting.sizes or [0]
    return Measured(
        case,
        wall,
        events,
        counting.packets,
        statistics.fmean(sizes),
        max(sizes),
        counting.events_max,
        cpu,
        correct,
    )


def main() -> int:
    """Measure every case given; print a Markdown table for README."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--cases", default=",".join(CASES), help="strategy:workload,...")
    parser.add_argument("--start-method", default=None)
    args = parser.parse_args()
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    print(f"# queue_scale, K={args.workers}, {when}, Python {platform.python_version()}")
    print("| case | wall | events/s | packets/s | packet size, mean | consumer CPU | correct |")
    print("|---|---|---|---|---|---|---|")
    for case in args.cases.split(","):
        print(measure(case, args.workers, args.start_method).row(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

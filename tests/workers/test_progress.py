"""Live progress from inside the workers: cumulative, monotonic, exact, and early."""

from __future__ import annotations

from collections import defaultdict

import pytest

from mpscope.workers import RunSpec
from mpscope.workers.events import Progress, RunFinished, TaskSpan, WorkerExited


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "strategy", ["pool-map", "pool-imap", "executor", "process", "thread-pool"]
)
def test_progress_is_cumulative_monotonic_and_ends_exact(
    strategy: str, run_to_end, finished
) -> None:
    spec = RunSpec(strategy=strategy, workload="heavy", items=3000, workers=2, grain=300)
    events, outcome = run_to_end(spec)
    finished(outcome)
    per_worker: dict[int, list[int]] = defaultdict(list)
    for e in events:
        if isinstance(e, Progress):
            per_worker[e.worker].append(e.done)
    exited = {e.worker: e.items for e in events if isinstance(e, WorkerExited)}
    assert set(per_worker) == set(exited)
    for worker, dones in per_worker.items():
        assert dones == sorted(dones), f"worker {worker} went backwards: {dones}"
        assert dones[-1] == exited[worker]
    assert sum(exited.values()) == 3000


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["pool-map", "executor", "pool-imap"])
def test_one_chunk_per_worker_still_streams_progress(strategy: str, run_to_end, finished) -> None:
    """The seed's tqdm(pool.map(...)) sits at 0% until the end; ours must not."""
    workers, items = 2, 4000
    spec = RunSpec(
        strategy=strategy,
        workload="sleep",
        items=items,
        workers=workers,
        chunksize=items // workers,
        sleep_ms=1.0,
    )  # about 2 s per worker, one chunk each
    events, outcome = run_to_end(spec)
    finished(outcome)
    before_end = []
    for e in events:
        if isinstance(e, RunFinished):
            break
        before_end.append(e)
    for worker in range(workers):
        partial = {
            e.done
            for e in before_end
            if isinstance(e, Progress) and e.worker == worker and 0 < e.done < items // workers
        }
        assert len(partial) >= 5, f"worker {worker}: only {sorted(partial)} before the end"


@pytest.mark.timeout(60)
def test_event_rate_is_bounded_whatever_the_chunksize(run_to_end, finished) -> None:
    """chunksize 1: 20,000 tasks, yet each worker sends at most one packet per 50 ms tick."""
    spec = RunSpec(strategy="pool-imap", workload="square", items=20_000, workers=2, chunksize=1)
    events, outcome = run_to_end(spec)
    result = finished(outcome)
    progress = [e for e in events if isinstance(e, Progress)]
    spans = [e for e in events if isinstance(e, TaskSpan)]
    assert sum(s.tasks for s in spans) == 20_000  # every task is accounted for...
    seconds = result.wall_s + 1.0
    assert len(progress) <= 2 * (seconds / 0.02 + 4)  # ...in a bounded number of events
    assert len(spans) < 2_000


@pytest.mark.timeout(60)
def test_a_longer_tick_reports_less_often_yet_still_streams(run_to_end, finished) -> None:
    """``--tick 0.25``: each worker reports at most once per 250 ms, and still mid-chunk."""
    tick, workers, items = 0.25, 2, 1600
    spec = RunSpec(
        strategy="pool-map",
        workload="sleep",
        items=items,
        workers=workers,
        chunksize=items // workers,
        sleep_ms=1.0,
        tick_s=tick,
    )  # about 0.8-1.6 s per worker, one chunk each
    events, outcome = run_to_end(spec)
    result = finished(outcome)
    for worker in range(workers):
        progress = [e for e in events if isinstance(e, Progress) and e.worker == worker]
        partial = {e.done for e in progress if 0 < e.done < items // workers}
        assert len(progress) <= result.wall_s / tick + 3, f"worker {worker}: {len(progress)}"
        assert len(partial) >= 2, f"worker {worker}: only {sorted(partial)} mid-chunk"

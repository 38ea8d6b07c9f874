"""Cancel stops a run within a second and leaves nothing behind."""

from __future__ import annotations

import time

import pytest
from engine_steps import drain_until

from mpscope.workers import RunSpec, start_run
from mpscope.workers.events import Progress, RunCancelled


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "strategy", ["sequential", "process", "pool-map", "pool-imap", "thread-pool", "executor"]
)
@pytest.mark.parametrize("workload", ["heavy", "sleep"])
def test_cancel_mid_run_stops_within_a_second(strategy: str, workload: str) -> None:
    spec = RunSpec(strategy=strategy, workload=workload, items=10**6, workers=2, sleep_ms=1.0)
    handle = start_run(spec)
    drain_until(handle, lambda evs: any(isinstance(e, Progress) and e.done > 0 for e in evs))
    t0 = time.monotonic()
    handle.cancel()
    elapsed = time.monotonic() - t0
    events = handle.drain()
    handle.close()
    assert elapsed < 1.0, f"cancel took {elapsed:.2f} s"
    assert isinstance(handle.outcome, RunCancelled)
    assert events and events[-1] is handle.outcome


@pytest.mark.timeout(30)
def test_cancel_right_after_start_and_twice_is_fine() -> None:
    handle = start_run(RunSpec(strategy="pool-map", workload="heavy", items=10**6, workers=2))
    handle.cancel()
    handle.cancel()
    assert isinstance(handle.outcome, RunCancelled) or handle.drain()[-1:] != []
    assert handle.wait(5)
    handle.close()

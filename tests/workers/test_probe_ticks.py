"""What a worker's probe adds to it: one sampler thread, writing plain tuples into the pipe.

Every thread a probe wakes in a busy worker takes turns on the GIL with the job and, on a
machine the workers fill, a core from somebody: the sampler writes its packets itself, so no
queue feeder thread wakes as well.
"""

from __future__ import annotations

import os
import pickle
import sys
import time

import pytest
from engine_steps import drain_until, wait_for_workers

from mpscope.workers import RunSpec, start_run
from mpscope.workers.events import (
    CounterStep,
    Progress,
    TaskSpan,
    WorkerStarted,
    from_wire,
    to_wire,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _threads(pid: int) -> list[str]:
    """The names of a process's threads, from /proc."""
    names = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/comm") as comm:
            names.append(comm.read().strip())
    return names


@linux_only
@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["pool-map", "executor", "process"])
def test_a_busy_worker_runs_the_sampler_and_no_queue_feeder(strategy: str) -> None:
    spec = RunSpec(strategy=strategy, workload="heavy", items=8000, workers=2, grain=2000)
    handle = start_run(spec)
    try:
        started = wait_for_workers(handle, 2)
        # several ticks into the run: progress has come from inside both workers already
        drain_until(
            handle,
            lambda evs: (
                {e.worker for e in evs if isinstance(e, Progress) and e.done > 0}
                >= {w.worker for w in started}
            ),
        )
        for worker in started:
            threads = _threads(worker.pid)
            assert len(threads) == 2, f"{strategy} worker {worker.pid} runs threads {threads}"
    finally:
        handle.close()


def test_probe_events_travel_as_plain_tuples_and_come_back_equal() -> None:
    events = [
        Progress(1, 250, 12.5, 12.0),
        Progress(0, 3, 1.0, None),
        TaskSpan(2, 100, 50, 1.0, 1.5, 3),
        WorkerStarted(0, 4242, 0.5, None),
    ]
    for event in events:
        wire = to_wire(event)
        assert type(wire) is tuple
        assert from_wire(pickle.loads(pickle.dumps(wire))) == event
        assert type(from_wire(wire)) is type(event)
        assert len(pickle.dumps(wire)) < len(pickle.dumps(event))
    other = CounterStep(0, 7, 1.0, "step")  # sent as itself, and read back as itself
    assert to_wire(other) is other and from_wire(other) is other


@pytest.mark.timeout(30)
def test_pause_wakes_at_the_run_s_verdict(finished) -> None:
    """A foreground consumer pausing 5 s between drains still sees the end at once."""
    handle = start_run(RunSpec(strategy="pool-map", workload="square", items=1000, workers=2))
    t0 = time.monotonic()
    try:
        while not handle.finished:
            handle.drain()
            handle.pause(5.0)
        elapsed = time.monotonic() - t0
    finally:
        handle.close()
    finished(handle.outcome)
    assert elapsed < 5.0, f"the consumer slept through the verdict: {elapsed:.1f} s"

"""RunHandle hands out every event of a run, in order, the verdict last, whatever the timing."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time

import pytest

from mpscope.workers.events import RunFinished, WorkerExited
from mpscope.workers.runner import RunHandle
from mpscope.workers.spec import RunSpec


class _ExitedConductor:
    """Stands in for a conductor process that has already exited (code 0)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.exitcode: int | None = None

    def join(self, timeout: float | None = None) -> None:
        return None


@pytest.mark.timeout(30)
def test_the_conductor_s_last_events_come_before_its_verdict_whenever_they_arrive() -> None:
    """The race a fast run hits about once in a hundred under load: the conductor sends its
    WorkerExited events and its verdict, and exits, just after the handle found the worker
    queue empty. Every worker's final figures must still be handed out, before the verdict."""
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    control_r, control_w = ctx.Pipe(duplex=False)
    cancel_r, cancel_w = ctx.Pipe(duplex=False)
    gone = ctx.Process(target=time.sleep, args=(0,))  # a real pid that leads no group
    gone.start()
    gone.join()
    conductor = _ExitedConductor(gone.pid or 0)
    handle = RunHandle(RunSpec(strategy="thread-pool"), "r1", conductor, events, control_r,
                       cancel_w)  # fmt: skip
    now = time.perf_counter()
    last_words = [WorkerExited(w, 1, None, 10, 0.1, 0.1, now) for w in (0, 1)]
    verdict = RunFinished("r1", 1, 1, True, 0.1, 0.2, 0.0, 0.0, 0.0, {}, now)

    class ConductorEndsWhileTheQueueIsRead:
        def get_nowait(self) -> object:
            for event in (*last_words, verdict):
                control_w.send(event)
            conductor.exitcode = 0
            raise queue.Empty

    handle._events_reader = ConductorEndsWhileTheQueueIsRead()  # type: ignore[assignment]
    try:
        got = handle.drain()
    finally:
        handle.close()
        control_w.close()
        cancel_r.close()
    assert got == [*last_words, verdict]
    assert handle.outcome == verdict

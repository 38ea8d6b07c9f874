"""Running a MatrixPlan one run at a time with ``start_run``: live events, progress, cancel.

``MatrixRun.poll()`` never waits for a run, so a GUI timer can call it (it does start a
conductor in-line, which takes a few tens of ms, and ``cancel()`` takes up to about a second);
``run_matrix`` is the blocking loop the CLI uses. Only one run is ever alive: runs on one
machine disturb each other, and the timings are the product. The bookkeeping (order, time
left, records) is a MatrixSchedule, which a caller with its own way of running can use alone.

>>> matrix = MatrixRun(plan_matrix(["pool-map"], [1, 2], RunSpec(items=100_000), repeats=2))
>>> while not matrix.finished:
...     for event in matrix.poll():   # MatrixRunStarted / MatrixRunEvents / MatrixRunEnded /
...         ...                       # MatrixFinished (last)
...     time.sleep(0.05)
>>> matrix.result().summary()
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mpscope.workers.compare.plan import MatrixPlan, PlannedRun
from mpscope.workers.compare.schedule import MatrixResult, MatrixSchedule, MatrixStatus
from mpscope.workers.events import Event, RunFailed
from mpscope.workers.runner import CONSUMER_POLL_S, RunHandle, new_run_id, start_run
from mpscope.workers.spec import ResolvedSpec, SpecError
from mpscope.workers.tally import RunTally


@dataclass(frozen=True)
class MatrixRunStarted:
    """Run ``index`` (0-based) of ``total`` has started: a fresh live view should follow it."""

    index: int
    total: int
    repeat: int
    spec: ResolvedSpec
    run_id: str


@dataclass(frozen=True)
class MatrixRunEvents:
    """Engine events of run ``index`` drained by this poll (feed them to the live views)."""

    index: int
    events: list[Event]


@dataclass(frozen=True)
class MatrixRunEnded:
    """Run ``index`` is over; ``record`` is its ``mpscope run --json`` record plus ``repeat``."""

    index: int
    total: int
    record: dict[str, Any]


@dataclass(frozen=True)
class MatrixFinished:
    """The plan is done (or was cancelled); the last event of a MatrixRun."""

    cancelled: bool
    records: list[dict[str, Any]]


MatrixEvent = MatrixRunStarted | MatrixRunEvents | MatrixRunEnded | MatrixFinished
Starter = Callable[[ResolvedSpec], RunHandle]


class MatrixRun:
    """Runs a plan's runs one after another; ``poll()`` advances it."""

    def __init__(self, plan: MatrixPlan, start: Starter = start_run) -> None:
        self.plan = plan
        self.schedule = MatrixSchedule(plan)
        self._start = start
        self._handle: RunHandle | None = None
        self._announced = False

    @property
    def finished(self) -> bool:
        """True once every run has ended or the comparison was cancelled."""
        return self.schedule.finished

    @property
    def cancelled(self) -> bool:
        """True if cancel() cut the comparison short."""
        return self.schedule.cancelled

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records of the runs that ended, in run order."""
        return self.schedule.records

    @property
    def handle(self) -> RunHandle | None:
        """The run in progress, if any (read-only use: MatrixRun drains it)."""
        return self._handle

    def poll(self, budget_s: float = 0.02) -> list[MatrixEvent]:
        """Advance: start the next run if none is running, hand out what the current one sent.

        Reads events for at most about ``budget_s``; the last event ever is MatrixFinished.
        """
        events: list[MatrixEvent] = []
        if self._handle is None:
            self._start_next(events)
        handle = self._handle
        running = self.schedule.running
        if handle is not None and running is not None:
            drained = handle.drain(budget_s=budget_s)
            if drained:
                events.append(MatrixRunEvents(running.index, drained))
            if handle.finished:
                handle.close()
                self._handle = None
                self._end(running, handle.tally, events)
        if self.finished and not self._announced:
            self._announced = True
            events.append(MatrixFinished(self.cancelled, list(self.records)))
        return events

    def _start_next(self, events: list[MatrixEvent]) -> None:
        planned = self.schedule.next_run()
        if planned is None:
            return
        total = self.schedule.total
        try:
            self._handle = self._start(planned.spec)
        except SpecError as exc:  # validated when planned; the machine may have changed since
            events.append(MatrixRunStarted(planned.index, total, planned.repeat, planned.spec, ""))
            tally = RunTally(planned.spec)
            tally.add(RunFailed(new_run_id(), str(exc), "", None, None, time.perf_counter()))
            self._end(planned, tally, events)
            return
        events.append(
            MatrixRunStarted(
                planned.index, total, planned.repeat, planned.spec, self._handle.run_id
            )
        )

    def _end(self, planned: PlannedRun, tally: RunTally, events: list[MatrixEvent]) -> None:
        record = self.schedule.run_ended(tally.summary())
        events.append(MatrixRunEnded(planned.index, self.schedule.total, record))

    def cancel(self) -> None:
        """Stop the run in progress (its processes are gone when this returns) and the plan.

        The cancelled run leaves no record; the next poll() returns MatrixFinished(cancelled).
        """
        if self.finished:
            return
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.cancel()
            handle.close()
        self.schedule.cancel()

    def status(self) -> MatrixStatus:
        """Runs done, the run in progress and the estimated time left."""
        return self.schedule.status()

    def result(self) -> MatrixResult:
        """The records so far (all of them once finished), the skipped settings, cancelled?"""
        return self.schedule.result()


def run_matrix(
    plan: MatrixPlan,
    on_event: Callable[[MatrixEvent, MatrixRun], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    poll_interval_s: float = CONSUMER_POLL_S,
    start: Starter = start_run,
) -> MatrixResult:
    """Run ``plan`` to the end in the foreground (the CLI's loop); return its result.

    ``on_event(event, matrix)`` sees every event (``matrix.status()`` gives the progress line);
    when ``should_stop()`` turns true the run in progress is cancelled and the result comes
    back with ``cancelled=True``. Whatever happens (an exception included), nothing is left
    running when this returns. The loop sleeps between polls so it does not take CPU from the
    run it is measuring.
    """
    matrix = MatrixRun(plan, start)
    try:
        while True:
            if should_stop is not None and should_stop():
                matrix.cancel()
            events = matrix.poll()
            for event in events:
                if on_event is not None:
                    on_event(event, matrix)
            if any(isinstance(e, MatrixFinished) for e in events):
                break
            if not any(isinstance(e, MatrixRunEnded) for e in events):
                handle = matrix.handle
                if handle is not None:
                    handle.pause(poll_interval_s)  # wakes at once on the run's verdict
                else:
                    time.sleep(poll_interval_s)
    finally:
        if not matrix.finished:
            matrix.cancel()
    return matrix.result()

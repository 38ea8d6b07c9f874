"""RunModel: one run's events folded into growable numpy buffers, for the live views.

The controller drains the run's queue on a timer and hands every batch to ``fold()``; views
read the buffers on their own redraw timer (at most 30 Hz), checking ``version`` to skip a
redraw when nothing changed. Nothing here draws, and nothing here is called per event by Qt.

Times are seconds since the run's RunStarted (``time.perf_counter`` is one system-wide clock
for every process, so worker timestamps line up with the GUI's own ``now()``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal

from mpscope.workers.events import (
    CounterStep,
    Event,
    Progress,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStatus,
    TaskSpan,
    WorkerExited,
    WorkerStarted,
)
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.tally import RunTally


class GrowableArray:
    """Rows appended to a preallocated numpy array that doubles when full."""

    def __init__(self, columns: int, capacity: int = 256) -> None:
        self._data = np.empty((capacity, columns), dtype=np.float64)
        self._size = 0

    def append(self, row: Sequence[float]) -> None:
        """Add one row."""
        if self._size == len(self._data):
            bigger = np.empty((2 * len(self._data), self._data.shape[1]), dtype=np.float64)
            bigger[: self._size] = self._data[: self._size]
            self._data = bigger
        self._data[self._size] = row
        self._size += 1

    def view(self) -> np.ndarray:
        """The filled rows (a view: do not keep it across appends)."""
        return self._data[: self._size]

    def __len__(self) -> int:
        return self._size


@dataclass
class LaneData:
    """Everything known about one worker lane."""

    index: int
    pid: int = 0
    thread: int | None = None
    started_t: float | None = None
    done: int = 0
    exited: WorkerExited | None = None
    progress: GrowableArray = field(default_factory=lambda: GrowableArray(2))  # t, done
    # t0, t1, items, first, tasks (tasks > 1: short chunks the probe merged into one span)
    spans: GrowableArray = field(default_factory=lambda: GrowableArray(5))
    open_t0: float | None = None  # start of the chunk running now (relative time)
    last_t: float = 0.0  # time of the latest Progress

    def done_at(self, times: np.ndarray) -> np.ndarray:
        """Items done by each of ``times``.

        0 before the lane started, linear between samples, held after the latest one (a lane
        reports only when its count moves).
        """
        samples = self.progress.view()
        if not len(samples):
            return np.zeros(np.shape(times))
        t, done = samples[:, 0], samples[:, 1]
        if self.started_t is not None and self.started_t < t[0]:
            t = np.concatenate(([self.started_t], t))
            done = np.concatenate(([0.0], done))
        return np.interp(times, t, done, left=0.0, right=done[-1])


class RunModel(QObject):
    """A run's state for the views: lanes, progress series, task spans, outcome."""

    # emitted after a fold() that changed anything (cheap; views still redraw on a timer)
    changed = Signal()
    # emitted once when the run's terminal event arrives: its RunStatus (finished, failed or
    # cancelled), as its word
    ended = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.spec: ResolvedSpec | None = None
        self.tally: RunTally | None = None
        self.started: RunStarted | None = None
        self.outcome: RunFinished | RunFailed | RunCancelled | None = None
        self.lanes: dict[int, LaneData] = {}
        self.total = GrowableArray(2)  # t, total done (one sample per fold with progress)
        self.counter_steps: list[CounterStep] = []
        self.version = 0
        self.generation = 0  # +1 on every reset(): views drop what they drew for the last run
        self.t0 = time.perf_counter()

    # -- lifecycle -----------------------------------------------------------------------------
    def reset(self, spec: ResolvedSpec) -> None:
        """Forget the previous run; ``spec`` is about to start."""
        self.spec = spec
        self.tally = RunTally(spec)
        self.started = None
        self.outcome = None
        self.lanes = {}
        self.total = GrowableArray(2)
        self.counter_steps = []
        self.t0 = time.perf_counter()
        self.version += 1
        self.generation += 1
        self.changed.emit()

    @property
    def state(self) -> RunStatus:
        """Idle, starting, running, finished, failed or cancelled."""
        if self.spec is None or self.tally is None:
            return RunStatus.IDLE
        if self.outcome is not None:
            return self.tally.status
        return RunStatus.RUNNING if self.started is not None else RunStatus.STARTING

    def now(self) -> float:
        """Seconds since the run started, on the same clock as the events."""
        return time.perf_counter() - self.t0

    @property
    def live(self) -> bool:
        """True from reset() until the terminal event: time advances, views keep moving."""
        return self.spec is not None and self.outcome is None

    def clock(self) -> float:
        """The time the views draw up to: now while live, the run's end once over, 0 if idle."""
        if self.outcome is not None:
            return max(self.outcome.t - self.t0, 0.0)
        return self.now() if self.spec is not None else 0.0

    def expected_end(self) -> float | None:
        """When the run should end at its pace so far (seconds since start), once 5 % is done.

        The live plots size their time axis with it, so the axis (and its ticks) stays put
        for most of the run instead of being re-rendered every time the clock passes its end.
        """
        units, done = self.units, self.done
        if self.outcome is not None or units <= 0 or done < 0.05 * units:
            return None
        return self.clock() * units / done

    # -- folding ---------------------------------------------------------------------------------
    def lane(self, index: int) -> LaneData:
        """The lane with this index (created on first mention)."""
        lane = self.lanes.get(index)
        if lane is None:
            lane = self.lanes[index] = LaneData(index)
        return lane

    def fold(self, events: Sequence[Event]) -> None:
        """Fold a batch of events in; emits ``changed`` once if anything changed."""
        if not events or self.tally is None:
            return
        progressed = False
        last_t = 0.0
        for event in events:
            self.tally.add(event)
            if isinstance(event, Progress):
                lane = self.lane(event.worker)
                t = event.t - self.t0
                lane.done = max(lane.done, event.done)
                lane.progress.append((t, lane.done))
                lane.open_t0 = None if event.open_t0 is None else event.open_t0 - self.t0
                lane.last_t = t
                progressed = True
                last_t = max(last_t, t)
            elif isinstance(event, TaskSpan):
                self.lane(event.worker).spans.append(
                    (event.t0 - self.t0, event.t1 - self.t0, event.items, event.first, event.tasks)
                )
            elif isinstance(event, WorkerStarted):
                lane = self.lane(event.worker)
                lane.pid, lane.thread = event.pid, event.thread
                lane.started_t = event.t - self.t0
            elif isinstance(event, WorkerExited):
                lane = self.lane(event.worker)
                lane.exited = event
                lane.done = max(lane.done, event.items)
                lane.open_t0 = None
            elif isinstance(event, CounterStep):
                self.counter_steps.append(event)
            elif isinstance(event, RunStarted):
                self.started = event
                self.t0 = event.t
            elif isinstance(event, (RunFinished, RunFailed, RunCancelled)):
                self.outcome = event
                for lane in self.lanes.values():
                    lane.open_t0 = None
        if progressed:
            self.total.append((last_t, self.done))
        self.version += 1
        self.changed.emit()
        if self.outcome is not None and any(e is self.outcome for e in events):
            self.ended.emit(self.state.value)

    # -- reading -----------------------------------------------------------------------------------
    @property
    def units(self) -> int:
        """Total work units of the run (0 until it started)."""
        return self.started.units if self.started else 0

    @property
    def reported(self) -> bool:
        """True once any worker reported progress: before that a live plot has nothing to draw
        (and should not spend its redraw budget on nothing, or a short run is never drawn)."""
        return len(self.total) > 0

    @property
    def done(self) -> int:
        """Work units done over all lanes."""
        return sum(lane.done for lane in self.lanes.values())

    def done_at(self, times: np.ndarray) -> np.ndarray:
        """Items done over all lanes by each of ``times`` (see ``LaneData.done_at``)."""
        total = np.zeros(np.shape(times))
        for lane in self.lanes.values():
            total += lane.done_at(times)
        return total

    @property
    def conductor_pid(self) -> int | None:
        """The conductor's pid, once it is up."""
        return self.started.conductor_pid if self.started else None

    def worker_pids(self) -> dict[int, int]:
        """Lane index -> pid, for the lanes that announced themselves."""
        return {i: lane.pid for i, lane in self.lanes.items() if lane.pid}

"""RunModel: one run's state for the live views: its RunTally, and the series they draw.

The run's state lives once, in the engine's RunTally: counts, per-worker figures, outcome,
status. The model owns the run's tally (a new one at every ``reset()``); the controller hands
it to the run's handle, whose ``drain()`` folds each event into it, and the model adds each
drained batch to its drawing buffers only (``append_tallied()``): the progress series and task
spans of every lane (``lane_series``), the total's series and the counter's steps. Events that
reach the model another way (a start that failed, tests) go through ``fold()``, which folds
them into the tally first. Views read on the window's redraw timer (a few times a second, paced
by ``gui.redraw_pacer``), checking ``version`` to skip a redraw when nothing changed. Nothing
here draws, and nothing here is called per event by Qt.

Times are seconds since the run's RunStarted (``time.perf_counter`` is one system-wide clock
for every process, so worker timestamps line up with the GUI's own ``now()``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal

from mpscope.gui.lane_series import GrowableArray, LaneSeries
from mpscope.workers.events import (
    CounterStep,
    Event,
    Progress,
    RunStarted,
    RunStatus,
    TaskSpan,
    TerminalEvent,
    WorkerExited,
    WorkerStarted,
)
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.tally import RunTally, WorkerFigures


class RunModel(QObject):
    """A run for the views: its one RunTally, and per lane the series they draw."""

    # emitted after a batch that changed anything (cheap; views still redraw on a timer)
    changed = Signal()
    # emitted once when the run's terminal event arrives: its RunStatus (finished, failed or
    # cancelled), as its word
    ended = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tally: RunTally | None = None  # the run's state (None: no run yet)
        self.lanes: dict[int, LaneSeries] = {}  # keyed like the tally's workers
        self.total = GrowableArray(2)  # t, total done (one sample per batch with progress)
        self.counter_steps: list[CounterStep] = []
        self.version = 0
        self.generation = 0  # +1 on every reset(): views drop what they drew for the last run
        self._reset_t = time.perf_counter()

    # -- lifecycle ------------------------------------------------------------------------------
    def reset(self, spec: ResolvedSpec) -> None:
        """Forget the previous run; ``spec`` is about to start (with a new, empty tally)."""
        self.tally = RunTally(spec)
        self.lanes = {}
        self.total = GrowableArray(2)
        self.counter_steps = []
        self._reset_t = time.perf_counter()
        self.version += 1
        self.generation += 1
        self.changed.emit()

    # -- the run's state, as its tally holds it -------------------------------------------------
    @property
    def spec(self) -> ResolvedSpec | None:
        """The run's spec (None before any run)."""
        return None if self.tally is None else self.tally.spec

    @property
    def started(self) -> RunStarted | None:
        """The run's RunStarted, once the conductor is up."""
        return None if self.tally is None else self.tally.started

    @property
    def outcome(self) -> TerminalEvent | None:
        """The run's terminal event (None while it runs or before any run)."""
        return None if self.tally is None else self.tally.outcome

    @property
    def workers(self) -> dict[int, WorkerFigures]:
        """Worker index -> its figures (pid, thread, counts, times), the tally's own records."""
        return {} if self.tally is None else self.tally.workers

    @property
    def state(self) -> RunStatus:
        """Idle, starting, running, finished, failed or cancelled."""
        if self.tally is None:
            return RunStatus.IDLE
        if self.tally.outcome is not None:
            return self.tally.status
        return RunStatus.RUNNING if self.tally.started is not None else RunStatus.STARTING

    @property
    def live(self) -> bool:
        """True from reset() until the terminal event: time advances, views keep moving."""
        return self.tally is not None and self.tally.outcome is None

    @property
    def units(self) -> int:
        """Total work units of the run (0 until it started)."""
        started = self.started
        return started.units if started else 0

    @property
    def done(self) -> int:
        """Work units done over all lanes (each worker's highest reported count)."""
        return 0 if self.tally is None else self.tally.done_reported

    @property
    def conductor_pid(self) -> int | None:
        """The conductor's pid, once it is up."""
        started = self.started
        return started.conductor_pid if started else None

    def worker_pids(self) -> dict[int, int]:
        """Lane index -> pid, for the workers whose pid is known."""
        return {i: fig.pid for i, fig in self.workers.items() if fig.pid}

    # -- the run's clock ------------------------------------------------------------------------
    @property
    def t0(self) -> float:
        """The run's time zero on the events' clock: its RunStarted (before that, the reset)."""
        started = self.started
        return started.t if started else self._reset_t

    def now(self) -> float:
        """Seconds since the run started, on the same clock as the events."""
        return time.perf_counter() - self.t0

    def clock(self) -> float:
        """The time the views draw up to: now while live, the run's end once over, 0 if idle."""
        outcome = self.outcome
        if outcome is not None:
            return max(outcome.t - self.t0, 0.0)
        return self.now() if self.tally is not None else 0.0

    def expected_end(self) -> float | None:
        """When the run should end at its pace so far (seconds since start), once 5 % is done.

        The live plots size their time axis with it, so the axis (and its ticks) stays put
        for most of the run instead of being re-rendered every time the clock passes its end.
        """
        units, done = self.units, self.done
        if self.outcome is not None or units <= 0 or done < 0.05 * units:
            return None
        return self.clock() * units / done

    def worker_started_at(self, index: int) -> float | None:
        """When worker ``index`` announced itself, in seconds since the run's start."""
        fig = self.workers.get(index)
        return None if fig is None or fig.started_t is None else fig.started_t - self.t0

    def running_since(self, index: int) -> float | None:
        """When worker ``index``'s running chunk began, in seconds since the run's start (None:
        it runs none now)."""
        fig = self.workers.get(index)
        return None if fig is None or fig.running_since is None else fig.running_since - self.t0

    # -- taking events in -----------------------------------------------------------------------
    def fold(self, events: Sequence[Event]) -> None:
        """Fold a batch nobody has counted yet into the run's tally, then add it to the drawing
        buffers; for events that do not come through the run's handle (a start that failed,
        tests), whose ``drain()`` would have folded them already (see ``append_tallied``)."""
        if not events or self.tally is None:
            return
        for event in events:
            self.tally.add(event)
        self.append_tallied(events)

    def append_tallied(self, events: Sequence[Event]) -> None:
        """Add a batch the run's tally already holds to the drawing buffers (the controller's
        batches: the run's handle folded them into this model's tally as it drained them).

        Emits ``changed`` once if anything changed, and ``ended`` if the batch ended the run.
        """
        if not events or self.tally is None:
            return
        t0 = self.t0
        progressed = False
        last_t = 0.0
        for event in events:
            if isinstance(event, Progress):
                t = event.t - t0
                self._lane(event.worker).add_progress(t, event.done)
                progressed = True
                last_t = max(last_t, t)
            elif isinstance(event, TaskSpan):
                self._lane(event.worker).spans.append(
                    (event.t0 - t0, event.t1 - t0, event.items, event.first, event.tasks)
                )
            elif isinstance(event, (WorkerStarted, WorkerExited)):
                self._lane(event.worker)  # every worker the tally knows has its lane
            elif isinstance(event, CounterStep):
                self.counter_steps.append(event)
        if progressed:
            self.total.append((last_t, self.done))
        self.version += 1
        self.changed.emit()
        outcome = self.outcome
        if outcome is not None and any(event is outcome for event in events):
            self.ended.emit(self.state.value)

    def _lane(self, index: int) -> LaneSeries:
        lane = self.lanes.get(index)
        if lane is None:
            lane = self.lanes[index] = LaneSeries(index)
        return lane

    # -- reading the series ---------------------------------------------------------------------
    @property
    def reported(self) -> bool:
        """True once any worker reported progress: before that a live plot has nothing to draw
        (and should not spend its redraw budget on nothing, or a short run is never drawn)."""
        return len(self.total) > 0

    def done_at(self, times: np.ndarray) -> np.ndarray:
        """Items done over all lanes by each of ``times`` (see ``LaneSeries.done_at``)."""
        total = np.zeros(np.shape(times))
        for index, lane in self.lanes.items():
            total += lane.done_at(times, self.worker_started_at(index))
        return total

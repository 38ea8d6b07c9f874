"""MatrixDriver: runs a comparison one run at a time through the window's RunController.

The bookkeeping (order, repeats, time left, result) is the engine's ``MatrixSchedule``; the
runs themselves go through the same RunController as a run started from the Live page, so
starting and stopping never block the GUI thread and the live views follow every run of the
matrix. The driver starts the next run only once the previous one has ended and its processes
are gone (one event-loop turn later, so every slot of ``run_ended`` sees the finished run).

Whoever receives the controller's ``run_ended`` (the compare page) hands the run's record to
``run_ended()``; a run stopped by the user (the Stop button here, or Esc on any page) stops the
whole comparison.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from mpscope.gui.run_controller import RunController
from mpscope.workers.compare import MatrixPlan, MatrixResult, MatrixSchedule
from mpscope.workers.events import RunFailed
from mpscope.workers.spec import ResolvedSpec
from mpscope.workers.tally import RunTally
from mpscope.workers.units import format_seconds

PROGRESS_INTERVAL_MS = 1000  # the "about X left" line counts down at this pace


def failed_record(spec: ResolvedSpec, message: str) -> dict[str, Any]:
    """The record of a run that could not even start (as the engine's matrix writes it)."""
    tally = RunTally(spec)
    tally.add(RunFailed("", message, "", None, None, time.perf_counter()))
    return tally.summary()


class MatrixDriver(QObject):
    """Drives one MatrixPlan at a time; ``result()`` is what it measured so far."""

    # fires when a plan begins; the argument is its kind ("matrix", "chunksize" or "grain")
    started = Signal(str)
    # fires when a run of the plan has been handed to the controller; the argument: its RunSpec
    run_started = Signal(object)
    # fires when a run of the plan ended and was counted; the argument: its record (+ "repeat")
    run_recorded = Signal(dict)
    # fires when the progress changed: runs done, runs in the plan, the progress line
    progress = Signal(int, int, str)
    # fires once the plan is over and nothing of it runs any more; True if it was stopped
    finished = Signal(bool)

    def __init__(self, controller: RunController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.kind = ""
        self.batch: str | None = None  # the history's name for this plan's runs
        self._schedule: MatrixSchedule | None = None
        self._owns_run = False  # the controller's current run is one of ours
        self._active = False  # from start() until ``finished`` fired
        self._stop_requested = False
        self._t0 = 0.0
        self._next_timer = QTimer(self)
        self._next_timer.setSingleShot(True)
        self._next_timer.setInterval(0)
        self._next_timer.timeout.connect(self._start_next)
        self._progress_timer = QTimer(self)
        self._progress_timer.setInterval(PROGRESS_INTERVAL_MS)
        self._progress_timer.timeout.connect(self._emit_progress)

    # -- what the page reads -------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True from start() until ``finished`` fired."""
        return self._active

    @property
    def owns_run(self) -> bool:
        """True while the controller's run in progress was started by this driver."""
        return self._owns_run

    @property
    def plan(self) -> MatrixPlan | None:
        """The plan being run (or run last)."""
        return None if self._schedule is None else self._schedule.plan

    def result(self) -> MatrixResult | None:
        """The records so far, the skipped settings, whether it was stopped (None: no plan yet)."""
        return None if self._schedule is None else self._schedule.result()

    # -- commands ------------------------------------------------------------------------------
    def start(self, plan: MatrixPlan, kind: str = "matrix") -> bool:
        """Run ``plan``; False if a plan or another run is in progress."""
        if self.active or self.controller.busy:
            return False
        self._schedule = MatrixSchedule(plan)
        self.kind = kind
        self.batch = f"{kind}-{uuid.uuid4().hex[:12]}"
        self._stop_requested = False
        self._active = True
        self._t0 = time.monotonic()
        self.started.emit(kind)
        self._progress_timer.start()
        self._start_next()
        return True

    def stop(self) -> None:
        """Stop the plan: the run in progress is stopped (within about a second), no more start.

        ``finished(True)`` fires once that run has ended and its processes are gone.
        """
        schedule = self._schedule
        if schedule is None or not self._active:
            return
        self._stop_requested = True
        self._next_timer.stop()
        schedule.cancel()
        if self._owns_run and self.controller.busy:
            self.controller.stop()  # run_ended() finishes the plan
        else:
            self._finish()

    def shutdown(self) -> None:
        """The window is closing (its controller stops the run): forget the plan, no signals."""
        self._next_timer.stop()
        self._progress_timer.stop()
        if self._schedule is not None and not self._schedule.finished:
            self._schedule.cancel()
        self._owns_run = False
        self._active = False

    def run_ended(self, record: dict[str, Any], cancelled: bool) -> dict[str, Any] | None:
        """The controller's run ended with ``record``; the record as counted (with its repeat),
        or None if the run was not ours or was stopped.

        A run of ours that was stopped (by Stop here or on the Live page) stops the plan.
        """
        if not self._owns_run or self._schedule is None:
            if self.active:
                self._next_timer.start()  # a run of the user's was in the way: go on
            return None
        self._owns_run = False
        schedule = self._schedule
        if cancelled or schedule.finished:
            if not schedule.finished:
                schedule.cancel()  # the user pressed Stop on the Live page (or Esc)
            self._finish()
            return None
        counted = schedule.run_ended(record)
        self.run_recorded.emit(counted)
        self._emit_progress()
        self._next_timer.start()  # after every slot of run_ended has seen this run
        return counted

    # -- the loop ------------------------------------------------------------------------------
    def _start_next(self) -> None:
        schedule = self._schedule
        if schedule is None or not self._active or self._owns_run:
            return
        if self.controller.busy:
            return  # the user started a run of their own meanwhile: run_ended() goes on
        planned = schedule.next_run()
        if planned is None:
            self._finish()
            return
        rejected: list[str] = []

        def note(message: str) -> None:
            rejected.append(message)

        self.controller.rejected.connect(note)
        try:
            started = self.controller.start(planned.spec)
        finally:
            self.controller.rejected.disconnect(note)
        if not started:
            reason = rejected[0] if rejected else "the run could not start"
            counted = schedule.run_ended(failed_record(planned.spec, reason), 0.0)
            self.run_recorded.emit(counted)
            self._next_timer.start()
            return
        self._owns_run = True
        self.run_started.emit(planned.spec)
        self._emit_progress()

    def _finish(self) -> None:
        if not self._active:
            return
        self._active = False
        self._next_timer.stop()
        self._progress_timer.stop()
        self._owns_run = False
        self._emit_progress()
        schedule = self._schedule
        self.finished.emit(bool(schedule is not None and schedule.cancelled))

    def _emit_progress(self) -> None:
        schedule = self._schedule
        if schedule is None:
            return
        status = schedule.status()
        if schedule.finished:
            took = format_seconds(time.monotonic() - self._t0)
            if schedule.cancelled:
                text = f"stopped after {status.done} of {status.total} runs ({took})"
            else:
                text = f"{status.total} runs done in {took}"
        else:
            text = status.text()
        self.progress.emit(status.done, status.total, text)

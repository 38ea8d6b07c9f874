"""RunController: starts, drains and stops runs for the window, never blocking the GUI thread.

The bridge between the engine (``mpscope.workers.runner``, no Qt) and the window:

* ``start(spec)`` validates the spec (a ``SpecError`` becomes one ``rejected`` line; a spec
  the controls resolved is not validated again), resets the model and starts the conductor
  process on the helper thread (``gui.background``: spawning takes tens of ms);
* a ``QTimer`` every ``DRAIN_INTERVAL_MS`` drains the run's queue with a time budget and hands
  each batch to ``RunModel.append_tallied()`` (one call per batch, never one signal per event):
  the run's handle folds each event into the model's RunTally, given to it at the start, so
  the run's state is kept once and each event is folded once;
* ``stop()`` asks the run to stop (``handle.request_cancel()``, which returns at once) and
  draining goes on: the verdict (RunCancelled) arrives like any other event, within a second
  (the handle kills the run's tree itself if the conductor does not stop in time);
* a finished run's handle is closed (reaped, its process group checked gone) on the helper
  thread; only then does the run count as ended (``state``, ``run_ended``), so a window that
  says "finished" or "cancelled" has no process of that run left, and no next run can start
  before they are gone;
* ``shutdown()`` (window closing) stops whatever is live and waits until no process is left.

A ``RunHandle`` is not thread-safe, so every use of it goes through one lock (the helper
thread only starts runs, and closes a live one when the window closes).
"""

from __future__ import annotations

import threading
import time
import traceback
from concurrent.futures import Future

from PySide6.QtCore import QObject, QTimer, Signal

from mpscope.gui.background import Background
from mpscope.gui.run_model import RunModel
from mpscope.workers.events import RunFailed, RunStatus, TerminalEvent
from mpscope.workers.runner import RunHandle, start_run
from mpscope.workers.spec import ResolvedSpec, RunSpec, SpecError
from mpscope.workers.validation import validate_spec

# the run's processes yield to the window's short bursts (its CPU share is capped by the
# redraw pacing, so the run loses no more than before): stalls shrink, wall times do not grow
RUN_NICENESS = 5
DRAIN_INTERVAL_MS = 100  # 10 Hz: more often than any view redraws; each drain is a batch
DRAIN_BUDGET_S = 0.005
SHUTDOWN_TIMEOUT_S = 10.0
# how long the helper thread waits for a finished run's killed processes to be gone: SIGKILL is
# delivered asynchronously, and a niced process on a busy machine takes a while to die
REAP_SETTLE_S = 1.0

# the states a run is live in: Run is disabled and Stop enabled
BUSY_STATES = (RunStatus.STARTING, RunStatus.RUNNING, RunStatus.STOPPING)


class RunController(QObject):
    """Runs one spec at a time for the GUI; the model receives the events, signals the rest."""

    # fires on every change of ``state``: idle, starting, running, stopping, then one of
    # finished / failed / cancelled (the argument: the new RunStatus, as its word)
    state_changed = Signal(str)
    # fires when start() is given a spec that cannot run; the argument is the one-line reason
    # (nothing was started, the previous run's data stays in the model)
    rejected = Signal(str)
    # fires once per run, after its terminal event was folded into the model and its
    # processes are gone; the argument is the RunFinished / RunFailed / RunCancelled event
    run_ended = Signal(object)
    # fires with True when a run becomes live (Run must be disabled, Stop enabled) and with
    # False once it is over
    busy_changed = Signal(bool)

    def __init__(self, model: RunModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._state = RunStatus.IDLE
        self._handle: RunHandle | None = None
        self._handle_lock = threading.Lock()
        self._helper = Background("mpscope-run", self)
        self._start_future: Future[RunHandle] | None = None
        self._close_future: Future[None] | None = None
        self._stop_requested = False
        self._closed = False
        self._t_start = 0.0
        self._t_end: float | None = None
        self._drain_timer = QTimer(self)
        self._drain_timer.setInterval(DRAIN_INTERVAL_MS)
        self._drain_timer.timeout.connect(self.drain_now)

    # -- what the window reads -----------------------------------------------------------------
    @property
    def state(self) -> RunStatus:
        """Idle, starting, running, stopping, finished, failed or cancelled."""
        return self._state

    @property
    def busy(self) -> bool:
        """True from start() until the run is over: a second run cannot start meanwhile."""
        return self._state in BUSY_STATES

    @property
    def elapsed_s(self) -> float:
        """Seconds since Run was pressed (frozen when the run ended; 0 before any run)."""
        if self._state == RunStatus.IDLE:
            return 0.0
        end = self._t_end if self._t_end is not None else time.monotonic()
        return end - self._t_start

    @property
    def handle(self) -> RunHandle | None:
        """The live run's handle (None when idle, starting or over)."""
        return self._handle

    # -- commands ------------------------------------------------------------------------------
    def start(self, spec: RunSpec | ResolvedSpec) -> bool:
        """Start ``spec``; False (and ``rejected``) if it cannot run or a run is live."""
        if self._closed:
            return False
        if self.busy:
            self.rejected.emit("a run is already in progress: stop it first")
            return False
        try:
            resolved = validate_spec(spec)
        except SpecError as exc:
            self.rejected.emit(str(exc))
            return False
        self._stop_requested = False
        self._t_start = time.monotonic()
        self._t_end = None
        self.model.reset(resolved)
        self._set_state(RunStatus.STARTING)
        self.busy_changed.emit(True)
        # the handle folds the run's events into the model's tally: the run's one state
        self._start_future = self._helper.submit(
            start_run, resolved, None, RUN_NICENESS, self.model.tally, on_done=self._on_started
        )
        return True

    def stop(self) -> None:
        """Stop the live run (it ends within about a second); nothing happens when idle."""
        if not self.busy or self._stop_requested or self._close_future is not None:
            return  # idle, already stopping, or over and being reaped
        self._stop_requested = True
        self._set_state(RunStatus.STOPPING)
        if self._handle is not None:
            self._request_cancel(self._handle)
        # else: still starting; the cancel begins as soon as the handle arrives

    def shutdown(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> None:
        """Stop any live run and wait until its processes are gone (the window is closing)."""
        if self._closed:
            return
        self._closed = True
        self._drain_timer.stop()
        handle = self._handle
        if handle is None and self._start_future is not None:
            try:
                handle = self._start_future.result(timeout_s)
            except Exception:  # noqa: BLE001  # a start that failed left nothing to stop
                handle = None
        if handle is not None:
            with self._handle_lock:
                handle.close()  # cancels (and kills the tree) if still running
        self._handle = None
        self._helper.shutdown()  # waits for a reaping under way; no callback follows
        if self._close_future is not None:  # it had ended and was being reaped: now it is
            self._close_future = None
            self._announce_end()
        elif self.busy:
            self._t_end = time.monotonic()
            self._set_state(RunStatus.CANCELLED)
            self.busy_changed.emit(False)

    # -- the drain loop ------------------------------------------------------------------------
    def drain_now(self) -> None:
        """Move the events available now (within the time budget) into the model.

        ``drain()`` folds them into the run's tally (the model's); the model only adds them to
        what the views draw.
        """
        handle = self._handle
        if handle is None or not self._handle_lock.acquire(blocking=False):
            return  # nothing live, or the helper thread is inside cancel(): next tick
        try:
            events = handle.drain(budget_s=DRAIN_BUDGET_S)
        finally:
            self._handle_lock.release()
        if events:
            self.model.append_tallied(events)
            if self._state == RunStatus.STARTING and self.model.started is not None:
                self._set_state(RunStatus.RUNNING)
        if handle.finished:
            self._finish(handle)

    def _finish(self, handle: RunHandle | None) -> None:
        """The verdict is in: reap the run, then announce its end (``_announce_end``)."""
        self._drain_timer.stop()
        self._handle = None
        self._t_end = time.monotonic()
        if handle is not None and not self._closed:
            # reaping and checking the process group takes tens of ms (more on a busy
            # machine, where a SIGKILLed worker takes a while to go): on the helper thread,
            # so the window never waits and never says "ended" too soon
            self._close_future = self._helper.submit(
                handle.close, REAP_SETTLE_S, on_done=self._on_reaped
            )
            return
        if handle is not None:
            handle.close(settle_s=0.2)
        self._announce_end()

    def _on_reaped(self, future: Future[None]) -> None:
        """Announce the run's end once the helper thread has reaped it."""
        if future is self._close_future:
            self._close_future = None
            self._announce_end()

    def _announce_end(self) -> None:
        """The run is over and its processes are gone: the ended state and ``run_ended``."""
        outcome = self.model.outcome
        state = self.model.state
        self._set_state(state if state.ended else RunStatus.FAILED)
        self.busy_changed.emit(False)
        self.run_ended.emit(outcome)

    # -- the helper thread's start, picked up on the GUI thread ----------------------------------
    def _on_started(self, future: Future[RunHandle]) -> None:
        """Hand a started (or failed) conductor to the run, on the GUI thread."""
        if future is not self._start_future or self._closed:
            return
        exc = future.exception()
        if exc is not None:
            self._fail_to_start(exc)
            return
        handle = future.result()
        self._handle = handle
        self._start_future = None
        self._drain_timer.start()
        if self._stop_requested:
            self._request_cancel(handle)
        self.drain_now()

    def _fail_to_start(self, exc: BaseException) -> None:
        """The conductor could not even be started: report it as a failed run."""
        self._start_future = None
        message = str(exc) if isinstance(exc, SpecError) else f"{type(exc).__name__}: {exc}"
        failed = RunFailed(
            run_id="",
            error=f"the run could not start: {message}",
            traceback="".join(traceback.format_exception(exc)),
            pid=None,
            exitcode=None,
            t=time.perf_counter(),
        )
        self.model.fold([failed])  # no handle drained it: into the model's tally, once
        self._finish(None)

    def _request_cancel(self, handle: RunHandle) -> None:
        """Ask the run to stop; returns at once, the drain timer collects the verdict."""
        with self._handle_lock:
            handle.request_cancel()

    # -- state ---------------------------------------------------------------------------------
    def _set_state(self, state: RunStatus) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state.value)

    @property
    def outcome(self) -> TerminalEvent | None:
        """The last run's terminal event (None while it runs or before any run)."""
        return self.model.outcome

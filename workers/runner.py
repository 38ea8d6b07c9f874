"""start_run() and RunHandle: the one API the CLI and the GUI both use to run a spec.

>>> handle = start_run(RunSpec(strategy="pool-map", items=10_000))
>>> while not handle.finished:
...     for event in handle.drain(budget_s=0.005):   # never blocks
...         ...
>>> handle.outcome                                    # RunFinished / RunFailed / RunCancelled
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import multiprocessing as mp
import os
import queue as queue_mod
import time
import uuid
import weakref
from typing import Any

from mpscope.workers.channel_reader import ConnectionReader, QueueReader
from mpscope.workers.conductor import conduct
from mpscope.workers.events import (
    TERMINAL_TYPES,
    Event,
    RunCancelled,
    RunFailed,
    RunStarted,
    TaskSpan,
    TerminalEvent,
    describe_exitcode,
    from_wire,
)
from mpscope.workers.spec import ResolvedSpec, RunSpec
from mpscope.workers.supervision import (
    kill_group,
    kill_tree,
    unlink_run_semaphores,
    wait_group_gone,
)
from mpscope.workers.tally import RunTally
from mpscope.workers.validation import validate_spec

CANCEL_GRACE_S = 0.6  # how long the conductor gets to stop itself before it is killed
# how often a foreground consumer (the CLI, compare, the probe benchmark) drains a run: ten
# times a second moves a progress bar smoothly; each drain takes CPU from the workers, and
# the run's verdict ends the wait at once (RunHandle.pause)
CONSUMER_POLL_S = 0.1

_live: weakref.WeakSet[RunHandle] = weakref.WeakSet()
_counter = itertools.count(1)


class RunHandle:
    """A running (or finished) run: drain its events, cancel it, wait for it."""

    def __init__(
        self,
        spec: ResolvedSpec,
        run_id: str,
        process: Any,
        events: Any,
        control: Any,
        cancel: Any,
        tally: RunTally | None = None,
    ) -> None:
        self.spec = spec
        self.run_id = run_id
        self._process = process
        self._events = events
        self._control = control
        self._cancel = cancel
        self._control_reader = ConnectionReader(control)
        self._events_reader = QueueReader(events)
        self._held: list[Event] = []  # events read by wait() and not yet handed out
        self._control_buffer: list[Event] = []  # conductor events read before the queue
        self._terminal: TerminalEvent | None = None  # received, waiting for the queue to empty
        self.outcome: TerminalEvent | None = None  # handed out: the run is over
        # the run's one state: drain() folds each event into it as it hands it out (a watcher
        # that keeps the run's state, the GUI's model, passes its own and folds nothing again)
        self.tally = tally if tally is not None else RunTally(spec)
        self.pid: int = process.pid
        self._cancel_requested = False
        self._cancel_deadline = 0.0
        _live.add(self)

    # -- reading events ----------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """True once the terminal event has been handed out by drain()."""
        return self.outcome is not None

    def drain(self, max_events: int | None = None, budget_s: float | None = None) -> list[Event]:
        """Every event available now, without blocking; the terminal event comes last.

        ``max_events`` / ``budget_s`` bound the work per call (the GUI drains on a timer).
        """
        out = self._held
        self._held = []
        if self.outcome is None:
            self._read(out, max_events, budget_s)
        # two channels (worker queue, conductor pipe) merged into time order: one clock
        if out and isinstance(out[-1], TERMINAL_TYPES):
            out[:-1] = sorted(out[:-1], key=event_time)
        else:
            out.sort(key=event_time)
        for event in out:
            self.tally.add(event)
        return out

    def pause(self, timeout_s: float) -> None:
        """Sleep up to ``timeout_s`` between drains, waking early when the conductor reports
        (its verdict, above all): a foreground consumer's wait, not a blocking read."""
        if self.outcome is not None or self._terminal is not None:
            return  # the verdict is in: the next drain hands it out
        if self._control is not None:
            with contextlib.suppress(OSError, ValueError):
                self._control_reader.readable(timeout_s)
                return
        time.sleep(timeout_s)

    def _read(self, out: list[Event], max_events: int | None, budget_s: float | None) -> None:
        deadline = None if budget_s is None else time.perf_counter() + budget_s
        self._enforce_cancel()
        self._read_control()
        exhausted = self._read_queue(out, max_events, deadline)
        if self._terminal is None and self._conductor_gone():
            self._read_control()
            if self._terminal is None:
                exhausted = self._read_queue(out, None, None)
                self._terminal = self._synthesize_terminal()
        if self._terminal is not None and (exhausted or self._conductor_gone()):
            if not exhausted:
                self._read_queue(out, None, time.perf_counter() + 1.0)
            # the conductor's last events (WorkerExited) may have come in with the verdict,
            # after the queue was read: they go out before it, never stay behind
            self._take_control_events(out)
            out.append(self._terminal)
            self.outcome = self._terminal
            self._close_channels()
            # whatever is still in the run's process group (say, a forkserver a dying pool
            # restarted while the conductor was killing its children) goes now
            kill_group(self.pid)

    def _read_control(self) -> None:
        if self._control is None:
            return
        try:
            while self._terminal is None and self._control_reader.readable():
                event = self._control_reader.recv()
                if isinstance(event, TERMINAL_TYPES):
                    self._terminal = event
                else:
                    self._control_buffer.append(event)
        except (EOFError, OSError):
            pass

    def _take_control_events(self, out: list[Event]) -> None:
        """Move the conductor's events read so far (not the verdict) into ``out``."""
        out.extend(self._control_buffer)
        self._control_buffer.clear()

    def _read_queue(self, out: list[Event], max_events: int | None, deadline: float | None) -> bool:
        """Move available events into ``out``; True if the queue was found empty."""
        self._take_control_events(out)
        if self._events is None:
            return True
        n = 0
        while True:
            if max_events is not None and n >= max_events:
                return False
            if deadline is not None and time.perf_counter() > deadline:
                return False
            try:
                packet = self._events_reader.get_nowait()
            except queue_mod.Empty:
                return True
            except (EOFError, OSError, ValueError):
                return True
            out.extend(map(from_wire, packet))
            n += len(packet)

    def _conductor_gone(self) -> bool:
        return self._process.exitcode is not None

    def _synthesize_terminal(self) -> TerminalEvent:
        code = self._process.exitcode
        kill_tree(self.pid, self.pid)  # orphans of a conductor that died hard
        now = time.perf_counter()
        if self._cancel_requested:
            return RunCancelled(self.run_id, now)
        return RunFailed(
            self.run_id,
            f"the conductor (pid {self.pid}) {describe_exitcode(code)} before reporting",
            "",
            self.pid,
            code,
            now,
        )

    # -- control -------------------------------------------------------------------------------
    def request_cancel(self) -> None:
        """Ask the run to stop and return at once (for a GUI thread); idempotent.

        The conductor gets CANCEL_GRACE_S to stop itself; after that the next drain() kills
        the run's whole tree. Keep calling drain(): RunCancelled arrives there.
        """
        if self.outcome is not None or self._cancel_requested:
            return
        self._cancel_requested = True
        self._cancel_deadline = time.monotonic() + CANCEL_GRACE_S
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._cancel.send("cancel")

    def cancel(self) -> None:
        """Stop the run (cooperatively, then by force) within about a second; idempotent.

        Returns once the conductor and every process of the run are gone.
        """
        self.request_cancel()
        self.wait(CANCEL_GRACE_S + 2.0)

    def _enforce_cancel(self) -> None:
        """Past the grace period, a conductor that has not stopped is killed with its tree."""
        if (
            self._cancel_requested
            and self._terminal is None
            and self._process.exitcode is None
            and time.monotonic() > self._cancel_deadline
        ):
            kill_tree(self.pid, self.pid, timeout=0.2)
            self._process.join(0.2)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run is over (reading events meanwhile); True if it is."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self.outcome is None:
                held = self._held
                self._held = []
                self._read(held, None, 0.05)
                self._held = held
            if self.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._process.join(0.02)
        self._process.join(1.0)
        return True

    def close(self, settle_s: float = 1.0) -> None:
        """Cancel if still running, release the channels, and wait (up to ``settle_s``) until
        every process of the run is gone: SIGKILL is delivered asynchronously."""
        if self.outcome is None:
            self.cancel()
        self._close_channels()
        wait_group_gone(self.pid, settle_s)
        unlink_run_semaphores(self.run_id)  # a conductor killed early could not

    def _close_channels(self) -> None:
        for name in ("_control", "_cancel"):
            conn = getattr(self, name)
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.close()
                setattr(self, name, None)
        if self._events is not None:
            self._events.close()
            self._events.join_thread()
            self._events = None
        _live.discard(self)


def event_time(event: Event) -> float:
    """When an event happened (a span: when it ended), on the shared perf_counter clock."""
    return event.t1 if isinstance(event, TaskSpan) else event.t


def new_run_id() -> str:
    """A short unique id for a run."""
    return f"{os.getpid():x}-{next(_counter)}-{uuid.uuid4().hex[:6]}"


def start_run(
    spec: RunSpec | ResolvedSpec,
    run_id: str | None = None,
    niceness: int = 0,
    tally: RunTally | None = None,
) -> RunHandle:
    """Validate ``spec`` and start its conductor process; returns at once with a handle.

    ``niceness``: added to the run's scheduling niceness (conductor and workers; POSIX). A
    window watching the run passes a few points, so its short bursts of drawing get a CPU
    at once instead of waiting behind busy workers; the work done is the same either way.
    ``tally``: the RunTally the handle folds the run's events into (None: a new one), for a
    watcher that keeps the run's state itself. Raises SpecError (one line) if the spec cannot
    run.
    """
    spec = validate_spec(spec)
    run_id = run_id or new_run_id()
    ctx = mp.get_context("spawn")  # the caller may hold Qt threads: never fork it
    events = ctx.Queue()
    control_r, control_w = ctx.Pipe(duplex=False)
    cancel_r, cancel_w = ctx.Pipe(duplex=False)
    t_request = time.perf_counter()
    process = ctx.Process(
        target=conduct,
        args=(spec, run_id, events, control_w, cancel_r, t_request, niceness),
        name=f"mpscope-conductor-{run_id}",
    )
    process.start()
    control_w.close()
    cancel_r.close()
    return RunHandle(spec, run_id, process, events, control_r, cancel_w, tally)


@atexit.register
def _cancel_live_runs() -> None:
    for handle in list(_live):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            handle.close()


__all__ = ["RunHandle", "RunStarted", "start_run"]

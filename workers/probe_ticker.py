"""What makes a worker's probe report every tick: a sampler thread, or a timer signal.

Every ``interval`` a ticker reads each lane's position and puts at most one packet per lane on
the run's queue. Two kinds, one behaviour:

* ``SignalTicker`` (pool, executor and process workers): an interval timer (``SIGALRM``)
  interrupts the worker's main thread, which is the lane; the handler reads the frame it
  interrupted and writes the packet straight into the queue's pipe. No thread of the probe
  runs in the process, so no GIL is handed over and no other thread is woken: on a machine
  whose cores the workers fill, every hand-over or wake-up is taken from a worker.
  Blocking calls the timer interrupts are resumed by Python (PEP 475). A full pipe (a
  consumer that stopped reading) holds the worker until the consumer reads again.
* ``ThreadTicker`` (lanes that are threads, or processes whose main thread is not ours:
  sequential and thread-pool in the conductor, joblib's and Dask's workers, the shared
  counter): a daemon thread samples ``sys._current_frames()`` and ``put``s the packet.

Both also watch the worker's parent (``parent_pid``): if the conductor dies hard, the worker
exits instead of lingering as an orphan.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workers.probe import Lane

# the parent is checked every this many ticks (a system call each: 0.5 s at the 50 ms tick)
PARENT_CHECK_TICKS = 10


class PipeWriter:
    """Puts packets on an ``mp.Queue`` from the calling thread, as its feeder thread would
    (the queue's size semaphore, its write lock, one framed message), with no feeder."""

    def __init__(self, events: Any) -> None:
        self._writer = events._writer
        self._lock = events._wlock
        self._sem = events._sem

    @staticmethod
    def fits(events: Any) -> bool:
        """True if ``events`` has the internals this writer uses (CPython's mp.Queue)."""
        return all(hasattr(events, name) for name in ("_writer", "_wlock", "_sem"))

    def put(self, packet: tuple[Any, ...]) -> None:
        """Write one packet, pickled here (plain tuples: no reducers needed)."""
        data = pickle.dumps(packet, pickle.HIGHEST_PROTOCOL)
        self._sem.acquire()
        if self._lock is None:
            self._writer.send_bytes(data)
            return
        with self._lock:
            self._writer.send_bytes(data)


class Ticker:
    """The lanes of one process and how their packets leave it; subclasses decide when."""

    def __init__(self, events: Any, interval_s: float, watch_parent: bool) -> None:
        self.events = events
        self.interval_s = interval_s
        self.lanes: list[Lane] = []
        self.parent_pid = os.getppid() if watch_parent else None
        self.stopped = False
        self.ticks = 0

    def put(self, packet: tuple[Any, ...]) -> None:
        """Send one packet on the run's queue."""
        self.events.put(packet)

    def tick(self) -> None:
        """Count a tick; every PARENT_CHECK_TICKS, exit if the conductor is gone."""
        self.ticks += 1
        due = self.parent_pid is not None and self.ticks % PARENT_CHECK_TICKS == 0
        if due and os.getppid() != self.parent_pid:
            os._exit(3)  # our conductor is gone: do not linger as an orphan

    def send_lanes(self, frame_of: Any, final: bool, clock: Any = time.thread_time) -> None:
        """One packet per lane that has news; ``frame_of(lane)`` is its current frame.

        ``clock`` times the probe's own work (``probe_cpu_s``).
        """
        c0 = clock()
        for lane in self.lanes:
            if lane.finished:
                continue
            packet = lane.packet(None if final else frame_of(lane), final=final)
            if packet:
                self.put(tuple(packet))
        spent = clock() - c0
        if self.lanes:
            share = spent / len(self.lanes)
            for lane in self.lanes:
                lane.probe_cpu_s += share

    def flush(self, final: bool) -> None:
        """Send what every lane has now (the final, exact figures if ``final``)."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop ticking (the final flush follows)."""
        self.stopped = True

    def finish(self) -> None:
        """Stop ticking and send every lane's exact final figures."""
        self.stop()
        self.flush(final=True)
        for lane in self.lanes:
            lane.finished = True


class ThreadTicker(Ticker):
    """A daemon thread that flushes every lane of this process each interval."""

    def __init__(self, events: Any, interval_s: float, watch_parent: bool) -> None:
        super().__init__(events, interval_s, watch_parent)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="mpscope-probe", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._wake.wait(self.interval_s):
            self.tick()
            self.flush(final=False)

    def flush(self, final: bool) -> None:
        """Put one packet per lane on the queue (if it has anything new)."""
        with self._lock:
            frames: dict[int, FrameType] = {} if final else sys._current_frames()
            try:
                self.send_lanes(lambda lane: frames.get(lane.thread_ident), final)
            finally:
                frames.clear()  # drop the frames at once: they hold every thread's locals

    def stop(self) -> None:
        """Stop the thread and wait for it (unless called from it)."""
        super().stop()
        self._wake.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=1.0)


class SignalTicker(Ticker):
    """An interval timer whose signal handler, on the main thread, flushes its one lane."""

    SIGNAL: int | None = getattr(signal, "SIGALRM", None)

    @classmethod
    def usable(cls, events: Any) -> bool:
        """True where a timer signal can drive the probe: POSIX, on the main thread."""
        return (
            cls.SIGNAL is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and PipeWriter.fits(events)
        )

    def __init__(self, events: Any, interval_s: float, watch_parent: bool) -> None:
        super().__init__(events, interval_s, watch_parent)
        self._writer = PipeWriter(events)
        self._busy = False
        assert self.SIGNAL is not None  # usable() said so
        signal.signal(self.SIGNAL, self._on_signal)
        signal.setitimer(signal.ITIMER_REAL, interval_s, interval_s)

    def put(self, packet: tuple[Any, ...]) -> None:
        """Write the packet into the queue's pipe from this thread."""
        self._writer.put(packet)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._busy or self.stopped:
            return
        self.tick()
        self._busy = True
        try:
            # the handler runs on the lane's own thread: its wall time is what it takes from
            # the worker, read from a clock that costs no system call
            self.send_lanes(lambda lane: frame, final=False, clock=time.perf_counter)
        finally:
            self._busy = False

    def flush(self, final: bool) -> None:
        """Send what the lane has now; outside the handler the position is not read."""
        if self._busy:
            return
        self._busy = True
        try:
            self.send_lanes(lambda lane: None, final)
        finally:
            self._busy = False

    def stop(self) -> None:
        """Disarm the timer; the handler stays, as a no-op, for a signal already on its way."""
        super().stop()
        signal.setitimer(signal.ITIMER_REAL, 0, 0)

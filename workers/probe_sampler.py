"""The probe's sampler: one thread per worker process that makes its lanes report each tick.

Every tick the sampler reads each lane's position (``sys._current_frames()``) and
writes at most one packet per lane straight into the run's queue pipe (``PipeWriter``): no
queue feeder thread is woken as well, so a tick costs a busy worker one thread switch, not
two. Every PARENT_CHECK_TICKS ticks it also checks the worker's parent: if the conductor died
hard, the worker exits instead of lingering as an orphan.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from types import FrameType
from typing import Any, Protocol

# the parent is checked every this many ticks (a system call each: 0.5 s at the 50 ms tick)
PARENT_CHECK_TICKS = 10


class Lane(Protocol):
    """What the sampler needs of a worker's lane (``mpscope.workers.probe.Lane``)."""

    thread_ident: int
    finished: bool
    probe_cpu_s: float

    def packet(self, frame: FrameType | None, final: bool = False) -> list[tuple[Any, ...]]:
        """What to send now, as wire tuples."""
        ...


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


class Sampler:
    """The lanes of one process, and the daemon thread that flushes them every tick."""

    def __init__(self, events: Any, tick_s: float, watch_parent: bool) -> None:
        self.events = events
        self.tick_s = tick_s
        self.lanes: list[Lane] = []
        self.parent_pid = os.getppid() if watch_parent else None
        self.ticks = 0
        self._writer = PipeWriter(events) if PipeWriter.fits(events) else None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="mpscope-probe", daemon=True)
        self.thread.start()

    def put(self, packet: tuple[Any, ...]) -> None:
        """Write a packet into the queue's pipe from the calling thread (no feeder)."""
        if self._writer is None:
            self.events.put(packet)
        else:
            self._writer.put(packet)

    def _run(self) -> None:
        while not self._wake.wait(self.tick_s):
            self.ticks += 1
            due = self.parent_pid is not None and self.ticks % PARENT_CHECK_TICKS == 0
            if due and os.getppid() != self.parent_pid:
                os._exit(3)  # our conductor is gone: do not linger as an orphan
            self.flush(final=False)

    def flush(self, final: bool) -> None:
        """Send one packet per lane that has news (the exact final figures if ``final``)."""
        with self._lock:
            c0 = time.thread_time()
            frames: dict[int, FrameType] = {} if final else sys._current_frames()
            try:
                for lane in self.lanes:
                    if lane.finished:
                        continue
                    packet = lane.packet(frames.get(lane.thread_ident), final=final)
                    if packet:
                        self.put(tuple(packet))
            finally:
                frames.clear()  # drop the frames at once: they hold every thread's locals
            spent = time.thread_time() - c0
            if self.lanes:
                share = spent / len(self.lanes)
                for lane in self.lanes:
                    lane.probe_cpu_s += share

    def finish(self) -> None:
        """Stop the thread (unless called from it) and send every lane's final figures."""
        self._wake.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=1.0)
        self.flush(final=True)
        for lane in self.lanes:
            lane.finished = True

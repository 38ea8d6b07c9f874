"""LiveFeed: drains a running program's packets into the trace window, and sees it end.

The recorder gathers packets on its own thread; ``recorder.drain()`` hands over those that came
since the last call. Ten times a second the feed drains them into the window's TraceModel and
asks the program whether it is still running (``program.poll()``: None while it runs, then its
exit code). When it has ended the feed keeps draining a little longer (the program's last
packets may still be on their way), then stops: the window stays as the program left it.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer

DRAIN_INTERVAL_MS = 100
AFTER_END_S = 1.5  # how long to keep draining once the program has ended


class Recorder(Protocol):
    """What the window needs of the recorder."""

    def drain(self) -> list[dict[str, Any]]:
        """The packets that came since the last call (thread-safe)."""
        ...


class Program(Protocol):
    """What the window needs of the running program (a ``subprocess.Popen`` will do)."""

    def poll(self) -> int | None:
        """None while it runs, then its exit code (negative: killed by that signal)."""
        ...


class LiveFeed(QObject):
    """Feeds ``window`` (a TraceWindow) from ``recorder`` until ``program`` has ended."""

    def __init__(self, window: Any, recorder: Recorder, program: Program) -> None:
        super().__init__(window)
        self.window = window
        self.recorder = recorder
        self.program = program
        self.started = time.perf_counter()
        self.exit_code: int | None = None
        self.ended_at: float | None = None  # perf_counter when the end was seen
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)

    @property
    def active(self) -> bool:
        """True while the feed drains."""
        return self._timer.isActive()

    def start(self) -> None:
        """Drain now, then ten times a second."""
        self.window.live_since = self.started
        self.drain()
        if self.ended_at is None or time.perf_counter() - self.ended_at < AFTER_END_S:
            self._timer.start()

    def stop(self) -> None:
        """Stop draining (the window closes)."""
        self._timer.stop()

    def drain(self) -> None:
        """Fold what came into the window's trace; see whether the program has ended."""
        packets = self.recorder.drain()
        if self.ended_at is None:
            code = self.program.poll()
            if code is not None:
                self.exit_code, self.ended_at = code, time.perf_counter()
                packets = [*packets, *self.recorder.drain()]
        trace = self.window.trace
        if packets:
            trace.feed_all(packets)
        if self.ended_at is not None and not self.window.program_over:
            start = min(self.started, trace.t0) if trace.t0 is not None else self.started
            out_path = getattr(self.recorder, "out_path", None)
            self.window.program_ended(self.exit_code, self.ended_at, start, out_path)
        elif packets or self.ended_at is None:
            self.window.refresh_trace()
        if self.ended_at is not None and time.perf_counter() - self.ended_at >= AFTER_END_S:
            self._timer.stop()

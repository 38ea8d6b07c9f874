"""Background: the one way the window runs work off the GUI thread.

Work that would freeze the window (starting a conductor process, reaping a finished run,
timing the workloads at start-up) runs on one helper thread, one call at a time and in the
order submitted. Its result comes back on the GUI thread: a QTimer there polls the pending
futures and calls each one's callback with the finished future. Nothing on the helper thread
ever touches a Qt object or emits a signal: a callback that reached the GUI thread through Qt
from the helper thread (superqt's ``ensure_main_thread``, which creates and connects a QObject
on the calling thread) deadlocked once, the helper thread holding a Qt connection mutex while
waiting for the GIL and the GUI thread holding the GIL while waiting for that mutex.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer

T = TypeVar("T")
POLL_MS = 10  # how often the GUI thread looks whether pending work is done


class Background(QObject):
    """One helper thread, and the GUI-thread callbacks of what it ran."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: list[tuple[Future[Any], Callable[[Future[Any]], None] | None]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        on_done: Callable[[Future[T]], None] | None = None,
    ) -> Future[T]:
        """Run ``fn(*args)`` on the helper thread; ``on_done(future)`` follows on this thread."""
        future = self._pool.submit(fn, *args)
        self._pending.append((future, on_done))
        self._timer.start()
        return future

    def _poll(self) -> None:
        """Call back, in submission order, every piece of work that has finished."""
        while self._pending and self._pending[0][0].done():
            future, on_done = self._pending.pop(0)
            if on_done is not None:
                on_done(future)
        if not self._pending:
            self._timer.stop()

    def forget(self, future: Future[Any]) -> None:
        """Drop ``future``'s callback (its work still runs to its end)."""
        self._pending = [(f, cb) for f, cb in self._pending if f is not future]
        if not self._pending:
            self._timer.stop()

    def shutdown(self) -> None:
        """Wait for the work submitted so far; no callback runs any more."""
        self._timer.stop()
        self._pending.clear()
        self._pool.shutdown(wait=True)

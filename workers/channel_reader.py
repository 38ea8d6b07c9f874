"""Cheap non-blocking reads of a run's channels, for a consumer that drains them ten times a second.

``Connection.poll()`` and ``Queue.get_nowait()`` build a fresh selector on every call, and the
queue adds its reader lock: tens of microseconds of Python for each "anything there?" that
mostly finds nothing. While a run computes, the consumer shares the machine's cores with the
workers, so each of those microseconds is taken from them. Here one ``select.poll`` object is
kept per channel, so asking costs one system call; a message is then read as the stdlib would.
Platforms without ``select.poll`` (Windows) fall back to the stdlib's calls.
"""

from __future__ import annotations

import contextlib
import queue
import select
from typing import Any


class ConnectionReader:
    """Non-blocking reads of one ``multiprocessing.connection.Connection``."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._poll: Any = None
        if hasattr(select, "poll"):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                poller = select.poll()
                poller.register(conn.fileno(), select.POLLIN)
                self._poll = poller

    def readable(self, timeout_s: float = 0.0) -> bool:
        """True if a message (or the end of the stream) is waiting to be read, waiting up to
        ``timeout_s`` for one."""
        if self._poll is None:
            return bool(self._conn.poll(timeout_s))
        return bool(self._poll.poll(int(timeout_s * 1000)))

    def recv(self) -> Any:
        """The next message; call only when readable(). Raises EOFError at the end."""
        return self._conn.recv()


class QueueReader:
    """Non-blocking reads of an ``mp.Queue`` by its only consumer.

    Reads the queue's own pipe as ``Queue.get`` does (message, then the semaphore that bounds
    the queue's size is released), without ``get``'s per-call selector; the reader lock is
    not needed with one consumer. Falls back to ``get_nowait`` if the queue's internals differ.
    """

    def __init__(self, q: Any) -> None:
        self._queue = q
        reader, self._sem = getattr(q, "_reader", None), getattr(q, "_sem", None)
        self._conn = ConnectionReader(reader) if reader is not None else None

    def get_nowait(self) -> Any:
        """The next item, or raise ``queue.Empty`` if there is none now."""
        if self._conn is None or self._sem is None:
            return self._queue.get_nowait()
        if not self._conn.readable():
            raise queue.Empty
        item = self._conn.recv()
        self._sem.release()
        return item

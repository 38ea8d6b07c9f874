"""A traced program's packets as a Chrome trace (what Perfetto and chrome://tracing open), and back.

The file is the Trace Event format's JSON object, ``{"otherData": {...}, "traceEvents": [...]}``,
written as the packets arrive (one event per line, flushed regularly) and closed with ``]}`` by
``close()``: the recorder is a process of its own, so it closes the file whatever the program does.
``otherData.mpscope`` says what the file is (``FORMAT``, ``FORMAT_VERSION``), which command ran,
with which mpscope, when, and the ``perf_counter`` moment ``t0`` every ``ts`` counts from.

Every packet received is stored exactly once, whole, as ``args.mpscope`` of one event it made
(its *carrier*), in arrival order; events that exist only for display carry no ``mpscope`` arg.
``read_packets`` returns them. The carriers, by kind:

- hello, proc, worker: ``M`` process_name (a thread worker: thread_name) naming the process;
- pool: ``M`` thread_name of the pool's own track in the process that made it;
- pool_end, worker_exit, proc_end: the ``X`` lifetime they end (pool, worker, process);
- call: an ``i`` instant on the calling thread; span: an ``X`` on the worker's thread;
- sample: an ``X`` strip on the process's "resources" track, from its previous sample;
- any other kind, or one lacking what its event needs: an ``i`` instant on the sender's thread.

Shown only: each pool's items done (``C``, in the order the tasks ended), each process's cpu and
rss (``C``), the names of the synthetic tracks (``M``), and at close the lifetimes still open.
Tracks that are no thread of the program (a pool's, a process's lifetime, its resources) get
thread ids from ``SYNTHETIC_TID`` up, above any Linux thread id (at most 2**22).

Each event is one compact line with ``ph`` and ``ts`` first and non-ASCII text left as UTF-8:
Perfetto's JSON reader looks for those two keys before it parses an event whole.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from mpscope.workers.trace.packets import Packet
from mpscope.workers.trace.rec_layout import COUNTER_LAG_S, TraceLayout
from mpscope.workers.trace.rec_read import (
    FORMAT,
    FORMAT_VERSION,
    PACKET_ARG,
    TraceFile,
    TraceFileError,
    read_packets,
    read_trace,
    valid_packet,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ChromeTraceWriter",
    "TraceFile",
    "TraceFileError",
    "read_packets",
    "read_trace",
]


class ChromeTraceWriter:
    """Streams packets into a Chrome trace file; ``close()`` always leaves it valid JSON.

    ``write`` is called from one thread (the recorder's); ``close`` may come from another once
    that thread has stopped. A packet that is not a JSON-safe ``k``/``pid``/``t`` object is
    refused (``write`` returns False) so that nothing the program sends can break the file.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        t0: float,
        command: Sequence[str] = (),
        mpscope_version: str = "unknown",
        counter_lag_s: float = COUNTER_LAG_S,
    ) -> None:
        self.path = Path(path)
        self.t0 = t0
        self.events = 0
        self._layout = TraceLayout(t0, counter_lag_s)
        self._file: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 (closed by close())
        self._first = True
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "command": list(command),
            "mpscope_version": mpscope_version,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "t0": t0,
        }
        self._file.write(
            b'{"otherData":{"' + PACKET_ARG.encode() + b'":' + _encode(meta) + b'},"traceEvents":['
        )

    @property
    def closed(self) -> bool:
        """True once ``close()`` has run."""
        return self._file is None

    def write(self, packet: Packet) -> bool:
        """Write ``packet``'s events (its carrier first); False if it cannot be stored."""
        if self._file is None or not valid_packet(packet):
            return False
        self._emit(self._layout.events_for(packet))
        return True

    def flush(self) -> None:
        """Hand what is written so far to the OS (a reader or a crash then finds it there)."""
        if self._file is not None:
            self._file.flush()

    def close(self, t_end: float | None = None) -> None:
        """Write the counter points still pending and the lifetimes still open (ended at
        ``t_end``, default now), then ``]}``. Idempotent; the file is closed even if writing
        fails (then the OSError is raised)."""
        if self._file is None:
            return
        try:
            self._emit(self._layout.closing_events(time.perf_counter() if t_end is None else t_end))
        finally:
            file, self._file = self._file, None
            try:
                file.write(b"\n]}\n")
                file.flush()
            finally:
                file.close()

    def _emit(self, events: list[dict[str, Any]]) -> None:
        assert self._file is not None
        parts = []
        for event in events:
            parts.append(b"\n" if self._first else b",\n")
            parts.append(_encode(event))
            self._first = False
        self._file.write(b"".join(parts))
        self.events += len(events)


_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_COMPACT_ASCII = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def _encode(value: Any) -> bytes:
    """Compact JSON, UTF-8; text the program sent with lone surrogates is kept, escaped."""
    try:
        return _COMPACT.encode(value).encode()
    except UnicodeEncodeError:
        return _COMPACT_ASCII.encode(value).encode()

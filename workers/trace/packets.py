"""What a traced program's processes tell the recorder: packets, one JSON object per line.

Every Python process of a traced program (the program itself, its pool workers, its plain
``multiprocessing.Process`` children, under fork, forkserver and spawn) connects once to the
recorder's Unix socket, whose path is in ``$MPSCOPE_TRACE_SOCKET``, sends the key from
``$MPSCOPE_TRACE_KEY`` in its first packet (``hello``), and then writes packets: one JSON object
per line, UTF-8, batched (many lines per ``send``). JSON, not pickle: the recorder never runs
what a connection sends it. Every packet has ``k`` (its kind, below), ``pid`` (the sender's
process id) and ``t`` (``time.perf_counter()``, one system-wide clock on Linux, so every
process's times line up).

Kinds and their other fields:

``hello``      key, ppid, argv (list[str]), python (e.g. "3.11.7"), start_method
               (the process's multiprocessing default: fork, forkserver or spawn)
``pool``       a pool or executor was made. pool (its key, "<pid>:<n>", unique in the trace),
               kind ("Pool", "ThreadPool", "ProcessPoolExecutor", "ThreadPoolExecutor"),
               workers (the size it was given or defaulted to), label ("etl.py:42 Pool(4)":
               the program's own file and line that made it, and what), file, line, tid
``pool_end``   pool, how ("close", "terminate", "shutdown", "exit", "gc")
``worker``     a worker of a pool started. pool, worker_pid, tid (native thread id for a thread
               worker, None for a process worker)
``worker_exit`` a worker of a pool ended. pool, worker_pid, tid, exitcode (None for a thread;
               negative: killed by that signal)
``call``       the program called the pool. pool, call (its key, "<pid>:<n>"), method ("map",
               "imap_unordered", "apply_async", "submit", ...), label ("etl.py:57
               pool.map(parse, rows)"), file, line, tid, items (the number of items if known
               up front, else None). The submits (apply, apply_async) of one line of the
               program are one call, told once: a loop of them is one call of many tasks
``span``       a worker finished one task (a chunk of a map, one apply, one submit). pool,
               call, tid (None for a process worker), t0, t1 (t == t1), items (how many items
               the task held), index (the task's number within its call), ok (False: it
               raised)
``proc``       a plain ``multiprocessing.Process`` started. child_pid, label (the program's line
               that started it and the target's name: "etl.py:88 Process(target=load)"),
               pool (the pool it belongs to, or None for the program's own Process)
``proc_end``   that process ended. child_pid, exitcode (negative: killed by that signal)
``sample``     made by the recorder itself, not the program: one process's resource use,
               sampled from outside (psutil). cpu (percent of one core since the last sample),
               rss (bytes)

Keys and labels are the hooks'; the recorder only reads. Unknown kinds and fields are ignored,
so a newer program side can talk to an older recorder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

# the environment the traced program's processes find the recorder by
SOCKET_ENV = "MPSCOPE_TRACE_SOCKET"
KEY_ENV = "MPSCOPE_TRACE_KEY"
# seconds between a process's flushes of the packets it has gathered
TICK_ENV = "MPSCOPE_TRACE_TICK_S"
DEFAULT_TICK_S = 0.05

KINDS = (
    "hello",
    "pool",
    "pool_end",
    "worker",
    "worker_exit",
    "call",
    "span",
    "proc",
    "proc_end",
    "sample",
)

Packet = dict[str, Any]


def encode(packets: Iterable[Packet]) -> bytes:
    """Packets as the bytes a process sends: one compact JSON object per line."""
    return b"".join(
        json.dumps(packet, separators=(",", ":")).encode() + b"\n" for packet in packets
    )


class LineDecoder:
    """Turns a connection's bytes, however they were split, back into packets.

    A line that is not a JSON object, or lacks ``k``, ``pid`` or ``t``, is dropped and
    counted in ``dropped``: a packet the program's process could not finish (it was killed
    mid-send) must not stop the recorder.
    """

    def __init__(self) -> None:
        self._partial = b""
        self.dropped = 0

    def feed(self, data: bytes) -> Iterator[Packet]:
        """The whole packets ``data`` completes, in order; a trailing part waits for more."""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            packet = self._decode(line)
            if packet is not None:
                yield packet

    def close(self) -> None:
        """The connection ended: a line left unfinished is a dropped packet."""
        if self._partial.strip():
            self.dropped += 1
        self._partial = b""

    def _decode(self, line: bytes) -> Packet | None:
        if not line.strip():
            return None
        try:
            packet = json.loads(line)
        except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser
            self.dropped += 1
            return None
        if not isinstance(packet, dict) or not {"k", "pid", "t"} <= packet.keys():
            self.dropped += 1
            return None
        return packet

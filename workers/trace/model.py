"""TraceModel: a traced program's packets folded into its pools, calls, lanes and processes.

The recorder hands every packet to one model (live, from the socket; replayed, from a saved
trace file), and whoever shows the trace reads it: the window (each pool as a run on the four
live views, the pools and processes listed), the command line's closing summary and notes.
A pool's ``events`` are mpscope's own run events (``workers.events``), so the views that draw a
run of mpscope's draw a traced pool unchanged: a pool's workers are its lanes, numbered in the
order they were seen, and each finished task is a ``TaskSpan`` and a ``Progress``.

Folding is cheap (a few dict operations per packet) and never raises on a packet that lacks a
field or names a pool it never announced: a traced program's processes can be killed mid-send,
and a half-told story must still be shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mpscope.workers.events import (
    Event,
    Progress,
    TaskSpan,
    WorkerExited,
    WorkerStarted,
    describe_exitcode,
)
from mpscope.workers.trace.packets import Packet

# packets held for pools not announced yet, at most (a pool never announced must not grow it)
MAX_WAITING = 100_000
# pools whose workers are threads of the program's process: their lanes are threads
THREAD_KINDS = ("ThreadPool", "ThreadPoolExecutor")
# what a stdlib pool does when one of its process workers dies under a call, by kind
_AFTER_DEATH = {
    "Pool": "{call} will wait for ever (CPython gh-96062)",
    "ProcessPoolExecutor": "the executor is broken: {call}'s pending futures raise "
    "BrokenProcessPool",
}


@dataclass
class CallTrace:
    """One call the program made on a pool (``pool.map(...)``, ``ex.submit(...)``)."""

    key: str
    method: str
    label: str
    t: float
    items: int | None  # known up front (a map over a sized input), else None
    done: int = 0
    tasks: int = 0
    failed: int = 0  # tasks that raised
    chunk: int = 0  # the most items one of its tasks held (a map's chunksize)
    t_last: float | None = None  # end of its latest finished task

    @property
    def finished(self) -> bool:
        """True when every item it was given is done (unknown sizes never finish here)."""
        return self.items is not None and self.done >= self.items


@dataclass
class Lane:
    """One worker of a pool: a process (tid None) or a thread of the pool's process."""

    pid: int
    tid: int | None
    t_start: float
    t_end: float | None = None
    exitcode: int | None = None
    items: int = 0
    busy_s: float = 0.0


@dataclass
class PoolTrace:
    """One pool or executor of the program: what made it, its calls, its workers, its tasks."""

    key: str
    kind: str
    label: str
    size: int
    pid: int
    t_open: float
    t_close: float | None = None
    how: str | None = None  # how it ended: close, terminate, shutdown, exit, gc
    calls: dict[str, CallTrace] = field(default_factory=dict)
    lanes: dict[int, Lane] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    done: int = 0
    tasks: int = 0
    keep_events: bool = True  # False: counts, calls and lanes only (a summary's, bounded)
    _lane_of: dict[int, int] = field(default_factory=dict, repr=False)

    def add(self, event: Event) -> None:
        """Keep one of its run events (unless only its counts are kept)."""
        if self.keep_events:
            self.events.append(event)

    @property
    def threads(self) -> bool:
        """True if its workers are threads (ThreadPool, ThreadPoolExecutor)."""
        return self.kind in THREAD_KINDS

    def lane(self, pid: int, tid: int | None, t: float) -> int:
        """The lane of the worker (pid, tid), made (with its WorkerStarted) when first seen."""
        ident = tid if self.threads and tid is not None else pid
        index = self._lane_of.get(ident)
        if index is None:
            index = self._lane_of[ident] = len(self.lanes)
            thread = tid if self.threads else None
            self.lanes[index] = Lane(pid, thread, t)
            self.add(WorkerStarted(index, pid, t, thread))
        return index


@dataclass
class ProcessTrace:
    """One process of the program: its line, its life, its resource samples (t, cpu %, rss)."""

    pid: int
    ppid: int | None = None
    label: str = ""
    t_start: float | None = None
    t_end: float | None = None
    exitcode: int | None = None
    pool: str | None = None
    samples: list[tuple[float, float, int]] = field(default_factory=list)


class TraceModel:
    """A traced program's packets, folded: pools (in the order made), processes, notes."""

    def __init__(self, keep_events: bool = True) -> None:
        """``keep_events`` False keeps no run events (the views' feed), only what a summary
        reads: its memory then grows with pools, calls and workers, never with tasks."""
        self.keep_events = keep_events
        self.version = 0
        self.t0: float | None = None
        self.t_last = 0.0
        self.pools: dict[str, PoolTrace] = {}
        self.processes: dict[int, ProcessTrace] = {}
        self.packets = 0
        self._notes: list[str] = []
        self._early: dict[str, list[Packet]] = {}  # packets of pools not announced yet
        self._waiting = 0

    def feed_all(self, packets: Iterable[Packet]) -> None:
        """Fold packets in, in order."""
        for packet in packets:
            self.feed(packet)

    def feed(self, packet: Packet) -> None:
        """Fold one packet in; one of an unknown kind, or lacking what it needs, is skipped."""
        t = packet.get("t")
        if not isinstance(t, (int, float)):
            return
        fold = _FOLDS.get(str(packet.get("k")))
        if fold is None:
            return
        awaited = self._awaited(fold, packet)
        if awaited is not None:
            # each process has its own connection, so a worker's span can come in before the
            # packet of the pool or the call it belongs to: it waits for it (up to a bound)
            if self._waiting < MAX_WAITING:
                self._early.setdefault(awaited, []).append(packet)
                self._waiting += 1
            return
        try:
            fold(self, packet, float(t))
        except (KeyError, TypeError, ValueError):
            return  # a packet cut short or malformed: what came before still stands
        self.packets += 1
        self.t0 = t if self.t0 is None else min(self.t0, t)
        self.t_last = max(self.t_last, t)
        self.version += 1
        made = {TraceModel._pool: "pool", TraceModel._call: "call"}.get(fold)
        if made is not None and self._early:
            early = self._early.pop(f"{made} {packet.get(made)}", [])
            self._waiting -= len(early)
            self.feed_all(early)

    def _awaited(self, fold: Any, packet: Packet) -> str | None:
        """What a packet must wait for: a pool or a call not announced yet (None: nothing)."""
        if fold is TraceModel._pool:
            return None
        pool = packet.get("pool")
        if pool is None:
            return None
        known = self.pools.get(str(pool))
        if known is None:
            return f"pool {pool}"
        call = packet.get("call")
        if fold is TraceModel._span and call is not None and str(call) not in known.calls:
            return f"call {call}"
        return None

    def notes(self) -> list[str]:
        """One line per thing the user should know: a worker that died under a call, ..."""
        return list(self._notes)

    def workers(self) -> int:
        """How many workers all the pools had between them."""
        return sum(len(pool.lanes) for pool in self.pools.values())

    def tasks(self) -> int:
        """How many tasks all the pools finished."""
        return sum(pool.tasks for pool in self.pools.values())

    # -- folds, one per kind ------------------------------------------------------------------

    def _process(self, pid: int) -> ProcessTrace:
        proc = self.processes.get(pid)
        if proc is None:
            proc = self.processes[pid] = ProcessTrace(pid)
        return proc

    def _hello(self, p: Packet, t: float) -> None:
        proc = self._process(int(p["pid"]))
        proc.ppid = p.get("ppid")
        if proc.t_start is None:
            proc.t_start = t
        if not proc.label:
            proc.label = " ".join(str(a) for a in p.get("argv") or [])

    def _pool(self, p: Packet, t: float) -> None:
        key = str(p["pool"])
        if key not in self.pools:
            size = p.get("workers")
            self.pools[key] = PoolTrace(
                key,
                str(p["kind"]),
                str(p["label"]),
                int(size or 0),
                int(p["pid"]),
                t,
                keep_events=self.keep_events,
            )

    def _pool_end(self, p: Packet, t: float) -> None:
        pool = self.pools[str(p["pool"])]
        if pool.t_close is None:
            pool.t_close, pool.how = t, str(p.get("how") or "")

    def _worker(self, p: Packet, t: float) -> None:
        pool = self.pools[str(p["pool"])]
        pool.lane(int(p["worker_pid"]), p.get("tid"), t)
        if not pool.threads:
            self._process(int(p["worker_pid"])).pool = pool.key

    def _worker_exit(self, p: Packet, t: float) -> None:
        pool = self.pools[str(p["pool"])]
        pid, exitcode = int(p["worker_pid"]), p.get("exitcode")
        index = pool.lane(pid, p.get("tid"), t)
        lane = pool.lanes[index]
        if lane.t_end is not None:
            return
        lane.t_end, lane.exitcode = t, exitcode
        pool.add(WorkerExited(index, pid, exitcode, lane.items, lane.busy_s, math.nan, t))
        if exitcode and pool.t_close is None:
            self._note_death(pool, pid, int(exitcode))

    def _note_death(self, pool: PoolTrace, pid: int, exitcode: int) -> None:
        how = "was killed" if exitcode < 0 else "exited"
        words = describe_exitcode(exitcode)
        what = words.split(" (")[0].removeprefix("killed by ") if exitcode < 0 else words
        note = f"worker {pid} of {pool.label} {how} ({what})"
        open_calls = [c for c in pool.calls.values() if not c.finished]
        after = _AFTER_DEATH.get(pool.kind)
        if open_calls and after:
            method = open_calls[-1].method
            owner = "Pool" if pool.kind == "Pool" else "the executor"
            # an _async call returns at once: what waits for ever is its result's get()
            call = f"{owner}.{method}" + ("(...).get()" if method.endswith("_async") else "")
            note += "; " + after.format(call=call)
        self._notes.append(note)

    def _call(self, p: Packet, t: float) -> None:
        pool = self.pools[str(p["pool"])]
        key = str(p["call"])
        if key not in pool.calls:
            items = p.get("items")
            pool.calls[key] = CallTrace(
                key, str(p["method"]), str(p["label"]), t, None if items is None else int(items)
            )

    def _span(self, p: Packet, t: float) -> None:
        pool = self.pools[str(p["pool"])]
        t0, t1, items = float(p["t0"]), float(p["t1"]), int(p.get("items") or 0)
        index = pool.lane(int(p["pid"]), p.get("tid"), t0)
        lane = pool.lanes[index]
        lane.items += items
        lane.busy_s += max(0.0, t1 - t0)
        pool.done += items
        pool.tasks += 1
        call = pool.calls.get(str(p.get("call")))
        if call is not None:
            call.done += items
            call.tasks += 1
            call.failed += p.get("ok") is False
            call.t_last = t1
        task = int(p.get("index") or 0)
        # the task's first item: a map's chunks all hold chunksize items but the last, which
        # comes in after (nearly always) the others, so the largest task so far is the chunksize
        chunk = items
        if call is not None:
            call.chunk = max(call.chunk, items)
            chunk = call.chunk
        pool.add(TaskSpan(index, task * chunk, items, t0, t1))
        pool.add(Progress(index, lane.items, t1))

    def _proc(self, p: Packet, t: float) -> None:
        proc = self._process(int(p["child_pid"]))
        proc.ppid = int(p["pid"])
        proc.label = str(p.get("label") or proc.label)
        proc.pool = p.get("pool") or proc.pool
        proc.t_start = t if proc.t_start is None else min(proc.t_start, t)

    def _proc_end(self, p: Packet, t: float) -> None:
        proc = self._process(int(p["child_pid"]))
        if proc.t_end is None:
            proc.t_end, proc.exitcode = t, p.get("exitcode")

    def _sample(self, p: Packet, t: float) -> None:
        self._process(int(p["pid"])).samples.append((t, float(p["cpu"]), int(p["rss"])))


_FOLDS: dict[str, Any] = {
    "hello": TraceModel._hello,
    "pool": TraceModel._pool,
    "pool_end": TraceModel._pool_end,
    "worker": TraceModel._worker,
    "worker_exit": TraceModel._worker_exit,
    "call": TraceModel._call,
    "span": TraceModel._span,
    "proc": TraceModel._proc,
    "proc_end": TraceModel._proc_end,
    "sample": TraceModel._sample,
}

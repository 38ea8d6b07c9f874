"""Which Chrome trace events a traced program's packets make: the file's layout, one packet at
a time (``chrome`` writes them; its docstring says what goes where, and why).

``TraceLayout`` keeps only what the next events need: each pool's track, label, workers and the
tasks whose counter points are not yet due, the calls not yet done (a call is forgotten once all
it was given is done), the names of processes, and the lifetimes still open. Nothing grows with
the number of tasks.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

from mpscope.workers.events import describe_exitcode
from mpscope.workers.trace.model import THREAD_KINDS
from mpscope.workers.trace.packets import Packet
from mpscope.workers.trace.rec_read import PACKET_ARG

Event = dict[str, Any]

SYNTHETIC_TID = 1 << 30
LIFETIME_TID = SYNTHETIC_TID  # a process's lifetime, as its parent saw it start and end
RESOURCES_TID = SYNTHETIC_TID + 1  # a process's cpu and rss, sampled from outside
POOL_TID = SYNTHETIC_TID + 2  # + n: the n-th pool's own track in the process that made it
# a task reported this long after a later one still lands in its pool's counter in order
COUNTER_LAG_S = 1.0
NAME_MAX = 120


@dataclass
class _Pool:
    pid: int
    track: int
    label: str
    kind: str
    t: float
    ended: bool = False
    done: int = 0
    last_t: float = -math.inf  # the latest moment its counter was written at
    lanes: dict[int, int] = field(default_factory=dict)  # pid or thread id -> worker number


@dataclass
class _Call:
    label: str
    single: bool  # apply, apply_async, submit: one task, done with its first span
    items: int | None
    done: int = 0


class TraceLayout:
    """Turns packets, in arrival order, into Chrome trace events; times count from ``t0``."""

    def __init__(self, t0: float, counter_lag_s: float = COUNTER_LAG_S) -> None:
        self.t0 = t0
        self.t_last = t0
        self._lag = counter_lag_s
        self._pools: dict[str, _Pool] = {}
        self._calls: dict[str, _Call] = {}
        self._workers_open: dict[tuple[str, int, int | None], tuple[float, str]] = {}
        self._procs_open: dict[int, tuple[float, str]] = {}
        self._names: dict[int, dict[str, str]] = {}  # pid -> {"worker"|"proc"|"argv": name}
        self._named_tracks: set[tuple[int, int]] = set()
        self._last_sample: dict[int, float] = {}
        # (t1, arrival, pool, items) of the tasks whose counter points are not yet due
        self._pending: list[tuple[float, int, _Pool, int]] = []
        self._seq = 0

    def events_for(self, packet: Packet) -> list[Event]:
        """A valid packet's events: its carrier first, then what it shows, then the counter
        points now due (``rec_read.valid_packet`` must hold for it)."""
        t = float(packet["t"])
        self.t_last = max(self.t_last, t)
        make = _MAKERS.get(packet["k"])
        events: list[Event] | None = None
        if make is not None:
            try:
                events = make(self, packet, t)
            except (KeyError, TypeError, ValueError):
                events = None  # a field its event needs is missing or malformed
        if events is None:
            events = [self._instant(packet, str(packet["k"]), "mpscope")]
        return events + self._due_counters(self.t_last - self._lag)

    def closing_events(self, t_end: float) -> list[Event]:
        """At the end: the counter points still pending, and the lifetimes still open, ended
        at ``t_end`` (shown only: no packet ended them)."""
        end = max(self.t_last, t_end)
        events = self._due_counters(math.inf)
        for pool in self._pools.values():
            if not pool.ended:
                events.append(
                    self._span_event(pool.pid, pool.track, pool.t, end, pool.label, "pool")
                )
        for (_, pid, tid), (t, name) in self._workers_open.items():
            lane = pid if tid is None else tid
            events.append(self._span_event(pid, lane, t, end, name, "worker"))
        for pid, (t, label) in self._procs_open.items():
            events.append(self._span_event(pid, LIFETIME_TID, t, end, label, "process"))
        return events

    # -- events --------------------------------------------------------------------------------

    def _us(self, t: float) -> float:
        return round((t - self.t0) * 1e6, 3)

    def _span_event(
        self,
        pid: int,
        tid: int,
        t0: float,
        t1: float,
        name: str,
        cat: str,
        carry: Packet | None = None,
    ) -> Event:
        event: Event = {
            "ph": "X",
            "ts": self._us(t0),
            "dur": round(max(0.0, t1 - t0) * 1e6, 3),
            "pid": pid,
            "tid": tid,
            "name": name[:NAME_MAX],
            "cat": cat,
            "args": {},
        }
        if carry is not None:
            event["args"][PACKET_ARG] = carry
        return event

    def _instant(self, packet: Packet, name: str, cat: str) -> Event:
        return {
            "ph": "i",
            "ts": self._us(float(packet["t"])),
            "pid": packet["pid"],
            "tid": _thread(packet),
            "s": "t",
            "name": name[:NAME_MAX],
            "cat": cat,
            "args": {PACKET_ARG: packet},
        }

    def _meta(self, what: str, pid: int, tid: int, name: str, carry: Packet | None = None) -> Event:
        args: Event = {"name": name[:NAME_MAX]}
        if carry is not None:
            args[PACKET_ARG] = carry
        return {"ph": "M", "ts": 0, "pid": pid, "tid": tid, "name": what, "args": args}

    def _track(self, pid: int, tid: int, name: str) -> list[Event]:
        """The thread_name of a synthetic track, the first time it is used (display only)."""
        if (pid, tid) in self._named_tracks:
            return []
        self._named_tracks.add((pid, tid))
        return [self._meta("thread_name", pid, tid, name)]

    def _process_name(self, pid: int) -> str:
        names = self._names.get(pid, {})
        return names.get("worker") or names.get("proc") or names.get("argv") or f"process {pid}"

    def _counter(self, pid: int, t: float, name: str, series: str, value: float) -> Event:
        return {"ph": "C", "ts": self._us(t), "pid": pid, "tid": pid, "name": name,
                "args": {series: value}}  # fmt: skip

    def _due_counters(self, until: float) -> list[Event]:
        """Each pool's items-done points for tasks that ended by ``until``, in time order."""
        out = []
        pending = self._pending
        while pending and pending[0][0] <= until:
            t1, _, pool, items = heapq.heappop(pending)
            pool.done += items
            pool.last_t = max(pool.last_t, t1)  # one reported late lands at the last point
            out.append(self._counter(pool.pid, pool.last_t, pool.label, "items done", pool.done))
        return out

    # -- one maker per kind: the packet's carrier and what it shows ----------------------------

    def _hello(self, p: Packet, t: float) -> list[Event]:
        pid = p["pid"]
        argv = p.get("argv")
        words = [str(a) for a in argv] if isinstance(argv, list) else []
        self._names.setdefault(pid, {}).setdefault("argv", " ".join(words) or f"python {pid}")
        return [self._meta("process_name", pid, pid, self._process_name(pid), carry=p)]

    def _pool(self, p: Packet, t: float) -> list[Event]:
        key, label, kind = _str(p, "pool"), _str(p, "label"), str(p.get("kind"))
        if key in self._pools:
            return [self._instant(p, f"{label} (announced twice)", "pool")]
        pid = p["pid"]
        pool = self._pools[key] = _Pool(pid, POOL_TID + len(self._pools), label, kind, t)
        return [self._meta("thread_name", pid, pool.track, label, carry=p)]

    def _pool_end(self, p: Packet, t: float) -> list[Event]:
        pool = self._pools[_str(p, "pool")]
        if pool.ended:
            raise ValueError("ended twice")
        pool.ended = True
        name = f"{pool.label} ({p.get('how')})" if p.get("how") else pool.label
        return [self._span_event(pool.pid, pool.track, pool.t, t, name, "pool", carry=p)]

    def _worker(self, p: Packet, t: float) -> list[Event]:
        pool = self._pools[_str(p, "pool")]
        pid, tid = _int(p, "worker_pid"), _opt_int(p, "tid")
        thread = tid is not None and pool.kind in THREAD_KINDS
        ident = tid if thread and tid is not None else pid
        number = pool.lanes.setdefault(ident, len(pool.lanes))
        name = f"worker {number} of {pool.label}"
        self._workers_open[(p["pool"], pid, tid)] = (t, name)
        if thread and tid is not None:
            return [self._meta("thread_name", pid, tid, name, carry=p)]
        self._names.setdefault(pid, {})["worker"] = name
        return [self._meta("process_name", pid, pid, name, carry=p)]

    def _worker_exit(self, p: Packet, t: float) -> list[Event]:
        key, pid, tid = _str(p, "pool"), _int(p, "worker_pid"), _opt_int(p, "tid")
        t_start, name = self._workers_open.pop((key, pid, tid))
        code = p.get("exitcode")
        if _is_int(code) and code:
            name += f" ({describe_exitcode(code)})"
        lane = pid if tid is None else tid
        return [self._span_event(pid, lane, t_start, t, name, "worker", carry=p)]

    def _call(self, p: Packet, t: float) -> list[Event]:
        key, label, method = _str(p, "call"), _str(p, "label"), str(p.get("method"))
        items = p.get("items")
        single = method in ("apply", "apply_async", "submit")
        self._calls[key] = _Call(label, single, items if isinstance(items, int) else None)
        return [self._instant(p, label, "call")]

    def _span(self, p: Packet, t: float) -> list[Event]:
        t0, t1 = _num(p, "t0"), _num(p, "t1")
        items = _whole(p.get("items"), 0)
        key = str(p.get("call"))
        call = self._calls.get(key)
        name = call.label if call is not None else "task"
        if call is not None:  # forget a call once all it was given is done (bounded memory)
            call.done += items
            if call.single or (call.items is not None and call.done >= call.items):
                del self._calls[key]
        pool = self._pools.get(str(p.get("pool")))
        if pool is not None:
            self._seq += 1
            heapq.heappush(self._pending, (t1, self._seq, pool, items))
        return [self._span_event(p["pid"], _thread(p), t0, t1, name, "task", carry=p)]

    def _proc(self, p: Packet, t: float) -> list[Event]:
        child, label = _int(p, "child_pid"), _str(p, "label")
        self._names.setdefault(child, {})["proc"] = label
        self._procs_open[child] = (t, label)
        return [self._meta("process_name", child, child, self._process_name(child), carry=p)]

    def _proc_end(self, p: Packet, t: float) -> list[Event]:
        child = _int(p, "child_pid")
        t_start, label = self._procs_open.pop(child)
        code = p.get("exitcode")
        name = f"{label} ({describe_exitcode(code)})" if _is_int(code) else label
        lifetime = self._span_event(child, LIFETIME_TID, t_start, t, name, "process", carry=p)
        return [lifetime, *self._track(child, LIFETIME_TID, "lifetime")]

    def _sample(self, p: Packet, t: float) -> list[Event]:
        pid, cpu, rss = p["pid"], _num(p, "cpu"), _num(p, "rss")
        since = self._last_sample.get(pid, t)
        self._last_sample[pid] = t
        mb = round(rss / 2**20, 1)
        name = f"cpu {cpu:.0f} % · rss {mb:.0f} MB"
        return [
            self._span_event(pid, RESOURCES_TID, since, t, name, "sample", carry=p),
            *self._track(pid, RESOURCES_TID, "resources (sampled by mpscope)"),
            self._counter(pid, t, "cpu", "percent", cpu),
            self._counter(pid, t, "rss", "MB", mb),
        ]


_MAKERS = {
    "hello": TraceLayout._hello,
    "pool": TraceLayout._pool,
    "pool_end": TraceLayout._pool_end,
    "worker": TraceLayout._worker,
    "worker_exit": TraceLayout._worker_exit,
    "call": TraceLayout._call,
    "span": TraceLayout._span,
    "proc": TraceLayout._proc,
    "proc_end": TraceLayout._proc_end,
    "sample": TraceLayout._sample,
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _whole(value: Any, default: int) -> int:
    return int(value) if _is_int(value) else default


def _thread(p: Packet) -> int:
    """The thread a packet speaks of (its ``tid``), else its process's main thread."""
    return _whole(p.get("tid"), int(p["pid"]))


def _int(p: Packet, key: str) -> int:
    value = p[key]
    if not _is_int(value):
        raise TypeError(f"{key} is not a whole number")
    return int(value)


def _opt_int(p: Packet, key: str) -> int | None:
    return None if p.get(key) is None else _int(p, key)


def _num(p: Packet, key: str) -> float:
    value = p[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{key} is not a number")
    return float(value)


def _str(p: Packet, key: str) -> str:
    value = p[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not text")
    return value

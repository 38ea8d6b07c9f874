"""In-worker probes: live progress from inside every worker at no per-item cost.

How it works (and why it is cheap):

* Work arrives in *chunks* (a Pool task, an executor chunk, a process's slice). The hooks
  ``Lane.begin`` / ``Lane.end`` run once per chunk: they record the chunk's first item,
  its size and its start/end time (a ``TaskSpan`` for the timeline) and add the finished
  chunk to the lane's exact count. Pools reach them through ``probed_mapstar`` and friends,
  drop-in replacements for the stdlib's own ``mapstar`` / ``starmapstar`` /
  ``_process_chunk`` that do the same ``list(map(job, chunk))`` and nothing per item.
* Every tick (``ProbeConfig.tick_s``, 50 ms by default) a sampler thread in each worker
  process (``workers.probe_sampler``) looks at the lane's current frame, reads the item the
  job is working on (its first argument) and so knows the position inside the running chunk.
  It writes at most one packet per lane per tick into the run's queue: the cumulative
  ``Progress`` and the spans finished since the last tick (merged when they are many and
  close together), so the queue's rate is bounded whatever N and chunksize are.
* Counts never overstate: the position is clamped to the running chunk, and the final
  flush (at worker exit) reports the exact count.

The sampler also watches the worker's parent: if the conductor dies hard, the worker exits
instead of lingering as an orphan.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import itertools
import multiprocessing.pool
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import process as futures_process
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from mpscope.workers.events import PROGRESS_TAG, TaskSpan, WorkerStarted, to_wire
from mpscope.workers.probe_sampler import Sampler

MAX_SPANS_PER_PACKET = 16  # keeps every packet well under PIPE_BUF (atomic pipe writes)
MERGE_GAP_S = 0.001  # spans closer than this are merged into one bar
SCAN_LIMIT = 20_000  # items the sampler looks through per tick to place a user's item
_STATS_FIELDS = 5  # items, busy_s, cpu_s, probe_cpu_s, pid
# the shared stats block (read by the conductor at the end) is refreshed every this many
# packets and at the final flush: a system call and five shared-memory writes, not per tick
STATS_EVERY_PACKETS = 10

perf_counter = time.perf_counter


@dataclass
class ProbeConfig:
    """Everything a worker needs to report; picklable while a process is being started."""

    events: Any  # multiprocessing Queue of event packets
    next_index: Any  # multiprocessing Value('i'): next free worker index
    stats: Any  # RawArray('d', max_lanes * _STATS_FIELDS)
    max_lanes: int
    tick_s: float  # how often the sampler flushes each lane
    # the items are their own indices (range(N)); else (a user's inputs) a chunk's first
    # index comes from its task number times ``chunksize``, and the position inside a
    # running chunk from finding the item being worked on among the chunk's items
    items_are_indices: bool = True
    chunksize: int = 0

    @classmethod
    def create(cls, mp_context: Any, events: Any, max_lanes: int, tick_s: float) -> ProbeConfig:
        """Allocate the shared index counter and stats block with ``mp_context``."""
        return cls(
            events=events,
            next_index=mp_context.Value("i", 0),
            stats=mp_context.RawArray("d", max_lanes * _STATS_FIELDS),
            max_lanes=max_lanes,
            tick_s=tick_s,
        )

    def reserve_index(self, index: int) -> None:
        """Record that ``index`` is in use (for workers numbered by their starter)."""
        with self.next_index.get_lock():
            self.next_index.value = max(int(self.next_index.value), index + 1)

    def claim_index(self) -> int:
        """Take the next free worker index (pool workers number themselves this way)."""
        with self.next_index.get_lock():
            index = int(self.next_index.value)
            self.next_index.value = index + 1
        return index

    def lane_stats(self) -> list[dict[str, float]]:
        """The figures every lane recorded for itself (read by the conductor at the end)."""
        used = min(int(self.next_index.value), self.max_lanes)
        rows = []
        for i in range(used):
            base = i * _STATS_FIELDS
            items, busy, cpu, probe_cpu, pid = self.stats[base : base + _STATS_FIELDS]
            rows.append(
                {
                    "worker": i,
                    "items": int(items),
                    "busy_s": busy,
                    "cpu_s": cpu,
                    "probe_cpu_s": probe_cpu,
                    "pid": int(pid),
                }
            )
        return rows

    def pid_to_worker(self) -> dict[int, int]:
        """Map each registered worker pid to its index."""
        return {int(row["pid"]): int(row["worker"]) for row in self.lane_stats() if row["pid"]}


def _code_of(job: Callable[..., Any]) -> CodeType | None:
    """The code object whose frames carry the item being worked on."""
    while isinstance(job, (functools.partial, PerItemJob)):
        job = job.func if isinstance(job, functools.partial) else job.job
    return getattr(job, "__code__", None)


class Lane:
    """One worker's probe: chunk bookkeeping done by the worker, flushed by the sampler."""

    def __init__(self, config: ProbeConfig, index: int, thread_lane: bool) -> None:
        self.config = config
        self.index = index
        self.pid = os.getpid()
        self.thread_ident = threading.get_ident()
        self.native_id = threading.get_native_id() if thread_lane else None
        self._cpu_clock = time.thread_time if thread_lane else time.process_time
        # (completed items, first item of running chunk, its size, its start time or 0.0, its
        # items when they are not their own indices, else None)
        self.state: tuple[int, int, int, float, Sequence[Any] | None] = (0, 0, 0, 0.0, None)
        self._found = 0  # where the item being worked on was last found in the running chunk
        self.spans: collections.deque[tuple[int, int, float, float]] = collections.deque()
        self.busy_s = 0.0
        self.cpu_s = 0.0
        self.probe_cpu_s = 0.0
        self.last_sent = -1
        self.packets = 0
        self.job_code: CodeType | None = None
        self._codes: dict[CodeType, str] = {_LOOP_CODE: "x"}
        self._job_seen: Callable[..., Any] | None = None
        self.finished = False

    # -- called by the worker, once per chunk --------------------------------------------
    def begin(
        self,
        job: Callable[..., Any],
        first: int,
        count: int,
        items: Sequence[Any] | None = None,
    ) -> None:
        """A chunk of ``count`` items starting at item ``first`` starts now; ``items``: the
        chunk's items, where they are not their own indices (the sampler finds its place)."""
        if job is not self._job_seen:
            self._job_seen = job
            code = _code_of(job)
            if code is not None and code.co_argcount:
                self._codes[code] = code.co_varnames[0]
        self._found = 0
        self.state = (self.state[0], first, count, perf_counter(), items)

    def end(self) -> None:
        """The running chunk is done."""
        t1 = perf_counter()
        completed, first, count, t0, _ = self.state
        self.state = (completed + count, first, 0, 0.0, None)
        self.spans.append((first, count, t0, t1))
        self.busy_s += t1 - t0
        self.cpu_s = self._cpu_clock()

    # -- called by the sampler thread ----------------------------------------------------
    def _place(self, item: Any, items: Sequence[Any]) -> int:
        """How far into ``items`` the job is: where ``item`` (the object the job is working
        on) is, looking forward from where it was last found, by identity (an equal object
        found earlier can only make the count lag, never run ahead); a bounded look a tick."""
        start = self._found
        for offset, candidate in enumerate(itertools.islice(items, start, start + SCAN_LIMIT)):
            # an executor's (or starmap's) items are argument tuples: the job has the first
            args = candidate if type(candidate) is tuple else ()
            if candidate is item or (args and args[0] is item):
                self._found = start + offset
                break
        return self._found

    def _position(
        self, frame: FrameType | None, first: int, count: int, items: Sequence[Any] | None
    ) -> int:
        depth = 0
        while frame is not None and depth < 12:
            var = self._codes.get(frame.f_code)
            if var is not None:
                try:
                    item = frame.f_locals.get(var)
                except Exception:  # noqa: BLE001 - a frame may vanish under us
                    return 0
                if items is not None:
                    return min(self._place(item, items), count)
                if isinstance(item, int):
                    return min(max(item - first, 0), count)
                return 0
            frame = frame.f_back
            depth += 1
        return 0

    def packet(self, frame: FrameType | None, final: bool = False) -> list[tuple[Any, ...]]:
        """What to send now, as wire tuples (``events.to_wire``): a Progress if the count
        moved, and the spans finished since the last packet.

        ``frame``: the lane thread's current frame (None: count finished chunks only). Built
        as plain tuples straight away: the sampler runs this on a busy worker's time.
        """
        completed, first, count, t0, items = self.state
        done = completed
        if not final and count and frame is not None:
            done += self._position(frame, first, count, items)
        out: list[tuple[Any, ...]] = []
        if done > self.last_sent or (final and done != self.last_sent):
            self.last_sent = max(done, self.last_sent)
            open_t0 = t0 if count else None
            out.append((PROGRESS_TAG, self.index, self.last_sent, perf_counter(), open_t0))
        if self.spans:
            spans = []
            while self.spans:  # popleft: a thread lane's worker may append meanwhile
                spans.append(self.spans.popleft())
            out.extend(map(to_wire, _merge_spans(self.index, spans)))
        self.packets += 1
        if final or self.packets % STATS_EVERY_PACKETS == 1:
            self._write_stats(completed)
        return out

    def _write_stats(self, items: int) -> None:
        if self.index >= self.config.max_lanes:
            return
        base = self.index * _STATS_FIELDS
        stats = self.config.stats
        stats[base] = items
        stats[base + 1] = self.busy_s
        if self.native_id is None:
            self.cpu_s = time.process_time()
        stats[base + 2] = self.cpu_s
        stats[base + 3] = self.probe_cpu_s
        stats[base + 4] = self.pid


def _merge_spans(worker: int, spans: list[tuple[int, int, float, float]]) -> list[TaskSpan]:
    merged: list[list[Any]] = []
    for first, count, t0, t1 in spans:
        if merged and t0 - merged[-1][3] < MERGE_GAP_S:
            last = merged[-1]
            last[1] += count
            last[3] = t1
            last[4] += 1
        else:
            merged.append([first, count, t0, t1, 1])
    while len(merged) > MAX_SPANS_PER_PACKET:
        pairs = []
        for i in range(0, len(merged), 2):
            a = merged[i]
            if i + 1 < len(merged):
                b = merged[i + 1]
                a = [a[0], a[1] + b[1], a[2], b[3], a[4] + b[4]]
            pairs.append(a)
        merged = pairs
    return [TaskSpan(worker, f, c, t0, t1, n) for f, c, t0, t1, n in merged]


_local = threading.local()
_sampler: Sampler | None = None
_sampler_lock = threading.Lock()


def attach(
    config: ProbeConfig,
    index: int | None = None,
    *,
    thread_lane: bool = False,
    watch_parent: bool = True,
) -> Lane:
    """Register the calling thread as a worker lane and announce it (WorkerStarted).

    ``watch_parent``: exit this process if its parent dies (worker processes); lanes inside
    the conductor leave that to the conductor's own watchdog.
    """
    global _sampler
    if index is None:
        index = config.claim_index()
    else:
        config.reserve_index(index)
    lane = Lane(config, index, thread_lane)
    with _sampler_lock:
        if _sampler is None or _sampler.events is not config.events:  # a new run's probe
            watch = watch_parent and not thread_lane
            _sampler = Sampler(config.events, config.tick_s, watch)
        _sampler.lanes.append(lane)
        sampler = _sampler
    _local.lane = lane
    lane._write_stats(0)
    sampler.put((to_wire(WorkerStarted(index, lane.pid, perf_counter(), lane.native_id)),))
    return lane


def finish_process() -> None:
    """Final flush of every lane in this process (at worker exit, or by the conductor)."""
    global _sampler
    with _sampler_lock:
        sampler, _sampler = _sampler, None
    if sampler is not None:
        sampler.finish()


def current_lane() -> Lane | None:
    """The calling thread's lane, if it is a worker."""
    return getattr(_local, "lane", None)


# -- worker initializers ---------------------------------------------------------------------


def init_pool_worker(config: ProbeConfig) -> None:
    """Pool / executor initializer: attach this process and flush at exit."""
    import signal
    from multiprocessing import util

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the conductor's to handle
    attach(config)
    util.Finalize(None, finish_process, exitpriority=100)  # before the queue's own (10)


def init_thread_worker(config: ProbeConfig) -> None:
    """ThreadPool initializer: each pool thread is a lane of the conductor process."""
    attach(config, thread_lane=True, watch_parent=False)


# -- the instrumented stand-ins for the stdlib's chunk runners ---------------------------------


def _first_item(item: Any) -> int:
    return item[0] if isinstance(item, tuple) else item  # type: ignore[no-any-return]


def _task_number(frame: FrameType | None) -> int:
    """The running task's number among its map's tasks, read from the stdlib's worker loop
    that called the chunk runner: ``i`` in a Pool's ``worker``, ``call_item.work_id`` in a
    ProcessPoolExecutor's ``_process_worker`` (a fresh executor numbers its map's chunks
    from 0). Read once per chunk, only for items that are not their own indices."""
    depth = 0
    while frame is not None and depth < 4:
        names = frame.f_locals
        if frame.f_code.co_name == "worker" and isinstance(names.get("i"), int):
            return int(names["i"])
        call_item = names.get("call_item")
        if call_item is not None and isinstance(getattr(call_item, "work_id", None), int):
            return int(call_item.work_id)
        frame = frame.f_back
        depth += 1
    return 0


def _begin_chunk(lane: Lane, job: Callable[..., Any], chunk: Sequence[Any]) -> None:
    """``lane.begin`` for a chunk a stdlib worker loop handed to one of the runners below."""
    config = lane.config
    if config.items_are_indices:
        lane.begin(job, _first_item(chunk[0]) if chunk else 0, len(chunk))
    else:  # a user's items: the chunk's place from its task number, the items to find
        first = _task_number(sys._getframe(2)) * config.chunksize
        lane.begin(job, first, len(chunk), chunk)


def probed_mapstar(args: tuple[Callable[..., Any], tuple[Any, ...]]) -> list[Any]:
    """``multiprocessing.pool.mapstar`` plus one begin/end per chunk."""
    lane = getattr(_local, "lane", None)
    if lane is None:
        return list(map(*args))
    job, chunk = args
    _begin_chunk(lane, job, chunk)
    result = list(map(job, chunk))
    lane.end()
    return result


def probed_starmapstar(args: tuple[Callable[..., Any], tuple[Any, ...]]) -> list[Any]:
    """``multiprocessing.pool.starmapstar`` plus one begin/end per chunk."""
    lane = getattr(_local, "lane", None)
    if lane is None:
        return list(itertools.starmap(args[0], args[1]))
    job, chunk = args
    _begin_chunk(lane, job, chunk)
    result = list(itertools.starmap(job, chunk))
    lane.end()
    return result


def probed_process_chunk(fn: Callable[..., Any], chunk: tuple[tuple[Any, ...], ...]) -> list[Any]:
    """``concurrent.futures.process._process_chunk`` plus one begin/end per chunk."""
    lane = getattr(_local, "lane", None)
    if lane is None:
        return [fn(*args) for args in chunk]
    _begin_chunk(lane, fn, chunk)
    result = [fn(*args) for args in chunk]
    lane.end()
    return result


class PerItemJob:
    """Wraps a job whose tasks are single items (imap with chunksize 1): one begin/end each."""

    def __init__(self, job: Callable[..., Any]) -> None:
        self.job = job

    def __call__(self, x: Any, *rest: Any) -> Any:
        """Run the job on one item as a one-item chunk."""
        lane = getattr(_local, "lane", None)
        if lane is None:
            return self.job(x, *rest)
        if lane.config.items_are_indices:
            lane.begin(self.job, x, 1)
        else:  # a user's item: its index is the task's number (chunksize 1)
            lane.begin(self.job, _task_number(sys._getframe(1)), 1)
        result = self.job(x, *rest)
        lane.end()
        return result


@contextlib.contextmanager
def instrumented_pool_tasks() -> Iterator[None]:
    """Swap the stdlib's chunk runners for the probed ones while tasks are created.

    Pool and executor tasks reference their chunk runner by name when pickled, so the
    workers run ``probed_mapstar`` & co. from this module; a ThreadPool calls them directly.
    """
    pool_mod: Any = multiprocessing.pool
    fut_mod: Any = futures_process
    saved = (pool_mod.mapstar, pool_mod.starmapstar, fut_mod._process_chunk)
    pool_mod.mapstar = probed_mapstar
    pool_mod.starmapstar = probed_starmapstar
    fut_mod._process_chunk = probed_process_chunk
    try:
        yield
    finally:
        pool_mod.mapstar, pool_mod.starmapstar, fut_mod._process_chunk = saved


# -- the plain loop used by sequential and process strategies ---------------------------------


def run_range(job: Callable[..., int], lo: int, hi: int, arity: int, lane: Lane | None) -> int:
    """``for x in range(lo, hi): total += job(x)`` as one chunk of ``lane``."""
    if lane is not None:
        lane.begin(job, lo, hi - lo)
    total = 0
    if arity == 1:
        for x in range(lo, hi):
            total += job(x)
    else:
        for x in range(lo, hi):
            total += job(x, x)
    if lane is not None:
        lane.end()
    return total


def run_items(
    job: Callable[..., Any], items: Sequence[Any], first: int, spread: bool, lane: Lane | None
) -> list[Any]:
    """``[job(x) for x in items]`` (``job(*x)`` if ``spread``) as one chunk of ``lane``,
    starting at item ``first``: the user's own job, its results kept."""
    if lane is not None:
        lane.begin(job, first, len(items))
    results = list(itertools.starmap(job, items)) if spread else list(map(job, items))
    if lane is not None:
        lane.end()
    return results


_LOOP_CODE = run_range.__code__

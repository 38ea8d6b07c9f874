"""How shared-counter runs: K processes add 1 to one shared ``multiprocessing.Value``, M each.

(The strategy itself, its options and their checks are declared in ``shared_counter``.)

The seed's In [20]: ``v = Value('i', 0)``, ``l = Lock()`` and two ``Process(target=job,
args=(v, 1, l))`` whose job takes the lock, ten times sleeps 0.1 s and does ``v.value += 1``,
then releases it: one process counts 1..10 while the other waits, then counts 11..20.

Lock modes (``RunSpec.lock``; M = ``items``, the delay = ``delay_s``):

* ``whole`` (the seed): the lock is held around each worker's whole loop, the delay included.
  The workers count one after the other, each worker's values one contiguous block.
* ``step``: the lock is held for each increment only (read, add one, write); the delay, the
  work of a step, is spent outside it, so the workers interleave.
* ``none``: ``v.value += 1`` on a ``Value(lock=False)``, nothing guarding it. Two workers that
  read the same value both write it plus one: an update is lost, when the timing is unlucky.
  ``force_race`` makes it certain: in every round each worker reads, all K meet at a barrier,
  then each writes what it read plus one. All writes of a round write the same value, so each
  round loses exactly K - 1 updates: the result is exactly M, ``lost`` exactly (K - 1) x M.

All workers meet at a start barrier first, so they start counting together (as the seed's
two ``start()`` calls do) whatever the start method costs. ``inject`` (KIND@ITEM) fires in
worker 0 at its increment number ITEM.

The verdict (what ``correct`` and the command line's exit code mean here):

* ``expected`` = K x M, every increment asked for; ``result`` = the counter's final value;
  ``lost`` = expected - result.
* ``correct`` (the conductor's rule, result == expected) = no update was lost.
* ``guaranteed`` = the value the lock mode promises: K x M with a lock, exactly M with
  force-race, None for plain ``none`` (which promises only 1 <= result <= K x M).
* ``as_guaranteed`` = the result is what the lock mode promises. ``mpscope run`` exits 0 when
  it holds: a lock-none run that loses updates did what was asked (the loss is reported, not
  a failure); a locked run that lost an update would exit 1.

Events: each worker sends ``CounterStep(worker, value, t, phase)`` through the run's event
queue, so a view can animate who waits and who holds the lock:

* ``waiting``: the worker found the lock taken and blocks on it (value: the counter read then)
* ``holding``: it holds the lock from ``t`` (value: the counter then, exact)
* ``read``: (force-race) it read ``value`` and goes to the barrier
* ``step``: it wrote ``value``
* ``released``: it releases the lock at ``t`` (value: the last value it wrote)
* ``done``: it made all its increments (value: the last value it wrote)

``holding`` is stamped after the lock is taken and ``released`` before it is let go, so no two
workers' holding..released intervals overlap. The rate is bounded: at most STEP_EVENTS_PER_S
increments per second over all workers are reported, with all of that increment's events.
Time is cut into slots of K / STEP_EVENTS_PER_S s on the system-wide clock and each worker
reports the first increment it starts in a slot (so workers in lock-step, as force-race rounds
are, mostly report the same rounds); the others are counted in ``steps_skipped``, not sent.
The whole-loop mode's waiting/holding/released and every ``done`` are always sent. A sender
thread in each worker puts its packet every tick, so a ``waiting`` event is seen
while its worker is still blocked. Totals (result, increments, wait and hold times) are exact
whatever was skipped.

With ``trace``, ``trace`` lists [worker, value] for every write in the order of the writes
(exact with a lock: the time is taken while holding it), at most TRACE_MAX_STEPS of them (the
first ones; ``trace_truncated`` says whether any were left out).
"""

from __future__ import annotations

import collections
import heapq
import itertools
import queue as queue_mod
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from mpscope.workers.context import RunContext
from mpscope.workers.events import CounterStep
from mpscope.workers.probe import ProbeConfig, attach, finish_process
from mpscope.workers.strategies.process_split import WorkerRaised, WorkerVanished
from mpscope.workers.units import format_count
from mpscope.workers.workloads import one_increment

WHOLE, STEP, NONE = "whole", "step", "none"
WAITING, HOLDING, READ, STEPPED, RELEASED, DONE = (
    "waiting",
    "holding",
    "read",
    "step",
    "released",
    "done",
)
STEP_EVENTS_PER_S = 1000  # increments reported as events per second, over all workers
TRACE_MAX_STEPS = 20_000  # most [worker, value] steps a trace holds
MAX_EVENTS_PER_PACKET = 64  # keeps every packet well under PIPE_BUF

perf_counter = time.perf_counter


@dataclass(frozen=True)
class CounterPlan:
    """What every counter worker does (picklable: it travels to each worker at start)."""

    increments: int  # M, per worker
    lock: str  # whole, step or none
    delay_s: float
    force_race: bool
    trace_limit: int  # writes each worker keeps for the trace (0: no trace)
    step_gap_s: float  # a worker reports at most one increment per slot of this length
    tick_s: float  # how often the sender thread puts its packet: the probe's tick
    fault: Callable[[int], int] | None = None  # worker 0's injected fault (--inject)


class WorkerReport(NamedTuple):
    """One worker's exact figures, sent to the conductor when it is done."""

    increments: int
    wait_s: float  # waiting to take the lock (force-race: waiting at the barrier)
    waits: int  # times the lock was taken and the worker had to wait for it
    hold_s: float  # holding the lock
    steps_sent: int  # increments reported as CounterStep events
    steps_skipped: int  # increments over the rate cap, counted but not reported
    trace: list[tuple[float, int]]  # (time, value written) of the first writes


class StepSender:
    """One worker's CounterStep events: rate-capped, batched, put on the queue every tick."""

    def __init__(self, events: Any, worker: int, plan: CounterPlan) -> None:
        self.events = events
        self.worker = worker
        self.gap_s = plan.step_gap_s
        self.tick_s = plan.tick_s
        self.pending: collections.deque[CounterStep] = collections.deque()
        self.last_slot = -1
        self.sent = 0
        self.skipped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="mpscope-counter-events", daemon=True
        )
        self._thread.start()

    def admit(self) -> bool:
        """Whether the increment starting now is reported (the rate cap); counts either way."""
        slot = int(perf_counter() / self.gap_s)
        if slot != self.last_slot:
            self.last_slot = slot
            self.sent += 1
            return True
        self.skipped += 1
        return False

    def emit(self, value: int, phase: str, t: float) -> None:
        """Queue one event for the next packet."""
        self.pending.append(CounterStep(self.worker, value, t, phase))

    def flush(self) -> None:
        """Put everything pending on the run's queue, in packets of bounded size."""
        batch: list[CounterStep] = []
        while self.pending:
            batch.append(self.pending.popleft())
            if len(batch) == MAX_EVENTS_PER_PACKET:
                self.events.put(tuple(batch))
                batch = []
        if batch:
            self.events.put(tuple(batch))

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            self.flush()

    def close(self) -> None:
        """Stop the sender thread and send what is left."""
        self._stop.set()
        self._thread.join(timeout=1.0)
        self.flush()


class CounterWorker:
    """One worker's side of the counter: its increments, its lock timings, its events."""

    def __init__(
        self,
        plan: CounterPlan,
        value: Any,
        lock: Any,
        race_barrier: Any,
        sender: StepSender,
        fault: Callable[[int], int] | None,
    ) -> None:
        self.plan = plan
        self.value = value
        self.lock = lock
        self.race_barrier = race_barrier
        self.sender = sender
        self.fault = fault
        self.wait_s = 0.0
        self.waits = 0
        self.hold_s = 0.0
        self.last_written = 0
        self.trace: list[tuple[float, int]] = []

    def acquire(self, report: bool) -> float:
        """Take the lock, timing the wait; return the time it was taken."""
        t0 = perf_counter()
        if not self.lock.acquire(False):
            self.waits += 1
            if report:
                self.sender.emit(int(self.value.value), WAITING, t0)
            self.lock.acquire()
        t1 = perf_counter()
        self.wait_s += t1 - t0
        if report:
            self.sender.emit(int(self.value.value), HOLDING, t1)
        return t1

    def release(self, taken_at: float, report: bool) -> None:
        """Let the lock go (the event is stamped before, so holders never overlap)."""
        t = perf_counter()
        if report:
            self.sender.emit(self.last_written, RELEASED, t)
        self.hold_s += t - taken_at
        self.lock.release()

    def increment(self, x: int) -> None:
        """Make increment number ``x`` of this worker: delay, then read, add one, write."""
        plan = self.plan
        report = self.sender.admit()
        if self.fault is not None:
            self.fault(x)
        if plan.delay_s:
            time.sleep(plan.delay_s)
        taken_at = self.acquire(report) if plan.lock == STEP else 0.0
        read = int(self.value.value)
        if self.race_barrier is not None:
            if report:
                self.sender.emit(read, READ, perf_counter())
            t0 = perf_counter()
            self.race_barrier.wait()
            self.wait_s += perf_counter() - t0
        self.value.value = read + 1
        t = perf_counter()
        self.last_written = read + 1
        if report:
            self.sender.emit(read + 1, STEPPED, t)
        if x < plan.trace_limit:
            self.trace.append((t, read + 1))
        if plan.lock == STEP:
            self.release(taken_at, report)

    def run(self, lane: Any) -> None:
        """All M increments, under the lock as the mode says, as one chunk of the probe lane."""
        m = self.plan.increments
        if self.plan.lock != WHOLE:
            lane.begin(increment_loop, 0, m)
            increment_loop(0, self, m)
            lane.end()
            return
        taken_at = self.acquire(report=True)
        try:
            lane.begin(increment_loop, 0, m)
            increment_loop(0, self, m)
            lane.end()
        finally:
            self.release(taken_at, report=True)

    def report(self) -> WorkerReport:
        """This worker's exact figures."""
        return WorkerReport(
            self.plan.increments,
            self.wait_s,
            self.waits,
            self.hold_s,
            self.sender.sent,
            self.sender.skipped,
            self.trace,
        )


def increment_loop(x: int, worker: CounterWorker, end: int) -> None:
    """Increments ``x`` .. ``end - 1``; the probe's sampler reads ``x`` here as the position."""
    while x < end:
        worker.increment(x)
        x += 1


def counter_worker(
    probe: ProbeConfig,
    plan: CounterPlan,
    index: int,
    value: Any,
    lock: Any,
    race_barrier: Any,
    start_barrier: Any,
    results: Any,
) -> None:
    """One worker process: meet the others, count, report (index, figures) or an error."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lane = attach(probe, index)
    sender = StepSender(probe.events, index, plan)
    worker = CounterWorker(
        plan, value, lock, race_barrier, sender, plan.fault if index == 0 else None
    )
    try:
        start_barrier.wait()
        worker.run(lane)
        sender.emit(worker.last_written, DONE, perf_counter())
    except BaseException as exc:  # noqa: BLE001 - reported to the conductor
        sender.close()
        finish_process()
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        results.put(("error", index, f"{type(exc).__name__}: {exc}", tb))
        return
    sender.close()
    finish_process()
    results.put(("ok", index, worker.report(), ""))


def _collect(results: Any, procs: list[Any]) -> dict[int, WorkerReport]:
    """Every worker's report; a worker's exception is raised here (deaths are the watchdog's)."""
    reports: dict[int, WorkerReport] = {}
    while len(reports) < len(procs):
        try:
            status, index, payload, tb = results.get(timeout=0.2)
        except queue_mod.Empty:
            silent = [i for i, p in enumerate(procs) if i not in reports and p.exitcode == 0]
            if not silent:
                continue
            try:
                status, index, payload, tb = results.get(timeout=0.5)
            except queue_mod.Empty:
                proc = procs[silent[0]]
                raise WorkerVanished(
                    f"worker {silent[0]} (pid {proc.pid}) exited with code 0 before reporting"
                ) from None
        if status == "error":
            raise WorkerRaised(f"worker {index}: {payload}", tb)
        reports[index] = payload
    return reports


def guaranteed_value(lock: str, force_race: bool, workers: int, increments: int) -> int | None:
    """The final value the lock mode promises; None if it promises none (plain lock none)."""
    if lock != NONE:
        return workers * increments
    return increments if force_race else None


def explain(lock: str, force_race: bool, workers: int, increments: int, lost: int) -> str:
    """One sentence on what happened to the counter, for the CLI and the counter view."""
    if lock == WHOLE:
        how = "the lock was held around each worker's whole loop, so the workers counted in turn"
    elif lock == STEP:
        how = "the lock was held for each increment, so the workers interleaved"
    elif force_race:
        how = (
            f"in each of {format_count(increments)} rounds "
            f"{'both' if workers == 2 else f'all {workers}'} workers read the same "
            f"value, met at a barrier and wrote it plus one, so each round lost {workers - 1}"
        )
    else:
        how = "nothing guarded the read-add-write, so workers that read the same value overwrote "
        how += "each other's update"
    if lost == 0:
        tail = "no update was lost" + (" (luck: nothing guarantees it)" if lock == NONE else "")
    else:
        tail = f"{format_count(lost)} of {format_count(workers * increments)} updates were lost"
    return f"{how}: {tail}"


def _merged_trace(reports: dict[int, WorkerReport]) -> list[list[int]]:
    """[worker, value] of the first TRACE_MAX_STEPS writes, in the order they were made."""
    streams = [[(t, i, v) for t, v in reports[i].trace] for i in sorted(reports)]
    first = itertools.islice(heapq.merge(*streams), TRACE_MAX_STEPS)
    return [[i, v] for _, i, v in first]


def counter_figures(
    ctx: RunContext, result: int, reports: dict[int, WorkerReport]
) -> dict[str, Any]:
    """What the run adds to its record: expected, lost, the verdict, per-worker lock times."""
    spec = ctx.spec
    k, m = ctx.workers, ctx.items
    expected = k * m
    lost = expected - result
    guaranteed = guaranteed_value(spec.lock, spec.force_race, k, m)
    as_guaranteed = result == guaranteed if guaranteed is not None else 1 <= result <= expected
    figures: dict[str, Any] = {
        "expected": expected,
        "lost": lost,
        "guaranteed": guaranteed,
        "as_guaranteed": as_guaranteed,
        "explanation": explain(spec.lock, spec.force_race, k, m, lost),
        "steps_sent": sum(r.steps_sent for r in reports.values()),
        "steps_skipped": sum(r.steps_skipped for r in reports.values()),
        "counter_per_worker": [
            {
                "worker": i,
                "increments": r.increments,
                "wait_s": round(r.wait_s, 6),
                "waits": r.waits,
                "hold_s": round(r.hold_s, 6),
            }
            for i, r in sorted(reports.items())
        ],
    }
    if spec.trace:
        figures["trace"] = _merged_trace(reports)
        figures["trace_truncated"] = expected > TRACE_MAX_STEPS
        if expected > TRACE_MAX_STEPS:
            figures["trace_note"] = (
                f"the trace holds the first {format_count(TRACE_MAX_STEPS)} of "
                f"{format_count(expected)} steps (its limit)"
            )
    return figures


def run_shared_counter(ctx: RunContext) -> int:
    """Start K workers on one shared Value, wait for their reports, return the final value."""
    spec = ctx.spec
    wctx = ctx.worker_context
    k, m = ctx.workers, ctx.items
    plan = CounterPlan(
        increments=m,
        lock=spec.lock,
        delay_s=spec.delay_s,
        force_race=spec.force_race,
        trace_limit=min(m, TRACE_MAX_STEPS) if spec.trace else 0,
        step_gap_s=k / STEP_EVENTS_PER_S,
        tick_s=spec.tick_s,
        fault=ctx.job(one_increment) if spec.inject else None,
    )
    if spec.lock == NONE:
        value, lock = wctx.Value("i", 0, lock=False), None
    else:
        value, lock = wctx.Value("i", 0), wctx.Lock()  # as the seed: a synchronized Value
    race_barrier = wctx.Barrier(k) if spec.force_race else None
    start_barrier = wctx.Barrier(k)
    results = wctx.Queue()  # a fresh queue for every run
    ctx.start_clock()
    procs = [
        wctx.Process(
            target=counter_worker,
            args=(ctx.probe, plan, i, value, lock, race_barrier, start_barrier, results),
            name=f"mpscope-worker-{i}",
        )
        for i in range(k)
    ]
    for proc in procs:
        proc.start()
    reports = _collect(results, procs)
    result = int(value.value)
    ctx.stop_clock()
    # every report has been read, so joining cannot deadlock on the queue
    ctx.teardown(*(proc.join for proc in procs))
    ctx.extra.update(counter_figures(ctx, result, reports))
    return result

"""process: K ``mp.Process``, each a contiguous slice, results through an ``mp.Queue``.

As the seed's In [2]: with poly-pair and K = 2, one process runs func1 over every item and
the other func2. In general the 2N function evaluations [func1 x N, func2 x N] are cut into
K contiguous slices, so poly-pair counts evaluations (2N units) under this strategy.
"""

from __future__ import annotations

import queue as queue_mod
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from mpscope.workers import jobs
from mpscope.workers.context import RunContext
from mpscope.workers.probe import ProbeConfig, attach, finish_process, run_items, run_range
from mpscope.workers.strategy import Strategy

Segment = tuple[Callable[..., int], int, int]  # (job, lo, hi)


def split(n: int, k: int) -> list[tuple[int, int]]:
    """Cut range(n) into k contiguous slices whose sizes differ by at most one."""
    base, extra = divmod(n, k)
    bounds, lo = [], 0
    for i in range(k):
        hi = lo + base + (1 if i < extra else 0)
        bounds.append((lo, hi))
        lo = hi
    return bounds


def plan_segments(ctx: RunContext) -> list[list[Segment]]:
    """Each worker's list of (job, lo, hi) segments."""
    n, k = ctx.items, ctx.workers
    if ctx.spec.workload != "poly-pair":
        job = ctx.job()
        return [[(job, lo, hi)] for lo, hi in split(n, k)]
    funcs = (ctx.job(jobs.func1), ctx.job(jobs.func2))
    plans: list[list[Segment]] = []
    for lo, hi in split(2 * n, k):
        segments: list[Segment] = []
        for which, (a, b) in enumerate(((0, n), (n, 2 * n))):
            s, e = max(lo, a), min(hi, b)
            if s < e:
                segments.append((funcs[which], s - a, e - a))
        plans.append(segments)
    return plans


def process_worker(
    probe: ProbeConfig,
    results: Any,
    index: int,
    segments: list[Segment],
    arity: int,
    own_items: Sequence[Any] | None = None,
) -> None:
    """One worker process: run its segments and put (index, total) or an error on ``results``;
    with ``own_items`` (the user's job: its one segment's items), the list of their results."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lane = attach(probe, index)
    try:
        total: Any
        if own_items is None:
            total = sum(run_range(job, lo, hi, arity, lane) for job, lo, hi in segments)
        else:
            ((job, lo, _),) = segments
            total = run_items(job, own_items, lo, False, lane)
    except BaseException as exc:  # noqa: BLE001 - reported to the conductor
        finish_process()
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        results.put(("error", index, f"{type(exc).__name__}: {exc}", tb))
        return
    finish_process()
    results.put(("ok", index, total, ""))


class WorkerRaised(Exception):
    """A job raised inside a worker process; the message and traceback are the worker's."""

    def __init__(self, line: str, tb: str) -> None:
        super().__init__(line)
        self.remote_traceback = tb

    def __str__(self) -> str:
        return str(self.args[0])


class WorkerVanished(Exception):
    """A worker process exited cleanly without sending its result."""


def _next_result(results: Any, procs: list[Any], received: set[int]) -> tuple[Any, ...]:
    """The next worker result; a non-zero exit is the watchdog's to report, a clean exit
    without a result is reported here (after a last look at the queue)."""
    while True:
        try:
            return tuple(results.get(timeout=0.2))
        except queue_mod.Empty:
            silent = [(i, p) for i, p in enumerate(procs) if i not in received and p.exitcode == 0]
            if not silent:
                continue
            try:
                return tuple(results.get(timeout=0.5))
            except queue_mod.Empty:
                index, proc = silent[0]
                raise WorkerVanished(
                    f"worker {index} (pid {proc.pid}) exited with code 0 before sending its result"
                ) from None


def run_process_split(ctx: RunContext) -> int:
    """Start K processes, collect K partial sums from the queue, then join them."""
    wctx = ctx.worker_context
    results = wctx.Queue()  # a fresh queue for every run
    plans = plan_segments(ctx)
    arity = ctx.workload.arity
    inputs = ctx.inputs()
    # the user's job: each process gets its slice of the items (a built-in's are range(N))
    slices = [inputs[p[0][1] : p[0][2]] if ctx.own else None for p in plans]
    ctx.start_clock()
    procs = [
        wctx.Process(
            target=process_worker,
            args=(ctx.probe, results, i, plans[i], arity, slices[i]),
            name=f"mpscope-worker-{i}",
        )
        for i in range(ctx.workers)
    ]
    for proc in procs:
        proc.start()
    values: dict[int, Any] = {}
    for _ in procs:
        status, index, value, tb = _next_result(results, procs, set(values))
        if status == "error":
            raise WorkerRaised(f"worker {index}: {value}", tb)
        values[index] = value
    total = ctx.gather_parts(values)  # keyed by worker: their slices are in that order
    ctx.stop_clock()
    # every result has been drained, so joining cannot deadlock on the queue
    ctx.teardown(*(proc.join for proc in procs))
    return total


def _units(ctx: RunContext) -> int:
    return 2 * ctx.items if ctx.spec.workload == "poly-pair" else ctx.items


PROCESS = Strategy(
    "process",
    "mp.Process",
    "K mp.Process, each a contiguous slice; results through an mp.Queue",
    "mp.Process(target=work, args=(q, lo, hi)) x K; q.get() x K",
    run_process_split,
    explanation="strategies/process.md",
    seed_cell="In [2]",
    units=_units,
    compared_by_default=True,
)
STRATEGIES = (PROCESS,)

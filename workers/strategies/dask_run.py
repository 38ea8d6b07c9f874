"""How dask runs: ``dask.distributed`` on a LocalCluster of K workers, or on a scheduler you name.

The items are split into tasks of ``chunksize`` items, submitted with ``client.map`` and read
back with ``as_completed(..., with_results=True)``, as a Dask user would write it. Each task
sums its chunk where it runs (``sum_chunk``) and sends back the partial sum with its own
timing, pid and worker address: Dask workers are not the conductor's children in general (a
remote scheduler's never are), so the in-worker probe cannot reach them and per-worker
progress, spans and lanes come from task completions instead.

The clock starts just before the cluster does: starting a LocalCluster (or connecting to a
scheduler) is part of what a user pays, and is reported apart as ``cluster_startup_s``. The
LocalCluster is closed after the run (an external scheduler is left as it was). A worker that
dies mid-run is restarted by its nanny and Dask re-runs its tasks elsewhere: the run still
finishes, and says so in ``workers_lost`` and ``note``; a task whose workers keep dying ends
the run with Dask's ``KilledWorker``; a cluster left with no workers fails the run.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import dask
from distributed import Client, LocalCluster, as_completed, get_worker

from mpscope.workers.context import CannotRun, RunContext
from mpscope.workers.events import WorkerStarted
from mpscope.workers.probe import Lane, run_items, run_range
from mpscope.workers.scheduler_address import parse_scheduler_address

CONNECT_TIMEOUT_S = 2.0  # an unreachable scheduler fails well within 5 s of the request
NO_WORKERS_TIMEOUT_S = 10.0  # a cluster left without workers this long fails the run
HEALTH_CHECK_S = 1.0  # how often an idle wait asks the scheduler whether workers are left
POLL_S = 0.002  # idle wait between looks at the completed tasks


class ChunkResult(NamedTuple):
    """What one task sends back: its partial sum and how it ran (times: the worker's clock)."""

    total: Any  # the partial sum, or (the user's function) the chunk's results
    first: int
    items: int
    t0: float  # time.time() in the worker: comparable across machines, unlike perf_counter
    t1: float
    cpu_s: float
    pid: int
    worker: str  # the Dask worker's address


def sum_chunk(
    lo: int, hi: int, items: Sequence[Any] | None, job: Callable[..., Any], arity: int
) -> ChunkResult:
    """One Dask task: ``sum(job(x) for x in range(lo, hi))``, or (the user's function, its
    ``items``) the list of their results, timed inside the worker."""
    t0 = time.time()
    c0 = time.thread_time()
    total: Any
    if items is None:
        total = run_range(job, lo, hi, arity, None)
    else:
        total = run_items(job, items, lo, False, None)
    cpu = time.thread_time() - c0
    return ChunkResult(total, lo, hi - lo, t0, time.time(), cpu, os.getpid(), get_worker().address)


class WorkerLanes:
    """Dask workers as lanes (by address, in order of appearance), fed by task completions.

    Each lane is a probe ``Lane`` kept in the conductor: completions are recorded as finished
    chunks and flushed as the same Progress / TaskSpan packets the in-worker probe sends.
    """

    def __init__(self, ctx: RunContext) -> None:
        self.probe = ctx.probe
        self.lanes: dict[str, Lane] = {}
        self.nannied: set[str] = set()  # workers a nanny restarts when they die
        # a worker's time.time() + offset = our perf_counter (exact on one machine, and as
        # good as the clocks' synchronization across machines)
        self.clock_offset = time.perf_counter() - time.time()

    def lane(self, address: str, pid: int) -> Lane:
        """The lane of the worker at ``address``, announced (WorkerStarted) on first sight."""
        lane = self.lanes.get(address)
        if lane is None:
            # a thread lane keeps the CPU figure it is given instead of reading its own
            lane = Lane(self.probe, self.probe.claim_index(), thread_lane=True)
            lane.pid = pid
            self.lanes[address] = lane
            self.probe.events.put((WorkerStarted(lane.index, pid, time.perf_counter()),))
        return lane

    def record(self, result: ChunkResult) -> None:
        """A task finished on some worker: count its items and keep its span."""
        lane = self.lane(result.worker, result.pid)
        lane.state = (lane.state[0] + result.items, result.first, 0, 0.0, None)
        t0, t1 = result.t0 + self.clock_offset, result.t1 + self.clock_offset
        lane.spans.append((result.first, result.items, t0, t1))
        lane.busy_s += result.t1 - result.t0
        lane.cpu_s += result.cpu_s

    def flush(self, final: bool = False) -> None:
        """Send each lane's news as one packet (cumulative Progress, merged spans)."""
        for lane in self.lanes.values():
            if lane.finished:
                continue
            if len(lane.spans) > 1:  # results are read as gathered, not as run: time order
                ordered = sorted(lane.spans, key=lambda span: span[2])
                lane.spans.clear()
                lane.spans.extend(ordered)
            packet = lane.packet(None, final=final)
            if packet:
                self.probe.events.put(tuple(packet))
            lane.finished = final


def _worker_order(names: dict[str, Any]) -> Callable[[str], tuple[int, int, str]]:
    """Sort key: workers by name (LocalCluster names them 0..K-1), then by address."""

    def key(address: str) -> tuple[int, int, str]:
        name = names.get(address)
        if isinstance(name, int):
            return (0, name, address)
        return (1, 0, f"{name}|{address}")

    return key


def _announce_workers(client: Client, lanes: WorkerLanes) -> int:
    """Give every worker present a lane now, with its pid; return how many there are."""
    pids: dict[str, int] = client.run(os.getpid)
    info = client.scheduler_info()["workers"]
    names = {address: worker.get("name") for address, worker in info.items()}
    lanes.nannied.update(address for address, worker in info.items() if worker.get("nanny"))
    for address in sorted(pids, key=_worker_order(names)):
        lanes.lane(address, pids[address])
    return len(pids)


# no dashboard, and the scheduler's HTTP routes (which it starts even without one) on a free
# port: with ``dashboard_address=None`` they take 8787 and warn when anything else holds it
NO_DASHBOARD: dict[str, Any] = {
    "dashboard_address": "127.0.0.1:0",
    "scheduler_kwargs": {"dashboard": False},
}


def _start_local_cluster(ctx: RunContext) -> tuple[LocalCluster, Client]:
    """K worker processes of one thread each; no dashboard, no log chatter on stderr."""
    dask.config.set({"distributed.worker.multiprocessing-method": ctx.spec.start_method})
    cluster = LocalCluster(
        n_workers=ctx.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        silence_logs=logging.CRITICAL,
        **NO_DASHBOARD,
    )
    client = Client(cluster)
    client.wait_for_workers(ctx.workers)
    return cluster, client


def _client_within(address: str, timeout: float) -> Client:
    """``Client(address, timeout=...)``, given up on after ``timeout`` + 0.5 s whatever happens.

    Dask's timeout covers the TCP connect, not the handshake after it (dask/distributed#7698),
    so a listener that never answers would hang the run: the client is made in a thread, and
    a thread still stuck is left behind in a conductor that is about to report and exit.
    """
    made: dict[str, Any] = {}

    def connect() -> None:
        try:
            made["client"] = Client(address, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - reported below as one line
            made["error"] = exc

    thread = threading.Thread(target=connect, name="mpscope-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    if "client" in made:
        client: Client = made["client"]
        return client
    error = made.get("error")
    if error is None:
        reason = f"no Dask handshake within {timeout + 0.5:g} s"
    else:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    raise CannotRun(f"no Dask scheduler answered at {address}: {reason}")


def _connect(address: str) -> Client:
    """A client of the running scheduler at ``address``; one clear line if it cannot be had."""
    parsed = parse_scheduler_address(address)
    try:  # a plain connect first: fails at once on a refused port, and says why
        socket.create_connection((parsed.host, parsed.port), timeout=CONNECT_TIMEOUT_S).close()
    except TimeoutError:
        raise CannotRun(
            f"cannot reach the Dask scheduler at {address}: no answer within "
            f"{CONNECT_TIMEOUT_S:g} s"
        ) from None
    except OSError as exc:
        reason = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        raise CannotRun(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    client = _client_within(address, CONNECT_TIMEOUT_S)
    try:
        client.wait_for_workers(1, timeout=NO_WORKERS_TIMEOUT_S)
    except TimeoutError:
        client.close()
        raise CannotRun(
            f"the Dask scheduler at {address} has no workers (waited "
            f"{NO_WORKERS_TIMEOUT_S:g} s): start some with `dask worker {address}`"
        ) from None
    return client


class _NoWorkersWatch:
    """Fails the run when the cluster has had no workers for NO_WORKERS_TIMEOUT_S."""

    def __init__(self, client: Client, where: str) -> None:
        self.client = client
        self.where = where
        self.next_check = time.perf_counter() + HEALTH_CHECK_S
        self.empty_since: float | None = None

    def check(self, waiting: int) -> None:
        """Ask the scheduler (at most every HEALTH_CHECK_S) whether any worker is left."""
        now = time.perf_counter()
        if now < self.next_check:
            return
        self.next_check = now + HEALTH_CHECK_S
        if self.client.nthreads():
            self.empty_since = None
        elif self.empty_since is None:
            self.empty_since = now
        elif now - self.empty_since > NO_WORKERS_TIMEOUT_S:
            raise CannotRun(
                f"{self.where} has had no workers for {NO_WORKERS_TIMEOUT_S:g} s with "
                f"{waiting} tasks waiting; the run was stopped"
            )


def _gather(
    ctx: RunContext, client: Client, lanes: WorkerLanes, futures: list[Any], where: str
) -> int:
    """Reduce the tasks' results (``ctx.gather_parts``) as they complete, flushing lane news
    every tick."""
    completed = as_completed(futures, with_results=True)
    futures.clear()  # each future is dropped once read: a lost worker costs only unread tasks
    watch = _NoWorkersWatch(client, where)
    tick_s = ctx.probe.tick_s
    next_flush = time.perf_counter() + tick_s
    parts: dict[int, Any] = {}
    while not completed.is_empty():
        if completed.has_ready():
            _, result = next(completed)  # raises the task's own exception, if it raised
            if not isinstance(result, ChunkResult):
                raise RuntimeError(f"a Dask task ended without a result: {result!r}")
            parts[result.first] = result.total
            lanes.record(result)
        else:
            time.sleep(POLL_S)
            watch.check(completed.count())
        now = time.perf_counter()
        if now >= next_flush:
            lanes.flush()
            next_flush = now + tick_s
    return ctx.gather_parts(parts)


def _lost_workers(client: Client, lanes: WorkerLanes, since: float) -> list[dict[str, Any]]:
    """Workers the scheduler lost unexpectedly since ``since`` (time.time()), and their tasks."""
    lost = []
    for stamp, msg in client.get_events("all"):
        if stamp < since or not isinstance(msg, dict):
            continue
        if msg.get("action") != "remove-worker" or msg.get("expected"):
            continue
        address = str(msg.get("worker"))
        lane = lanes.lanes.get(address)
        rerun = len(msg.get("processing-tasks", ())) + len(msg.get("lost-computed-tasks", ()))
        lost.append(
            {
                "worker": None if lane is None else lane.index,
                "pid": None if lane is None else lane.pid,
                "address": address,
                "tasks_rerun": rerun,
            }
        )
    return lost


def _lost_note(lost: list[dict[str, Any]], nannied: set[str]) -> str:
    """One line: which workers were lost, and where Dask re-ran their tasks (a replacement
    is named only where a nanny was there to start one: ``dask worker --no-nanny`` has none)."""
    who = ", ".join(
        f"worker {w['worker']} (pid {w['pid']}, {w['address']})"
        if w["worker"] is not None
        else w["address"]
        for w in lost
    )
    rerun = sum(w["tasks_rerun"] for w in lost)
    where = "on the workers left"
    if any(w["address"] in nannied for w in lost):
        where += " (and on replacements their nannies started)"
    return (
        f"{len(lost)} Dask worker(s) lost mid-run: {who}; "
        f"Dask re-ran {rerun} of their tasks {where}"
    )


def _finish_lanes(client: Client, lanes: WorkerLanes, own_cluster: bool) -> None:
    """The lanes' final, exact figures, with each worker process's CPU time if we started it.

    Workers of our LocalCluster live for this run only: their process CPU time (tasks, Dask's
    own threads, start-up) is the run's cost. Workers of someone else's scheduler may be old,
    or threads of one process: their lanes keep the CPU time their tasks measured.
    """
    cpu: dict[str, float] = {}
    if own_cluster:
        try:
            cpu = client.run(time.process_time)
        except Exception:  # noqa: BLE001 - a worker on its way out: keep the tasks' own CPU
            cpu = {}
    for address, lane in lanes.lanes.items():
        if address in cpu:
            lane.cpu_s = cpu[address]
    lanes.flush(final=True)


def run_dask(ctx: RunContext) -> int:
    """``as_completed(client.map(sum_chunk, chunks))`` on a LocalCluster or a given scheduler."""
    job = ctx.job()
    n, size = ctx.items, ctx.chunksize
    starts = list(range(0, n, size))
    ends = [min(lo + size, n) for lo in starts]
    address = ctx.spec.scheduler
    ctx.extra["cluster"] = address or "LocalCluster"
    where = f"the Dask scheduler at {address}" if address else "the LocalCluster"
    lanes = WorkerLanes(ctx)
    since = time.time()
    cluster: LocalCluster | None = None
    ctx.start_clock()
    if address:
        client = _connect(address)
    else:
        cluster, client = _start_local_cluster(ctx)
    ctx.extra["dask_workers"] = _announce_workers(client, lanes)
    ctx.extra["cluster_startup_s"] = round(time.perf_counter() - ctx.wall_t0, 6)
    inputs = ctx.inputs()
    slices = [inputs[lo:hi] if ctx.own else None for lo, hi in zip(starts, ends)]
    futures = client.map(
        sum_chunk, starts, ends, slices, job=job, arity=ctx.workload.arity, pure=False
    )
    total = _gather(ctx, client, lanes, futures, where)
    ctx.stop_clock()
    ctx.extra["tasks"] = len(starts)
    lost = _lost_workers(client, lanes, since)
    if lost:
        ctx.extra["workers_lost"] = lost
        ctx.extra["note"] = _lost_note(lost, lanes.nannied)
    _finish_lanes(client, lanes, own_cluster=cluster is not None)
    if cluster is None:
        ctx.teardown(client.close)  # someone else's scheduler: leave it running
    else:
        ctx.teardown(client.close, cluster.close)
    return total

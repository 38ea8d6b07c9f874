"""Before a run of the user's function: what an item costs, and from what N processes pay off.

Measured in a spawned process of its own, never the caller's (the module is the user's: it
may hang, crash or exit when imported): a few items of the job timed one by one, as the loop
runs them; then this machine's fixed costs of K worker processes under the chosen start
method, measured with no-op tasks: starting the pool, and one task's round trip. From those,
the break-even size: the N above which K processes beat the plain loop,

    N* = (pool start-up + 4K tasks x round trip) / (cost per item x (1 - 1/K))

(``Pool.map``'s own chunksize makes 4K tasks). It is an estimate: results larger than the
items, or a function that releases the GIL, move the real figure.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from mpscope.workers.context import worker_context
from mpscope.workers.own_job import OwnJobRefused, resolve_own_job
from mpscope.workers.supervision import become_group_leader, kill_group
from mpscope.workers.units import format_count, format_seconds

TIMING_BUDGET_S = 0.3  # items are timed until this much time has passed...
MAX_ITEMS_TIMED = 64  # ...or this many items were
ROUND_TRIPS_PER_WORKER = 8  # no-op tasks per worker to time a task's round trip
ESTIMATE_LIMIT_S = 30.0  # an estimate that takes longer is given up
POLL_S = 0.05


@dataclass(frozen=True)
class Estimate:
    """What an item of the user's function costs here, and what K processes cost to use."""

    per_item_s: float
    items_timed: int
    pool_startup_s: float  # starting K worker processes until each has run a task
    task_round_trip_s: float  # one more task, sent and answered, as the parent sees it
    workers: int

    @property
    def break_even_items(self) -> int | None:
        """The N from which K processes should beat the loop (None: one worker never does)."""
        if self.workers < 2 or self.per_item_s <= 0:
            return None
        fixed = self.pool_startup_s + 4 * self.workers * self.task_round_trip_s
        return max(1, math.ceil(fixed / (self.per_item_s * (1 - 1 / self.workers))))

    def line(self) -> str:
        """The estimate in one line, for the window and the command line."""
        cost = f"about {format_seconds(self.per_item_s)} per item (timed on {self.items_timed})"
        n = self.break_even_items
        if n is None:
            return cost
        return (
            f"{cost}; {self.workers} processes pay off from about {format_count(n)} items "
            f"(starting them: {format_seconds(self.pool_startup_s)}, "
            f"{format_seconds(self.task_round_trip_s)} a task)"
        )


def _noop(x: Any) -> Any:
    return x


def _measure(
    job: str, inputs: str | None, spread: bool, start_method: str, workers: int, out: Connection
) -> None:
    """In the estimate's own process: time the items, then the pool's fixed costs."""
    become_group_leader()  # so the caller can end this process and its pool as one group
    try:  # the run's own loading and checks, on its first few items
        own = resolve_own_job(job, inputs, MAX_ITEMS_TIMED, spread, "the estimate", False)
    except OwnJobRefused as exc:
        out.send(exc)
        return
    function, items = own.function, own.inputs
    try:
        timed = 0
        t0 = time.perf_counter()
        for item in items:
            function(*item) if spread else function(item)
            timed += 1
            if time.perf_counter() - t0 >= TIMING_BUDGET_S:
                break
        per_item = (time.perf_counter() - t0) / timed
    except BaseException as exc:  # noqa: BLE001 - the user's function, run on a few items
        line = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
        out.send(OwnJobRefused(f"job {job} raised {line} on one of its first items"))
        return
    t1 = time.perf_counter()
    with worker_context(start_method).Pool(workers) as pool:
        pool.map(_noop, range(workers), 1)  # every worker is up once each ran a task
        startup = time.perf_counter() - t1
        tasks = ROUND_TRIPS_PER_WORKER * workers
        t2 = time.perf_counter()
        pool.map(_noop, range(tasks), 1)
        round_trip = (time.perf_counter() - t2) / tasks
    out.send(Estimate(per_item, timed, startup, round_trip, workers))


def estimate_own_job(
    job: str,
    inputs: str | None,
    start_method: str,
    workers: int,
    spread: bool = False,
    should_stop: Callable[[], bool] = lambda: False,
    limit_s: float = ESTIMATE_LIMIT_S,
) -> Estimate | None:
    """Measure the user's job in a process of its own (see the module's docstring).

    Returns None if ``should_stop()`` turned true first (the process is ended at once);
    raises OwnJobRefused (one line) if the job cannot run or the estimate took too long.
    """
    receive, send = mp.get_context("spawn").Pipe(duplex=False)
    process = mp.get_context("spawn").Process(
        target=_measure,
        args=(job, inputs, spread, start_method, workers, send),
        name="mpscope-estimate",
    )
    process.start()
    send.close()
    deadline = time.monotonic() + limit_s
    try:
        while not receive.poll(POLL_S):
            if should_stop():
                return None
            if not process.is_alive() and not receive.poll(0):
                raise OwnJobRefused(
                    f"job {job}: the estimate's process ended with code {process.exitcode} "
                    "(the module exits or crashes when imported?)"
                )
            if time.monotonic() > deadline:
                raise OwnJobRefused(f"job {job}: estimating took longer than {limit_s:.0f} s")
        result = receive.recv()
        process.join(timeout=5)  # let it close its pool (and unlink its semaphores)
    except EOFError:
        raise OwnJobRefused(f"job {job}: the estimate's process ended without a result") from None
    finally:
        receive.close()
        if process.pid is not None and process.exitcode is None:
            kill_group(process.pid)  # it, and its pool's workers: it was interrupted
            with contextlib.suppress(OSError, ValueError):
                process.kill()  # in case it had not yet become its group's leader
        process.join(timeout=5)
    if isinstance(result, OwnJobRefused):
        raise result
    assert isinstance(result, Estimate)
    return result

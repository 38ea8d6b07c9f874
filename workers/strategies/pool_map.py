"""pool-map, pool-starmap, pool-imap: ``multiprocessing.Pool`` as a user would call it.

The Pool is created with the probe's initializer; the chunk runner the tasks name is the
probed stand-in for the stdlib's (``probe.instrumented_pool_tasks``), so chunking and result
transfer are exactly the stdlib's. The watchdog watches the pool's worker processes: a
killed worker ends the run with its pid and exit code instead of ``map`` hanging forever.
"""

from __future__ import annotations

import multiprocessing.pool
from collections.abc import Callable
from typing import Any

from mpscope.workers.context import RunContext
from mpscope.workers.probe import PerItemJob, init_pool_worker, instrumented_pool_tasks
from mpscope.workers.strategy import Strategy
from mpscope.workers.workloads import Workload


def _start_pool(ctx: RunContext) -> Any:
    # exactly ctx.Pool(K, initializer, initargs): the context registers every worker process
    ctx.any_exit_is_death = True
    return multiprocessing.pool.Pool(
        ctx.workers,
        initializer=init_pool_worker,
        initargs=(ctx.probe,),
        context=ctx.worker_context,
    )


def _finish(ctx: RunContext, pool: Any) -> None:
    ctx.teardown(pool.close, pool.join)


def run_pool_map(ctx: RunContext) -> int:
    """``sum(Pool(K).map(job, range(N), chunksize))``."""
    job = ctx.job()
    ctx.start_clock()
    pool = _start_pool(ctx)
    with instrumented_pool_tasks():
        results = pool.map(job, ctx.inputs(), ctx.chunksize)
    total = ctx.gather(results)
    ctx.stop_clock()
    del results
    _finish(ctx, pool)
    return total


def run_pool_starmap(ctx: RunContext) -> int:
    """``sum(Pool(K).starmap(job, zip(range(N), range(N)), chunksize))``."""
    job = ctx.job()
    ctx.start_clock()
    pool = _start_pool(ctx)
    with instrumented_pool_tasks():
        results = pool.starmap(job, ctx.argument_tuples(), ctx.chunksize)
    total = ctx.gather(results)
    ctx.stop_clock()
    del results
    _finish(ctx, pool)
    return total


def run_pool_imap(ctx: RunContext) -> int:
    """``sum(Pool(K).imap_unordered(job, range(N), chunksize))``, reduced as results stream."""
    job = ctx.job()
    if ctx.chunksize == 1:
        job = PerItemJob(job)  # chunksize 1 sends bare items: count them one by one
    ctx.start_clock()
    pool = _start_pool(ctx)
    with instrumented_pool_tasks():
        total = ctx.gather(pool.imap_unordered(job, ctx.inputs(), ctx.chunksize))
    ctx.stop_clock()
    _finish(ctx, pool)
    return total


STDLIB_RULE = "auto = the stdlib's own rule, ceil(N / (4K))"
MAP_RULE_NOT_ONE = "auto = map's rule ceil(N / (4K)); the stdlib's own default, 1, is very slow"


def _one_argument(strategy: str) -> Callable[[Workload], str | None]:
    def why_not(workload: Workload) -> str | None:
        if workload.arity != 2:  # 0: the user's function, checked against it in the conductor
            return None
        return (
            f"{strategy} passes one argument per item and {workload.id} takes two (x, var); "
            "use pool-starmap, executor, thread-pool, process or sequential"
        )

    return why_not


def _argument_tuples(workload: Workload) -> str | None:
    if workload.arity != 1:
        return None
    return (
        f"pool-starmap unpacks argument tuples from zip(...) and {workload.id} takes one "
        "argument; use pool-map (or square-plus with starmap)"
    )


POOL_MAP = Strategy(
    "pool-map",
    "Pool.map",
    "Pool(K).map(job, range(N), chunksize): one full result list",
    "Pool(K).map(job, range(N), chunksize)",
    run_pool_map,
    why_not=_one_argument("pool-map"),
    chunked=True,
    chunksize_rule=STDLIB_RULE,
    result_bytes_per_item=110,
    explanation="strategies/pool-map.md",
    seed_cell="In [6], [11]",
    default=True,
    compared_by_default=True,
)
POOL_STARMAP = Strategy(
    "pool-starmap",
    "Pool.starmap",
    "Pool(K).starmap(job, zip(a, b), chunksize): several arguments per item",
    "Pool(K).starmap(job, zip(range(N), range(N)), chunksize)",
    run_pool_starmap,
    why_not=_argument_tuples,
    chunked=True,
    chunksize_rule=STDLIB_RULE,
    result_bytes_per_item=260,
    explanation="strategies/pool-starmap.md",
    unpacks_items=True,
    seed_cell="In [13]",
)
POOL_IMAP = Strategy(
    "pool-imap",
    "Pool.imap_unordered",
    "Pool(K).imap_unordered(job, range(N), chunksize), summed as results stream",
    "sum(Pool(K).imap_unordered(job, range(N), chunksize))",
    run_pool_imap,
    why_not=_one_argument("pool-imap"),
    chunked=True,
    chunksize_rule=MAP_RULE_NOT_ONE,
    explanation="strategies/pool-imap.md",
    unordered_results=True,
)
STRATEGIES = (POOL_MAP, POOL_STARMAP, POOL_IMAP)

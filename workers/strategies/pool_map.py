"""pool-map, pool-starmap, pool-imap: ``multiprocessing.Pool`` as a user would call it.

The Pool is created with the probe's initializer; the chunk runner the tasks name is the
probed stand-in for the stdlib's (``probe.instrumented_pool_tasks``), so chunking and result
transfer are exactly the stdlib's. The watchdog watches the pool's worker processes: a
killed worker ends the run with its pid and exit code instead of ``map`` hanging forever.
"""

from __future__ import annotations

import multiprocessing.pool
from typing import Any

from mpscope.workers.context import RunContext
from mpscope.workers.probe import PerItemJob, init_pool_worker, instrumented_pool_tasks
from mpscope.workers.strategies import Strategy


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
        results = pool.map(job, range(ctx.items), ctx.chunksize)
    total: int = sum(results)
    ctx.stop_clock()
    del results
    _finish(ctx, pool)
    return total


def run_pool_starmap(ctx: RunContext) -> int:
    """``sum(Pool(K).starmap(job, zip(range(N), range(N)), chunksize))``."""
    job = ctx.job()
    n = ctx.items
    ctx.start_clock()
    pool = _start_pool(ctx)
    with instrumented_pool_tasks():
        results = pool.starmap(job, zip(range(n), range(n)), ctx.chunksize)
    total: int = sum(results)
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
        total: int = sum(pool.imap_unordered(job, range(ctx.items), ctx.chunksize))
    ctx.stop_clock()
    _finish(ctx, pool)
    return total


STRATEGIES = {
    "pool-map": Strategy("pool-map", run_pool_map),
    "pool-starmap": Strategy("pool-starmap", run_pool_starmap),
    "pool-imap": Strategy("pool-imap", run_pool_imap),
}

"""thread-pool: ``multiprocessing.dummy.Pool(K)``, threads in the conductor (GIL-bound).

Each pool thread is a lane; one sampler thread reads all of them. Cancelling is done by
ending the conductor process: ``terminate()`` on a thread pool returns while its tasks go on.
"""

from __future__ import annotations

from multiprocessing.dummy import Pool as ThreadPool

from mpscope.workers.context import RunContext
from mpscope.workers.probe import init_thread_worker, instrumented_pool_tasks
from mpscope.workers.strategies.pool_map import STDLIB_RULE
from mpscope.workers.strategy import Strategy


def run_thread_pool(ctx: RunContext) -> int:
    """``sum(ThreadPool(K).map(job, range(N), chunksize))`` (starmap for two-argument jobs)."""
    job = ctx.job()
    n = ctx.items
    ctx.start_clock()
    pool = ThreadPool(ctx.workers, initializer=init_thread_worker, initargs=(ctx.probe,))
    with instrumented_pool_tasks():
        if ctx.workload.arity == 2:
            results = pool.starmap(job, zip(range(n), range(n)), ctx.chunksize)
        else:
            results = pool.map(job, ctx.inputs(), ctx.chunksize)
    total = ctx.gather(results)
    ctx.stop_clock()
    del results
    ctx.teardown(pool.close, pool.join)
    return total


THREAD_POOL = Strategy(
    "thread-pool",
    "dummy.Pool (threads)",
    "multiprocessing.dummy.Pool(K).map: threads, bound by the GIL",
    "multiprocessing.dummy.Pool(K).map(job, range(N), chunksize)",
    run_thread_pool,
    chunked=True,
    chunksize_rule=STDLIB_RULE,
    result_bytes_per_item=50,
    starts_processes=False,
    no_processes_note="thread-pool runs threads, not processes",
    threads=True,
    explanation="strategies/thread-pool.md",
    seed_cell="In [15]-[18]",
    compared_by_default=True,
)
STRATEGIES = (THREAD_POOL,)

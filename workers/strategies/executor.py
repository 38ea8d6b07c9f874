"""executor: ``concurrent.futures.ProcessPoolExecutor(K).map(job, ..., chunksize=C)``.

A killed worker makes the executor raise BrokenProcessPool; the watchdog (or the failure
handler) names the dead worker's pid and exit code instead.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from mpscope.workers.context import RunContext
from mpscope.workers.probe import init_pool_worker, instrumented_pool_tasks
from mpscope.workers.strategies.pool_map import MAP_RULE_NOT_ONE
from mpscope.workers.strategy import Strategy


def run_executor(ctx: RunContext) -> int:
    """``sum(ProcessPoolExecutor(K).map(job, range(N), chunksize=C))``."""
    job = ctx.job()
    n = ctx.items
    ctx.any_exit_is_death = True
    ctx.start_clock()
    executor = ProcessPoolExecutor(
        ctx.workers,
        mp_context=ctx.worker_context,
        initializer=init_pool_worker,
        initargs=(ctx.probe,),
    )
    with instrumented_pool_tasks():
        if ctx.workload.arity == 2:
            results = executor.map(job, range(n), range(n), chunksize=ctx.chunksize)
        else:
            results = executor.map(job, ctx.inputs(), chunksize=ctx.chunksize)
    total = ctx.gather(results)
    ctx.stop_clock()
    ctx.teardown(lambda: executor.shutdown(wait=True))
    return total


EXECUTOR = Strategy(
    "executor",
    "ProcessPoolExecutor",
    "concurrent.futures.ProcessPoolExecutor(K).map(job, range(N), chunksize=C)",
    "ProcessPoolExecutor(K).map(job, range(N), chunksize=C)",
    run_executor,
    chunked=True,
    chunksize_rule=MAP_RULE_NOT_ONE,
    result_bytes_per_item=130,
    explanation="strategies/executor.md",
)
STRATEGIES = (EXECUTOR,)

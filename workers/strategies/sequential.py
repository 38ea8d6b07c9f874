"""sequential: a plain for-loop in the conductor process (the seed's In [4])."""

from __future__ import annotations

from mpscope.workers.context import RunContext
from mpscope.workers.probe import attach, run_items, run_range
from mpscope.workers.strategy import Strategy


def run_sequential(ctx: RunContext) -> int:
    """``for x in range(N): total += job(x)`` in one process, as one lane."""
    lane = attach(ctx.probe, watch_parent=False)
    job = ctx.job()
    ctx.start_clock()
    if ctx.own is None:
        total = run_range(job, 0, ctx.items, ctx.workload.arity, lane)
    else:
        total = ctx.gather(run_items(job, ctx.inputs(), 0, False, lane))
    ctx.stop_clock()
    return total


SEQUENTIAL = Strategy(
    "sequential",
    "for-loop",
    "a plain for-loop in one process (the baseline)",
    "for x in range(N): total += job(x)",
    run_sequential,
    multi_worker=False,
    starts_processes=False,
    no_processes_note="sequential starts no worker processes",
    explanation="strategies/sequential.md",
    seed_cell="In [4]",
    lanes=lambda ctx: 1,
    baseline=True,
)
STRATEGIES = (SEQUENTIAL,)

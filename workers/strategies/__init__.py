"""Strategy implementations: each does exactly what its stdlib call does, plus the probe."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from mpscope.workers.context import RunContext

_MODULES = {
    "sequential": "mpscope.workers.strategies.sequential",
    "process": "mpscope.workers.strategies.process_split",
    "pool-map": "mpscope.workers.strategies.pool_map",
    "pool-starmap": "mpscope.workers.strategies.pool_map",
    "pool-imap": "mpscope.workers.strategies.pool_map",
    "thread-pool": "mpscope.workers.strategies.thread_pool",
    "executor": "mpscope.workers.strategies.executor",
    "shared-counter": "mpscope.workers.strategies.shared_counter",
    "dask": "mpscope.workers.strategies.dask_cluster",
    "joblib": "mpscope.workers.strategies.joblib_loky",
}


def _all_items(ctx: RunContext) -> int:
    return ctx.items


def _all_workers(ctx: RunContext) -> int:
    return ctx.workers


@dataclass(frozen=True)
class Strategy:
    """A runnable strategy: run() returns the result; units()/lanes() size the progress."""

    id: str
    run: Callable[[RunContext], int]
    units: Callable[[RunContext], int] = _all_items
    lanes: Callable[[RunContext], int] = _all_workers
    checks_closed_form: bool = True  # False: the strategy puts "expected" in ctx.extra


def get_strategy(strategy_id: str) -> Strategy:
    """The implementation of ``strategy_id`` (imported on demand)."""
    module = importlib.import_module(_MODULES[strategy_id])
    strategy: Strategy = module.STRATEGIES[strategy_id]
    return strategy

"""What each strategy is, which workloads it accepts and how it chunks (no implementations).

Kept apart from the implementations so that validation, the CLI listing and the GUI can ask
these questions without importing multiprocessing machinery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from workers.workloads import WORKLOADS


@dataclass(frozen=True)
class StrategyInfo:
    """Static facts about one strategy."""

    id: str
    description: str
    call: str  # the stdlib call it makes, as a user would write it
    chunked: bool  # takes a chunksize
    auto_chunksize_note: str
    result_bytes_per_item: int  # memory a full result list costs per item; 0: streams
    multi_worker: bool = True  # False: always one worker
    seed_cell: str = ""


STRATEGIES: dict[str, StrategyInfo] = {
    s.id: s
    for s in (
        StrategyInfo(
            "sequential",
            "a plain for-loop in one process (the baseline)",
            "for x in range(N): total += job(x)",
            False,
            "",
            0,
            multi_worker=False,
            seed_cell="In [4]",
        ),
        StrategyInfo(
            "process",
            "K mp.Process, each a contiguous slice; results through an mp.Queue",
            "mp.Process(target=work, args=(q, lo, hi)) x K; q.get() x K",
            False,
            "",
            0,
            seed_cell="In [2]",
        ),
        StrategyInfo(
            "pool-map",
            "Pool(K).map(job, range(N), chunksize): one full result list",
            "Pool(K).map(job, range(N), chunksize)",
            True,
            "auto = the stdlib's own rule, ceil(N / (4K))",
            110,
            seed_cell="In [6], [11]",
        ),
        StrategyInfo(
            "pool-starmap",
            "Pool(K).starmap(job, zip(a, b), chunksize): several arguments per item",
            "Pool(K).starmap(job, zip(range(N), range(N)), chunksize)",
            True,
            "auto = the stdlib's own rule, ceil(N / (4K))",
            260,
            seed_cell="In [13]",
        ),
        StrategyInfo(
            "pool-imap",
            "Pool(K).imap_unordered(job, range(N), chunksize), summed as results stream",
            "sum(Pool(K).imap_unordered(job, range(N), chunksize))",
            True,
            "auto = map's rule ceil(N / (4K)); the stdlib's own default, 1, is very slow",
            0,
        ),
        StrategyInfo(
            "thread-pool",
            "multiprocessing.dummy.Pool(K).map: threads, bound by the GIL",
            "multiprocessing.dummy.Pool(K).map(job, range(N), chunksize)",
            True,
            "auto = the stdlib's own rule, ceil(N / (4K))",
            50,
            seed_cell="In [15]-[18]",
        ),
        StrategyInfo(
            "executor",
            "concurrent.futures.ProcessPoolExecutor(K).map(job, range(N), chunksize=C)",
            "ProcessPoolExecutor(K).map(job, range(N), chunksize=C)",
            True,
            "auto = map's rule ceil(N / (4K)); the stdlib's own default, 1, is very slow",
            130,
        ),
    )
}


def unfit_reason(strategy: str, workload: str) -> str | None:
    """Why ``strategy`` cannot run ``workload``, or None if the pair fits."""
    w = WORKLOADS.get(workload)
    if w is None or strategy not in STRATEGIES:
        return None
    if strategy in ("pool-map", "pool-imap") and w.arity != 1:
        return (
            f"{strategy} passes one argument per item and {workload} takes two (x, var); "
            "use pool-starmap, executor, thread-pool, process or sequential"
        )
    if strategy == "pool-starmap" and w.arity == 1:
        return (
            f"pool-starmap unpacks argument tuples from zip(...) and {workload} takes one "
            "argument; use pool-map (or square-plus with starmap)"
        )
    return None


def accepted_workloads(strategy: str) -> list[str]:
    """The workloads ``strategy`` can run."""
    return [w for w in WORKLOADS if unfit_reason(strategy, w) is None]


def auto_chunksize(items: int, workers: int) -> int:
    """``Pool.map``'s own default: ceil(items / (4 * workers)), at least 1."""
    return max(1, math.ceil(items / (4 * workers)))

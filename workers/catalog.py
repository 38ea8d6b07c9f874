"""What each strategy is, which workloads it accepts and how it chunks (no implementations).

Kept apart from the implementations so that validation, the CLI listing and the GUI can ask
these questions without importing multiprocessing machinery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mpscope.workers.workloads import WORKLOADS


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
    default_workers: int | None = None  # None: one per core
    default_workload: str = "square"  # what runs when no workload is named
    options: tuple[str, ...] = ()  # strategy-specific command-line options, one line each
    requires: tuple[str, ...] = ()  # modules of an optional extra it needs (workers.optional)
    extra: str = ""  # the optional extra that installs them: pip install 'mpscope[EXTRA]'
    max_tasks: int | None = None  # most tasks (ceil(N / chunksize)) it accepts, if bounded
    # its workers start their own way whatever --start-method says (joblib: "loky");
    # None: the start method applies
    own_start_method: str | None = None


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
        StrategyInfo(
            "shared-counter",
            "K mp.Process each add 1 to one shared mp.Value N times, under an mp.Lock (or not)",
            "v = Value('i', 0); lock = Lock(); Process(target=job, args=(v, lock)) x K",
            False,
            "",
            0,
            seed_cell="In [20]",
            default_workers=2,
            default_workload="increment",
            options=(
                "--lock whole|step|none: lock around the whole loop (the seed), around each "
                "increment, or no lock (lost updates); default whole",
                "--delay S: seconds of sleep per increment (default 0.1, as the seed)",
                "--force-race: with --lock none, a barrier between every read and write, so "
                "each round loses K-1 updates",
                "--trace: report the ordered [worker, value] steps",
            ),
        ),
        StrategyInfo(
            "dask",
            "dask.distributed: a LocalCluster of K worker processes (one thread each), or the "
            "scheduler you name; one task per chunk, summed where it runs",
            "client = Client(LocalCluster(n_workers=K, threads_per_worker=1)); "
            "as_completed(client.map(sum_chunk, chunks), with_results=True)",
            True,
            "auto = map's rule ceil(N / (4K)); each task is one chunk",
            0,
            requires=("dask", "distributed"),
            extra="distributed",
            max_tasks=100_000,
            options=(
                "--scheduler tcp://HOST:PORT: use that running Dask scheduler and its workers "
                "instead of starting a LocalCluster",
            ),
        ),
        StrategyInfo(
            "joblib",
            "joblib.Parallel(n_jobs=K) on the loky backend (what scikit-learn users get); "
            "batches of chunksize items",
            "Parallel(n_jobs=K, backend='loky', batch_size=C)(delayed(job)(x) for x in range(N))",
            True,
            "auto = map's rule ceil(N / (4K)); joblib's own default, batch_size='auto', "
            "adapts as it goes",
            0,
            requires=("joblib",),
            extra="distributed",
            own_start_method="loky",
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
    if strategy == "shared-counter" and workload != "increment":
        return (
            f"shared-counter adds 1 to a shared Value per item and runs only the increment "
            f"workload, not {workload}"
        )
    if workload == "increment" and strategy != "shared-counter":
        return (
            f"increment is the shared counter's workload (v.value += 1 on a shared Value) and "
            f"{strategy} does not share one; use shared-counter"
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

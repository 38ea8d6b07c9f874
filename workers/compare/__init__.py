"""Comparing strategies side by side: plan a matrix, run it, summarise it, say what it means.

Qt-free and shared by ``mpscope compare`` and the GUI's compare page:

>>> plan = plan_matrix(["pool-map", "thread-pool"], [1, 2], RunSpec(workload="square", items=10**6))
>>> result = run_matrix(plan)                     # blocking; MatrixRun.poll() does it in steps
>>> for cell in result.summary(): ...             # CellSummary: median/min/max, speed-up
>>> print(" ".join(result.verdict(cores=2)))

Modules: ``plan`` (what runs), ``schedule`` (its bookkeeping: order, records, time left),
``matrix`` (running it with start_run), ``summary`` (statistics),
``sweeps`` (chunksize and grain sweeps), ``verdict`` (the numbers in words). The window runs a
plan's ``MatrixSchedule`` through its own RunController (``gui.compare.matrix_driver``), so
its live views follow every run.
"""

from mpscope.workers.compare.matrix import (
    MatrixEvent,
    MatrixFinished,
    MatrixRun,
    MatrixRunEnded,
    MatrixRunEvents,
    MatrixRunStarted,
    run_matrix,
)
from mpscope.workers.compare.plan import (
    DEFAULT_REPEATS,
    MatrixPlan,
    PlannedRun,
    Skipped,
    plan_matrix,
)
from mpscope.workers.compare.schedule import MatrixResult, MatrixSchedule, MatrixStatus
from mpscope.workers.compare.summary import (
    CellSummary,
    baselines,
    is_baseline,
    is_good,
    run_speedup,
    summarize,
)
from mpscope.workers.compare.sweeps import (
    DEFAULT_GRAINS,
    SweepPoint,
    SweepSeries,
    chunksize_series,
    default_chunksizes,
    grain_series,
    items_for_grain,
    plan_chunksize_sweep,
    plan_grain_sweep,
)
from mpscope.workers.compare.verdict import verdict, verdict_text

__all__ = [
    "DEFAULT_GRAINS",
    "DEFAULT_REPEATS",
    "CellSummary",
    "MatrixEvent",
    "MatrixFinished",
    "MatrixPlan",
    "MatrixResult",
    "MatrixRun",
    "MatrixRunEnded",
    "MatrixRunEvents",
    "MatrixRunStarted",
    "MatrixSchedule",
    "MatrixStatus",
    "PlannedRun",
    "Skipped",
    "SweepPoint",
    "SweepSeries",
    "baselines",
    "chunksize_series",
    "default_chunksizes",
    "grain_series",
    "is_baseline",
    "is_good",
    "items_for_grain",
    "plan_chunksize_sweep",
    "plan_grain_sweep",
    "plan_matrix",
    "run_matrix",
    "run_speedup",
    "summarize",
    "verdict",
    "verdict_text",
]

"""joblib: ``Parallel(n_jobs=K, backend="loky", batch_size=C)``, what scikit-learn users get.

Declared here; how it runs is ``joblib_run``, imported only when a run starts, so listing
and validating never import joblib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mpscope.workers.strategy import Strategy

if TYPE_CHECKING:
    from mpscope.workers.context import RunContext


def run_joblib(ctx: RunContext) -> int:
    """Run on joblib's loky backend (``joblib_run``, imported now)."""
    from mpscope.workers.strategies.joblib_run import run_joblib as run_on_joblib

    return run_on_joblib(ctx)


JOBLIB = Strategy(
    "joblib",
    "joblib",
    "joblib.Parallel(n_jobs=K) on the loky backend (what scikit-learn users get); "
    "batches of chunksize items",
    "Parallel(n_jobs=K, backend='loky', batch_size=C)(delayed(job)(x) for x in range(N))",
    run_joblib,
    chunked=True,
    chunksize_rule="auto = map's rule ceil(N / (4K)); joblib's own default, "
    "batch_size='auto', adapts as it goes",
    own_start_method="loky",
    requires=("joblib",),
    extra="distributed",
    explanation="strategies/joblib.md",
)
STRATEGIES = (JOBLIB,)

"""dask: ``dask.distributed`` on a LocalCluster of K worker processes, or on a scheduler you name.

Declared here with its option (``--scheduler``) and its check; how it runs is ``dask_run``,
imported only when a run starts, so listing and validating never import Dask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mpscope.workers.scheduler_address import EXAMPLE, parse_scheduler_address
from mpscope.workers.spec import SpecError
from mpscope.workers.strategy import Option, Strategy

if TYPE_CHECKING:
    from mpscope.workers.context import RunContext
    from mpscope.workers.spec import RunSpec

SCHEDULER = Option(
    "scheduler",
    "--scheduler",
    "address",
    "dask only: use this running Dask scheduler and its workers instead of starting a LocalCluster",
    "Sc&heduler",
    "The address of a running Dask scheduler to use, tcp://HOST:PORT (or tls://).\n"
    "Empty: start a LocalCluster of K worker processes for this run and shut it down after.",
    placeholder=f"empty: a LocalCluster (or {EXAMPLE})",
    recorded=False,  # the record says where it ran as "cluster"
)


def resolve_scheduler(spec: RunSpec, items: int, workers: int) -> Mapping[str, Any]:
    """The scheduler address, normalized (tcp://HOST:PORT), or SpecError naming a bad one."""
    if spec.scheduler is None:
        return {}
    try:
        return {"scheduler": str(parse_scheduler_address(spec.scheduler))}
    except ValueError as exc:
        raise SpecError(str(exc)) from None


def run_dask(ctx: RunContext) -> int:
    """Run on Dask (``dask_run``, imported now: Dask is only needed once a run starts)."""
    from mpscope.workers.strategies.dask_run import run_dask as run_on_dask

    return run_on_dask(ctx)


DASK = Strategy(
    "dask",
    "Dask",
    "dask.distributed: a LocalCluster of K worker processes (one thread each), or the "
    "scheduler you name; one task per chunk, summed where it runs",
    "client = Client(LocalCluster(n_workers=K, threads_per_worker=1)); "
    "as_completed(client.map(sum_chunk, chunks), with_results=True)",
    run_dask,
    chunked=True,
    chunksize_rule="auto = map's rule ceil(N / (4K)); each task is one chunk",
    options=(SCHEDULER,),
    resolve_options=resolve_scheduler,
    requires=("dask", "distributed"),
    extra="distributed",
    max_tasks=100_000,
    explanation="strategies/dask.md",
)
STRATEGIES = (DASK,)

"""mpscope's engine: workloads, strategies, in-worker probes, the conductor and the CLI.

This package never imports Qt (an import-linter contract in pyproject.toml enforces it), so
it runs headless and is what ``mpscope run`` uses. The GUI drives it through the same API:

>>> from workers import RunSpec, start_run
>>> handle = start_run(RunSpec(strategy="pool-map", workload="square", items=1000, workers=2))
>>> events = handle.drain()          # non-blocking; call it again until handle.finished
>>> handle.wait(10)
True
"""

from workers.events import (
    Progress,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    TaskSpan,
    WorkerExited,
    WorkerStarted,
)
from workers.runner import RunHandle, start_run
from workers.spec import RunSpec, SpecError, validate_spec

__all__ = [
    "Progress",
    "RunCancelled",
    "RunFailed",
    "RunFinished",
    "RunHandle",
    "RunSpec",
    "RunStarted",
    "SpecError",
    "TaskSpan",
    "WorkerExited",
    "WorkerStarted",
    "start_run",
    "validate_spec",
]

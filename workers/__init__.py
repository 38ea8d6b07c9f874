"""mpscope's engine: workloads, strategies, in-worker probes, the conductor and the CLI.

This package never imports Qt (an import-linter contract in pyproject.toml enforces it), so
it runs headless and is what ``mpscope run`` uses. The GUI drives it through the same API:

>>> from workers import RunSpec, start_run
>>> handle = start_run(RunSpec(strategy="pool-map", workload="square", items=1000, workers=2))
>>> events = handle.drain()          # non-blocking; call it again until handle.finished
>>> handle.wait(10)
True
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real names, for type checkers and editors
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

# The public names, imported on first use: a worker process that only needs workers.jobs
# (every spawned pool worker unpickles its job from there) must not pay for the runner,
# the conductor and psutil (about 0.15 s per process).
_EXPORTS = {
    "Progress": "workers.events",
    "RunCancelled": "workers.events",
    "RunFailed": "workers.events",
    "RunFinished": "workers.events",
    "RunStarted": "workers.events",
    "TaskSpan": "workers.events",
    "WorkerExited": "workers.events",
    "WorkerStarted": "workers.events",
    "RunHandle": "workers.runner",
    "start_run": "workers.runner",
    "RunSpec": "workers.spec",
    "SpecError": "workers.spec",
    "validate_spec": "workers.spec",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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

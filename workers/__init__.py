"""mpscope's engine: workloads, strategies, in-worker probes, the conductor and the CLI.

This package never imports Qt (an import-linter contract in pyproject.toml enforces it), so
it runs headless and is what ``mpscope run`` uses. The GUI drives it through the same API:

>>> from mpscope.workers import RunSpec, start_run
>>> handle = start_run(RunSpec(strategy="pool-map", workload="square", items=1000, workers=2))
>>> events = handle.drain()          # non-blocking; call it again until handle.finished
>>> handle.wait(10)
True
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real names, for type checkers and editors
    from mpscope.workers.events import (
        Progress,
        RunCancelled,
        RunFailed,
        RunFinished,
        RunStarted,
        TaskSpan,
        WorkerExited,
        WorkerStarted,
    )
    from mpscope.workers.runner import RunHandle, start_run
    from mpscope.workers.spec import ResolvedSpec, RunSpec, SpecError
    from mpscope.workers.validation import validate_spec

# The public names, imported on first use: a worker process that only needs workers.jobs
# (every spawned pool worker unpickles its job from there) must not pay for the runner,
# the conductor and psutil (about 0.15 s per process).
_EXPORTS = {
    "Progress": "mpscope.workers.events",
    "RunCancelled": "mpscope.workers.events",
    "RunFailed": "mpscope.workers.events",
    "RunFinished": "mpscope.workers.events",
    "RunStarted": "mpscope.workers.events",
    "TaskSpan": "mpscope.workers.events",
    "WorkerExited": "mpscope.workers.events",
    "WorkerStarted": "mpscope.workers.events",
    "RunHandle": "mpscope.workers.runner",
    "start_run": "mpscope.workers.runner",
    "ResolvedSpec": "mpscope.workers.spec",
    "RunSpec": "mpscope.workers.spec",
    "SpecError": "mpscope.workers.spec",
    "validate_spec": "mpscope.workers.validation",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Progress",
    "ResolvedSpec",
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

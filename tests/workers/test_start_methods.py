"""Every process a run starts uses the start method the run names, never the interpreter's default.

Python 3.14 makes forkserver Linux's default (and 3.12 warns when a process with threads
forks): a process started from the default context would change how a run behaves on a new
Python. Here the caller (the window or the CLI) runs with its default changed to another
method, and each process of the run is checked by how it came to be: the conductor spawned by
the caller, a forkserver worker forked by the run's forkserver, a forked worker a copy of its
conductor, a spawned worker a fresh interpreter started by it, loky's workers by loky's own
launcher. (Inside the conductor the default is always spawn, the method that started it:
``BaseProcess._bootstrap`` sets it so on every Python. Code there that leaned on the default
would start spawn workers where the run names fork or forkserver, which the cases below do.)
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Iterator

import psutil
import pytest
from engine_steps import drain_until

from mpscope.workers import RunSpec, optional, start_run
from mpscope.workers.events import Event, Progress, RunStarted, WorkerStarted

# for each method a run names, another default for the caller to have
OTHER_DEFAULT = {"fork": "spawn", "forkserver": "fork", "spawn": "forkserver", "loky": "fork"}
LONG = {"workload": "sleep", "items": 100_000, "sleep_ms": 1.0, "chunksize": 50}
COUNTER = {"workload": "increment", "items": 400}  # 0.1 s per increment: long enough
CASES = [
    ("pool-map", "fork"), ("pool-map", "forkserver"), ("pool-map", "spawn"),
    ("executor", "forkserver"), ("process", "fork"), ("shared-counter", "forkserver"),
    ("dask", "forkserver"), ("joblib", "loky"),
]  # fmt: skip


@pytest.fixture
def caller_default() -> Iterator[Callable[[str], None]]:
    """Sets this process's default start method; the old one is back after the test."""
    previous = multiprocessing.get_start_method(allow_none=True)
    yield lambda method: multiprocessing.set_start_method(method, force=True)
    multiprocessing.set_start_method(previous, force=True)


def how_started(pid: int, starter: psutil.Process) -> str:
    """fork, forkserver, spawn or loky: how ``starter`` (or its forkserver) started ``pid``."""
    proc = psutil.Process(pid)
    cmdline, parent = proc.cmdline(), proc.parent()
    assert parent is not None
    parent_cmdline = " ".join(parent.cmdline())
    if "multiprocessing.forkserver" in parent_cmdline:
        return "forkserver"
    if "loky" in " ".join(cmdline):
        return "loky"
    assert parent.pid == starter.pid, f"pid {pid}: started by {parent_cmdline!r}"
    if _auxv(pid) == _auxv(starter.pid):
        return "fork"  # a copy that never exec'd: the kernel's start-up vector is its parent's
    assert "spawn_main" in " ".join(cmdline), f"pid {pid}: {cmdline}"
    return "spawn"


def _auxv(pid: int) -> bytes:
    """The auxiliary vector the kernel gave ``pid`` at exec (copied as is by a fork, new and
    randomised by every exec: a spawned child's differs from its parent's)."""
    with open(f"/proc/{pid}/auxv", "rb") as f:
        return f.read()


def _workers_at_work(events: list[Event]) -> bool:
    started = {e.worker for e in events if isinstance(e, WorkerStarted)}
    return len(started) >= 2 and any(isinstance(e, Progress) and e.done > 0 for e in events)


@pytest.mark.timeout(90)
@pytest.mark.parametrize(("strategy", "method"), CASES)
def test_every_process_of_a_run_uses_the_method_it_names(
    strategy: str, method: str, caller_default: Callable[[str], None]
) -> None:
    if strategy in ("dask", "joblib") and not optional.is_available(strategy):
        pytest.skip(f"{strategy} is not installed (pip install 'mpscope[distributed]')")
    if not sys.platform.startswith("linux"):
        pytest.skip("reads how each process started from Linux's /proc")
    caller_default(OTHER_DEFAULT[method])
    spec = RunSpec(strategy=strategy, workers=2, start_method=None if method == "loky" else method,
                   **(LONG if strategy != "shared-counter" else COUNTER))  # fmt: skip
    handle = start_run(spec)
    try:
        events = drain_until(handle, _workers_at_work, timeout=45)
        conductor = psutil.Process(handle.pid)
        assert how_started(conductor.pid, psutil.Process()) == "spawn"
        started = next(e for e in events if isinstance(e, RunStarted))
        assert started.spec.start_method == method
        pids = {e.pid for e in events if isinstance(e, WorkerStarted)}
        assert conductor.pid not in pids
        seen = {pid: how_started(pid, conductor) for pid in pids}
    finally:
        handle.close()
    assert seen == dict.fromkeys(pids, method), f"caller's default {OTHER_DEFAULT[method]}"

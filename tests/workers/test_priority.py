"""A run started with a niceness yields the CPU to its caller (the window stays responsive)."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest
from engine_steps import wait_for_workers

from mpscope.workers import RunSpec, start_run


def autogroup_nice(pid: int) -> int | None:
    """The nice value of ``pid``'s scheduling autogroup (Linux), None where there is none.

    The file is missing without autogroup support, and empty for a process still in the
    kernel's default autogroup (no setsid() since boot on its line, as a CI runner may be).
    """
    try:
        fields = Path(f"/proc/{pid}/autogroup").read_text().split()  # "/autogroup-42 nice 5"
    except OSError:
        return None
    return int(fields[-1]) if fields else None


@pytest.mark.timeout(60)
def test_a_niced_run_is_niced_all_the_way_down() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    spec = RunSpec(strategy="pool-map", workload="sleep", items=400, workers=2, sleep_ms=20.0)
    handle = start_run(spec, niceness=5)
    try:
        workers = wait_for_workers(handle, 2)
        for pid in (handle.pid, *(w.pid for w in workers)):
            assert psutil.Process(pid).nice() == min(mine + 5, 19), f"pid {pid}"
        # setsid() gave the run an autogroup of its own (where the kernel has them): niced
        # too, or per-process nice would not lower the run against its caller at all
        assert autogroup_nice(handle.pid) in (None, 5)
    finally:
        handle.close()


@pytest.mark.timeout(60)
def test_a_run_without_niceness_keeps_the_callers_priority() -> None:
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    spec = RunSpec(strategy="pool-map", workload="sleep", items=400, workers=2, sleep_ms=20.0)
    handle = start_run(spec)
    try:
        workers = wait_for_workers(handle, 2)
        for pid in (handle.pid, *(w.pid for w in workers)):
            assert psutil.Process(pid).nice() == mine
    finally:
        handle.close()

"""Finding processes a test left running, by an environment tag every descendant inherits.

The test session puts a unique tag in its environment; every process it starts (conductors,
pool workers, forkservers, dask workers, the CLI under test...) inherits it, even after being
orphaned and re-parented. Tagging keeps concurrent test sessions from seeing each other's
processes as leftovers.
"""

from __future__ import annotations

import os
import time
import uuid

import psutil

TAG = "MPSCOPE_TEST_SESSION"


def tag_session() -> str:
    """Put this session's tag in the environment (idempotent); return it."""
    return os.environ.setdefault(TAG, uuid.uuid4().hex)


def _is_own_helper(proc: psutil.Process) -> bool:
    """This test process's own long-lived multiprocessing helpers (resource tracker, forkserver)."""
    try:
        if proc.ppid() != os.getpid():
            return False
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return True
    return "resource_tracker" in cmd or "forkserver" in cmd


def tagged_processes() -> dict[int, str]:
    """pid -> command line of every live (non-zombie) process carrying this session's tag."""
    tag = os.environ.get(TAG)
    found: dict[int, str] = {}
    if not tag:
        return found
    me = os.getpid()
    for proc in psutil.process_iter():
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(TAG) != tag or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if _is_own_helper(proc):
                continue
            found[proc.pid] = " ".join(proc.cmdline())[:160]
        except psutil.Error:
            continue
    return found


def leftovers(before: set[int], wait_s: float = 3.0) -> list[str]:
    """Tagged processes not in ``before`` still running after up to ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        left = {pid: cmd for pid, cmd in tagged_processes().items() if pid not in before}
        if not left or time.monotonic() > deadline:
            return [f"pid {pid}: {cmd}" for pid, cmd in sorted(left.items())]
        time.sleep(0.05)

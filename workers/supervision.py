"""Stopping process trees for good: psutil trees plus the run's own process group.

Every conductor makes itself the leader of a new session, so the run's whole tree (workers,
pool grandchildren, forkserver helpers, the resource tracker) shares one process group even
after a member has been orphaned and re-parented. Stopping a run kills the tree psutil can
see and then the group, so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import time

import psutil


def become_group_leader() -> int:
    """Start a new session (POSIX) so the run's tree is one process group; return its id."""
    if hasattr(os, "setsid"):
        with contextlib.suppress(OSError):
            os.setsid()
        return os.getpgrp()
    return os.getpid()  # pragma: no cover - Windows has no process groups of this kind


def lower_priority(niceness: int) -> None:
    """Make this process (and all it starts) yield the CPU to the caller by ``niceness``.

    Per-process nice alone is not enough on Linux: with autogroup scheduling (the default on
    desktops) ``setsid()`` puts the run in an autogroup of its own, which competes with the
    caller's as an equal whatever its members' nice values; so the autogroup is niced too.
    """
    if niceness <= 0 or not hasattr(os, "nice"):
        return
    with contextlib.suppress(OSError):
        os.nice(niceness)  # inherited by every worker it starts
    for _ in range(4):  # the kernel allows one change per 100 ms to non-root users
        try:
            with open("/proc/self/autogroup", "w") as autogroup:  # a new one starts at nice 0
                autogroup.write(str(niceness))
            return
        except BlockingIOError:
            time.sleep(0.05)
        except OSError:
            return  # no autogroups here (or not allowed): per-process nice is all there is


def wait_dead(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """Wait until every process is gone or a zombie (dead, awaiting its parent's reaping).

    Returns those still running at the deadline.
    """
    deadline = time.monotonic() + timeout
    pending = list(procs)
    delay = 0.001
    while pending:
        still = []
        for proc in pending:
            # never reap here: a multiprocessing Process object must collect its own child's
            # exit status, or it reports None for ever
            with contextlib.suppress(psutil.Error):
                if proc.status() != psutil.STATUS_ZOMBIE:
                    still.append(proc)
        pending = still
        if not pending or time.monotonic() >= deadline:
            break
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    return pending


def kill_tree(pid: int, pgid: int | None = None, timeout: float = 1.0) -> None:
    """SIGKILL ``pid``, all its descendants and (POSIX) every member of group ``pgid``."""
    procs: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    if pgid is not None and hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)
    wait_dead(procs, timeout)


def kill_group(pgid: int) -> None:
    """SIGKILL every process left in group ``pgid`` (a run's conductor leads its own group)."""
    if hasattr(os, "killpg"):
        with contextlib.suppress(OSError):
            os.killpg(pgid, signal.SIGKILL)


def wait_group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no live (non-zombie) process is left in group ``pgid``; True if none is.

    Cheap when the group is already empty (one signal-0 probe); scans /proc otherwise.
    """
    if not hasattr(os, "killpg"):
        return True
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return True
        if not group_members(pgid):
            return True  # only zombies left: dead, waiting for a parent to reap them
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def group_members(pgid: int) -> list[int]:
    """Pids still alive in process group ``pgid`` (POSIX; empty elsewhere)."""
    if not hasattr(os, "getpgid"):
        return []
    alive = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
    return alive


def semaphore_prefix(run_id: str) -> str:
    """The name prefix of the named semaphores a run's conductor creates (POSIX).

    The conductor sets it as its multiprocessing ``semprefix``, so whatever a conductor
    killed in its first milliseconds could not release can be found by name afterwards.
    """
    return f"/mp-{run_id}"


def unlink_run_semaphores(run_id: str) -> int:
    """Remove the named semaphores a run left in /dev/shm; call once its processes are gone.

    A conductor that ends normally unlinks its own; one killed early leaves them to the
    resource tracker, which unlinks only when its caller exits (and misses any it was never
    told of). Returns how many were removed.
    """
    removed = 0
    name = semaphore_prefix(run_id).lstrip("/")
    for path in glob.glob(f"/dev/shm/sem.{glob.escape(name)}-*"):
        with contextlib.suppress(OSError):
            os.unlink(path)
            removed += 1
    return removed

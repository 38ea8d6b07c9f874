"""Stopping process trees for good: psutil trees plus the run's own process group.

Every conductor makes itself the leader of a new session, so the run's whole tree (workers,
pool grandchildren, forkserver helpers, the resource tracker) shares one process group even
after a member has been orphaned and re-parented. Stopping a run kills the tree psutil can
see and then the group, so nothing outlives it.

A caller that dies hard (SIGKILL) is answered by the run's guardian (``start_guardian``), a
small process that does not share the conductor's GIL: it takes the group down and releases
what the run held within milliseconds, whatever the conductor is busy with.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import multiprocessing
import os
import select
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from multiprocessing import resource_tracker
from typing import Any

import psutil

# where the kernel cannot tell the guardian of a process's end (no pidfd: macOS, Linux < 5.3),
# how often it looks: each look is a few system calls in a process that does nothing else
GUARD_TICK_S = 0.2
# what the libraries a run may use leave in /dev/shm under the conductor's pid, removed by
# their atexit hooks, which a killed conductor never runs: loky's semaphores (its own
# tracker, in the run's group, dies with the run and warns of nothing) and joblib's folders
LIBRARY_LEFTOVERS = ("sem.loky-{pid}-*", "joblib_memmapping_folder_{pid}_*")


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


def unlink_run_semaphores(run_id: str, others: Iterable[str] = ()) -> int:
    """Remove the named semaphores a run left (in /dev/shm) and ``others`` (names); call once
    the processes using them are gone. Returns how many were removed.

    A conductor that ends normally unlinks its own; one killed leaves them to the resource
    tracker, which warns of each as leaked when it exits. So each name removed here is also
    taken off the tracker's list (the tracker this process shares with the run): only those
    this call removed, since whoever unlinked a name first also took it off the list, and a
    name taken off twice makes the tracker print a traceback.
    """
    unlink = _sem_unlink()
    prefix = semaphore_prefix(run_id).lstrip("/")
    found = [
        "/" + os.path.basename(path)[len("sem.") :]
        for path in glob.glob(f"/dev/shm/sem.{glob.escape(prefix)}-*")
    ]
    removed = 0
    for name in [*found, *others]:
        try:
            unlink(name)
        except OSError:
            continue  # gone already (or never named): not ours to report
        removed += 1
        _untrack(name)
    return removed


def _untrack(name: str) -> None:
    """Take semaphore ``name`` off the list of the resource tracker this process reports to.

    Where this process knows of no tracker, there is nobody to tell: asking would start one.
    """
    tracker = getattr(resource_tracker, "_resource_tracker", None)
    if getattr(tracker, "_fd", -1) is None:
        return
    with contextlib.suppress(Exception):  # the tracker is gone: nothing left to warn
        resource_tracker.unregister(name, "semaphore")


def _sem_unlink() -> Callable[[str], None]:
    """The stdlib's own sem_unlink (POSIX), else the /dev/shm file's removal (or nothing)."""
    native: Callable[[str], None] | None = None
    with contextlib.suppress(ImportError):
        native = getattr(importlib.import_module("_multiprocessing"), "sem_unlink", None)
    if native is not None:
        return native

    def remove_file(name: str) -> None:
        os.unlink("/dev/shm/sem." + name.lstrip("/"))

    return remove_file


def queue_semaphores(queue: Any) -> list[str]:
    """The names of the named semaphores behind a multiprocessing Queue (its two locks and
    its size counter); empty where they have none (a fork context unlinks them at once)."""
    names = []
    for part in ("_rlock", "_wlock", "_sem"):
        name = getattr(getattr(getattr(queue, part, None), "_semlock", None), "name", None)
        if isinstance(name, str):
            names.append(name)
    return names


# -- the guardian: no run outlives its caller ---------------------------------------------
def start_guardian(run_id: str, caller_semaphores: Sequence[str], tempdir: str) -> int | None:
    """Fork this run's guardian; return its pid (None where it cannot be: no fork, threads).

    Call it first thing in the conductor, once it leads its group and before any thread
    starts. The conductor's own watchdog thread cannot answer a caller's death in time: the
    conductor's main thread can hold the GIL for seconds inside one C call (building a list
    of 40 million argument pairs, pickling a chunk of millions of items), and a Python signal
    handler waits for it just the same. The guardian shares nothing of that: it leaves the
    run's group, sleeps in ``poll`` on the ends of the caller and of the conductor, and if the
    caller ends first it SIGKILLs the run's group, unlinks the run's named semaphores and the
    caller's ``caller_semaphores`` (those of the event queue it can no longer release),
    taking each off the resource tracker's list, and removes ``tempdir``. When the conductor
    ends first (the usual way) it just exits.
    """
    conductor = os.getpid()
    if not hasattr(os, "fork") or threading.active_count() > 1 or os.getpgrp() != conductor:
        return None  # (not leading its own group, the run is no group the guardian may kill)
    # the process that started us, even if we were re-parented already
    parent = multiprocessing.parent_process()
    caller: psutil.Process | None = None
    with contextlib.suppress(psutil.NoSuchProcess):  # None: it died before it could be watched
        # psutil remembers its start time: a process that reuses its pid is not the caller
        caller = psutil.Process(parent.pid if parent is not None and parent.pid else os.getppid())
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid:
        return pid
    try:
        os.setpgid(0, 0)  # out of the run's group, which it may have to kill
        _quiet_stdio()
        if _caller_ends_first(caller, conductor):
            kill_group(conductor)  # the conductor leads the run's group
            unlink_run_semaphores(run_id, caller_semaphores)
            remove_library_leftovers(conductor)
            shutil.rmtree(tempdir, ignore_errors=True)
    finally:
        os._exit(0)


def remove_library_leftovers(conductor: int) -> None:
    """Remove what loky and joblib left in /dev/shm for a conductor that was killed."""
    for pattern in LIBRARY_LEFTOVERS:
        for path in glob.glob(os.path.join("/dev/shm", pattern.format(pid=conductor))):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def _quiet_stdio() -> None:
    """Point the guardian's stdin, stdout and stderr at /dev/null: it has nothing to say and
    must not keep the caller's pipes open."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)


def _caller_ends_first(caller: psutil.Process | None, conductor: int) -> bool:
    """Wait until the caller or the conductor ends; True if the caller ended first."""
    if caller is None:
        return True
    pidfd_open: Callable[[int], int] | None = getattr(os, "pidfd_open", None)
    fds: list[int] = []
    try:
        if pidfd_open is not None:
            with contextlib.suppress(OSError):
                fds = [pidfd_open(caller.pid), pidfd_open(conductor)]
        if not _running(caller):
            return True  # dead before it could be watched
        if len(fds) == 2:
            poller = select.poll()  # a pidfd becomes readable when its process ends
            for fd in fds:
                poller.register(fd, select.POLLIN)
            while True:
                ready = {fd for fd, _ in poller.poll()}
                if fds[0] in ready:
                    return True  # the caller first (both at once: still the caller's death)
                if fds[1] in ready:
                    return False
        while True:
            if os.getppid() != conductor:  # orphaned: the conductor has ended
                return not _running(caller)
            if not _running(caller):
                return True
            time.sleep(GUARD_TICK_S)
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _running(proc: psutil.Process) -> bool:
    """True while ``proc`` (that very process, not a reuse of its pid) has not ended."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False

"""Steps the engine's tests share: the CLI in a subprocess, a terminal, waiting on a run."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from mpscope.workers.events import Event, RunFailed, WorkerStarted


def mpscope(
    *args: str,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``mpscope ARGS`` (headless, as ``python -m workers``), output captured, no stdin."""
    return subprocess.run(
        [sys.executable, "-m", "mpscope.workers", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        check=False,
    )


def on_a_terminal(
    args: Sequence[str], timeout: float = 60, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run ``mpscope ARGS`` with stderr on a pseudo-terminal: (exit code, stdout, terminal)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mpscope.workers", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    os.close(follower)
    chunks: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    out, _ = proc.communicate(timeout=timeout)
    reader.join(timeout=5)
    os.close(leader)
    return proc.returncode, out, b"".join(chunks).decode(errors="replace")


def drain_until(
    handle: Any, predicate: Callable[[list[Event]], bool], timeout: float = 20.0
) -> list[Event]:
    """Drain a live run until ``predicate(every event so far)`` holds; fail after ``timeout``."""
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not predicate(events):
        assert not handle.finished, f"the run ended first: {handle.outcome}"
        assert time.monotonic() < deadline, "timed out waiting for the run"
        events += handle.drain()
        time.sleep(0.01)
    return events


def wait_for_workers(handle: Any, count: int, timeout: float = 20.0) -> list[WorkerStarted]:
    """The first ``count`` WorkerStarted events of a live run."""
    events = drain_until(
        handle,
        lambda evs: sum(isinstance(e, WorkerStarted) for e in evs) >= count,
        timeout,
    )
    return [e for e in events if isinstance(e, WorkerStarted)][:count]


def wait_outcome(handle: Any, timeout: float) -> Event | None:
    """Drain until the run is over or ``timeout`` passes; the terminal event, if any."""
    deadline = time.monotonic() + timeout
    while not handle.finished and time.monotonic() < deadline:
        handle.drain()
        time.sleep(0.005)
    return handle.outcome


def kill_worker(handle: Any, pid: int, within_s: float) -> tuple[Event | None, float]:
    """SIGKILL worker ``pid`` of a live run from outside, then drain until the run ends or
    ``within_s`` passes, and close it: (its terminal event or None, seconds from the kill)."""
    try:
        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        outcome = wait_outcome(handle, within_s)
        return outcome, time.monotonic() - t0
    finally:
        handle.close()


def assert_failed_naming(outcome: Event | None, pid: int, elapsed: float, within_s: float) -> None:
    """The run failed within ``within_s``, naming the killed worker's pid and its SIGKILL."""
    assert isinstance(outcome, RunFailed), f"no failure within {within_s:g} s: {outcome}"
    assert elapsed < within_s
    assert outcome.pid == pid and outcome.exitcode == -signal.SIGKILL
    assert str(pid) in outcome.error and "SIGKILL" in outcome.error

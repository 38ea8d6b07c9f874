"""Failures end the run, clearly and quickly: a raising job, a killed worker, a dead caller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest
from engine_steps import assert_failed_naming, kill_worker, wait_for_workers, wait_outcome

from mpscope.workers import RunSpec, start_run
from mpscope.workers.events import RunFailed
from mpscope.workers.supervision import wait_dead

LONG = {"workload": "sleep", "items": 100_000, "sleep_ms": 1.0}  # ~50 s with 2 workers


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["pool-map", "pool-imap", "executor", "process", "sequential"])
def test_a_raising_job_fails_the_run_with_the_workers_traceback(strategy: str, run_to_end) -> None:
    spec = RunSpec(strategy=strategy, workload="square", items=5000, workers=2, inject="raise@1234")
    _, outcome = run_to_end(spec)
    assert isinstance(outcome, RunFailed), outcome
    assert outcome.error.count("\n") == 0
    assert "ValueError" in outcome.error and "1234" in outcome.error
    assert "faulty" in outcome.traceback  # the frame inside the worker, not just the conductor


@pytest.mark.timeout(60)
@pytest.mark.parametrize("start_method", ["forkserver", "spawn", "fork"])
@pytest.mark.parametrize("strategy", ["pool-map", "executor", "process", "pool-imap"])
def test_a_worker_killed_from_outside_fails_the_run_within_2s(
    strategy: str, start_method: str
) -> None:
    handle = start_run(RunSpec(strategy=strategy, workers=2, start_method=start_method, **LONG))
    try:
        victim = wait_for_workers(handle, 2)[1]
    except BaseException:
        handle.close()
        raise
    outcome, elapsed = kill_worker(handle, victim.pid, 2.0)
    assert_failed_naming(outcome, victim.pid, elapsed, 2.0)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["pool-map", "executor", "process"])
def test_a_worker_calling_os_exit_fails_the_run_with_its_exit_code(
    strategy: str, run_to_end
) -> None:
    spec = RunSpec(
        strategy=strategy, workload="square", items=50_000, workers=2, inject="exit@30000"
    )
    _, outcome = run_to_end(spec, timeout=20)
    assert isinstance(outcome, RunFailed), outcome
    assert outcome.exitcode == 70 and "exited with code 70" in outcome.error


@pytest.mark.timeout(60)
def test_a_killed_conductor_is_reported_and_its_workers_do_not_linger() -> None:
    handle = start_run(RunSpec(strategy="pool-map", workers=2, **LONG))
    try:
        workers = wait_for_workers(handle, 2)
        os.kill(handle.pid, signal.SIGKILL)
        outcome = wait_outcome(handle, 5.0)
    finally:
        handle.close()
    assert isinstance(outcome, RunFailed)
    assert str(handle.pid) in outcome.error and outcome.exitcode == -9
    alive = wait_dead([psutil.Process(w.pid) for w in workers if psutil.pid_exists(w.pid)], 3)
    assert not alive


CALLER = textwrap.dedent(
    """
    import os, signal, sys, time
    from mpscope.workers import RunSpec, start_run
    from mpscope.workers.events import WorkerStarted
    if __name__ == "__main__":
        handle = start_run(RunSpec(strategy=sys.argv[1], workload="sleep", items=100000,
                                   workers=2, sleep_ms=1.0))
        pids = []
        while len(pids) < 2:
            pids += [e.pid for e in handle.drain() if isinstance(e, WorkerStarted)]
            time.sleep(0.01)
        print(handle.pid, *pids, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the caller dies hard, no clean-up at all
    """
)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", ["pool-map", "process", "executor", "thread-pool"])
def test_a_caller_that_dies_hard_leaves_no_orphans(strategy: str, tmp_path) -> None:
    script = tmp_path / "caller.py"
    script.write_text(CALLER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run(
        [sys.executable, str(script), strategy], capture_output=True, text=True, timeout=30, env=env
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    pids = [int(p) for p in proc.stdout.split()]
    assert len(pids) >= 2
    survivors = [psutil.Process(p) for p in pids if psutil.pid_exists(p)]
    alive = wait_dead(survivors, timeout=5)  # zombies count as dead: init reaps them later
    assert not alive, f"still running after their caller died: {[p.pid for p in alive]}"


@pytest.mark.timeout(60)
def test_a_conductor_killed_at_once_leaves_no_named_semaphore() -> None:
    """The run's locks live in /dev/shm until someone unlinks them; close() does it."""
    import glob

    from mpscope.workers.supervision import semaphore_prefix

    handle = start_run(RunSpec(strategy="pool-map", workload="heavy", items=4000, workers=2))
    names = f"/dev/shm/sem.{semaphore_prefix(handle.run_id).lstrip('/')}-*"
    deadline = time.monotonic() + 20
    while not glob.glob(names):  # the conductor has made its probe's lock, at least
        assert time.monotonic() < deadline and not handle.finished, "no semaphore seen"
        handle.drain()
        time.sleep(0.005)
    os.kill(handle.pid, signal.SIGKILL)
    wait_outcome(handle, 10.0)
    handle.close()
    assert glob.glob(names) == []

"""The dask and joblib strategies: correct, observable, cancellable, robust to dead workers.

Both need the optional extra (``pip install 'mpscope[distributed]'``; ``make test`` installs
it): the tests that run them are skipped, with that reason, where it is missing. The tests of
the unavailable path fake the missing packages instead of uninstalling anything.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from engine_steps import assert_failed_naming, drain_until, kill_worker, mpscope, wait_outcome

from mpscope.workers import RunSpec, cli, optional, start_run
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
from mpscope.workers.scheduler_address import parse_scheduler_address
from mpscope.workers.spec import SpecError
from mpscope.workers.supervision import wait_dead
from mpscope.workers.validation import validate_spec

INSTALL = "pip install 'mpscope[distributed]'"
needs_dask = pytest.mark.skipif(
    not optional.is_available("dask"), reason=f"dask is not installed ({INSTALL})"
)
needs_joblib = pytest.mark.skipif(
    not optional.is_available("joblib"), reason=f"joblib is not installed ({INSTALL})"
)
LONG = {"workload": "sleep", "items": 100_000, "sleep_ms": 1.0, "chunksize": 100}


def _final_progress(events: list) -> dict[int, int]:
    done: dict[int, int] = defaultdict(int)
    for e in events:
        if isinstance(e, Progress):
            done[e.worker] = max(done[e.worker], e.done)
    return dict(done)


def _some_progress(events: list) -> bool:
    return any(isinstance(e, Progress) and e.done > 0 for e in events)


@needs_dask
@needs_joblib
@pytest.mark.timeout(150)
def test_compare_runs_dask_and_joblib_next_to_pool_map(tmp_path) -> None:
    """Both beside the stdlib on one chart: every run correct, each in the summary."""
    done = mpscope(
        *("compare", "--strategies", "pool-map,dask,joblib", "--workers", "2"),
        *("--workload", "square", "--items", "20000", "--chunksize", "5000"),
        *("--repeat", "1", "--json", "--no-progress"),
        timeout=140,
        env={**os.environ, "MPSCOPE_DATA_DIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(done.stdout)
    runs = {run["strategy"]: run for run in record["runs"]}
    assert set(runs) == {"sequential", "pool-map", "dask", "joblib"}
    assert all(run["correct"] for run in runs.values()), runs
    assert {row["strategy"] for row in record["summary"]} >= {"pool-map", "dask", "joblib"}


# -- correct results, seen from inside ---------------------------------------------------------


@needs_dask
@pytest.mark.timeout(90)
def test_dask_on_a_local_cluster_is_correct_and_shows_every_worker(run_to_end, finished) -> None:
    n = 20_000
    spec = RunSpec(strategy="dask", workload="square-plus", items=n, workers=2, chunksize=1000)
    events, outcome = run_to_end(spec)
    done = finished(outcome)
    assert done.correct and done.result == sum(x * x + x for x in range(n))

    started = next(e for e in events if isinstance(e, RunStarted))
    workers = [e for e in events if isinstance(e, WorkerStarted)]
    pids = {e.pid for e in workers}
    assert len(workers) == 2 and len(pids) == 2, workers  # one lane per Dask worker process
    assert started.conductor_pid not in pids and os.getpid() not in pids

    spans = [e for e in events if isinstance(e, TaskSpan)]
    assert sum(s.items for s in spans) == n and sum(s.tasks for s in spans) == 20
    for s in spans:  # the workers' clocks, put on ours: inside the run
        assert started.t - 0.05 <= s.t0 <= s.t1 <= done.t + 0.05
    assert sum(_final_progress(events).values()) == n
    exited = [e for e in events if isinstance(e, WorkerExited)]
    assert {e.pid for e in exited} == pids and sum(e.items for e in exited) == n
    assert all(e.cpu_s > 0 for e in exited)

    extra = done.extra
    assert extra["cluster"] == "LocalCluster" and extra["dask_workers"] == 2
    assert extra["tasks"] == 20
    assert 0 < extra["cluster_startup_s"] < done.wall_s  # start-up is inside the wall time
    assert "workers_lost" not in extra


@needs_joblib
@pytest.mark.timeout(60)
def test_joblib_on_loky_is_correct_and_shows_every_worker(run_to_end, finished) -> None:
    n = 20_000
    spec = RunSpec(strategy="joblib", workload="square", items=n, workers=2, chunksize=1000)
    events, outcome = run_to_end(spec)
    done = finished(outcome)
    assert done.correct and done.result == sum(x * x for x in range(n))

    started = next(e for e in events if isinstance(e, RunStarted))
    pids = {e.pid for e in events if isinstance(e, WorkerStarted)}
    assert len(pids) == 2 and started.conductor_pid not in pids  # two loky worker processes
    spans = [e for e in events if isinstance(e, TaskSpan)]
    assert sum(s.items for s in spans) == n
    assert sum(s.tasks for s in spans) >= n // 1000  # joblib splits the last batches smaller
    assert max(s.items for s in spans) <= 1000 * max(s.tasks for s in spans)
    assert sum(_final_progress(events).values()) == n
    exited = [e for e in events if isinstance(e, WorkerExited)]
    assert {e.pid for e in exited} == pids and sum(e.items for e in exited) == n


@needs_joblib
@pytest.mark.timeout(60)
def test_joblib_with_one_job_runs_in_the_conductor(run_to_end, finished) -> None:
    events, outcome = run_to_end(RunSpec(strategy="joblib", workload="poly-pair", items=5000,
                                         workers=1))  # fmt: skip
    done = finished(outcome)
    assert done.correct
    started = next(e for e in events if isinstance(e, RunStarted))
    assert [e.pid for e in events if isinstance(e, WorkerStarted)] == [started.conductor_pid]
    assert _final_progress(events) == {0: 5000}
    assert "n_jobs=1" in done.extra["note"]


# -- failures, cancel and dead workers ------------------------------------------------------------

BOTH = [pytest.param("dask", marks=needs_dask), pytest.param("joblib", marks=needs_joblib)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", BOTH)
def test_a_raising_job_fails_the_run_with_its_own_error(strategy: str, run_to_end) -> None:
    spec = RunSpec(strategy=strategy, workload="square", items=5000, workers=2, inject="raise@1234")
    _, outcome = run_to_end(spec)
    # joblib SIGKILLs its own workers when a call raises: that is not what went wrong
    assert isinstance(outcome, RunFailed), outcome
    assert "\n" not in outcome.error
    assert "ValueError" in outcome.error and "1234" in outcome.error
    assert "faulty" in outcome.traceback  # the frame inside the worker


def _joblib_leftovers(conductor: int) -> list[str]:
    """What joblib/loky put in /dev/shm for the run whose conductor is ``conductor``."""
    shm = Path("/dev/shm")
    if not shm.is_dir():
        return []
    return [
        p.name
        for p in shm.iterdir()
        if p.name.startswith((f"joblib_memmapping_folder_{conductor}_", f"sem.loky-{conductor}-"))
    ]


@needs_joblib
@pytest.mark.timeout(60)
@pytest.mark.parametrize("ending", ["finished", "cancelled"])
def test_a_joblib_run_leaves_nothing_in_shared_memory(ending: str) -> None:
    """The conductor leaves with os._exit (no atexit): its memmapping folder and loky's
    semaphores are removed all the same, or /dev/shm fills up run after run."""
    spec = RunSpec(strategy="joblib", workers=2, **LONG)
    if ending == "finished":
        spec = spec.replace(workload="square", items=50_000, chunksize=1000)
    handle = start_run(spec)
    try:
        if ending == "finished":
            assert isinstance(wait_outcome(handle, 40.0), RunFinished)
        else:
            drain_until(handle, _some_progress, timeout=30)
            handle.cancel()
    finally:
        handle.close()
    assert _joblib_leftovers(handle.pid) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("strategy", BOTH)
def test_cancel_mid_run_stops_within_a_second(strategy: str) -> None:
    handle = start_run(RunSpec(strategy=strategy, workers=2, **LONG))
    try:
        drain_until(handle, _some_progress, timeout=30)
        t0 = time.monotonic()
        handle.cancel()
        elapsed = time.monotonic() - t0
        events = handle.drain()
    finally:
        handle.close()
    assert elapsed < 1.0, f"cancel took {elapsed:.2f} s"
    assert isinstance(handle.outcome, RunCancelled)
    assert events and events[-1] is handle.outcome


@needs_dask
@pytest.mark.timeout(90)
def test_a_killed_dask_worker_is_replaced_and_its_tasks_rerun_visibly() -> None:
    spec = RunSpec(strategy="dask", workload="sleep", items=400, sleep_ms=10.0, workers=2,
                   chunksize=10)  # fmt: skip
    handle = start_run(spec)
    try:
        events = drain_until(handle, _some_progress, timeout=30)
        victim = next(e for e in events if isinstance(e, WorkerStarted) and e.worker == 0)
        os.kill(victim.pid, signal.SIGKILL)
        outcome = wait_outcome(handle, 30.0)  # never hangs: retried (or failed) in bounded time
    finally:
        handle.close()
    assert isinstance(outcome, RunFinished), f"the run did not end within 30 s: {outcome}"
    assert outcome.correct and outcome.result == 400  # every item exactly once
    lost = outcome.extra["workers_lost"]
    assert [w["pid"] for w in lost] == [victim.pid] and lost[0]["worker"] == 0
    assert f"pid {victim.pid}" in outcome.extra["note"]


@needs_joblib
@pytest.mark.timeout(60)
def test_a_killed_loky_worker_fails_the_run_naming_it() -> None:
    handle = start_run(RunSpec(strategy="joblib", workers=2, **LONG))
    try:
        events = drain_until(handle, _some_progress, timeout=30)
    except BaseException:
        handle.close()
        raise
    victim = next(e for e in events if isinstance(e, WorkerStarted))
    outcome, elapsed = kill_worker(handle, victim.pid, 5.0)
    assert_failed_naming(outcome, victim.pid, elapsed, 5.0)


@needs_dask
@pytest.mark.timeout(60)
def test_a_conductor_killed_during_a_dask_run_leaves_no_worker_behind() -> None:
    handle = start_run(RunSpec(strategy="dask", workers=2, **LONG))
    try:
        events = drain_until(handle, _some_progress, timeout=30)
        workers = [e.pid for e in events if isinstance(e, WorkerStarted)]
        os.kill(handle.pid, signal.SIGKILL)
        outcome = wait_outcome(handle, 5.0)
    finally:
        handle.close()
    assert isinstance(outcome, RunFailed) and outcome.exitcode == -signal.SIGKILL
    alive = wait_dead([psutil.Process(p) for p in workers if psutil.pid_exists(p)], 3.0)
    assert not alive, f"Dask workers outlived their conductor: {[p.pid for p in alive]}"


# -- scheduler addresses ---------------------------------------------------------------------


@pytest.fixture
def dask_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation as if the extra were installed (it checks addresses before any run)."""
    monkeypatch.setattr(optional, "module_installed", lambda name: True)


@pytest.mark.parametrize(
    "address",
    ["nonsense", "tcp://", "tcp://host", "tcp://host:port", "tcp://host:99999",
     "http://127.0.0.1:8786", "tcp://127.0.0.1:8786/path", "tcp://bad host:8786"],
)  # fmt: skip
def test_a_malformed_scheduler_address_is_one_line_at_validation(
    address: str, dask_installed: None
) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(RunSpec(strategy="dask", items=1000, scheduler=address))
    message = str(info.value)
    assert "\n" not in message and repr(address) in message
    assert "tcp://HOST:PORT" in message or "1..65535" in message


def test_well_formed_scheduler_addresses_are_normalized(dask_installed: None) -> None:
    assert str(parse_scheduler_address("127.0.0.1:8786")) == "tcp://127.0.0.1:8786"
    assert str(parse_scheduler_address("TLS://sched.example:443")) == "tls://sched.example:443"
    assert str(parse_scheduler_address("tcp://[::1]:8786")) == "tcp://[::1]:8786"
    spec = validate_spec(RunSpec(strategy="dask", items=10, scheduler="localhost:8786"))
    assert spec.scheduler == "tcp://localhost:8786"
    assert validate_spec(RunSpec(strategy="pool-map", items=10, scheduler="x:1")).scheduler is None


def test_the_cli_rejects_a_bad_scheduler_with_exit_2(dask_installed: None, capsys) -> None:
    assert cli.main(["run", "-s", "dask", "-n", "1000", "--scheduler", "tcp://nowhere"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'tcp://nowhere'" in err and "Traceback" not in err
    assert cli.main(["run", "-s", "pool-map", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert "dask only" in capsys.readouterr().err


def test_too_many_dask_tasks_is_one_line(dask_installed: None) -> None:
    with pytest.raises(SpecError, match=r"1,000,000 dask tasks.*chunksize >= 10"):
        validate_spec(RunSpec(strategy="dask", items=10**6, chunksize=1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """A port that accepts connections and never says a word (not a Dask scheduler)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield f"tcp://127.0.0.1:{s.getsockname()[1]}"


@needs_dask
@pytest.mark.timeout(30)
@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_an_unreachable_scheduler_fails_within_5s_with_one_line(kind: str, request) -> None:
    address = (
        f"tcp://127.0.0.1:{_free_port()}" if kind == "refused"
        else request.getfixturevalue("silent_listener")
    )  # fmt: skip
    t0 = time.monotonic()
    handle = start_run(RunSpec(strategy="dask", items=1000, workers=2, scheduler=address))
    try:
        outcome = wait_outcome(handle, 5.0)
        elapsed = time.monotonic() - t0
    finally:
        handle.close()
    assert isinstance(outcome, RunFailed), f"no failure within 5 s: {outcome}"
    assert elapsed < 5.0
    assert address in outcome.error and "\n" not in outcome.error
    assert outcome.traceback == ""  # a setup problem, fully said in one line


@needs_dask
@pytest.mark.timeout(90)
def test_dask_runs_on_an_existing_scheduler_and_leaves_it_running(run_to_end, finished) -> None:
    from distributed import LocalCluster

    from mpscope.workers.strategies.dask_run import NO_DASHBOARD

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                      host="127.0.0.1", **NO_DASHBOARD) as cluster:  # fmt: skip
        address = cluster.scheduler_address
        spec = RunSpec(strategy="dask", items=20_000, workers=2, chunksize=2000, scheduler=address)
        events, outcome = run_to_end(spec)
        done = finished(outcome)
        assert done.correct and done.extra["cluster"] == address
        # its workers are threads of this process; the run used them and left them running
        assert {e.pid for e in events if isinstance(e, WorkerStarted)} == {os.getpid()}
        assert sum(_final_progress(events).values()) == 20_000
        assert len(cluster.scheduler.workers) == 2


# -- without the extra -------------------------------------------------------------------------


@pytest.fixture
def extra_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if dask, distributed and joblib were not installed."""
    real = optional.module_installed
    missing = {"dask", "distributed", "joblib"}
    monkeypatch.setattr(optional, "module_installed", lambda name: name not in missing and
                        real(name))  # fmt: skip


def test_without_the_extra_both_are_listed_as_unavailable(extra_missing: None, capsys) -> None:
    assert cli.main(["strategies"]) == 0
    text = capsys.readouterr().out
    for strategy in ("dask", "joblib"):
        block = text.split(f"\n{strategy} ", 1)[1].split("\n")[1]
        assert block.strip() == f"unavailable: install with {INSTALL}"
    assert "unavailable" not in text.split("\ndask ", 1)[0]  # the stdlib strategies are there

    assert cli.main(["strategies", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["dask"]["available"] is False and rows["dask"]["install"] == INSTALL
    assert rows["joblib"]["available"] is False and rows["pool-map"]["available"] is True


@pytest.mark.parametrize("strategy", ["dask", "joblib"])
def test_without_the_extra_running_one_exits_2_saying_how_to_install(
    strategy: str, extra_missing: None, capsys
) -> None:
    assert cli.main(["run", "-s", strategy, "-n", "1000"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert strategy in captured.err and INSTALL in captured.err
    assert "Traceback" not in captured.err

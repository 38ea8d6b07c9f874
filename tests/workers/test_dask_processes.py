"""The dask strategy on a real cluster: a scheduler and two workers started as separate
processes with Dask's own commands (``dask scheduler``, ``dask worker``), on loopback.

A run there survives the loss of a worker visibly (its tasks re-run, a note names the lost
worker), never hangs, and leaves the scheduler and the workers it did not lose as it found
them: running, answering, holding nothing of the run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engine_steps import drain_until, wait_outcome

from mpscope.workers import RunSpec, optional, start_run
from mpscope.workers.events import Progress, RunCancelled, RunFinished, WorkerStarted

DASK = Path(sys.executable).with_name("dask")  # the venv's own command
INSTALL = "pip install 'mpscope[distributed]'"
pytestmark = pytest.mark.skipif(
    not (optional.is_available("dask") and DASK.exists()),
    reason=f"dask and its `dask` command are not installed ({INSTALL})",
)
UP_S = 30.0  # for the cluster to come up on a busy machine
STOP_S = 15.0  # for a Dask process to stop on SIGTERM before it is killed
# 80 tasks of 10 items x 10 ms: ~4 s for two workers, so a worker dies with tasks left to do
SPEC = {"strategy": "dask", "workload": "sleep", "items": 800, "sleep_ms": 10.0,
        "workers": 2, "chunksize": 10}  # fmt: skip


@dataclass
class Cluster:
    """A Dask scheduler and its workers, each a process of its own, and a client to ask them."""

    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    client: Any  # distributed.Client

    def state(self) -> tuple[dict[str, str], int, set[str]]:
        """What the scheduler knows: worker address -> name, tasks held, clients connected."""
        info = self.client.scheduler_info()["workers"]
        tasks, clients = self.client.run_on_scheduler(
            lambda dask_scheduler: (len(dask_scheduler.tasks), set(dask_scheduler.clients))
        )
        return {address: str(w["name"]) for address, w in info.items()}, tasks, clients

    def busy_workers(self) -> dict[str, tuple[int, int]]:
        """Per worker address: (results it holds, tasks it knows of)."""
        return dict(
            self.client.run(
                lambda dask_worker: (len(dask_worker.data), len(dask_worker.state.tasks))
            )
        )


def _dask(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # Dask logs at INFO on stderr: kept for a failure's message
        return subprocess.Popen(
            [str(DASK), *args], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_S)


def _wait_for(what: str, predicate: Any, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, (
            f"{what} within {timeout:g} s; log:\n" + (log.read_text(errors="replace")[-3000:])
        )
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """``dask scheduler`` and two ``dask worker --no-nanny`` (w0, w1) on 127.0.0.1, ports
    chosen by the system, no dashboard; stopped afterwards, workers first."""
    from distributed import Client

    log = tmp_path / "dask.log"
    where = tmp_path / "scheduler.json"
    on_loopback = ["--host", "127.0.0.1", "--no-dashboard"]
    scheduler = _dask(
        ["scheduler", *on_loopback, "--port", "0", "--dashboard-address", "127.0.0.1:0",
         "--scheduler-file", str(where)],
        log,
    )  # fmt: skip
    workers: list[subprocess.Popen[bytes]] = []
    client = None
    try:
        _wait_for("no scheduler file", lambda: where.exists() and where.stat().st_size, UP_S, log)
        address = json.loads(where.read_text())["address"]
        for name in ("w0", "w1"):
            one_thread = ["--name", name, "--nthreads", "1", "--no-nanny", *on_loopback]
            own_folder = ["--local-directory", str(tmp_path / name)]
            workers.append(_dask(["worker", address, *one_thread, *own_folder], log))
        client = Client(address, timeout=UP_S)
        client.wait_for_workers(2, timeout=UP_S)
        yield Cluster(address, scheduler, workers, client)
    finally:
        if client is not None:
            client.close()
        for proc in workers:  # before the scheduler: a worker losing it may linger
            _stop(proc)
        _stop(scheduler)


def _wait_idle(cluster: Cluster, clients: set[str]) -> None:
    """Until the scheduler holds no task and only ``clients``, and no worker holds anything
    (a task running when the run ended finishes first: Dask cannot interrupt it)."""
    deadline = time.monotonic() + 20
    while True:
        _, tasks, now = cluster.state()
        busy = {a: held for a, held in cluster.busy_workers().items() if held != (0, 0)}
        if tasks == 0 and now == clients and not busy:
            return
        assert time.monotonic() < deadline, f"left: {tasks} tasks, clients {now}, {busy}"
        time.sleep(0.1)


@pytest.mark.timeout(120)
def test_a_worker_killed_mid_run_is_named_and_the_rest_of_the_cluster_left_as_found(
    cluster: Cluster,
) -> None:
    workers_before, tasks_before, clients_before = cluster.state()
    assert sorted(workers_before.values()) == ["w0", "w1"] and tasks_before == 0
    victim, survivor = cluster.workers
    handle = start_run(RunSpec(scheduler=cluster.address, **SPEC))
    try:
        events = drain_until(
            handle, lambda evs: any(isinstance(e, Progress) and e.done for e in evs), 30
        )
        os.kill(victim.pid, signal.SIGKILL)
        outcome = wait_outcome(handle, 60.0)  # retried (or failed) in bounded time, never hung
    finally:
        handle.close()
    assert isinstance(outcome, RunFinished), f"the run did not finish within 60 s: {outcome}"
    assert outcome.correct and outcome.result == SPEC["items"]  # every item exactly once
    started = {e.pid for e in events if isinstance(e, WorkerStarted)}
    assert started == {victim.pid, survivor.pid}  # the workers' own processes are the lanes
    lost = outcome.extra["workers_lost"]
    (victim_address,) = [a for a, name in workers_before.items() if name == "w0"]
    assert [(w["pid"], w["address"]) for w in lost] == [(victim.pid, victim_address)]
    note = outcome.extra["note"]
    assert f"pid {victim.pid}" in note and victim_address in note
    assert "nann" not in note  # `--no-nanny`: nobody started a replacement
    # the scheduler and the survivor: running, answering, with nothing of the run left
    assert victim.wait(5) == -signal.SIGKILL
    assert cluster.scheduler.poll() is None and survivor.poll() is None
    workers_after, _, _ = cluster.state()
    assert workers_after == {a: n for a, n in workers_before.items() if n == "w1"}
    _wait_idle(cluster, clients_before)


@pytest.mark.timeout(120)
def test_a_cancelled_run_leaves_the_cluster_as_found(cluster: Cluster) -> None:
    workers_before, _, clients_before = cluster.state()
    handle = start_run(RunSpec(scheduler=cluster.address, **SPEC))
    try:
        drain_until(handle, lambda evs: any(isinstance(e, Progress) and e.done for e in evs), 30)
        t0 = time.monotonic()
        handle.cancel()
        elapsed = time.monotonic() - t0
    finally:
        handle.close()
    assert isinstance(handle.outcome, RunCancelled) and elapsed < 2.0
    assert cluster.scheduler.poll() is None and all(w.poll() is None for w in cluster.workers)
    assert cluster.state()[0] == workers_before  # both workers still there
    _wait_idle(cluster, clients_before)

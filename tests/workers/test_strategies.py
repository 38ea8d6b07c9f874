"""Every strategy x accepted workload gives the closed-form result under every start method."""

from __future__ import annotations

import pytest

from mpscope.workers import RunSpec
from mpscope.workers.events import Progress, RunStarted, WorkerExited, WorkerStarted
from mpscope.workers.spec import available_start_methods
from mpscope.workers.strategies import STRATEGIES, accepted_workloads

SIZES = {
    "square": 20_000, "poly-pair": 20_000, "square-plus": 20_000, "heavy": 300, "sleep": 24,
    "increment": 4,  # shared-counter at its seed delay, 0.1 s per increment
}  # fmt: skip
IN_PROCESS = {"sequential", "thread-pool"}  # no worker processes: the start method is moot


def _cases() -> list[tuple[str, str, str]]:
    cases = []
    for strategy in STRATEGIES:
        for workload in accepted_workloads(strategy):
            moot = strategy in IN_PROCESS or STRATEGIES[strategy].own_start_method
            methods = ["forkserver"] if moot else available_start_methods()
            cases += [(strategy, workload, m) for m in methods]
    return cases


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("strategy", "workload", "start_method"), _cases())
def test_result_is_the_closed_form(
    strategy: str, workload: str, start_method: str, run_to_end, finished
) -> None:
    spec = RunSpec(
        strategy=strategy,
        workload=workload,
        items=SIZES[workload],
        workers=2,
        start_method=start_method,
        grain=50,
        sleep_ms=1.0,
    )
    events, outcome = run_to_end(spec)
    result = finished(outcome)
    assert result.correct and result.result == result.expected
    assert result.wall_s > 0 and result.cpu_s > 0
    started = [e for e in events if isinstance(e, RunStarted)]
    assert len(started) == 1
    lanes = 1 if strategy == "sequential" else 2
    announced = {e.worker for e in events if isinstance(e, WorkerStarted)}
    assert announced == set(range(lanes))
    # every unit of work is accounted for, by the workers themselves
    exited = [e for e in events if isinstance(e, WorkerExited)]
    assert sum(e.items for e in exited) == started[0].units
    last = {}
    for e in events:
        if isinstance(e, Progress):
            last[e.worker] = e.done
    assert sum(last.values()) == started[0].units


def test_process_poly_pair_splits_func1_and_func2_as_the_seed(run_to_end, finished) -> None:
    n = 10_000
    events, outcome = run_to_end(
        RunSpec(strategy="process", workload="poly-pair", items=n, workers=2)
    )
    assert finished(outcome).correct
    exited = sorted((e.worker, e.items) for e in events if isinstance(e, WorkerExited))
    assert exited == [(0, n), (1, n)]  # worker 0: func1 over all items, worker 1: func2


def test_thread_pool_lanes_are_threads_of_one_process(run_to_end, finished) -> None:
    events, outcome = run_to_end(RunSpec(strategy="thread-pool", items=50_000, workers=3))
    assert finished(outcome).correct
    started = [e for e in events if isinstance(e, WorkerStarted)]
    assert len({e.pid for e in started}) == 1
    assert len({e.thread for e in started}) == 3

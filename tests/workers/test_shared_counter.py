"""shared-counter: the seed's locked Value, the lock per step, and the race without a lock."""

from __future__ import annotations

import collections
import itertools
import json
import os
import signal
import time

import pytest
from engine_steps import drain_until, mpscope

from mpscope.workers import RunSpec, start_run
from mpscope.workers.events import (
    CounterStep,
    Progress,
    RunCancelled,
    RunFailed,
    RunStarted,
    WorkerExited,
    WorkerStarted,
)
from mpscope.workers.spec import SpecError, available_start_methods
from mpscope.workers.strategies.counter_workers import STEP_EVENTS_PER_S
from mpscope.workers.validation import validate_spec


def counter(**fields: object) -> RunSpec:
    return RunSpec(strategy="shared-counter", workload="increment", **fields)  # type: ignore[arg-type]


def counter_steps(events: list) -> list[CounterStep]:
    return sorted((e for e in events if isinstance(e, CounterStep)), key=lambda e: e.t)


def runs_of(pairs: list[list[int]]) -> list[tuple[int, list[int]]]:
    """Consecutive steps by the same worker: [(worker, [values...]), ...]."""
    out: list[tuple[int, list[int]]] = []
    for worker, value in pairs:
        if out and out[-1][0] == worker:
            out[-1][1].append(value)
        else:
            out.append((worker, [value]))
    return out


def assert_one_holder_at_a_time(steps: list[CounterStep]) -> None:
    """The lock token: holding..released intervals of different workers never overlap."""
    intervals = []
    open_at: dict[int, float] = {}
    for e in steps:
        if e.phase == "holding":
            assert e.worker not in open_at, f"worker {e.worker} took the lock twice"
            open_at[e.worker] = e.t
        elif e.phase == "released":
            intervals.append((open_at.pop(e.worker), e.t, e.worker))
    assert not open_at, f"never released by {sorted(open_at)}"
    intervals.sort()
    for (_, end, a), (start, _, b) in itertools.pairwise(intervals):
        assert end <= start, f"workers {a} and {b} held the lock at once"


# -- lock whole: the seed ----------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("start_method", available_start_methods())
def test_lock_whole_counts_1_to_20_one_worker_after_the_other(
    start_method: str, run_to_end, finished
) -> None:
    spec = counter(items=10, workers=2, lock="whole", delay_s=0.01, trace=True,
                   start_method=start_method)  # fmt: skip
    events, outcome = run_to_end(spec)
    done = finished(outcome)
    assert done.result == done.expected == 20 and done.correct
    assert done.extra["lost"] == 0 and done.extra["as_guaranteed"] is True

    trace = done.extra["trace"]
    assert [v for _, v in trace] == list(range(1, 21))
    blocks = runs_of(trace)
    assert len(blocks) == 2 and {w for w, _ in blocks} == {0, 1}  # two contiguous blocks of ten
    assert [len(values) for _, values in blocks] == [10, 10]

    # the events tell the same story, live: one worker holds while the other waits
    steps = counter_steps(events)
    written = [[e.worker, e.value] for e in steps if e.phase == "step"]
    assert written == trace
    assert_one_holder_at_a_time(steps)
    second = blocks[1][0]
    phases = [e.phase for e in steps if e.worker == second]
    assert phases[:2] == ["waiting", "holding"] and phases[-2:] == ["released", "done"]
    first_release = next(e.t for e in steps if e.phase == "released" and e.worker != second)
    wait = next(w for w in done.extra["counter_per_worker"] if w["worker"] == second)
    assert wait["waits"] == 1 and wait["wait_s"] > 0
    waited_from = next(e.t for e in steps if e.phase == "waiting")
    assert wait["wait_s"] >= first_release - waited_from - 0.005

    # and every worker has its probe lane, like every other strategy
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.units == 20 and started.workers == 2
    assert {e.worker for e in events if isinstance(e, WorkerStarted)} == {0, 1}
    exited = [e for e in events if isinstance(e, WorkerExited)]
    assert sorted((e.worker, e.items) for e in exited) == [(0, 10), (1, 10)]
    last = {e.worker: e.done for e in events if isinstance(e, Progress)}
    assert last == {0: 10, 1: 10}


# -- lock step: interleaving ------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_lock_step_is_exact_and_the_workers_interleave(run_to_end, finished) -> None:
    spec = counter(items=10, workers=2, lock="step", delay_s=0.03, trace=True)
    events, outcome = run_to_end(spec)
    done = finished(outcome)
    assert done.result == done.expected == 20 and done.correct
    trace = done.extra["trace"]
    assert [v for _, v in trace] == list(range(1, 21))
    assert len(runs_of(trace)) > 2  # not one block per worker: they took turns
    steps = counter_steps(events)
    assert_one_holder_at_a_time(steps)
    for worker in (0, 1):  # the lock is taken and let go once per increment
        phases = collections.Counter(e.phase for e in steps if e.worker == worker)
        assert phases["holding"] == phases["released"] == phases["step"] == 10


# -- lock none: lost updates ------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("workers", [2, 3])
def test_force_race_loses_exactly_k_minus_1_updates_every_round(
    workers: int, run_to_end, finished
) -> None:
    m = 40
    spec = counter(items=m, workers=workers, lock="none", force_race=True, delay_s=0.0,
                   trace=True)  # fmt: skip
    events, outcome = run_to_end(spec)
    done = finished(outcome)
    assert done.expected == workers * m
    assert done.result == m  # every round: K reads of the same value, K writes of it plus one
    assert done.extra["lost"] == (workers - 1) * m
    assert not done.correct and done.extra["as_guaranteed"] is True
    written = collections.Counter(v for _, v in done.extra["trace"])
    assert written == {v: workers for v in range(1, m + 1)}
    reads = [e for e in counter_steps(events) if e.phase == "read"]
    assert reads and all(e.value < m for e in reads)


@pytest.mark.timeout(60)
def test_no_lock_never_overcounts_and_reports_what_it_lost(run_to_end, finished) -> None:
    spec = counter(items=20_000, workers=2, lock="none", delay_s=0.0)
    _, outcome = run_to_end(spec)
    done = finished(outcome)
    assert 1 <= done.result <= done.expected == 40_000
    assert done.extra["lost"] == done.expected - done.result
    assert done.extra["guaranteed"] is None and done.extra["as_guaranteed"] is True
    assert done.correct == (done.extra["lost"] == 0)


@pytest.mark.timeout(60)
def test_the_event_rate_is_capped_and_the_totals_stay_exact(run_to_end, finished) -> None:
    k, m = 2, 100_000
    events, outcome = run_to_end(counter(items=m, workers=k, lock="step", delay_s=0.0))
    done = finished(outcome)
    assert done.result == k * m  # exact, whatever was reported
    sent, skipped = done.extra["steps_sent"], done.extra["steps_skipped"]
    assert sent + skipped == k * m
    steps = [e for e in events if isinstance(e, CounterStep)]
    assert sum(e.phase == "step" for e in steps) == sent  # one step event per reported increment
    # at most one reported increment per worker per slot of k / STEP_EVENTS_PER_S seconds
    span = max(e.t for e in steps) - min(e.t for e in steps)
    assert sent <= STEP_EVENTS_PER_S * span + 2 * k
    assert skipped > 0
    assert sum(w["increments"] for w in done.extra["counter_per_worker"]) == k * m


# -- faults and cancel ------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("lock", "force_race"), [("whole", False), ("step", False),
                                                   ("none", True)])  # fmt: skip
def test_cancel_mid_run_stops_within_a_second(lock: str, force_race: bool) -> None:
    spec = counter(items=1000, workers=2, lock=lock, force_race=force_race, delay_s=0.02)
    handle = start_run(spec)
    drain_until(
        handle, lambda evs: any(isinstance(e, CounterStep) and e.phase == "step" for e in evs)
    )
    t0 = time.monotonic()
    handle.cancel()
    elapsed = time.monotonic() - t0
    events = handle.drain()
    handle.close()
    assert elapsed < 1.0, f"cancel took {elapsed:.2f} s"
    assert isinstance(handle.outcome, RunCancelled)
    assert events and events[-1] is handle.outcome  # the autouse fixture: nothing left running


@pytest.mark.timeout(60)
def test_killing_the_lock_holder_fails_the_run_instead_of_leaving_the_waiter_hanging() -> None:
    handle = start_run(counter(items=1000, workers=2, lock="whole", delay_s=0.02))
    pids: dict[int, int] = {}
    holder = None
    deadline = time.monotonic() + 20
    while holder is None or holder not in pids:
        assert time.monotonic() < deadline, "nobody took the lock"
        for e in handle.drain():
            if isinstance(e, WorkerStarted):
                pids[e.worker] = e.pid
            elif isinstance(e, CounterStep) and e.phase == "holding":
                holder = e.worker
        time.sleep(0.01)
    t0 = time.monotonic()
    os.kill(pids[holder], signal.SIGKILL)
    while not handle.finished and time.monotonic() - t0 < 10:
        handle.drain()
        time.sleep(0.01)
    elapsed = time.monotonic() - t0
    handle.close()
    assert isinstance(handle.outcome, RunFailed), handle.outcome
    assert f"worker {holder}" in handle.outcome.error and "SIGKILL" in handle.outcome.error
    assert elapsed < 2.0, f"took {elapsed:.2f} s to notice"


@pytest.mark.timeout(60)
def test_a_raising_increment_fails_the_run_with_the_workers_traceback(run_to_end) -> None:
    _, outcome = run_to_end(counter(items=10, workers=2, delay_s=0.0, inject="raise@4"))
    assert isinstance(outcome, RunFailed), outcome
    assert "worker 0" in outcome.error and "item 4" in outcome.error
    assert "faulty" in outcome.traceback


# -- validation -------------------------------------------------------------------------------


def test_the_defaults_are_the_seeds() -> None:
    spec = validate_spec(counter())
    assert (spec.items, spec.workers, spec.lock, spec.delay_s) == (10, 2, "whole", 0.1)
    assert not spec.force_race and spec.chunksize is None


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        (counter(lock="sometimes"), ["lock 'sometimes'", "whole, step, none"]),
        (counter(delay_s=-0.5), ["delay -0.5 s", "0..60 s"]),
        (counter(force_race=True), ["force-race", "'whole'", "lock none"]),
        (counter(lock="step", force_race=True), ["force-race", "'step'", "lock none"]),
        (counter(lock="none", force_race=True, workers=1), ["workers 1", "2 or more"]),
        (counter(items=2 * 10**9, workers=2), ["4,000,000,000", "2,147,483,647"]),
        (RunSpec(strategy="shared-counter"), ["square", "increment"]),
        (RunSpec(strategy="pool-map", workload="increment"), ["increment", "shared-counter"]),
    ],
)
def test_bad_counter_specs_are_one_line(spec: RunSpec, names: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        validate_spec(spec)
    message = str(info.value)
    assert "\n" not in message
    for name in names:
        assert name in message


# -- the command line -------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_cli_defaults_reproduce_the_seed() -> None:
    proc = mpscope("run", "--strategy", "shared-counter", "--trace", "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert (record["workers"], record["items"], record["lock"], record["delay_s"]) == (
        2, 10, "whole", 0.1,
    )  # fmt: skip
    assert (record["expected"], record["result"], record["lost"]) == (20, 20, 0)
    assert record["correct"] is True and record["workload"] == "increment"
    assert [v for _, v in record["trace"]] == list(range(1, 21))  # the seed printed 1..20
    assert [len(values) for _, values in runs_of(record["trace"])] == [10, 10]
    waits = sorted(w["wait_s"] for w in record["counter_per_worker"])
    assert waits[1] > 0.5  # the second worker waited while the first counted (10 x 0.1 s)


@pytest.mark.timeout(60)
def test_cli_force_race_json_and_exit_code() -> None:
    proc = mpscope("run", "-s", "shared-counter", "-k", "2", "-n", "15", "--lock", "none",
                   "--force-race", "--delay", "0", "--trace", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr  # lost updates are what --lock none was asked for
    record = json.loads(proc.stdout)
    assert record["status"] == "finished" and record["force_race"] is True
    assert (record["expected"], record["result"], record["lost"]) == (30, 15, 15)
    assert record["correct"] is False and record["as_guaranteed"] is True
    assert [w["worker"] for w in record["counter_per_worker"]] == [0, 1]
    for w in record["counter_per_worker"]:
        assert set(w) >= {"wait_s", "hold_s", "waits", "increments"}
    assert len(record["trace"]) == 30 and all(len(pair) == 2 for pair in record["trace"])
    assert "lost" in record["explanation"]


@pytest.mark.timeout(60)
def test_cli_table_says_what_was_lost() -> None:
    proc = mpscope("run", "-s", "shared-counter", "-n", "5", "--lock", "none", "--force-race",
                   "--delay", "0")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "[5 lost, as lock none allows]" in proc.stdout
    assert "lost       5:" in proc.stdout and "barrier" in proc.stdout


def test_cli_lists_the_strategy_with_its_options() -> None:
    rows = json.loads(mpscope("strategies", "--json").stdout)
    row = next(r for r in rows if r["id"] == "shared-counter")
    assert row["workloads"] == ["increment"]
    options = " ".join(row["options"])
    for flag in ("--lock", "--delay", "--force-race", "--trace"):
        assert flag in options
    plain = mpscope("strategies").stdout
    assert "shared-counter" in plain and "--force-race" in plain


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--force-race"], ["force-race", "lock none"]),
        (["--lock", "none", "--force-race", "-k", "1"], ["workers 1", "2 or more"]),
        (["--delay", "-1"], ["delay -1", "0..60"]),
        (["--delay", "soon"], ["'soon'", "seconds"]),
        (["--lock", "sometimes"], ["'sometimes'", "whole, step, none"]),
        (["-w", "square"], ["square", "increment"]),
        (["-n", "2e9"], ["4,000,000,000", "2,147,483,647"]),
        (["-s", "pool-map", "--lock", "step"], ["--lock", "shared-counter only", "pool-map"]),
        (["-s", "pool-map", "--trace"], ["--trace", "shared-counter only"]),
        (["-s", "pool-map", "-w", "increment"], ["increment", "shared-counter"]),
    ],
)
def test_cli_bad_counter_input_exits_2_with_one_line(args: list[str], names: list[str]) -> None:
    strategy = [] if "-s" in args else ["-s", "shared-counter"]
    proc = mpscope("run", *strategy, *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for name in names:
        assert name in lines[0]

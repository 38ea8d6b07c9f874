"""RunTally: one run's events folded once into its status and the figures a record reports."""

from __future__ import annotations

import json

import pytest

from mpscope.workers.events import (
    ENDED_STATUSES,
    Progress,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStatus,
    TaskSpan,
    WorkerExited,
    WorkerStarted,
    ended_status,
)
from mpscope.workers.runner import start_run
from mpscope.workers.spec import RunSpec
from mpscope.workers.tally import RunTally, WorkerFigures
from mpscope.workers.validation import validate_spec

T0 = 1000.0  # the synthetic run's RunStarted time (perf_counter seconds)
SPEC = validate_spec(RunSpec(strategy="pool-map", workload="square", items=100, workers=2))
FINISHED = RunFinished("r", 1, 1, True, 1.0, 1.0, 0.1, 0.0, 0.0, {}, T0 + 1.0)
FAILED = RunFailed("r", "boom", "", None, None, T0 + 1.0)
CANCELLED = RunCancelled("r", T0 + 1.0)


def started() -> RunStarted:
    return RunStarted("r", SPEC, 100, SPEC.chunksize, 2, 4_200_000, 0.1, T0)


def test_a_status_is_its_word_in_comparisons_formatting_and_json() -> None:
    assert RunStatus.FINISHED == "finished"
    assert RunStatus("cancelled") is RunStatus.CANCELLED
    assert f"{RunStatus.STOPPING}" == str(RunStatus.STOPPING) == "stopping"
    assert json.dumps({"status": RunStatus.FAILED}) == '{"status": "failed"}'
    assert [status.value for status in ENDED_STATUSES] == ["finished", "failed", "cancelled"]
    assert all(status.ended for status in ENDED_STATUSES)
    assert not any(RunStatus(word).ended for word in ("idle", "starting", "running", "stopping"))


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (FINISHED, RunStatus.FINISHED),
        (FAILED, RunStatus.FAILED),
        (CANCELLED, RunStatus.CANCELLED),
    ],
)
def test_the_tally_s_status_is_running_until_the_verdict_then_the_verdict_s(
    outcome: RunFinished | RunFailed | RunCancelled, status: RunStatus
) -> None:
    tally = RunTally(SPEC)
    tally.add(started())
    assert tally.status is RunStatus.RUNNING
    tally.add(outcome)
    assert tally.status is status is ended_status(outcome)
    record = tally.summary()
    # a record is data: the plain word, as it goes into JSON and comes back from the history
    assert record["status"] == status.value
    assert type(record["status"]) is str


def test_each_worker_has_one_record_of_its_figures() -> None:
    tally = RunTally(SPEC)
    tally.add(started())
    tally.add(WorkerStarted(0, 41, T0 + 0.1))
    tally.add(WorkerStarted(1, 42, T0 + 0.2, thread=7))
    tally.add(Progress(0, 30, T0 + 0.3, T0 + 0.25))
    tally.add(TaskSpan(0, 0, 30, T0 + 0.1, T0 + 0.25))
    tally.add(Progress(1, 20, T0 + 0.3))
    w0, w1 = tally.workers[0], tally.workers[1]
    assert (w0.pid, w0.thread, w0.started_t) == (41, None, T0 + 0.1)
    assert (w1.pid, w1.thread, w1.started_t) == (42, 7, T0 + 0.2)
    assert (w0.done, w0.items, w0.running_since) == (30, 30, T0 + 0.25)
    assert w1.running_since is None  # between chunks
    assert (w0.progress_events, w0.spans, w0.busy_s) == (1, 1, pytest.approx(0.15))
    assert tally.done == tally.done_reported == 50
    # at exit a worker's own count is the record's; the reported count never goes back
    tally.add(WorkerExited(0, 41, 0, 25, 0.2, 0.3, T0 + 0.9))
    assert (w0.items, w0.done, w0.running_since, w0.exited) == (25, 30, None, True)
    assert (w0.busy_s, w0.cpu_s, w0.exitcode) == (0.2, 0.3, 0)
    assert (tally.done, tally.done_reported) == (45, 50)
    tally.add(Progress(1, 40, T0 + 0.95, T0 + 0.9))
    assert w1.running_since == T0 + 0.9
    tally.add(FINISHED)
    assert w1.running_since is None  # the run is over: no chunk runs any more
    assert tally.summary()["per_worker"] == [
        {"worker": 0, "pid": 41, "items": 25, "busy_s": 0.2, "cpu_s": 0.3},
        {"worker": 1, "pid": 42, "items": 40, "busy_s": 0.0, "cpu_s": None},
    ]


@pytest.mark.timeout(60)
def test_a_tally_given_to_start_run_is_the_handle_s_and_folds_each_event_once() -> None:
    mine = RunTally(SPEC)
    handle = start_run(SPEC, tally=mine)
    drained = 0
    try:
        while not handle.finished:
            drained += len(handle.drain())
            handle.pause(0.05)
    finally:
        handle.close()
    assert handle.tally is mine
    assert mine.events == drained
    assert mine.status is RunStatus.FINISHED
    assert mine.done == SPEC.items
    assert all(isinstance(fig, WorkerFigures) and fig.pid for fig in mine.workers.values())

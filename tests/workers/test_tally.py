"""RunTally: one run's events folded once into its status and the figures a record reports."""

from __future__ import annotations

import json

import pytest

from mpscope.workers.events import (
    ENDED_STATUSES,
    RunCancelled,
    RunFailed,
    RunFinished,
    RunStarted,
    RunStatus,
    ended_status,
)
from mpscope.workers.spec import RunSpec
from mpscope.workers.tally import RunTally
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

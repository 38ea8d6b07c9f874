"""The registry: a strategy declared in one module, outside mpscope, is a strategy like any.

It is listed by ``mpscope strategies``, validated (its facts decide what it accepts), run (the
run's conductor, another process, imports the module that declares it) and checked against
the closed form, with no file of mpscope changed.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mpscope.workers import RunSpec, cli
from mpscope.workers.events import RunFinished, WorkerStarted
from mpscope.workers.spec import SpecError
from mpscope.workers.strategies import STRATEGIES, unregister, why_not
from mpscope.workers.validation import validate_spec
from mpscope.workers.workloads import WORKLOADS

THROWAWAY = '''
"""A throwaway strategy: a plain loop in the conductor, one argument per item."""

from mpscope.workers.probe import attach, run_range
from mpscope.workers.strategies import register
from mpscope.workers.strategy import Strategy


def run(ctx):
    lane = attach(ctx.probe, watch_parent=False)
    job = ctx.job()
    ctx.start_clock()
    total = run_range(job, 0, ctx.items, ctx.workload.arity, lane)
    ctx.stop_clock()
    return total


def one_argument(workload):
    if workload.arity == 1:
        return None
    return f"throwaway takes one argument and {workload.id} takes two"


THROWAWAY = register(
    Strategy(
        "throwaway",
        "a throwaway",
        "a loop declared in a test, nowhere in mpscope",
        "for x in range(N): total += job(x)",
        run,
        why_not=one_argument,
        multi_worker=False,
        starts_processes=False,
        lanes=lambda ctx: 1,
    ),
    __name__,
)
'''


@pytest.fixture
def throwaway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The module ``throwaway_strategy`` on the path (for the conductor too), imported."""
    (tmp_path / "throwaway_strategy.py").write_text(textwrap.dedent(THROWAWAY))
    monkeypatch.syspath_prepend(str(tmp_path))
    import throwaway_strategy  # noqa: F401 - its import registers the strategy

    yield "throwaway"
    unregister("throwaway")
    sys.modules.pop("throwaway_strategy", None)  # the next test imports (registers) it anew


def test_a_strategy_declared_outside_mpscope_is_listed(throwaway: str, capsys) -> None:
    assert cli.main(["strategies", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows[throwaway]["description"] == "a loop declared in a test, nowhere in mpscope"
    fits = [w.id for w in WORKLOADS.values() if w.arity == 1 and not w.shared_state]
    assert rows[throwaway]["workloads"] == fits
    assert list(rows)[:-1] == [s for s in STRATEGIES if s != throwaway]  # appended, last


def test_it_is_validated_with_its_own_facts(throwaway: str) -> None:
    spec = validate_spec(RunSpec(strategy=throwaway, workload="heavy", items=300, workers=2))
    assert spec.workers == 1 and spec.chunksize is None  # one worker, no chunks: its facts
    assert spec.strategy_module == "throwaway_strategy"
    with pytest.raises(SpecError, match="throwaway takes one argument and square-plus"):
        validate_spec(RunSpec(strategy=throwaway, workload="square-plus"))
    assert why_not(throwaway, "increment") is not None  # shares no value: not the counter's
    with pytest.raises(SpecError, match="items 0 is too small"):
        validate_spec(RunSpec(strategy=throwaway, items=0))


@pytest.mark.timeout(60)
def test_it_runs_in_the_conductor_and_is_checked(throwaway: str, run_to_end) -> None:
    spec = RunSpec(strategy=throwaway, workload="heavy", items=300, grain=50)
    events, outcome = run_to_end(spec)
    assert isinstance(outcome, RunFinished), outcome
    assert outcome.correct and outcome.result == WORKLOADS["heavy"].expected(300, grain=50)
    assert len([e for e in events if isinstance(e, WorkerStarted)]) == 1


@pytest.mark.timeout(60)
def test_the_command_line_runs_it(throwaway: str, capsys) -> None:
    assert cli.main(["run", "-s", throwaway, "-n", "1000", "--json", "--no-progress"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["strategy"] == throwaway and record["correct"] is True
    assert record["result"] == WORKLOADS["square"].expected(1000)

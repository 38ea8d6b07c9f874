"""The user's own function under every strategy: imported only by mpscope's worker processes,
refused in one line when it cannot run, its results checked against the plain loop's."""

from __future__ import annotations

import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from engine_steps import mpscope
from user_code import MARK_VARIABLE, RECORDS_ITS_IMPORTERS, importers

from mpscope.workers import RunSpec, start_run
from mpscope.workers.events import Progress, RunCancelled, RunFailed, RunFinished, TaskSpan
from mpscope.workers.optional import unavailable_reason
from mpscope.workers.own_estimate import Estimate, estimate_own_job
from mpscope.workers.own_job import OwnJobRefused, check_results

# the user's module, named as users name theirs: workers.py (mpscope's own is mpscope.workers)
USER_MODULE = (
    RECORDS_ITS_IMPORTERS
    + """
import time

def measure(row):
    return len(row) * 3


def triple(x):
    return 3 * x


def loud(x):
    print("working on", x)
    return x


def scale(row, factor):
    return len(row) * factor


def slow_measure(entry):
    time.sleep(0.005)
    return len(entry)


rows = [f"row {i} " * (i % 5) for i in range(600)]


def pairs():
    return [(row, 3) for row in rows]


def broken(row):
    if row.startswith("row 7 "):
        raise ValueError(f"cannot read {row!r}")
    return len(row)


def not_a_number(row):
    return float("nan")


square = lambda x: x * x


def _outer():
    def inner(x):
        return x
    return inner


nested = _outer()
count = 5


def needs_arguments(a, b):
    return [a, b]
"""
)

EXITS_ON_IMPORT = "import sys\nsys.exit(3)\n"
RAISES_ON_IMPORT = "x = 1\nraise RuntimeError('no config file')\n"
HANGS_ON_IMPORT = "import time\ntime.sleep(600)\n"

JOB_STRATEGIES = [
    "sequential",
    "process",
    "pool-map",
    "pool-starmap",
    "pool-imap",
    "thread-pool",
    "executor",
    pytest.param(
        "dask", marks=pytest.mark.skipif(bool(unavailable_reason("dask")), reason="no dask")
    ),
    pytest.param(
        "joblib", marks=pytest.mark.skipif(bool(unavailable_reason("joblib")), reason="no joblib")
    ),
]


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the user's modules, the current directory, with an import marker."""
    (tmp_path / "workers.py").write_text(USER_MODULE)
    (tmp_path / "exits.py").write_text(EXITS_ON_IMPORT)
    (tmp_path / "crashes.py").write_text(RAISES_ON_IMPORT)
    (tmp_path / "hangs.py").write_text(HANGS_ON_IMPORT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(MARK_VARIABLE, str(tmp_path / "imported-by"))
    return tmp_path


def _importers(folder: Path) -> set[int]:
    return importers(folder / "imported-by")


@pytest.mark.timeout(150)
@pytest.mark.parametrize("form", ["module", "path"])
@pytest.mark.parametrize("strategy", JOB_STRATEGIES)
def test_every_strategy_runs_the_users_function_checked_against_the_loop(
    user_folder: Path, strategy: str, form: str, run_to_end: Callable[..., Any]
) -> None:
    spread = strategy == "pool-starmap"
    name = "workers" if form == "module" else str(user_folder / "workers.py")
    job = f"{name}:{'scale' if spread else 'measure'}"
    inputs = f"{name}:{'pairs' if spread else 'rows'}"
    method = "spawn" if form == "module" else "forkserver"
    spec = RunSpec(strategy=strategy, workers=2, job=job, inputs=inputs, start_method=method)
    events, outcome = run_to_end(spec, 90)
    assert isinstance(outcome, RunFinished), outcome
    assert outcome.correct is True and outcome.expected is None
    assert outcome.extra["check"] == "sequential"
    assert outcome.result == 600  # one result per input item
    # mpscope's own process never imported the user's module: only the conductor and workers
    user_module = sys.modules.get("workers")
    assert not str(getattr(user_module, "__file__", "")).startswith(str(user_folder))
    importers = _importers(user_folder)
    assert importers and os.getpid() not in importers
    spans = [e for e in events if isinstance(e, TaskSpan)]
    assert sum(s.items for s in spans) == 600


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["gui", "resources", "tests", "mpscope_jobs"])
def test_a_user_module_may_have_any_name_mpscope_uses_for_its_own_parts(
    user_folder: Path, name: str
) -> None:
    (user_folder / f"{name}.py").write_text("def triple(x):\n    return 3 * x\n")
    proc = mpscope("run", "--job", f"{name}:triple", "-n", "100", "-m", "spawn", "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["correct"] is True and record["job"] == f"{name}:triple"


@pytest.mark.timeout(60)
def test_progress_comes_from_inside_chunks_of_any_items(
    user_folder: Path, run_to_end: Callable[..., Any]
) -> None:
    """Items that are not numbers (strings here) still show progress inside a running chunk,
    whatever the function's argument is called, and each chunk's bar starts at its index."""
    spec = RunSpec(
        strategy="pool-map",
        workers=2,
        job="workers:slow_measure",
        inputs="workers:rows",
        items=400,
        chunksize=100,  # half a second per chunk at 5 ms an item
    )
    events, outcome = run_to_end(spec)
    assert isinstance(outcome, RunFinished) and outcome.correct is True
    counts = {e.done for e in events if isinstance(e, Progress)}
    assert any(c % 100 for c in counts), f"progress only at chunk ends: {sorted(counts)}"
    firsts = {s.first for s in events if isinstance(s, TaskSpan)}
    assert firsts and all(isinstance(f, int) and f % 100 == 0 and f < 400 for f in firsts)


@pytest.mark.timeout(60)
def test_a_job_that_raises_fails_the_run_naming_the_users_file_and_line(
    user_folder: Path,
) -> None:
    proc = mpscope("run", "--job", "workers:broken", "--inputs", "workers:rows", "--json")
    assert proc.returncode == 1, proc.stderr
    record = json.loads(proc.stdout)
    assert record["status"] == "failed"
    assert record["error"].startswith("ValueError: cannot read 'row 7 ")
    line = USER_MODULE.splitlines().index('        raise ValueError(f"cannot read {row!r}")') + 1
    assert record["error"].endswith(f"(workers.py:{line} in broken)")
    assert f'workers.py", line {line}, in broken' in record["traceback"]


@pytest.mark.timeout(90)
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--job", "nowhere:f"], "module 'nowhere' not found (searched "),
        (["--job", "missing.py:f"], "no such file: missing.py (looked in "),
        (["--job", "workers:nothing"], "has no attribute 'nothing'; its functions: "),
        (["--job", "workers:count"], "count is an int, not a function"),
        (["--job", "workers:square"], "it is a lambda"),
        (["--job", "workers:nested"], "it is a nested function"),
        (["--job", "workers:needs_arguments"], "pool-map calls needs_arguments with 1 argument"),
        (["--job", "workers:measure", "-s", "pool-starmap"], "give --inputs whose items are"),
        (["--job", "workers:measure", "--inputs", "workers:count"], "count is an int, not"),
        (["--job", "workers:measure", "--inputs", "workers:scale"], "scale() needs arguments"),
        (["--job", "exits:f"], "importing exits called sys.exit(3)"),
        (["--job", "crashes:f"], "importing crashes raised RuntimeError: no config file (crashes"),
        (["--job", "workers:measure", "-s", "shared-counter"], "shared-counter"),
        (["--job", "workers"], "expected module:function or file.py:function"),
        (["--inputs", "workers:rows"], "need a job"),
    ],
)
def test_a_job_that_cannot_run_is_refused_in_one_line_exit_2(
    user_folder: Path, args: list[str], says: str
) -> None:
    proc = mpscope("run", *args, "--no-progress")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mpscope: "), proc.stderr
    assert says in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""


@pytest.mark.timeout(60)
def test_a_hung_import_is_ended_by_stop_and_by_its_time_limit(
    user_folder: Path, monkeypatch: pytest.MonkeyPatch, run_to_end: Callable[..., Any]
) -> None:
    handle = start_run(RunSpec(strategy="pool-map", job="hangs:f"))
    time.sleep(1.0)
    t0 = time.monotonic()
    handle.cancel()
    while not handle.finished:
        handle.drain()
        time.sleep(0.01)
    handle.close()
    assert isinstance(handle.outcome, RunCancelled)
    assert time.monotonic() - t0 < 10

    monkeypatch.setenv("MPSCOPE_IMPORT_LIMIT_S", "1")
    _, outcome = run_to_end(RunSpec(strategy="pool-map", job="hangs:f"), 30)
    assert isinstance(outcome, RunFailed) and outcome.refused
    assert "took longer than 1 s" in outcome.error


@pytest.mark.timeout(60)
def test_unchecked_and_uncomparable_results_are_said_to_be_so(user_folder: Path) -> None:
    proc = mpscope("run", "--job", "workers:triple", "-n", "50", "--no-check", "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["job"] == "workers:triple" and record["inputs"] is None
    assert record["items"] == 50 and record["result"] == 50  # range(50): one result each
    assert record["check"] == "unchecked" and record["correct"] is None

    proc = mpscope("run", "--job", "workers:not_a_number", "-n", "50", "--json")
    record = json.loads(proc.stdout)
    assert record["check"] == "sequential" and record["correct"] is None
    assert "NaN" in record["check_line"]

    proc = mpscope("run", "-w", "square", "-n", "50", "--json")
    assert json.loads(proc.stdout)["check"] == "closed form"


@pytest.mark.timeout(60)
def test_what_the_users_function_prints_goes_to_stderr_and_json_stays_whole(
    user_folder: Path,
) -> None:
    proc = mpscope("run", "--job", "workers:loud", "-n", "20", "--json", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["correct"] is True
    assert "working on 19" in proc.stderr


def test_results_are_compared_item_by_item_or_as_a_multiset() -> None:
    loop = [1, 2, 3, 2]
    assert check_results([1, 2, 3, 2], loop, ordered=True).correct is True
    wrong = check_results([1, 2, 4, 2], loop, ordered=True)
    assert wrong.correct is False and wrong.line == "item 2: got 4, the loop gave 3"
    assert check_results([2, 2, 1, 3], loop, ordered=False).correct is True
    assert check_results([2, 1, 1, 3], loop, ordered=False).correct is False
    assert check_results([1, 2], loop, ordered=True).correct is False
    unhashable = [[1], {"a": 2}]
    assert check_results([{"a": 2}, [1]], unhashable, ordered=False).correct is True
    nan = check_results([math.nan], [math.nan], ordered=True)
    assert nan.correct is None and "NaN" in nan.line
    # objects with no == of their own are compared by their contents, or said uncomparable
    assert check_results([Point(1, 2)], [Point(1, 2)], ordered=True).correct is True
    assert check_results([Point(1, 2)], [Point(1, 3)], ordered=True).correct is False
    points = [Point(1, 2), Point(3, 4)]
    assert check_results(points[::-1], [Point(1, 2), Point(3, 4)], ordered=False).correct
    locked = check_results([threading.Lock()], [threading.Lock()], ordered=True)
    assert locked.correct is None and "cannot be compared" in locked.line


class Point:
    """A user's result type with no == of its own."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y


@pytest.mark.timeout(120)
def test_compare_runs_the_users_function_and_its_verdict_names_it(user_folder: Path) -> None:
    proc = mpscope(
        "compare", "--job", "workers:measure", "--inputs", "workers:rows",
        "-s", "sequential,pool-map", "-k", "2", "-r", "1", "--json", "--no-history",
        "--no-progress",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert [run["strategy"] for run in report["runs"]] == ["sequential", "pool-map"]
    assert {run["job"] for run in report["runs"]} == {"workers:measure"}
    assert all(run["correct"] is True and run["items"] == 600 for run in report["runs"])
    assert {cell["job"] for cell in report["summary"]} == {"workers:measure"}
    assert "measure" in report["verdict"]


def test_the_break_even_size_follows_from_the_measured_costs() -> None:
    estimate = Estimate(
        per_item_s=1e-3, items_timed=10, pool_startup_s=0.2, task_round_trip_s=1e-4, workers=2
    )
    # (0.2 s + 4 x 2 tasks x 0.1 ms) / (1 ms x (1 - 1/2)) = 401.6
    assert estimate.break_even_items == 402
    assert "2 processes pay off from about 402 items" in estimate.line()
    assert replace(estimate, workers=1).break_even_items is None


@pytest.mark.timeout(60)
def test_an_estimate_measures_items_in_its_own_process_and_can_be_ended(user_folder: Path) -> None:
    estimate = estimate_own_job("workers:slow_measure", "workers:rows", "forkserver", 2)
    assert estimate is not None and 0.004 < estimate.per_item_s < 0.5
    assert os.getpid() not in _importers(user_folder)
    with pytest.raises(OwnJobRefused, match="took longer than 1 s"):
        estimate_own_job("hangs:f", None, "forkserver", 2, limit_s=1)
    t0 = time.monotonic()
    assert estimate_own_job("hangs:f", None, "forkserver", 2, should_stop=lambda: True) is None
    assert time.monotonic() - t0 < 5


@pytest.mark.timeout(60)
def test_inputs_named_bare_are_the_ones_in_the_jobs_own_module(user_folder: Path) -> None:
    proc = mpscope("run", "--job", "workers.py:measure", "--inputs", "rows", "-n", "30", "--json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["inputs"] == "workers.py:rows" and record["correct"] is True
    assert record["items"] == 30

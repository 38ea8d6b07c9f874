"""The hooks under every supported Python found here (3.10 to 3.13): the programs need only the
standard library, and the hooks are loaded by file path, so mpscope need not be installed there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

Run = Callable[..., Any]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_pools_executors_and_processes_under_each_python(
    python: str, run_traced: Run, run_plain: Run, line_of: Callable[[str, str], int]
) -> None:
    for program, args in (
        ("pool_methods.py", ("spawn",)),
        ("executors.py", ("forkserver",)),
        ("processes.py", ()),
        ("raises.py", ("pool",)),
        ("raises.py", ("thread-executor",)),
    ):
        traced = run_traced(program, *args, python=python)
        assert traced.output == run_plain(program, *args, python=python).output, program
        version = {p["python"] for p in traced.of("hello")}
        assert len(version) == 1 and python.endswith(".".join(version.pop().split(".")[:2]))
        if program == "pool_methods.py":
            pool = traced.one("pool")
            assert pool["label"] == f"pool_methods.py:{line_of(program, 'pool')} Pool(2)"
            assert sum(s["items"] for s in traced.of("span")) == 201
            workers = {w["worker_pid"] for w in traced.of("worker")}
            assert {s["pid"] for s in traced.of("span")} == workers
        if program == "executors.py":
            assert {p["kind"] for p in traced.of("pool")} == {
                "ProcessPoolExecutor",
                "ThreadPoolExecutor",
            }
            assert sum(s["items"] for s in traced.of("span")) == 40 + 8 + 12 + 1
        if program == "processes.py":
            assert [p["exitcode"] for p in traced.of("proc_end")] == [0, 3, -9, 0]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_error_the_standard_library_raises_prints_as_without_mpscope(
    python: str, run_traced: Run, run_plain: Run
) -> None:
    for kind in ("no-workers", "join-running", "submit-after-shutdown", "unpicklable-process"):
        traced = run_traced("misuse.py", kind, python=python)
        assert traced.output == run_plain("misuse.py", kind, python=python).output, kind
        assert traced.returncode == 1
        assert "workers/trace/hook" not in traced.stderr  # no frame of the hooks

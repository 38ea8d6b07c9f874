"""mpscope trace's hooks inside an unmodified program: what its processes tell, and that the
program itself runs exactly as it does alone (same exit code, stdout and stderr)."""

from __future__ import annotations

import re
import sysconfig
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

# fixtures from this folder's conftest: a fake recorder, running a program traced or not
Run = Callable[..., Any]
LineOf = Callable[[str, str], int]
ProgramRun = Any
FakeRecorder = Any
START_METHODS = ("fork", "spawn", "forkserver")
KINDS = {"hello", "pool", "pool_end", "worker", "worker_exit", "call", "span", "proc", "proc_end"}


def told_properly(run: ProgramRun, recorder: FakeRecorder) -> None:
    """Every connection that said anything starts with a hello carrying the key; only known
    kinds follow; every key of a pool or call is unique; every span names a call of its own
    pool. (A worker the pool's ``terminate()`` kills between its connect and its first send
    leaves a connection with nothing on it: nothing said, nothing for the recorder to take.)"""
    assert any(run.connections), "no process of the program told anything"
    for packets in filter(None, run.connections):
        assert packets[0]["k"] == "hello", packets[:2]
        assert packets[0]["key"] == recorder.key
        assert all(p["k"] == "hello" for p in packets[:1])
        assert {p["pid"] for p in packets} == {packets[0]["pid"]}  # one process, one connection
    assert {p["k"] for p in run.packets} <= KINDS
    pools = [p["pool"] for p in run.of("pool")]
    calls = {p["call"]: p["pool"] for p in run.of("call")}
    assert len(pools) == len(set(pools))
    assert len(calls) == len(run.of("call"))
    assert not set(pools) & set(calls)
    for span in run.of("span"):
        assert calls[span["call"]] == span["pool"], span
        assert span["t0"] <= span["t1"] == span["t"]


def items_by_call(run: ProgramRun, pool: str) -> dict[str, int]:
    """The items the spans of each call's label add up to."""
    labels = {p["call"]: p["label"] for p in run.of("call", pool=pool)}
    done: dict[str, int] = defaultdict(int)
    for span in run.of("span", pool=pool):
        done[labels[span["call"]]] += span["items"]
    return dict(done)


def worker_pids(run: ProgramRun, pool: str) -> set[int]:
    return {p["worker_pid"] for p in run.of("worker", pool=pool)}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("method", START_METHODS)
def test_every_method_of_a_pool_is_told_with_its_line_and_its_items(
    method: str, run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "pool_methods.py"
    traced = run_traced(program, method)
    assert traced.output == run_plain(program, method).output
    assert traced.returncode == 0
    told_properly(traced, fake_recorder)

    pool = traced.one("pool")
    assert pool["label"] == f"pool_methods.py:{line_of(program, 'pool')} Pool(2)"
    assert (pool["kind"], pool["workers"], pool["line"]) == ("Pool", 2, line_of(program, "pool"))
    assert pool["file"].endswith("programs/pool_methods.py")
    assert pool["pid"] == traced.connections[0][0]["pid"]  # the program's own process made it
    key = pool["pool"]

    def label(mark: str, text: str) -> str:
        return f"pool_methods.py:{line_of(program, mark)} {text}"

    expected = {
        label("map", "pool.map(square, range(100), chunksize=5)"): ("map", 100, 100),
        label("starmap", "pool.starmap(add, zip(range(30), range(30)))"): ("starmap", 30, 30),
        label("imap", "pool.imap(square, range(20))"): ("imap", 20, 20),
        label("imap-chunks", "pool.imap(square, range(20), chunksize=3)"): ("imap", 20, 20),
        label("unordered", "pool.imap_unordered(square, range(10))"): ("imap_unordered", 10, 10),
        label("apply", "pool.apply(square, (7,))"): ("apply", None, 1),
        label("async", "pool.apply_async(square, (i,), callback=got.append)"): (
            "apply_async",
            None,
            6,
        ),
        label("map-async", "pool.map_async(square, range(12))"): ("map_async", 12, 12),
        label("starmap-async", "pool.starmap_async(add, [(1, 2), (3, 4)])"): (
            "starmap_async",
            2,
            2,
        ),
    }
    calls = {p["label"]: (p["method"], p["items"]) for p in traced.of("call", pool=key)}
    assert calls == {text: (method, items) for text, (method, items, _) in expected.items()}
    assert items_by_call(traced, key) == {text: done for text, (_, _, done) in expected.items()}
    # the six apply_async calls from one line are one call, their tasks numbered 0..5
    async_call = traced.one("call", method="apply_async")["call"]
    assert sorted(s["index"] for s in traced.of("span", call=async_call)) == list(range(6))
    # a map's tasks are its chunks: 20 of 5 items, numbered as the stdlib numbers them
    map_call = traced.one("call", method="map")["call"]
    assert sorted(s["index"] for s in traced.of("span", call=map_call)) == list(range(20))
    assert {s["items"] for s in traced.of("span", call=map_call)} == {5}

    workers = worker_pids(traced, key)
    assert len(workers) == 2
    assert {s["pid"] for s in traced.of("span", pool=key)} == workers
    assert all(s["tid"] is None and s["ok"] for s in traced.of("span", pool=key))
    assert {p["worker_pid"] for p in traced.of("worker_exit", pool=key)} == workers
    assert traced.one("pool_end", pool=key)["how"] == "terminate"  # the with-block's __exit__


@pytest.mark.timeout(90)
def test_a_pool_ends_by_close_and_join_by_terminate_or_by_the_garbage_collector(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "pool_lifecycle.py"
    traced = run_traced(program)
    assert traced.output == run_plain(program).output
    told_properly(traced, fake_recorder)
    ends = {}
    for mark, size in (("close-pool", 2), ("terminate-pool", 3), ("gc-pool", 2)):
        pool = traced.one("pool", label=f"pool_lifecycle.py:{line_of(program, mark)} Pool({size})")
        ends[mark] = traced.one("pool_end", pool=pool["pool"])["how"]
        assert len(worker_pids(traced, pool["pool"])) == size
    assert ends == {"close-pool": "close", "terminate-pool": "terminate", "gc-pool": "gc"}
    # every task of every pool is told, the one just before terminate() too
    assert sum(s["items"] for s in traced.of("span")) == 50 + 1 + 50


@pytest.mark.timeout(60)
def test_a_thread_pool_tells_its_threads_as_its_workers(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "thread_pool.py"
    traced = run_traced(program)
    assert traced.output == run_plain(program).output
    told_properly(traced, fake_recorder)
    pool = traced.one("pool")
    assert pool["label"] == f"thread_pool.py:{line_of(program, 'pool')} ThreadPool(3)"
    workers = traced.of("worker", pool=pool["pool"])
    assert {w["worker_pid"] for w in workers} == {pool["pid"]}  # threads of the program
    tids = {w["tid"] for w in workers}
    assert len(tids) == 3 and None not in tids
    spans = traced.of("span", pool=pool["pool"])
    assert {s["tid"] for s in spans} == tids
    assert {s["pid"] for s in spans} == {pool["pid"]}
    assert items_by_call(traced, pool["pool"]) == {
        f"thread_pool.py:{line_of(program, 'map')} pool.map(square, range(60), chunksize=4)": 60,
        f"thread_pool.py:{line_of(program, 'imap')} pool.imap(square, range(5))": 5,
        f"thread_pool.py:{line_of(program, 'apply-async')} pool.apply_async(square, (9,))": 1,
    }
    exits = traced.of("worker_exit", pool=pool["pool"])
    assert {e["tid"] for e in exits} == tids
    assert {e["exitcode"] for e in exits} == {None}
    assert traced.one("pool_end", pool=pool["pool"])["how"] == "close"


@pytest.mark.timeout(90)
@pytest.mark.parametrize("method", START_METHODS)
def test_executors_tell_their_workers_their_maps_and_their_submits(
    method: str, run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "executors.py"
    traced = run_traced(program, method)
    assert traced.output == run_plain(program, method).output
    told_properly(traced, fake_recorder)

    def place(mark: str) -> str:
        return f"executors.py:{line_of(program, mark)}"

    procs = traced.one("pool", kind="ProcessPoolExecutor")
    assert procs["label"] == f"{place('process-executor')} ProcessPoolExecutor(2)"
    key = procs["pool"]
    assert items_by_call(traced, key) == {
        f"{place('process-map')} ex.map(square, range(40), chunksize=4)": 40,
        f"{place('process-submit')} ex.submit(square, i)": 8,
    }
    map_call = traced.one("call", pool=key, method="map")
    assert map_call["items"] == 40
    assert {s["items"] for s in traced.of("span", call=map_call["call"])} == {4}
    submits = traced.one("call", pool=key, method="submit")  # eight submits, one line: one call
    assert sorted(s["index"] for s in traced.of("span", call=submits["call"])) == list(range(8))
    workers = worker_pids(traced, key)
    assert len(workers) == 2
    assert {s["pid"] for s in traced.of("span", pool=key)} == workers
    assert {(e["worker_pid"], e["exitcode"]) for e in traced.of("worker_exit", pool=key)} == {
        (pid, 0) for pid in workers
    }
    assert traced.one("pool_end", pool=key)["how"] == "shutdown"

    threads = traced.one("pool", kind="ThreadPoolExecutor")
    assert threads["label"] == f"{place('thread-executor')} ThreadPoolExecutor(3)"
    tkey = threads["pool"]
    assert items_by_call(traced, tkey) == {
        f"{place('thread-map')} tex.map(square, range(12))": 12,
        f"{place('thread-submit')} tex.submit(square, 12)": 1,
    }
    tids = {w["tid"] for w in traced.of("worker", pool=tkey)}
    assert len(tids) == 3
    assert {s["tid"] for s in traced.of("span", pool=tkey)} == tids
    assert {e["tid"] for e in traced.of("worker_exit", pool=tkey)} == tids
    assert traced.one("pool_end", pool=tkey)["how"] == "shutdown"


@pytest.mark.timeout(60)
def test_plain_processes_are_told_with_their_line_target_and_exit_code(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "processes.py"
    traced = run_traced(program)
    assert traced.output == run_plain(program).output
    told_properly(traced, fake_recorder)
    start = f"processes.py:{line_of(program, 'start')}"
    procs = traced.of("proc")
    assert [p["label"] for p in procs] == [
        f"{start} Process(target=fine)",
        f"{start} Process(target=three)",
        f"{start} Process(target=killed)",
        f"processes.py:{line_of(program, 'loader')} Loader()",
    ]
    assert all(p["pool"] is None for p in procs)
    ends = {p["child_pid"]: p["exitcode"] for p in traced.of("proc_end")}
    assert [ends[p["child_pid"]] for p in procs] == [0, 3, -9, 0]
    assert not traced.of("pool") and not traced.of("worker")


@pytest.mark.timeout(90)
@pytest.mark.parametrize("method", START_METHODS)
def test_a_pool_made_in_a_child_process_is_that_child_s(
    method: str, run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "pool_in_child.py"
    traced = run_traced(program, method)
    assert traced.output == run_plain(program, method).output
    told_properly(traced, fake_recorder)
    child = traced.one("proc")
    assert child["label"] == f"pool_in_child.py:{line_of(program, 'start')} Process(target=child)"
    assert traced.one("proc_end")["exitcode"] == 0
    pool = traced.one("pool")
    assert pool["pid"] == child["child_pid"]
    assert pool["label"] == f"pool_in_child.py:{line_of(program, 'pool')} Pool(2)"
    assert items_by_call(traced, pool["pool"]) == {
        f"pool_in_child.py:{line_of(program, 'map')} pool.map(cube, range(30))": 30
    }
    assert {s["pid"] for s in traced.of("span")} <= worker_pids(traced, pool["pool"])


@pytest.mark.timeout(60)
def test_a_pool_made_in_a_thread_names_the_thread_s_line(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder, line_of: LineOf
) -> None:
    program = "pool_in_thread.py"
    traced = run_traced(program)
    assert traced.output == run_plain(program).output
    told_properly(traced, fake_recorder)
    pool = traced.one("pool")
    assert pool["label"] == f"pool_in_thread.py:{line_of(program, 'pool')} Pool(2)"
    call = traced.one("call")
    assert call["tid"] == pool["tid"]  # made and called in that thread
    assert items_by_call(traced, pool["pool"]) == {
        f"pool_in_thread.py:{line_of(program, 'map')} pool.map(inc, range(40))": 40
    }


@pytest.mark.timeout(60)
def test_a_worker_killed_under_its_pool_is_told_with_sigkill_and_its_replacement(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder
) -> None:
    program = "killed_worker.py"
    traced = run_traced(program)
    assert traced.output == run_plain(program).output
    told_properly(traced, fake_recorder)
    pool = traced.one("pool")
    key = pool["pool"]
    workers = traced.of("worker", pool=key)
    assert len(workers) == 3  # two, then the one that replaced the killed one
    killed = [e for e in traced.of("worker_exit", pool=key) if e["exitcode"] == -9]
    assert len(killed) == 1
    assert killed[0]["worker_pid"] == workers[0]["worker_pid"]  # pool._pool[0]
    end = traced.one("pool_end", pool=key)
    assert end["how"] == "terminate"
    packets = traced.connections[0]
    assert packets.index(killed[0]) < packets.index(end)  # died under the pool, not at its end


@pytest.mark.timeout(60)
def test_workers_replaced_after_maxtasksperchild_are_all_told(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder
) -> None:
    program = "maxtasks.py"
    traced = run_traced(program)
    assert traced.output == run_plain(program).output
    told_properly(traced, fake_recorder)
    key = traced.one("pool")["pool"]
    workers = worker_pids(traced, key)
    spans = traced.of("span", pool=key)
    assert sum(s["items"] for s in spans) == 16
    by_worker: dict[int, int] = defaultdict(int)
    for span in spans:
        by_worker[span["pid"]] += 1
    assert set(by_worker) <= workers
    # at most two tasks each, then replaced (the last two tasks may go to two fresh workers,
    # one each): 8 tasks over 4 workers or more, every one of them announced
    assert sum(by_worker.values()) == 8 and max(by_worker.values()) == 2
    assert all(tasks <= 2 for tasks in by_worker.values())
    assert len(by_worker) >= 4
    exited = {e["worker_pid"]: e["exitcode"] for e in traced.of("worker_exit", pool=key)}
    assert set(exited) == workers
    assert set(exited.values()) == {0}


STDLIB_FRAME = re.compile(
    r'(File "' + re.escape(sysconfig.get_paths()["stdlib"]) + r'[^"]*", line )\d+'
)


def stdlib_lines_masked(output: tuple[int, str, str]) -> tuple[int, str, str]:
    """A run's (exit code, stdout, stderr) with the line numbers of standard-library frames
    masked (the program's own frames keep theirs)."""
    code, out, err = output
    return code, out, STDLIB_FRAME.sub(r"\1N", err)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", ["pool", "process-executor", "thread-executor"])
def test_a_job_that_raises_fails_the_program_exactly_as_without_mpscope(
    kind: str, run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder
) -> None:
    traced = run_traced("raises.py", kind)
    plain = run_plain("raises.py", kind)
    # the traceback too, frame by frame: no frame of mpscope's in it (only a standard-library
    # frame's line may differ: Future.result raises from one line if the future was done
    # when asked, another if it waited, whether traced or not)
    assert stdlib_lines_masked(traced.output) == stdlib_lines_masked(plain.output)
    assert traced.returncode == 1
    assert "ValueError: cannot take 3" in traced.stderr
    told_properly(traced, fake_recorder)
    failed = [s for s in traced.of("span") if not s["ok"]]
    assert len(failed) == 1


@pytest.mark.timeout(60)
def test_the_exit_code_is_the_program_s(
    run_traced: Run, run_plain: Run, fake_recorder: FakeRecorder
) -> None:
    traced = run_traced("exits.py")
    assert traced.output == run_plain("exits.py").output
    assert traced.returncode == 3
    assert traced.one("pool_end")["how"] == "terminate"


@pytest.mark.timeout(90)
def test_without_a_recorder_the_program_runs_unchanged(
    run_plain: Run, env_without_recorder: dict[str, str]
) -> None:
    env = env_without_recorder
    for program, args in (("pool_methods.py", ("spawn",)), ("processes.py", ())):
        assert run_plain(program, *args, env=env).output == run_plain(program, *args).output

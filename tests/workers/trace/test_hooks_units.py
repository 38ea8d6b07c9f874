"""The hooks' parts on their own: labels cut from the program's source, the sender facing a
recorder that is missing or too slow, and the bootstrap handing over to another sitecustomize."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mpscope.workers.trace import hook_callsite, hook_sender
from mpscope.workers.trace.hook_callsite import call_text, cut, is_internal
from mpscope.workers.trace.hook_sender import Sender
from mpscope.workers.trace.packets import LineDecoder

BOOTSTRAP = Path(hook_sender.__file__).resolve().parent / "bootstrap"


@pytest.fixture
def source(tmp_path: Path) -> Callable[[str], str]:
    """Write a program's source; its path."""

    def write(text: str) -> str:
        path = tmp_path / "etl.py"
        path.write_text(text)
        return str(path)

    return write


@pytest.mark.parametrize(
    ("line", "method", "expected"),
    [
        ("results = pool.map(parse, rows)  # parse them all", "map", "pool.map(parse, rows)"),
        (
            "out = self.pools[0].imap(f, (x for x in xs))",
            "imap",
            "self.pools[0].imap(f, (x for x in xs))",
        ),
        ("print(sum(Pool(4).map(job, range(9))))", "map", "Pool(4).map(job, range(9))"),
        ("f = ex.submit(g, ')(', 1)", "submit", "ex.submit(g, ')(', 1)"),
        ("results = run(work)", "map", "results = run(work)"),  # not on the line: the line
    ],
)
def test_the_call_is_cut_out_of_the_program_s_line(
    source: Callable[[str], str], line: str, method: str, expected: str
) -> None:
    path = source(f"import x\n    {line}\n")
    assert call_text(path, 2, method, "pool.map(...)") == expected


def test_a_call_over_several_lines_is_joined_and_a_long_one_cut(
    source: Callable[[str], str],
) -> None:
    path = source(
        "rows = pool.starmap(\n    add,\n    zip(a, b),\n)\nlong = pool.map(f, " + "x" * 120 + ")\n"
    )
    assert call_text(path, 1, "starmap", "?") == "pool.starmap(add, zip(a, b),)"
    long = call_text(path, 5, "map", "?")
    assert len(long) == hook_callsite.LABEL_CHARS and long.startswith("pool.map(f, xxx")
    assert long.endswith("...")
    assert call_text(path + ".gone", 1, "map", "pool.map(...)") == "pool.map(...)"
    assert cut("a   b\n c") == "a b c"


def test_internal_files_are_the_standard_library_s_and_the_hooks_own() -> None:
    assert is_internal(os.__file__)
    assert (
        is_internal(sys.modules["multiprocessing"].__file__ or "")
        if "multiprocessing" in sys.modules
        else True
    )
    assert is_internal(hook_sender.__file__)
    assert is_internal("<frozen runpy>")
    assert not is_internal("<string>")  # python -c: the program's own
    assert not is_internal(__file__)
    assert not is_internal(pytest.__file__)  # a library in site-packages is the program's


def _listener() -> tuple[socket.socket, str, str]:
    folder = tempfile.mkdtemp(prefix="mpsu-", dir="/tmp")
    path = os.path.join(folder, "s")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    return server, path, folder


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A Unix socket that listens and accepts only when asked (a slow recorder)."""
    server, path, folder = _listener()
    yield server, path
    server.close()
    os.unlink(path)
    os.rmdir(folder)


def _read_all(conn: socket.socket) -> list[dict[str, Any]]:
    """Every packet ``conn`` brings until its end (and close it)."""
    conn.settimeout(10)
    decoder = LineDecoder()
    packets: list[dict[str, Any]] = []
    with conn:
        while data := conn.recv(1 << 16):
            packets.extend(decoder.feed(data))
    decoder.close()
    assert decoder.dropped == 0
    return packets


def test_a_sender_says_hello_with_its_key_first_then_its_packets_in_order(
    listener: tuple[socket.socket, str],
) -> None:
    server, path = listener
    sender = Sender(path, "k3y", 0.05)
    for n in range(5):
        sender.emit({"k": "proc", "pid": os.getpid(), "t": float(n), "child_pid": n})
    sender.emit({"k": "proc_end", "pid": os.getpid(), "t": 9.0, "child_pid": 0}, urgent=True)
    conn, _ = server.accept()
    sender.close()
    packets = _read_all(conn)
    assert packets[0]["k"] == "hello" and packets[0]["key"] == "k3y"
    assert packets[0]["pid"] == os.getpid() and packets[0]["ppid"] == os.getppid()
    assert [p.get("child_pid") for p in packets[1:]] == [0, 1, 2, 3, 4, 0]
    assert sender.sent == 6 and sender.dropped == 0


def test_a_sender_without_a_recorder_turns_itself_off_silently(tmp_path: Path) -> None:
    sender = Sender(str(tmp_path / "nobody-listens"), "k", 0.05)
    start = time.monotonic()
    for n in range(1000):
        sender.emit({"k": "proc", "pid": 1, "t": float(n)}, urgent=True)
    sender.emit({"k": "bad", "pid": 1, "t": 1.0, "x": object()})  # not JSON: dropped, no error
    sender.close()
    assert sender.dead and sender.sent == 0
    assert time.monotonic() - start < 5


def test_a_recorder_too_slow_costs_dropped_packets_never_a_wait(
    listener: tuple[socket.socket, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, path = listener
    monkeypatch.setattr(hook_sender, "MAX_PENDING_BYTES", 1 << 16)
    sender = Sender(path, "k", 3600.0)
    big = "x" * 4000
    start = time.monotonic()
    for n in range(2000):  # 8 MB: far more than the socket and the pending bytes hold
        sender.emit({"k": "span", "pid": 1, "t": float(n), "pad": big}, urgent=True)
    took = time.monotonic() - start
    assert sender.dropped > 0 and sender.sent + sender.dropped == 2000
    assert took < 10  # non-blocking sends only (a generous bound: a busy machine)
    conn, _ = server.accept()
    sender.close()
    packets = _read_all(conn)  # whole lines only: nothing was cut mid-packet
    assert packets[0]["k"] == "hello"
    assert [p["t"] for p in packets[1:]] == sorted(p["t"] for p in packets[1:])
    assert len(packets) - 1 <= sender.sent


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.timeout(60)
def test_the_bootstrap_hands_over_to_the_sitecustomize_that_would_have_run(
    tmp_path: Path, env_without_recorder: dict[str, str]
) -> None:
    other = tmp_path / "site"
    other.mkdir()
    (other / "sitecustomize.py").write_text('print("the other sitecustomize ran")\n')
    code = "import sys, sitecustomize; print(sitecustomize.__file__); print(sys.path[1:])"
    alone = dict(os.environ, PYTHONPATH=str(other))
    traced = dict(env_without_recorder, PYTHONPATH=f"{BOOTSTRAP}{os.pathsep}{other}")
    expected = _run(code, alone)
    assert expected.stdout.startswith("the other sitecustomize ran\n")
    got = _run(code, traced)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )
    failing = tmp_path / "failing"
    failing.mkdir()
    (failing / "sitecustomize.py").write_text('raise RuntimeError("broken site")\n')
    alone["PYTHONPATH"] = str(failing)
    traced["PYTHONPATH"] = f"{BOOTSTRAP}{os.pathsep}{failing}"
    expected = _run("print('ran')", alone)
    assert "Error in sitecustomize" in expected.stderr  # site's own report, as without mpscope
    got = _run("print('ran')", traced)
    assert (got.returncode, got.stdout, got.stderr) == (
        expected.returncode,
        expected.stdout,
        expected.stderr,
    )


@pytest.mark.timeout(60)
def test_without_another_sitecustomize_the_program_sees_its_usual_path(
    env_without_recorder: dict[str, str],
) -> None:
    code = "import sys; print(sys.path[1:]); print(sorted(sys.modules) == sorted(set(sys.modules)))"
    alone = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    expected = _run(code, alone)
    traced = dict(env_without_recorder, PYTHONPATH=str(BOOTSTRAP))
    got = _run(code, traced)
    assert got.stdout == expected.stdout and got.stderr == expected.stderr == ""
    unset = dict(alone, PYTHONPATH=str(BOOTSTRAP))  # no socket: nothing loaded but the bootstrap
    modules = _run("import sys; print(sorted(m for m in sys.modules if 'mpscope' in m))", unset)
    assert "_mpscope_trace" not in modules.stdout


@pytest.mark.timeout(90)
def test_the_hooks_work_imported_from_the_mpscope_package(
    fake_recorder: Any, run_plain: Callable[..., Any], line_of: Callable[[str, str], int]
) -> None:
    env = fake_recorder.env()
    env.pop("PYTHONPATH")  # no bootstrap: the program installs the hooks itself
    run = run_plain("hooked_by_hand.py", env=env)
    assert run.returncode == 0 and run.stdout == "40425\n" and run.stderr == ""
    fake_recorder.settle()
    packets, _ = fake_recorder.take()
    pools = [p for p in packets if p["k"] == "pool"]
    assert [p["label"] for p in pools] == [
        f"hooked_by_hand.py:{line_of('hooked_by_hand.py', 'pool')} Pool(2)"
    ]
    assert sum(p["items"] for p in packets if p["k"] == "span") == 50

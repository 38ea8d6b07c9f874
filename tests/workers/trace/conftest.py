"""Fixtures for running a program under ``mpscope trace``'s hooks, without mpscope's recorder.

``FakeRecorder`` stands in for the recorder: a Unix socket server on a thread that accepts every
connection and decodes every line with ``packets.LineDecoder``, keeping the packets (all of them
in arrival order, and per connection). ``run_program`` runs one of the scripts in
``programs/`` (or any file), traced (the bootstrap folder first on ``PYTHONPATH``, the recorder's
socket and key in the environment) or not, and returns its exit code, stdout, stderr and the
packets its processes sent.

    def test_x(run_traced, run_plain, line_of):
        traced = run_traced("pool_methods.py", "spawn")
        assert traced.output == run_plain("pool_methods.py", "spawn").output
        line = line_of("pool_methods.py", "pool")  # the line ending with "# <pool>"
        assert traced.one("pool")["label"] == f"pool_methods.py:{line} Pool(2)"

(Test modules cannot import this conftest: what they need comes as fixtures.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mpscope.workers.trace.packets import KEY_ENV, SOCKET_ENV, TICK_ENV, LineDecoder

Packet = dict[str, Any]
TRACE_DIR = Path(__file__).resolve().parents[3] / "workers" / "trace"
BOOTSTRAP_DIR = TRACE_DIR / "bootstrap"
PROGRAMS = Path(__file__).resolve().parent / "programs"
REPO = Path(__file__).resolve().parents[3]
VERSIONS = ("3.10", "3.11", "3.12", "3.13")


class FakeRecorder:
    """A Unix socket server standing in for mpscope's recorder (see the module's docstring).

    Every connection is accepted (whatever its key: the tests check the key themselves), read
    on its own thread until end-of-file, and its packets kept in ``by_connection`` (one list
    per connection) and ``packets`` (everything, in arrival order)."""

    def __init__(self, tick_s: float = 0.05) -> None:
        self.key = os.urandom(16).hex()
        self.tick_s = tick_s
        self._dir = tempfile.mkdtemp(prefix="mpst-", dir="/tmp")  # sun_path is short
        self.socket_path = os.path.join(self._dir, "s")
        self.packets: list[Packet] = []
        self.by_connection: list[list[Packet]] = []
        self.dropped = 0
        self._lock = threading.Lock()
        self._readers: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.socket_path)
        self._listener.listen(512)
        self._listener.settimeout(0.05)
        self._closing = False
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    def env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) as a traced program gets it."""
        env = dict(os.environ if base is None else base)
        env[SOCKET_ENV] = self.socket_path
        env[KEY_ENV] = self.key
        env[TICK_ENV] = repr(self.tick_s)
        user = env.get("PYTHONPATH")
        env["PYTHONPATH"] = str(BOOTSTRAP_DIR) + (os.pathsep + user if user else "")
        return env

    def _accept(self) -> None:
        while not self._closing:
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            mine: list[Packet] = []
            with self._lock:
                self.by_connection.append(mine)
            reader = threading.Thread(target=self._read, args=(conn, mine), daemon=True)
            with self._lock:
                self._readers.append(reader)
            reader.start()

    def _read(self, conn: socket.socket, mine: list[Packet]) -> None:
        decoder = LineDecoder()
        with conn:
            while True:
                try:
                    data = conn.recv(1 << 16)
                except OSError:
                    data = b""
                if not data:
                    break
                for packet in decoder.feed(data):
                    with self._lock:
                        mine.append(packet)
                        self.packets.append(packet)
        decoder.close()
        with self._lock:
            self.dropped += decoder.dropped

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every connection so far has ended (its process has exited)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                readers = list(self._readers)
            if not any(reader.is_alive() for reader in readers):
                return
            assert time.monotonic() < deadline, "a traced process kept its connection open"
            time.sleep(0.02)

    def take(self) -> tuple[list[Packet], list[list[Packet]]]:
        """The packets so far (all, and per connection); forgets them."""
        with self._lock:
            packets, self.packets = self.packets, []
            conns, self.by_connection = self.by_connection, []
        return packets, conns

    def close(self) -> None:
        """Stop listening and remove the socket's folder."""
        self._closing = True
        self._accepter.join(5)
        with contextlib.suppress(OSError):
            self._listener.close()
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass
class ProgramRun:
    """What a program did: its exit code and output; traced, the packets its processes sent."""

    returncode: int
    stdout: str
    stderr: str
    packets: list[Packet] = field(default_factory=list)
    connections: list[list[Packet]] = field(default_factory=list)

    @property
    def output(self) -> tuple[int, str, str]:
        """(exit code, stdout, stderr): what must not change when a program is traced."""
        return self.returncode, self.stdout, self.stderr

    def of(self, kind: str, /, **match: Any) -> list[Packet]:
        """The packets of ``kind`` whose fields equal ``match``, in arrival order."""
        return [
            p
            for p in self.packets
            if p["k"] == kind and all(p.get(k) == v for k, v in match.items())
        ]

    def one(self, kind: str, /, **match: Any) -> Packet:
        """The only packet of ``kind`` matching ``match`` (an assertion if not exactly one)."""
        found = self.of(kind, **match)
        assert len(found) == 1, f"{len(found)} {kind} packets match {match}: {found}"
        return found[0]


def program_path(program: str | Path) -> Path:
    """A program in ``programs/`` by its file name, or any path as given."""
    path = Path(program)
    return path if path.is_absolute() else PROGRAMS / path


def line_of(program: str | Path, mark: str) -> int:
    """The number of the line of ``program`` that ends with the comment ``# <mark>``."""
    lines = program_path(program).read_text().splitlines()
    found = [n for n, text in enumerate(lines, 1) if text.rstrip().endswith(f"# <{mark}>")]
    assert len(found) == 1, f"{program}: {len(found)} lines marked <{mark}>"
    return found[0]


def run_program(
    program: str | Path,
    *args: str,
    recorder: FakeRecorder | None = None,
    python: str = sys.executable,
    env: Mapping[str, str] | None = None,
    timeout: float = 90.0,
) -> ProgramRun:
    """Run ``python program args`` in ``programs/`` (traced if ``recorder`` is given) until it
    exits; with a recorder, wait for its processes' connections to end and take their packets.
    ``env`` (default: this process's, without any trace variables) is used as given."""
    base = dict(os.environ if env is None else env)
    if env is None:  # this process's environment: never a trace of its own
        for name in (SOCKET_ENV, KEY_ENV, TICK_ENV):
            base.pop(name, None)
    full_env = recorder.env(base) if recorder is not None else base
    path = program_path(program)
    done = subprocess.run(
        [python, str(path), *args],
        cwd=path.parent,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    run = ProgramRun(done.returncode, done.stdout, done.stderr)
    if recorder is not None:
        recorder.settle()
        run.packets, run.connections = recorder.take()
    return run


def find_python(version: str) -> str | None:
    """The path of ``python<version>`` on this machine (``.ci/find-python``), or None."""
    try:
        found = subprocess.run(
            ["sh", str(REPO / ".ci" / "find-python"), f"python{version}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return found or None


@pytest.fixture(params=VERSIONS, ids=[f"python{v}" for v in VERSIONS])
def python(request: pytest.FixtureRequest) -> str:
    """Each supported Python found on this machine in turn (a test is skipped, saying so, for
    one that is missing): the programs need nothing but the standard library."""
    found = find_python(request.param)
    if found is None:
        pytest.skip(f"python{request.param} is not installed here (.ci/find-python)")
    return found


@pytest.fixture
def fake_recorder() -> Iterator[FakeRecorder]:
    """A fake recorder listening for the length of the test."""
    recorder = FakeRecorder()
    yield recorder
    recorder.close()


@pytest.fixture
def run_traced(fake_recorder: FakeRecorder) -> Callable[..., ProgramRun]:
    """``run_traced(program, *args, python=..., env=...)``: the program run under the hooks,
    with the packets its processes sent to ``fake_recorder``."""

    def run(program: str | Path, *args: str, **kwargs: Any) -> ProgramRun:
        return run_program(program, *args, recorder=fake_recorder, **kwargs)

    return run


@pytest.fixture(name="line_of")
def line_of_fixture() -> Callable[[str | Path, str], int]:
    """``line_of(program, mark)``: the number of the program's line marked ``# <mark>``."""
    return line_of


@pytest.fixture
def env_without_recorder() -> Iterator[dict[str, str]]:
    """This process's environment as a traced program gets it, but no recorder listens at
    its socket (it has gone: every process's connect fails)."""
    recorder = FakeRecorder()
    env = recorder.env()
    recorder.close()
    yield env


@pytest.fixture
def run_plain() -> Callable[..., ProgramRun]:
    """``run_plain(program, *args, python=..., env=...)``: the program run without mpscope."""

    def run(program: str | Path, *args: str, **kwargs: Any) -> ProgramRun:
        return run_program(program, *args, recorder=None, **kwargs)

    return run

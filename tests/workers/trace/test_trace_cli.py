"""``mpscope trace`` on the command line: the program runs as it would alone (output, exit code,
signals), mpscope adds one summary at the end, and bad input is one line before anything runs.
The program here reports through a sender of its own, so these hold with or without the hooks.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from engine_steps import mpscope
from signal_steps import default_signals
from trace_steps import split_stderr

from mpscope.workers.cli import main as cli_main
from mpscope.workers.trace.chrome import read_packets

# a program that tells the recorder about a pool of its own, when it is traced
FAKE_SENDER = """
import json, os, socket, sys, time
print("program starts", sys.argv[1:], flush=True)
path = os.environ.get("MPSCOPE_TRACE_SOCKET")
if path:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    pid, t = os.getpid(), time.perf_counter()
    packets = [
        {"k": "hello", "pid": pid, "t": t, "key": os.environ["MPSCOPE_TRACE_KEY"],
         "argv": sys.argv},
        {"k": "pool", "pid": pid, "t": t, "pool": "fake:1", "kind": "Pool", "workers": 2,
         "label": "fake.py:3 Pool(2)"},
        {"k": "call", "pid": pid, "t": t, "pool": "fake:1", "call": "fake:2", "method": "map",
         "label": "fake.py:4 pool.map(f, xs)", "items": 4},
    ]
    for worker in (1, 2):
        packets.append({"k": "worker", "pid": pid, "t": t, "pool": "fake:1",
                        "worker_pid": pid + worker, "tid": None})
        for index in (worker - 1, worker + 1):
            packets.append({"k": "span", "pid": pid + worker, "t": t + 0.1, "pool": "fake:1",
                            "call": "fake:2", "tid": pid + worker, "t0": t, "t1": t + 0.1,
                            "items": 1, "index": index, "ok": True})
        exit_code = -9 if worker == 2 else 0
        packets.append({"k": "worker_exit", "pid": pid, "t": t + 0.2, "pool": "fake:1",
                        "worker_pid": pid + worker, "tid": None, "exitcode": exit_code})
    sock.sendall(b"".join(json.dumps(p).encode() + b"\\n" for p in packets))
    sock.close()
print("program ends", flush=True)
"""

PROGRAMS = {
    "exit3.py": "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)\n",
    "raises.py": "print('before')\nraise ValueError('boom: the program failed')\n",
    "os_exit4.py": "import os, sys\nprint('flushed', flush=True)\nprint('lost')\nos._exit(4)\n",
    "killed.py": "import os, signal\nprint('dying', flush=True)\n"
    "os.kill(os.getpid(), signal.SIGTERM)\n",
    "sigkilled.py": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    "stdin.py": "import sys\nprint(sys.stdin.read().upper(), end='')\n",
    "fine.py": "import sys\nprint('args', sys.argv[1:])\n",
}  # fmt: skip


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def untraced(args: list[str], cwd: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60, **kw)  # fmt: skip


def traced(args: list[str], cwd: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mpscope.workers", "trace", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, **kw)  # fmt: skip


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("script", "code"),
    [("exit3.py", 3), ("raises.py", 1), ("os_exit4.py", 4), ("killed.py", -15),
     ("sigkilled.py", -9), ("fine.py", 0)],
)  # fmt: skip
def test_the_program_runs_as_it_would_alone(tmp_path: Path, script: str, code: int) -> None:
    write(tmp_path, script, PROGRAMS[script])
    alone = untraced([script, "a", "b c"], tmp_path)
    watched = traced(["--no-window", "--out", "t.json", script, "a", "b c"], tmp_path)
    assert (alone.returncode, watched.returncode) == (code, code)  # a signal: mpscope dies by it
    assert watched.stdout == alone.stdout
    program_err, summary = split_stderr(watched.stderr)
    assert program_err == alone.stderr
    assert len(summary) >= 1 and summary[0].endswith("trace written to t.json")
    read_packets(tmp_path / "t.json")  # a valid trace, whatever the program did


@pytest.mark.timeout(60)
def test_a_module_and_a_command_run_as_given(tmp_path: Path) -> None:
    write(tmp_path, "fine.py", PROGRAMS["fine.py"])
    write(tmp_path, "stdin.py", PROGRAMS["stdin.py"])
    as_module = traced(["--no-window", "--out", "m.json", "-m", "fine", "-x", "--out", "y"],
                       tmp_path)  # fmt: skip
    assert as_module.returncode == 0 and as_module.stdout == "args ['-x', '--out', 'y']\n"
    as_command = traced(["--no-window", "--out", "c.json", "--", sys.executable, "fine.py", "-v"],
                        tmp_path)  # fmt: skip
    assert as_command.returncode == 0 and as_command.stdout == "args ['-v']\n"
    piped = traced(["--no-window", "--out", "s.json", "stdin.py"], tmp_path, input="from stdin\n")
    assert piped.returncode == 0 and piped.stdout == "FROM STDIN\n"  # stdin is the program's


@pytest.mark.timeout(60)
def test_the_trace_is_named_after_the_script_by_default(tmp_path: Path) -> None:
    write(tmp_path, "etl.py", FAKE_SENDER)
    watched = traced(["--no-window", "etl.py"], tmp_path)
    assert watched.returncode == 0, watched.stderr
    (made,) = tmp_path.glob("*.trace.json")
    assert re.fullmatch(r"etl-\d{8}-\d{6}\.trace\.json", made.name)
    _, summary = split_stderr(watched.stderr)
    assert summary[0] == (f"mpscope: 1 pool, 4 tasks from 2 workers; trace written to {made.name}")
    assert summary[1] == (
        f"mpscope: worker {json.loads(made.read_text())['traceEvents'][0]['pid'] + 2} of "
        "fake.py:3 Pool(2) was killed (SIGKILL)"
    )
    mine = [p for p in read_packets(made) if p.get("pool") == "fake:1"]
    assert [p["k"] for p in mine].count("span") == 4


@pytest.mark.timeout(60)
def test_ctrl_c_reaches_the_program_and_mpscope_ends_as_it_did(tmp_path: Path) -> None:
    write(tmp_path, "waits.py", "import time\nprint('ready', flush=True)\ntime.sleep(60)\n")

    def interrupted(args: list[str]) -> tuple[int, str, str]:
        with default_signals():
            proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, text=True,
                                    stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.5)  # into its sleep, where the traceback will point
        os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        out, err = proc.communicate(timeout=30)
        return proc.returncode, "ready\n" + out, err

    code, out, err = interrupted([sys.executable, "waits.py"])
    t_code, t_out, t_err = interrupted(
        [sys.executable, "-m", "mpscope.workers", "trace", "--no-window", "--out", "t.json",
         "waits.py"]
    )  # fmt: skip
    assert code == t_code == -signal.SIGINT
    assert t_out == out and "KeyboardInterrupt" in err
    program_err, summary = split_stderr(t_err)
    assert program_err == err and summary[0].endswith("trace written to t.json")
    read_packets(tmp_path / "t.json")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_sent_to_mpscope_are_passed_on(tmp_path: Path, sig: int) -> None:
    write(tmp_path, "polite.py", textwrap.dedent("""
        import signal, sys, time
        def stop(signum, frame):
            print("stopping on", signal.Signals(signum).name, flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGHUP, stop)
        print("ready", flush=True)
        time.sleep(60)
    """))  # fmt: skip
    with default_signals():
        proc = subprocess.Popen(
            [sys.executable, "-m", "mpscope.workers", "trace", "--no-window", "--out", "t.json",
             "polite.py"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    proc.send_signal(sig)  # to mpscope alone
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out == f"stopping on {signal.Signals(sig).name}\n"


@pytest.mark.timeout(60)
def test_signals_ignored_when_mpscope_started_stay_ignored_for_the_program(
    tmp_path: Path,
) -> None:
    write(tmp_path, "dispositions.py", textwrap.dedent("""
        import signal
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
            print(sig.name, "ignored" if signal.getsignal(sig) == signal.SIG_IGN else "default")
    """))  # fmt: skip
    for trap in ("", "trap '' HUP INT; "):  # as nohup and a shell's background job do
        shell = f"{trap}exec {sys.executable} {{}} dispositions.py"
        alone = subprocess.run(["sh", "-c", shell.format("")], cwd=tmp_path, text=True,
                               capture_output=True, timeout=30)  # fmt: skip
        watched = subprocess.run(
            ["sh", "-c", shell.format("-m mpscope.workers trace --no-window --out t.json")],
            cwd=tmp_path, text=True, capture_output=True, timeout=30,
        )  # fmt: skip
        assert watched.returncode == alone.returncode == 0, watched.stderr
        assert watched.stdout == alone.stdout
    assert "SIGHUP ignored" in alone.stdout and "SIGINT ignored" in alone.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["nope.py"], ["'nope.py' not found"]),
        (["--no-window"], ["no program given", "-m MODULE"]),
        (["--tick", "0", "fine.py"], ["--tick 0", "0.005..1"]),
        (["--tick", "soon", "fine.py"], ["--tick 'soon'", "0.005..1"]),
        (["--tick", "nan", "fine.py"], ["--tick nan", "0.005..1"]),
        (["--", "no-such-command-here", "x"], ["'no-such-command-here' not found"]),
        (["--", sys.executable, "missing.py"], ["'missing.py' not found"]),
        (["--"], ["no command after --"]),
        (["-m", "not a module"], ["'not a module'", "dotted"]),
        (["-m"], ["-m needs a module name"]),
        (["--bogus", "fine.py"], ["--bogus"]),
        (["--out", "no/such/folder/t.json", "fine.py"], ["no/such/folder/t.json"]),
    ],
)
def test_bad_input_is_one_line_and_nothing_runs(
    tmp_path: Path, args: list[str], words: list[str]
) -> None:
    write(tmp_path, "fine.py", "open('ran', 'w').close()\n")
    proc = mpscope("trace", *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fine.py"]  # no trace, no run


def test_open_checks_the_file_and_says_when_there_is_no_display(tmp_path: Path) -> None:
    write(tmp_path, "bad.json", '{"traceEvents": []}')
    proc = mpscope("open", "bad.json", cwd=tmp_path)
    assert proc.returncode == 2 and "bad.json: not an mpscope trace" in proc.stderr
    write(tmp_path, "fine.py", "print('x')\n")
    assert mpscope("trace", "--out", "t.json", "fine.py", cwd=tmp_path).returncode == 0
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    console = subprocess.run([sys.executable, "-m", "mpscope", "open", "t.json"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert console.returncode == 2
    lines = console.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display found" in lines[0] and "Perfetto" in lines[0]


class FakeWindows:
    """The window's two entry points, as a window would use them (no Qt here)."""

    def __init__(self) -> None:
        self.drained: list[dict[str, Any]] = []
        self.opened: list[Path] = []

    def run_trace_window(self, recorder: Any, program: Any) -> None:
        deadline = time.monotonic() + 30
        while program.poll() is None and time.monotonic() < deadline:
            self.drained += recorder.drain()
            time.sleep(0.05)
        time.sleep(0.3)  # as the window does, a little longer for the last packets
        self.drained += recorder.drain()

    def open_trace_window(self, path: Path) -> int:
        self.opened.append(path)
        return 0


@pytest.mark.timeout(60)
def test_with_a_window_the_window_drains_the_program_live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "etl.py", FAKE_SENDER)
    monkeypatch.chdir(tmp_path)
    windows = FakeWindows()
    assert cli_main(["trace", "--out", "t.json", "etl.py"], windows=windows) == 0
    mine = [p for p in windows.drained if p.get("pool") == "fake:1"]
    assert [p["k"] for p in mine].count("span") == 4
    saved = [p for p in read_packets(tmp_path / "t.json") if p.get("pool") == "fake:1"]
    assert saved == mine  # the window saw what the file keeps
    assert cli_main(["open", "t.json"], windows=windows) == 0
    assert windows.opened == [Path("t.json")]
    write(tmp_path, "bad.json", "[]")
    assert cli_main(["open", "bad.json"], windows=windows) == 2
    assert windows.opened == [Path("t.json")]  # a bad file never reaches the window

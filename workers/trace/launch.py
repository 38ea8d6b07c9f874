"""Running the traced program as it would run alone: what to run, its signals, and its exit.

``mpscope trace SCRIPT [ARGS]`` runs ``[sys.executable, SCRIPT, ARGS...]``, ``-m MODULE [ARGS]``
runs ``[sys.executable, "-m", MODULE, ARGS...]`` and ``-- CMD [ARGS]`` runs CMD as given. The
program inherits mpscope's stdin, stdout and stderr and stays in the terminal's foreground
process group, so Ctrl-C (SIGINT) and Ctrl-\\ (SIGQUIT) reach it from the terminal as usual:
mpscope itself lets them pass while the program runs (``SignalRelay``), and passes SIGTERM and
SIGHUP, which are sent to mpscope alone, on to it. A signal that was ignored when mpscope started
(``nohup``, a background job) is left ignored, so the program inherits that too. At the end
mpscope exits as the program did: with its exit code, or killed by the same signal
(``die_like``), so a shell sees the same ``$?``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT)  # the terminal sends them to the program too
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # sent to mpscope alone: passed on
SIGNAL_CHECK_S = 0.1  # the longest a signal to mpscope waits for its handler while the program runs


class ProgramError(Exception):
    """The program cannot be run as given; str() is one line naming what and why (exit 2)."""


@dataclass(frozen=True)
class ProgramCommand:
    """What ``mpscope trace`` runs: ``argv``, and ``stem``, the name its trace file starts with."""

    argv: list[str]
    stem: str

    @property
    def display(self) -> str:
        """The command as a shell would take it."""
        return shlex.join(self.argv)


def script_command(script: str, args: Sequence[str] = ()) -> ProgramCommand:
    """``python SCRIPT ARGS`` with this interpreter; ProgramError if there is no such script."""
    path = Path(script)
    runnable = path.is_file() or (path.is_dir() and (path / "__main__.py").is_file())
    if not runnable:
        what = "is a folder without __main__.py" if path.is_dir() else "not found"
        raise ProgramError(f"mpscope trace: script {script!r} {what}: give a Python file to run")
    return ProgramCommand([sys.executable, script, *args], _stem(path.resolve().name))


def module_command(module: str, args: Sequence[str] = ()) -> ProgramCommand:
    """``python -m MODULE ARGS`` with this interpreter; ProgramError for a name that is not
    a dotted module name (whether it exists, Python itself says, as it would alone)."""
    parts = module.split(".")
    if not module or not all(part.isidentifier() for part in parts):
        raise ProgramError(
            f"mpscope trace: -m {module!r} is not a module name: allowed dotted names such as "
            "package.module"
        )
    stem = parts[-2] if parts[-1] == "__main__" and len(parts) > 1 else parts[-1]
    return ProgramCommand([sys.executable, "-m", module, *args], stem)


def given_command(command: Sequence[str]) -> ProgramCommand:
    """CMD as given after ``--``; ProgramError if there is none, the command is not found, or
    it is a Python given a script that does not exist."""
    if not command:
        raise ProgramError("mpscope trace: no command after --: give one, e.g. -- python3 etl.py")
    program = command[0]
    found = shutil.which(program)
    if found is None:
        raise ProgramError(f"mpscope trace: command {program!r} not found (nor on PATH)")
    script = _python_script(command)
    if script is not None and not Path(script).exists():
        raise ProgramError(f"mpscope trace: script {script!r} not found: give a Python file to run")
    if script is not None:
        stem = _stem(Path(script).name)
    elif "-m" in command[1:-1]:
        stem = command[command.index("-m", 1) + 1].rsplit(".", 1)[-1]
    else:
        stem = _stem(Path(program).name)
    return ProgramCommand(list(command), stem)


def _python_script(command: Sequence[str]) -> str | None:
    """The script a ``python[3.x] [options] SCRIPT`` command runs, if it is one."""
    if not Path(command[0]).name.startswith("python"):
        return None
    for arg in command[1:]:
        if arg in ("-m", "-c", "-"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def _stem(name: str) -> str:
    stem = name[:-3] if name.endswith(".py") else name
    return stem or "program"


def default_trace_path(stem: str, folder: Path | None = None, now: float | None = None) -> Path:
    """``<stem>-YYYYmmdd-HHMMSS.trace.json`` in ``folder`` (default: the current one, and the
    path relative to it), with ``-2``, ``-3``... before ``.trace.json`` if that name is taken."""
    folder = Path() if folder is None else folder
    base = f"{stem}-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}"
    path, n = folder / f"{base}.trace.json", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.trace.json"
    return path


class Program:
    """The traced program, running: ``poll()`` (None while it runs, then its exit code) and
    ``returncode`` (negative: killed by that signal), as ``subprocess.Popen`` has them."""

    def __init__(self, command: ProgramCommand, env: Mapping[str, str]) -> None:
        self.command = command
        self.args = list(command.argv)
        self._popen = subprocess.Popen(self.args, env=dict(env))  # stdin/out/err inherited

    @property
    def pid(self) -> int:
        """The program's process id."""
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        """Its exit code once it has ended (negative: killed by that signal), else None."""
        return self._popen.returncode

    def poll(self) -> int | None:
        """None while it runs, then its exit code."""
        return self._popen.poll()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for it to end; its exit code.

        Never one blocking ``waitpid`` for good: a signal sent to mpscope may be delivered to
        one of the recorder's threads, which does not interrupt the main thread's ``waitpid``,
        and Python runs the handler (``SignalRelay``, passing SIGTERM on) only on the main
        thread: the program would wait for the signal and mpscope for the program. Waiting in
        slices lets the handler run within ``SIGNAL_CHECK_S``."""
        if timeout is not None:
            return self._popen.wait(timeout)
        while True:
            try:
                return self._popen.wait(SIGNAL_CHECK_S)
            except subprocess.TimeoutExpired:
                continue

    def send_signal(self, signum: int) -> None:
        """Pass ``signum`` on to it, if it still runs."""
        if self._popen.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._popen.pid, signum)


class SignalRelay:
    """While the program runs: the terminal's signals left to the program, SIGTERM and SIGHUP
    passed on to it (those that come before it has started, once it has). A signal ignored
    when mpscope started stays ignored. A context manager: ``__exit__`` restores the handlers.
    """

    def __init__(self) -> None:
        self.program: Program | None = None
        self.pending: list[int] = []
        self._saved: dict[int, object] = {}

    def __enter__(self) -> SignalRelay:
        for signum in (*TERMINAL_SIGNALS, *FORWARDED_SIGNALS):
            previous = signal.getsignal(signum)
            if previous == signal.SIG_IGN:
                continue  # ignored, as the program will inherit it (nohup, a background job)
            self._saved[signum] = previous
            signal.signal(signum, self._handle)
        return self

    def attach(self, program: Program) -> None:
        """The program has started: signals go to it from now (and those that waited)."""
        self.program = program
        for signum in self.pending:
            program.send_signal(signum)
        self.pending.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum in TERMINAL_SIGNALS:
            return  # the terminal sent it to the whole foreground group: the program has it
        if self.program is None:
            self.pending.append(signum)
        else:
            self.program.send_signal(signum)

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._saved.items():
            signal.signal(signum, previous)  # type: ignore[arg-type]  # what getsignal gave
        self._saved.clear()


def exit_status(returncode: int) -> int:
    """The ``$?`` a shell shows for ``returncode``: itself, or 128 + N for a death by signal N."""
    return returncode if returncode >= 0 else 128 - returncode


def die_like(signum: int) -> int:
    """End this process by ``signum``, as the program ended (its default action restored),
    after flushing stdout and stderr. Returns 128 + signum only if the signal did not end it
    (one whose default is to be ignored)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    # SIGKILL's and SIGSTOP's actions cannot be changed, nor need to be
    with contextlib.suppress(OSError, ValueError):
        signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    time.sleep(0.5)  # delivery is immediate on Linux; elsewhere give it a moment
    return 128 + signum

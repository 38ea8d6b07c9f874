"""``mpscope trace`` and ``mpscope open``: watch an unmodified program's pools, save, replay.

``mpscope trace [--out FILE] [--no-window] [--tick S] (SCRIPT | -m MODULE | -- CMD) [ARGS...]``
runs the program as it would run alone (``trace.launch``) with a ``Recorder`` listening to its
processes, writes the Chrome trace, and at the end prints one summary line on stderr (plus one
per note, such as a worker killed under a pool) and exits as the program did. With a display,
and without ``--no-window``, the window shows the program live (``TraceWindows``, given by the
``mpscope`` console script, which alone may import the gui). ``mpscope open FILE`` checks a
saved trace and replays it in the window.

Everything after the script (or the module, or ``--``) is the program's own: ``mpscope trace
etl.py --out x`` passes ``--out x`` to etl.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn, Protocol

from mpscope.workers.cli.options import EXIT_BAD_INPUT, BadInput, Parser
from mpscope.workers.trace.chrome import TraceFileError, read_packets
from mpscope.workers.trace.launch import (
    Program,
    ProgramCommand,
    ProgramError,
    SignalRelay,
    default_trace_path,
    given_command,
    module_command,
    script_command,
)
from mpscope.workers.trace.model import TraceModel
from mpscope.workers.trace.packets import DEFAULT_TICK_S, Packet
from mpscope.workers.trace.recorder import Recorder
from mpscope.workers.validation import MAX_TICK_S, MIN_TICK_S

SETTLE_S = 2.0  # after the program ends, how long its processes may take to hang up
TRACE_USAGE = (
    "mpscope trace [--out FILE] [--no-window] [--tick S] (SCRIPT | -m MODULE | -- CMD) [ARGS ...]"
)
_VALUED = ("--out", "--tick")  # mpscope's own options that take a value


class TraceWindows(Protocol):
    """The window's two entry points (the console script gives them when there is a display)."""

    def run_trace_window(self, recorder: Recorder, program: Program) -> None:
        """Show the program live until the user closes the window."""
        ...

    def open_trace_window(self, path: Path) -> int:
        """Replay a saved trace until the user closes the window; the exit code."""
        ...


class ProgramKilled(Exception):
    """The traced program died by a signal: mpscope ends by the same one (``launch.die_like``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def add_trace_parsers(sub: Any) -> None:
    """Add ``trace`` (its arguments are split by ``run_trace`` itself) and ``open``."""
    sub.add_parser(
        "trace",
        help="run your program as it is and watch its pools (live window, Chrome trace file)",
        add_help=False,
    )
    opener = sub.add_parser("open", help="replay a trace saved by mpscope trace in the window")
    opener.add_argument("file", help="the .trace.json file")


def trace_parser() -> Parser:
    """The parser of ``mpscope trace``'s own options (the program's come after them)."""
    parser = Parser(
        prog="mpscope trace",
        usage=TRACE_USAGE,
        description="Run a Python program unchanged and watch its multiprocessing pools, "
        "executors and processes: live in a window (with a display), and saved as a Chrome "
        "trace that Perfetto (ui.perfetto.dev) and `mpscope open` read.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="where to save the trace (default: <script>-YYYYmmdd-HHMMSS.trace.json here)",
    )
    parser.add_argument("--no-window", action="store_true", help="record only, no window")
    parser.add_argument(
        "--tick",
        metavar="S",
        default=str(DEFAULT_TICK_S),
        help=f"seconds between a process's reports, {MIN_TICK_S:g}..{MAX_TICK_S:g} "
        f"(default {DEFAULT_TICK_S:g})",
    )
    parser.add_argument("-m", metavar="MODULE", dest="module", help="run a module, as python -m")
    parser.add_argument("program", nargs="?", metavar="SCRIPT | -- CMD", help="what to run")
    return parser


def split_trace_args(argv: list[str]) -> tuple[list[str], ProgramCommand | None]:
    """(mpscope's own options, the program) from ``mpscope trace``'s arguments. ProgramError
    for a program that cannot be run as given; (options, None) if none is given."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return argv[:i], given_command(argv[i + 1 :])
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            module = arg[2:] or (argv[i + 1] if i + 1 < len(argv) else "")
            rest = argv[i + 1 :] if arg[2:] else argv[i + 2 :]
            if not module:
                raise BadInput("mpscope trace: -m needs a module name (see mpscope trace --help)")
            return argv[:i], module_command(module, rest)
        if arg in _VALUED:
            i += 2
            continue
        if arg.startswith("-") and arg != "-":
            i += 1
            continue
        return argv[:i], script_command(arg, argv[i + 1 :])
    return argv, None


def tick_seconds(text: str) -> float:
    """``--tick``'s value; BadInput naming it and the allowed range if it is not in it."""
    allowed = f"allowed {MIN_TICK_S:g}..{MAX_TICK_S:g} seconds"
    try:
        tick = float(text)
    except ValueError:
        raise BadInput(f"mpscope trace: --tick {text!r} is not a number: {allowed}") from None
    if not MIN_TICK_S <= tick <= MAX_TICK_S:  # NaN fails too
        raise BadInput(f"mpscope trace: --tick {text} is out of range: {allowed}")
    return tick


def run_trace(argv: list[str], windows: TraceWindows | None) -> int:
    """``mpscope trace ...``: the program's exit code (ProgramKilled if a signal ended it)."""
    try:
        own, command = split_trace_args(argv)
    except ProgramError as exc:
        raise BadInput(str(exc)) from None
    args = trace_parser().parse_args(own)
    if command is None:
        raise BadInput(
            "mpscope trace: no program given: mpscope trace SCRIPT [ARGS], -m MODULE [ARGS] "
            "or -- CMD [ARGS] (see mpscope trace --help)"
        )
    tick = tick_seconds(args.tick)
    out = Path(args.out) if args.out else default_trace_path(command.stem)
    live = windows is not None and not args.no_window
    summary = TraceSummary()
    try:
        recorder = Recorder(
            out, command=command.argv, tick_s=tick, live=live, listeners=[summary.feed]
        )
    except OSError as exc:
        raise BadInput(f"mpscope trace: cannot write the trace to {out}: {_reason(exc)}") from None
    with SignalRelay() as relay:
        try:
            program = Program(command, recorder.env())
        except OSError as exc:
            recorder.close()
            out.unlink(missing_ok=True)
            raise BadInput(f"mpscope trace: cannot run {command.display}: {_reason(exc)}") from None
        relay.attach(program)
        try:
            if live and windows is not None:
                _show_live(windows, recorder, program)
        finally:  # whatever happens in mpscope, the program runs on to its end, recorded
            returncode = program.wait()
            recorder.settle(SETTLE_S)
            recorder.close()
        for line in summary.lines(recorder, out):
            print(line, file=sys.stderr)
    if returncode < 0:
        raise ProgramKilled(-returncode)
    return returncode


def _show_live(windows: TraceWindows, recorder: Recorder, program: Program) -> None:
    try:
        windows.run_trace_window(recorder, program)
    except ImportError as exc:  # the window's libraries are missing or broken
        print(f"mpscope: the window cannot open ({exc}); recording only", file=sys.stderr)
    else:
        if program.poll() is None:
            print(
                "mpscope: the window was closed; recording until the program ends",
                file=sys.stderr,
            )
    finally:  # nobody drains from now on: keep nothing for it
        recorder.live = False
        recorder.drain()


def run_open(args: argparse.Namespace, windows: TraceWindows | None) -> int:
    """``mpscope open FILE``: check the file, then replay it in the window (if there is one)."""
    path = Path(args.file)
    try:
        read_packets(path)
    except TraceFileError as exc:
        raise BadInput(f"mpscope open: {exc}") from None
    if windows is None:
        print(
            f"mpscope open: no display found: open {path} where there is one, or in Perfetto "
            "(ui.perfetto.dev)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    return windows.open_trace_window(path)


class TraceSummary:
    """What the closing lines say, folded as the packets come (on the recorder's thread)."""

    def __init__(self) -> None:
        self.model = TraceModel(keep_events=False)  # counts and notes: bounded
        self.processes = 0  # the program's own multiprocessing.Process children

    def feed(self, packet: Packet) -> None:
        """Fold one packet in."""
        self.model.feed(packet)
        if packet.get("k") == "proc" and packet.get("pool") is None:
            self.processes += 1

    def lines(self, recorder: Recorder, out: Path) -> list[str]:
        """One summary line, then one per note."""
        model = self.model
        pools, tasks, workers = len(model.pools), model.tasks(), model.workers()
        parts = []
        if pools:
            parts.append(
                f"{_count(pools, 'pool')}, {_count(tasks, 'task')} from {_count(workers, 'worker')}"
            )
        if self.processes:
            parts.append(_count(self.processes, "process", "processes"))
        seen = "; ".join(parts) if parts else "no pool or process seen"
        if recorder.error:
            saved = f"the trace could not be written to {out} ({recorder.error})"
        else:
            saved = f"trace written to {out}"
        lines = [f"mpscope: {seen}; {saved}"]
        lines += [f"mpscope: {note}" for note in model.notes()]
        if recorder.dropped:
            lines.append(
                f"mpscope: {_count(recorder.dropped, 'report')} from the program's processes "
                "could not be read (a process killed while it sent?)"
            )
        if recorder.rejected:
            lines.append(
                f"mpscope: {_count(recorder.rejected, 'connection')} without mpscope's key "
                "were refused"
            )
        return lines


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def die(exc: ProgramKilled) -> NoReturn:
    """End mpscope by the signal that ended the program (``launch.die_like``)."""
    from mpscope.workers.trace.launch import die_like

    sys.exit(die_like(exc.signum))

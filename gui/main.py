"""The ``mpscope`` console script: headless subcommands, or the window when none is given.

``trace`` and ``open`` are command-line subcommands too; when there is a display they get the
trace window's two entry points (``TraceWindows``), imported only when a window opens.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEADLESS_COMMANDS = {"run", "strategies", "workloads", "compare"}
TRACE_COMMANDS = {"trace", "open"}
EXIT_NO_DISPLAY = 2
INVISIBLE_PLATFORMS = ("offscreen", "minimal")  # Qt platforms that show nobody a window


def has_display() -> bool:
    """True if Qt can open a window here (or a platform plugin was chosen explicitly)."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def can_be_seen() -> bool:
    """True if a window opened here reaches a person (a display, not Qt's offscreen or
    minimal platform): the trace window waits for its user to close it."""
    return has_display() and os.environ.get("QT_QPA_PLATFORM") not in INVISIBLE_PLATFORMS


class TraceWindows:
    """The trace window for ``mpscope trace`` (live) and ``mpscope open`` (a replay)."""

    def run_trace_window(self, recorder: Any, program: Any) -> None:
        """Show the running program's pools until the user closes the window."""
        from mpscope.gui.trace.window import run_trace_window

        run_trace_window(recorder, program)

    def open_trace_window(self, path: Path) -> int:
        """Replay the saved trace at ``path`` until the user closes the window."""
        from mpscope.gui.trace.window import open_trace_window

        return open_trace_window(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch: ``mpscope run|strategies|workloads|compare|trace|open ...`` or the window."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in TRACE_COMMANDS:
        from mpscope.workers.cli import main as cli_main

        return cli_main(args, windows=TraceWindows() if can_be_seen() else None)
    if args and (args[0] in HEADLESS_COMMANDS or args[0] in ("-h", "--help")):
        from mpscope.workers.cli import main as cli_main

        return cli_main(args)
    if args:
        from mpscope.workers.cli import main as cli_main

        return cli_main(args)  # reports the unknown command as bad input (exit 2)
    if not has_display():
        print(
            "mpscope: no display found: set QT_QPA_PLATFORM=offscreen to run the window "
            "without a screen, or use `mpscope run` for the headless command line",
            file=sys.stderr,
        )
        return EXIT_NO_DISPLAY
    from mpscope.gui.app import run_app

    return run_app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

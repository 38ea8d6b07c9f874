"""The ``mpscope`` console script: headless subcommands, or the window when none is given."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

HEADLESS_COMMANDS = {"run", "strategies", "workloads", "compare"}
EXIT_NO_DISPLAY = 2


def has_display() -> bool:
    """True if Qt can open a window here (or a platform plugin was chosen explicitly)."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch: ``mpscope run|strategies|workloads|compare ...`` or open the window."""
    args = list(sys.argv[1:] if argv is None else argv)
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

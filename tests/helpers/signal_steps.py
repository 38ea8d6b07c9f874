"""Start a process as from an interactive shell: Ctrl-C, SIGTERM and SIGHUP at their defaults.

A process inherits the signals its parent ignores: under ``nohup``, or started in the background
by a non-interactive shell (as CI may start the test session), SIGHUP or SIGINT arrive ignored,
and a Python started then keeps ignoring them (it installs its KeyboardInterrupt handler only
where SIGINT was not ignored). A test of what Ctrl-C or SIGHUP does must not depend on how the
test session was started: start its subprocess inside ``default_signals()``.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

RESET = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _noted(signum: int, frame: object) -> None:
    """A stand-in handler: the session ignored this signal, and still does."""


@contextlib.contextmanager
def default_signals() -> Iterator[None]:
    """While it lasts, no signal a terminal sends is ignored here, so a child started now
    begins with each at its default (a handler, unlike SIG_IGN, does not survive exec)."""
    ignored = [sig for sig in RESET if signal.getsignal(sig) == signal.SIG_IGN]
    for sig in ignored:
        signal.signal(sig, _noted)
    try:
        yield
    finally:
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)

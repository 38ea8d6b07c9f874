"""Launching the traced program: a signal sent to mpscope reaches the program whichever of
mpscope's threads the kernel hands it to."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from signal_steps import default_signals

from mpscope.workers.trace.launch import Program, ProgramCommand, SignalRelay


@pytest.mark.timeout(30)
def test_a_sigterm_landing_on_another_thread_of_mpscope_still_reaches_the_program(
    tmp_path: Path,
) -> None:
    """The recorder runs threads beside the main one, and the kernel may hand a SIGTERM sent to
    mpscope to any of them: that does not interrupt the main thread's wait for the program, and
    Python runs the handler that passes it on only on the main thread. The wait must still let
    it run (it once hung CI for 30 s: the program waiting for the signal, mpscope for it)."""
    script = tmp_path / "sleepy.py"
    script.write_text("import time\ntime.sleep(60)\n")
    with default_signals(), SignalRelay() as relay:
        program = Program(ProgramCommand([sys.executable, str(script)], "sleepy"), os.environ)
        relay.attach(program)

        def signal_this_thread() -> None:
            time.sleep(0.3)  # the main thread is in its wait by now
            signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

        other = threading.Thread(target=signal_this_thread)
        other.start()
        started = time.monotonic()
        try:
            returncode = program.wait()
        finally:
            program.send_signal(signal.SIGKILL)  # never left behind, whatever happened
            other.join()
    assert returncode == -signal.SIGTERM  # passed on: the program ended by it
    assert time.monotonic() - started < 5

"""Regression: PySide6 6.12.0 on Python < 3.12 drops a reference to None on every void call.

After some tens of thousands of calls (a minute of live plotting) the interpreter aborts with
"Fatal Python error: none_dealloc: deallocating None". pyproject pins around it (see the
comment on its PySide6 requirement); this test catches a build that has the bug, in a
subprocess so an abort cannot take the test session down with it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

CALLS = 200_000

SCRIPT = textwrap.dedent(
    f"""
    import json
    import sys

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QLabel, QProgressBar, QWidget

    app = QApplication([])
    widget = QWidget()
    label = QLabel(widget)
    bar = QProgressBar(widget)
    timer = QTimer()
    calls = 0
    before = sys.getrefcount(None)
    while calls < {CALLS}:
        widget.setEnabled(calls % 2 == 0)
        widget.update()
        timer.start(1000)
        timer.stop()
        bar.setValue(calls % 100)
        label.setText("x")
        app.processEvents()
        calls += 7
    after = sys.getrefcount(None)
    print(json.dumps({{"before": before, "after": after, "calls": calls}}))
    """
)


@pytest.mark.timeout(300)
def test_void_qt_calls_leave_the_refcount_of_none_alone():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, f"the interpreter died ({done.returncode}): {done.stderr[-1500:]}"
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["calls"] >= CALLS
    # a leaking build loses one reference per call: hundreds of thousands
    assert abs(figures["after"] - figures["before"]) < 100, figures

"""The window paints on its own thread: Qt's helper threads for fills are never started.

Qt hands a fill of more than 96 rows to a pool of helper threads and waits for them; with a
run's workers on every core, the window waited for those helpers to get a core. mpscope turns
the pool off for its own process only, so the processes it starts keep their environment.
Each case runs in a fresh interpreter: Qt reads its switch once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/task")

SWITCH = "QT_NO_GUI_THREADPOOL"
POOLED_THREAD = "Thread (pooled)"  # the name Qt gives its pool's threads

SCRIPT = textwrap.dedent(
    """
    import json
    import os

    from PySide6.QtWidgets import QApplication

    from mpscope.gui.app import create_window

    window = create_window()
    window.resize(1280, 800)
    window.show()
    for _ in range(20):
        QApplication.processEvents()
    window.grab()  # every view painted whole: plots, their axes and grids
    threads = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as comm:
            threads.append(comm.read().strip())
    print(json.dumps({"threads": threads, "switch": os.environ.get("SWITCH")}))
    window.close()
    """
).replace("SWITCH", SWITCH)


# with the switch set from the start: does this Qt honour it at all (Qt 6.8 has no switch)?
PROBE = textwrap.dedent(
    """
    import os

    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

    app = QGuiApplication([])
    image = QImage(8, 1024, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.fillRect(image.rect(), QColor(0, 0, 0, 100))
    painter.end()
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/comm") as comm:
            print(comm.read().strip())
    """
)


@pytest.fixture(scope="module")
def qt_honours_the_switch() -> None:
    """Skip where this Qt has no such switch: nothing can keep its fills on one thread."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{SWITCH: "1"})
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if POOLED_THREAD in done.stdout.splitlines():
        from PySide6 import __version__

        pytest.skip(f"Qt of PySide6 {__version__} ignores {SWITCH}: its fills use its pool")


def paint_the_window(tmp_path: Path, **extra: str) -> dict[str, object]:
    """Start the window in a fresh interpreter, paint it; its threads and its switch after."""
    env = {k: v for k, v in os.environ.items() if k != SWITCH}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),  # the window's settings and history stay out of the user's
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        MPSCOPE_DATA_DIR=str(tmp_path / "data"),
        **extra,
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=100
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


@pytest.mark.timeout(120)
def test_the_window_paints_without_qt_helper_threads_and_children_keep_their_environment(
    tmp_path: Path, qt_honours_the_switch: None
) -> None:
    figures = paint_the_window(tmp_path)
    assert POOLED_THREAD not in figures["threads"], figures["threads"]
    assert figures["switch"] is None  # taken back: workers and traced programs never see it


@pytest.mark.timeout(120)
def test_a_switch_the_user_set_is_left_as_it_is(
    tmp_path: Path, qt_honours_the_switch: None
) -> None:
    figures = paint_the_window(tmp_path, **{SWITCH: "1"})
    assert figures["switch"] == "1"
    assert POOLED_THREAD not in figures["threads"]

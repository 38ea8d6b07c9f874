"""One run in a real X window (Xvfb + Qt's xcb platform), with a screenshot taken from the X server.

The offscreen tests never touch a window system; this one does: it starts its own Xvfb, runs
the app in a subprocess with ``QT_QPA_PLATFORM=xcb``, presses Run, and grabs the window from the
X server once the run has ended. It skips, saying why, where Xvfb or Qt's xcb libraries are
missing (``make test`` installs them through ``.ci/ensure-xvfb``).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage

from mpscope.gui.palette import worker_color

ROOT = Path(__file__).resolve().parents[2]

APP_SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication


    def main() -> None:
        from mpscope.gui.app import create_window

        out = sys.argv[1]
        window = create_window()
        window.resize(1280, 800)
        window.show()
        controls = window.controls
        controls.strategy_combo.setCurrentIndex(controls.strategy_combo.findData("pool-map"))
        controls.workload_combo.setCurrentIndex(controls.workload_combo.findData("sleep"))
        controls.sleep_spin.setValue(5.0)
        controls.items_edit.setText("400")
        controls.items_edit.textEdited.emit("400")
        controls.chunksize_spin.setValue(10)
        result = {}

        def snap() -> None:
            image = window.screen().grabWindow(window.winId())
            result.update(
                saved=image.save(out, "PNG"),
                state=window.controller.state,
                correct=bool(getattr(window.model.outcome, "correct", False)),
                platform=QApplication.platformName(),
            )
            window.close()
            QApplication.quit()

        def give_up() -> None:
            result["state"] = "timed out: " + window.controller.state
            window.close()
            QApplication.quit()

        window.controller.run_ended.connect(lambda _outcome: QTimer.singleShot(500, snap))
        QTimer.singleShot(300, lambda: result.update(started=window.start_run()))
        QTimer.singleShot(90_000, give_up)
        QApplication.instance().exec()
        print(json.dumps(result))


    if __name__ == "__main__":
        main()
    """
)


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    reported = b""
    try:
        # Xvfb writes "N\n" once it accepts connections; read up to the newline before closing
        # the pipe, or its second write gets SIGPIPE and kills it
        deadline = time.monotonic() + 15.0
        while not reported.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], max(deadline - time.monotonic(), 0))
            chunk = os.read(read_fd, 64) if ready else b""
            if not chunk:
                break
            reported += chunk
    finally:
        os.close(read_fd)
    number = reported.decode().strip()
    if not number:
        proc.kill()
        proc.wait()
        pytest.skip("Xvfb did not report a display within 15 s")
    return proc, f":{number}"


@pytest.fixture
def x_display() -> Iterator[str]:
    """A private Xvfb display, stopped after the test."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (make test installs it through .ci/ensure-xvfb)")
    proc, display = _start_xvfb()
    try:
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _env(display: str, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        MPSCOPE_NO_CALIBRATION="1",
        XDG_CONFIG_HOME=str(home / "config"),  # never the user's settings
        MPSCOPE_DATA_DIR=str(home / "data"),
        PYTHONPATH=str(ROOT),
    )
    env.pop("WAYLAND_DISPLAY", None)
    return env


def _skip_without_xcb(env: dict[str, str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        lines = [ln for ln in probe.stderr.splitlines() if "xcb" in ln.lower()] or [
            probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "no output"
        ]
        pytest.skip(f"Qt cannot open an xcb window here: {lines[0]} (see .ci/ensure-xvfb)")


def _near(color: QColor, target: QColor, tolerance: int = 12) -> bool:
    return (
        abs(color.red() - target.red()) <= tolerance
        and abs(color.green() - target.green()) <= tolerance
        and abs(color.blue() - target.blue()) <= tolerance
    )


@pytest.mark.xvfb
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_run_in_a_real_x_window_draws_and_can_be_captured(x_display, tmp_path):
    env = _env(x_display, tmp_path)
    _skip_without_xcb(env)
    script = tmp_path / "real_window_run.py"
    script.write_text(APP_SCRIPT)
    png = tmp_path / "real-window.png"
    done = subprocess.run(
        [sys.executable, str(script), str(png)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["platform"] == "xcb"
    assert result["started"] is True
    assert result["state"] == "finished" and result["correct"], result
    assert result["saved"] and png.exists()

    image = QImage(str(png))
    assert not image.isNull()
    assert image.width() >= 1000 and image.height() >= 600, (image.width(), image.height())
    colors: Counter[int] = Counter()
    worker0 = worker_color(0)
    worker0_pixels = 0
    for y in range(0, image.height(), 3):
        for x in range(0, image.width(), 3):
            rgb = image.pixel(x, y)
            colors[rgb] += 1
            if _near(QColor(rgb), worker0):
                worker0_pixels += 1
    sampled = sum(colors.values())
    assert len(colors) > 50, "the screenshot is nearly uniform"
    assert colors.most_common(1)[0][1] < 0.8 * sampled, "one colour covers most of the window"
    # the first worker's colour is drawn (timeline bars, curves, progress bar): real data
    assert worker0_pixels > 100

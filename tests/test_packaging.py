"""`pip install .` (not editable) must carry everything the app needs, resources included."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(300)
def test_the_wheel_holds_code_resources_and_the_console_script(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("mpscope-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in ("workers/cli.py", "workers/probe.py", "gui/main.py", "gui/app.py"):
        assert module in names
    strategies = [n for n in names if n.startswith("resources/strategies/") and n.endswith(".md")]
    assert len(strategies) >= 7, sorted(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mpscope = gui.main:main" in text
    assert not any(n.startswith("tests/") for n in names)

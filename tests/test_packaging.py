"""`pip install .` (not editable) must carry everything the app needs, in one package: mpscope."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _clean_copy(target: Path) -> Path:
    """The repository's files as a fresh clone would have them (plus uncommitted changes),
    without what earlier builds left in build/ (setuptools would package stale modules)."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()  # fmt: skip
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `pip install .` would install from a fresh clone, built once for this module."""
    out = tmp_path_factory.mktemp("wheel")
    source = _clean_copy(tmp_path_factory.mktemp("clone"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (built,) = out.glob("mpscope-*.whl")
    return built


@pytest.mark.timeout(300)
def test_the_wheel_holds_one_package_with_code_resources_and_the_console_script(
    wheel: Path,
) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"mpscope"}, sorted(top)
    for module in ("__init__.py", "__main__.py", "workers/cli/__init__.py", "workers/probe.py",
                   "gui/main.py", "gui/app.py"):  # fmt: skip
        assert f"mpscope/{module}" in names
    strategies = [
        n for n in names if n.startswith("mpscope/resources/strategies/") and n.endswith(".md")
    ]
    assert len(strategies) >= 7, sorted(names)
    assert "mpscope/resources/mpscope.qss" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "mpscope = mpscope.gui.main:main" in text
    top_level = next((n for n in names if n.endswith("top_level.txt")), None)
    if top_level is not None:
        assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["mpscope"]
    assert not any("tests/" in n or "benchmarks/" in n for n in names)
    # every package folder of the repository is in it (pyproject lists them one by one)
    for init in ROOT.glob("*/**/__init__.py"):
        folder = init.parent.relative_to(ROOT)
        if folder.parts[0] in ("gui", "workers", "resources"):
            assert f"mpscope/{folder.as_posix()}/__init__.py" in names, folder


@pytest.mark.timeout(300)
def test_the_installed_package_alone_runs_from_anywhere(wheel: Path, tmp_path: Path) -> None:
    """Installed by itself (no repository on the path), `python -m mpscope run` works."""
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, timeout=280,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info")) in (
        ["mpscope"],
        ["bin", "mpscope"],
    )
    # the installed copy, not the repository's editable one, is what runs
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import mpscope.workers; print(mpscope.workers.__file__)"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(target)
    run = subprocess.run(
        [sys.executable, "-m", "mpscope", "run", "--strategy", "pool-map", "--items", "2000",
         "--workers", "2", "--json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    record = json.loads(run.stdout)
    assert record["correct"] is True and record["result"] == sum(x * x for x in range(2000))

"""Fixtures for the engine's tests: no Qt allowed, no process left behind."""

from __future__ import annotations

import importlib.abc
import os
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from leftovers import leftovers, tag_session, tagged_processes

tag_session()

from mpscope.workers import RunSpec, start_run
from mpscope.workers.events import Event, RunFinished

QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "superqt")
GUI_PACKAGE = "mpscope.gui"


class _QtBlocker(importlib.abc.MetaPathFinder):
    """Makes any import of Qt (or of mpscope's gui) fail loudly while these tests run."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        ours = fullname == GUI_PACKAGE or fullname.startswith(GUI_PACKAGE + ".")
        if ours or fullname.split(".", maxsplit=1)[0] in QT_MODULES:
            raise ImportError(f"tests/workers must run without Qt, yet {fullname} was imported")
        return None


@pytest.fixture(autouse=True)
def qt_is_blocked() -> Iterator[None]:
    """While an engine test runs, importing Qt (or the gui package) is an error."""
    blocker = _QtBlocker()
    sys.meta_path.insert(0, blocker)
    yield
    sys.meta_path.remove(blocker)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under `make test-workers` (MPSCOPE_QT_FREE=1) prove that Qt is not even installed."""
    if os.environ.get("MPSCOPE_QT_FREE") == "1":
        for name in ("PySide6", "pyqtgraph", "superqt"):
            assert importlib.util.find_spec(name) is None, (
                f"{name} is installed in the Qt-free venv"
            )


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Fail any test that leaves a process running (children or re-parented orphans)."""
    before = set(tagged_processes())
    yield
    left = leftovers(before)
    assert not left, "processes left behind:\n" + "\n".join(left)


def _run_to_end(spec: RunSpec, timeout: float = 60.0) -> tuple[list[Event], Event]:
    """Start ``spec``, read every event until the terminal one; return (events, terminal)."""
    handle = start_run(spec)
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not handle.finished:
        events.extend(handle.drain())
        if time.monotonic() > deadline:
            handle.cancel()
            raise AssertionError(f"run did not end within {timeout} s: {spec}")
        time.sleep(0.01)
    handle.close()
    assert handle.outcome is not None
    return events, handle.outcome


def _finished(outcome: Event) -> RunFinished:
    """Assert the run finished (not failed) and return its RunFinished."""
    assert isinstance(outcome, RunFinished), f"run did not finish: {outcome}"
    return outcome


@pytest.fixture
def run_to_end() -> Callable[..., tuple[list[Event], Event]]:
    """Start a spec and read every event until the terminal one: (events, terminal)."""
    return _run_to_end


@pytest.fixture
def finished() -> Callable[[Event], RunFinished]:
    """Assert a terminal event is RunFinished and return it."""
    return _finished

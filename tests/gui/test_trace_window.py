"""The trace window: live from a recorder's packets, and replaying a saved trace file."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mpscope.gui.trace.live_feed import LiveFeed
from mpscope.gui.trace.window import (
    TraceWindow,
    guess_script,
    load_replay,
    open_trace_window,
    replay_window,
)
from mpscope.workers.events import RunFailed, RunFinished
from mpscope.workers.trace.chrome import ChromeTraceWriter

T0 = 5000.0  # the program's first packet, on the packets' clock (far from the real one)
MAIN, PLAIN_CHILD = 4000, 4100
POOL_A, POOL_B = "4000:1", "4000:2"
KILLED = 4003


def program_packets(kill: bool = False) -> list[dict[str, Any]]:
    """A program's packets: ``etl.py:42 Pool(4)`` maps 2,000 items in 40 tasks (with ``kill``,
    its worker 4003 is killed mid-map), then ``etl.py:70 ThreadPool(2)`` runs 30 tasks, then a
    plain Process runs; every process is sampled every 0.1 s. Sorted by time."""
    rnd = random.Random(7)
    packets: list[dict[str, Any]] = []

    def add(k: str, pid: int, t: float, **fields: Any) -> None:
        packets.append({"k": k, "pid": pid, "t": t, **fields})

    add("hello", MAIN, T0, key="k", ppid=1, argv=["/srv/etl.py", "--fast"], python="3.11.7",
        start_method="fork")  # fmt: skip
    add("pool", MAIN, T0 + 0.1, pool=POOL_A, kind="Pool", workers=4, label="etl.py:42 Pool(4)",
        file="etl.py", line=42, tid=1)  # fmt: skip
    for i in range(4):
        add("worker", MAIN, T0 + 0.12 + 0.01 * i, pool=POOL_A, worker_pid=4001 + i, tid=None)
    add("call", MAIN, T0 + 0.2, pool=POOL_A, call="4000:1", method="map", items=2000,
        label="etl.py:57 pool.map(parse, rows)", file="etl.py", line=57, tid=1)  # fmt: skip
    free = [T0 + 0.25 + 0.02 * i for i in range(4)]
    for task in range(40):
        w = min(range(4), key=lambda i: free[i])
        if kill and 4001 + w == KILLED and task > 20:
            free[w] = float("inf")
            continue
        t0, t1 = free[w], free[w] + rnd.uniform(0.08, 0.16)
        add("span", 4001 + w, t1, pool=POOL_A, call="4000:1", tid=None, t0=t0, t1=t1, items=50,
            index=task, ok=True)  # fmt: skip
        free[w] = t1 + 0.005
    end_a = max(f for f in free if f != float("inf"))
    if kill:
        add("worker_exit", MAIN, T0 + 1.2, pool=POOL_A, worker_pid=KILLED, tid=None, exitcode=-9)
    add("pool_end", MAIN, end_a + 0.01, pool=POOL_A, how="terminate")
    for i in range(4):
        if not (kill and 4001 + i == KILLED):
            add("worker_exit", MAIN, end_a + 0.02, pool=POOL_A, worker_pid=4001 + i, tid=None,
                exitcode=-15)  # fmt: skip
    tb = end_a + 0.1
    add("pool", MAIN, tb, pool=POOL_B, kind="ThreadPool", workers=2,
        label="etl.py:70 ThreadPool(2)", file="etl.py", line=70, tid=1)  # fmt: skip
    for i in range(2):
        add("worker", MAIN, tb + 0.01, pool=POOL_B, worker_pid=MAIN, tid=5001 + i)
    add("call", MAIN, tb + 0.02, pool=POOL_B, call="4000:2", method="imap_unordered",
        items=None, label="etl.py:72 pool.imap_unordered(fetch, urls)", file="etl.py", line=72,
        tid=1)  # fmt: skip
    free = [tb + 0.03, tb + 0.04]
    for task in range(30):
        w = min(range(2), key=lambda i: free[i])
        t0, t1 = free[w], free[w] + rnd.uniform(0.02, 0.05)
        add("span", MAIN, t1, pool=POOL_B, call="4000:2", tid=5001 + w, t0=t0, t1=t1, items=1,
            index=task, ok=True)  # fmt: skip
        free[w] = t1 + 0.002
    end_b = max(free)
    add("pool_end", MAIN, end_b + 0.01, pool=POOL_B, how="close")
    add("proc", MAIN, end_b + 0.05, child_pid=PLAIN_CHILD, label="etl.py:88 Process(target=load)",
        pool=None)  # fmt: skip
    add("hello", PLAIN_CHILD, end_b + 0.06, key="k", ppid=MAIN, argv=["/srv/etl.py"],
        python="3.11.7", start_method="fork")  # fmt: skip
    add("proc_end", MAIN, end_b + 0.4, child_pid=PLAIN_CHILD, exitcode=0)
    t = T0
    while t < end_b + 0.5:
        add("sample", MAIN, t, cpu=5.0, rss=30 * 2**20)
        for i in range(4):
            if T0 + 0.12 < t < end_a and not (kill and 4001 + i == KILLED and t > T0 + 1.2):
                add("sample", 4001 + i, t + 0.001, cpu=90.0 + i, rss=(20 + i) * 2**20)
        t += 0.1
    packets.sort(key=lambda p: p["t"])
    return packets


class FakeRecorder:
    """Hands a program's packets out over several drains, as the recorder's socket would."""

    def __init__(self, packets: list[dict[str, Any]], drains: int, out_path: Path) -> None:
        size = -(-len(packets) // drains)
        self.batches = [packets[i : i + size] for i in range(0, len(packets), size)]
        self.out_path = out_path

    def drain(self) -> list[dict[str, Any]]:
        return self.batches.pop(0) if self.batches else []


class FakeProgram:
    """Runs until its recorder has handed out everything, then exits with ``code``."""

    def __init__(self, recorder: FakeRecorder, code: int) -> None:
        self.recorder, self.code = recorder, code

    def poll(self) -> int | None:
        return None if self.recorder.batches else self.code


@pytest.fixture
def live(qtbot: QtBot, tmp_path: Path) -> Iterator[Any]:
    """Starts a live window on a fake program's packets; closes it after the test."""
    windows: list[TraceWindow] = []

    def start(packets: list[dict[str, Any]], code: int = 0, drains: int = 12) -> TraceWindow:
        window = TraceWindow("etl.py")
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        recorder = FakeRecorder(packets, drains, tmp_path / "etl-trace.json")
        window.feed = LiveFeed(window, recorder, FakeProgram(recorder, code))
        windows.append(window)
        return window

    yield start
    for window in windows:
        window.close()


def rows(window: TraceWindow) -> list[str]:
    lst = window.pool_list
    return [lst.item(i).text().split("\n")[0] for i in range(lst.count())]


def test_live_window_lists_pools_selects_the_first_and_switches_the_views(
    live: Any, qtbot: QtBot
) -> None:
    window = live(program_packets())
    geometry = [view.geometry() for view in window.view_widgets]
    feed = window.feed
    feed.drain()  # the first batch: the program and its first pool
    assert rows(window) == ["etl.py:42 Pool(4)"]
    assert window.pool_list.selected_key == POOL_A  # selected as soon as it appears
    assert window.model.pool_key == POOL_A
    feed.start()
    qtbot.waitUntil(lambda: window.program_over, timeout=10_000)
    assert rows(window) == ["etl.py:42 Pool(4)", "etl.py:70 ThreadPool(2)"]
    assert "Pool · 4 workers · 2,000 items · terminated" in window.pool_list.item(0).text()
    # the selected pool on the views: four lanes, all its tasks
    window.redraw()
    timeline = window.view_widgets[2]
    assert sorted(window.model.lanes) == [0, 1, 2, 3]
    assert sum(len(timeline.drawn_spans(i)) for i in range(4)) == 40
    assert window.model.done == 2000
    assert isinstance(window.model.outcome, RunFinished)  # closed, no worker died
    assert window.parts.calls.tree.topLevelItem(0).text(0) == "etl.py:57 pool.map(parse, rows)"
    assert window.parts.calls.tree.topLevelItem(0).text(1) == "2,000 / 2,000"
    # its processes' samples as the recorder took them: the owner's, and each worker's
    assert set(window.series.memory) == {-1, 0, 1, 2, 3}
    assert window.series.memory[2].view()[0, 1] == pytest.approx(22.0)  # MiB, worker 4003
    # another pool: the views and the calls follow
    window.pool_list.setFocus()
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Down)
    assert window.model.pool_key == POOL_B
    window.redraw()
    assert sorted(window.model.lanes) == [0, 1]
    assert sum(len(timeline.drawn_spans(i)) for i in range(4)) == 30
    assert sorted(window.view_widgets[0].lane_curves) == [0, 1]
    assert window.model.done == 30
    call = window.parts.calls.tree.topLevelItem(0)
    assert call.text(0).startswith("etl.py:72 pool.imap_unordered")
    assert (call.text(1), call.text(2)) == ("30", "30")
    # the resources: the pool's own process (a thread pool's workers are its threads)
    assert set(window.series.memory) == {-1}
    assert [view.geometry() for view in window.view_widgets] == geometry  # nothing moved


def test_live_window_says_how_the_program_ended_and_where_the_trace_is(
    live: Any, qtbot: QtBot, tmp_path: Path
) -> None:
    window = live(program_packets(), code=3)
    window.feed.start()
    qtbot.waitUntil(lambda: window.program_over, timeout=10_000)
    status = window.status_text.text()
    assert status.startswith("etl.py exited with code 3 after ")
    assert f"trace saved to {tmp_path / 'etl-trace.json'}" in status
    processes = window.parts.processes.tree
    texts = [
        [processes.topLevelItem(i).text(c) for c in range(3)]
        for i in range(processes.topLevelItemCount())
    ]
    assert texts[0][0] == "etl.py --fast" and texts[0][2] == "3"  # the program's own code
    assert texts[1][0] == "etl.py:88 Process(target=load)" and texts[1][2] == "0"
    assert window.isVisible()  # it stays open until the user closes it


def test_a_killed_worker_is_in_the_banner_and_fails_its_pool(live: Any, qtbot: QtBot) -> None:
    window = live(program_packets(kill=True), code=-9)
    assert "Nothing unusual" in window.parts.banner.text()
    window.feed.start()
    qtbot.waitUntil(lambda: window.program_over, timeout=10_000)
    banner = window.parts.banner.text()
    assert f"worker {KILLED} of etl.py:42 Pool(4) was killed (SIGKILL)" in banner
    assert "Pool.map will wait for ever (CPython gh-96062)" in banner
    assert window.parts.banner.isVisible()
    assert "a worker died" in window.pool_list.item(0).text()
    outcome = window.model.outcome
    assert isinstance(outcome, RunFailed) and outcome.pid == KILLED
    assert "etl.py was killed by SIGKILL" in window.status_text.text()


def test_a_pool_open_when_the_program_died_ends_with_it(live: Any, qtbot: QtBot) -> None:
    cut = [p for p in program_packets() if p["t"] < T0 + 0.9]  # killed mid-map
    window = live(cut, code=-9, drains=3)
    window.feed.start()
    qtbot.waitUntil(lambda: window.program_over, timeout=10_000)
    assert not window.model.live  # the clock stopped with the program
    outcome = window.model.outcome
    assert isinstance(outcome, RunFailed) and "still open" in outcome.error
    assert window.pool_list.item(0).text().endswith("· open")


def test_the_title_names_the_script(live: Any, qtbot: QtBot) -> None:
    assert guess_script(["/usr/bin/python3.11", "jobs/etl.py", "--fast"]) == "etl.py"
    assert guess_script(["/venv/bin/python", "-m", "tools.etl", "x.csv"]) == "tools.etl"
    assert guess_script(["python", "-u", "etl.py"]) == "etl.py"
    window = live(program_packets())
    window.script = "program"  # the command line said nothing: the program's hello tells
    window.feed.drain()
    assert window.windowTitle() == "mpscope trace — etl.py"


# -- replay -----------------------------------------------------------------------------------


def write_trace(path: Path, packets: list[dict[str, Any]]) -> Path:
    """``packets`` saved as the recorder saves them."""
    writer = ChromeTraceWriter(path, t0=packets[0]["t"], command=["python", "etl.py"])
    for packet in packets:
        assert writer.write(packet)
    writer.close(t_end=packets[-1]["t"])
    return path


@pytest.fixture
def replayed(qtbot: QtBot, tmp_path: Path) -> Iterator[TraceWindow]:
    """A window replaying a saved trace of the two-pool program (worker killed)."""
    path = write_trace(tmp_path / "etl-trace.json", program_packets(kill=True))
    window = replay_window(load_replay(path), path.name)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.close()


def seek(window: TraceWindow, qtbot: QtBot, seconds: float) -> None:
    """Move the slider to ``seconds`` and wait until the window shows that moment."""
    assert window.replay_bar is not None
    window.replay_bar.seek(seconds)
    qtbot.waitUntil(lambda: window.shown_at == pytest.approx(seconds), timeout=5_000)


def spans_drawn(window: TraceWindow) -> int:
    window.redraw()
    timeline = window.view_widgets[2]
    return sum(len(timeline.drawn_spans(i)) for i in window.model.lanes)


def test_a_replay_opens_at_the_end_of_the_trace(replayed: TraceWindow) -> None:
    window = replayed
    assert window.windowTitle() == "mpscope trace — etl.py"
    bar = window.replay_bar
    assert bar is not None and bar.position == pytest.approx(bar.duration_s)
    assert rows(window) == ["etl.py:42 Pool(4)", "etl.py:70 ThreadPool(2)"]
    assert window.model.pool_key == POOL_A
    assert spans_drawn(window) == 39  # the task worker 4003 was killed in never ended
    assert "was killed (SIGKILL)" in window.parts.banner.text()


def test_the_slider_shows_the_state_at_its_moment(replayed: TraceWindow, qtbot: QtBot) -> None:
    window = replayed
    bar = window.replay_bar
    assert bar is not None
    everything = spans_drawn(window)
    seek(window, qtbot, 0.8)  # the first pool mid-map, the second not made, nobody killed yet
    assert 0 < spans_drawn(window) < everything
    assert 0 < window.model.done < 1950
    assert window.model.outcome is None
    assert "Nothing unusual" in window.parts.banner.text()
    # the resources too: nothing sampled after the moment (the pool was made at 0.1 s)
    window.redraw()
    samples = window.series.cpu[0].view()
    assert len(samples) and samples[:, 0].max() <= 0.8 - 0.1 + 1e-9
    second = window.pool_list.item(1)
    assert not (second.flags() & Qt.ItemFlag.ItemIsEnabled)  # greyed: made later
    assert "made at" in second.text()
    assert "1 pool ·" in window.status_text.text()
    program = window.parts.processes.tree.topLevelItem(0)
    assert (program.text(0), program.text(1), program.text(2)) == (
        "etl.py --fast",
        "from 0.00 s",
        "running",
    )
    assert window.parts.processes.tree.topLevelItemCount() == 1  # its Process starts later
    # the views keep the pool's whole life on their time axis: scrubbing fills a still frame
    x_range = window.view_widgets[0].plot.getViewBox().viewRange()[0]
    assert x_range[1] > 1.0
    seek(window, qtbot, 0.05)  # before the pool was made: nothing to draw, and no error
    assert spans_drawn(window) == 0
    assert window.parts.calls.tree.topLevelItemCount() == 0
    seek(window, qtbot, bar.duration_s)  # and back to the end: everything again
    assert spans_drawn(window) == everything
    assert window.parts.calls.tree.topLevelItem(0).text(1) == "1,950 / 2,000"


def test_keys_step_and_play_the_replay(replayed: TraceWindow, qtbot: QtBot) -> None:
    window = replayed
    bar = window.replay_bar
    assert bar is not None
    window.pool_list.setFocus()
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Left)
    assert bar.position == pytest.approx(bar.duration_s - bar.step_s)
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Home)
    assert bar.position == 0.0
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Right)
    assert bar.position == pytest.approx(bar.step_s)
    bar.seek(bar.duration_s - 0.3)
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Space)
    assert bar.playing and bar.play_button.text() == "⏸ Pause"
    # at 1x the last 0.3 s take about as long, then it stops at the end
    qtbot.waitUntil(lambda: not bar.playing, timeout=10_000)
    assert bar.position == pytest.approx(bar.duration_s)
    qtbot.waitUntil(lambda: window.model.done == 1950, timeout=5_000)
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Space)  # at the end, Play starts over
    assert bar.playing and bar.position < 0.5
    qtbot.keyClick(window.pool_list, Qt.Key.Key_Space)
    assert not bar.playing


def test_a_bad_trace_file_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, content in (("notes.txt", "not a trace at all"), ("other.json", json.dumps([1]))):
        path = tmp_path / name
        path.write_text(content)
        assert open_trace_window(path) == 2
        err = capsys.readouterr().err
        assert err.startswith("mpscope open: ") and name in err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert open_trace_window(tmp_path / "missing.json") == 2
    assert "missing.json" in capsys.readouterr().err


def test_open_trace_window_runs_until_the_window_is_closed(
    tmp_path: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_trace(tmp_path / "etl-trace.json", program_packets())
    app = QApplication.instance()
    assert app is not None
    shown: list[TraceWindow] = []

    def close_when_shown() -> None:
        found = [w for w in app.topLevelWidgets() if isinstance(w, TraceWindow) and w.isVisible()]
        if not found:
            qtbot_timer.start(50)
            return
        shown.extend(found)
        found[0].close()
        loop.quit()  # pytest-qt keeps other (hidden) windows: leave the loop explicitly

    # the application's own exec() and quit() would end this test session's application
    # loop for good (later tests' runs never start): the window's loop is a local one here
    loop = QEventLoop()
    monkeypatch.setattr(type(app), "exec", lambda _app: loop.exec())
    qtbot_timer = QTimer()
    qtbot_timer.setSingleShot(True)
    qtbot_timer.timeout.connect(close_when_shown)
    qtbot_timer.start(50)
    assert open_trace_window(path) == 0
    assert shown and shown[0].model.done == 2000


@pytest.mark.timeout(60)
def test_trace_under_an_offscreen_qt_records_without_a_window_nobody_could_close(tmp_path):
    """QT_QPA_PLATFORM=offscreen is a display for tests, not for a person: ``mpscope trace``
    must not wait for a window to be closed that nobody can see."""
    import subprocess
    import sys

    (tmp_path / "fine.py").write_text("print('fine')\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "mpscope", "trace", "--out", "t.json", "fine.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=50,
    )  # fmt: skip
    assert done.returncode == 0 and done.stdout == "fine\n"
    assert "trace written to t.json" in done.stderr
    assert (tmp_path / "t.json").exists()

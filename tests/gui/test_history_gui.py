"""The run history in the window: it survives a restart and a damaged file; export, import,
delete, clear."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTabWidget
from ui_steps import child, choose, open_window

from mpscope.gui.main_window import MainWindow
from mpscope.workers.records.export import TABLE_COLUMNS, read_json, write_json
from mpscope.workers.records.history import APPLICATION_ID, FILE_NAME, SCHEMA_VERSION

HISTORY_TAB = 3


def data_dir() -> Path:
    return Path(os.environ["MPSCOPE_DATA_DIR"])


def live_run(qtbot, w: MainWindow, strategy: str, items: str = "3000") -> None:
    """One run from the Live page's Run button, to its end."""
    choose(child(w, "strategyCombo"), strategy)
    choose(child(w, "workloadCombo"), "square")
    edit = child(w, "itemsEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, items)
    with qtbot.waitSignal(w.controller.run_ended, timeout=60_000):
        qtbot.mouseClick(child(w, "runButton"), Qt.MouseButton.LeftButton)
    assert w.controller.state == "finished"


def history_rows(w: MainWindow) -> list[dict]:
    """The rows the History tab shows (opened as a user would: Compare page, History tab)."""
    panel = w.compare.history_panel
    w.pages.setCurrentWidget(w.compare)
    tabs = panel.parentWidget()
    while tabs is not None and not isinstance(tabs, QTabWidget):
        tabs = tabs.parentWidget()
    if tabs is not None:
        tabs.setCurrentWidget(panel)
    model = panel.model
    return [model.row_values(r) for r in range(model.rowCount())]


def answer(monkeypatch, reply: QMessageBox.StandardButton) -> list[str]:
    """Make the confirmation dialog answer ``reply``; the questions asked are collected."""
    asked: list[str] = []

    def question(parent, title, text, *args):
        asked.append(text)
        return reply

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def save_as(monkeypatch, path: Path, chosen_filter: str = "") -> None:
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), chosen_filter))
    )


def open_file(monkeypatch, path: Path) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )


def made_up_export(path: Path, hostname: str, n: int = 3) -> None:
    """A JSON export of ``n`` runs measured on ``hostname`` (timings made up)."""
    runs = [
        {
            "status": "finished",
            "strategy": "sequential" if i == 0 else "pool-map",
            "workload": "square",
            "items": 1000,
            "workers": max(i, 1),
            "chunksize": None if i == 0 else 125,
            "start_method": "forkserver",
            "wall_s": 0.01 * (i + 1),
            "cpu_s": 0.01,
            "items_per_s": 1000 / (0.01 * (i + 1)),
            "correct": True,
        }
        for i in range(n)
    ]
    write_json(path, runs, machine={"hostname": hostname, "cpu_count": 8})


@pytest.mark.timeout(90)
def test_every_finished_run_is_in_the_history_after_a_restart(qtbot):
    first = open_window(qtbot)
    live_run(qtbot, first, "sequential")
    live_run(qtbot, first, "pool-map")
    rows = history_rows(first)
    assert [r["strategy"] for r in rows] == ["pool-map", "sequential"]  # newest first
    assert "2 runs stored in" in child(first, "historyCount").text()
    first.close()

    second = open_window(qtbot)
    rows = history_rows(second)
    assert [r["strategy"] for r in rows] == ["pool-map", "sequential"]
    assert all(r["items"] == 3000 and r["correct"] is True for r in rows)
    assert rows[0]["speedup"] is not None  # against the stored sequential run
    assert not child(second, "compareBanner").isVisible()
    # the run summary's speed-up uses the sequential run of the earlier session
    live_run(qtbot, second, "pool-map")
    speedup = child(second, "summary_speedup").text()
    assert "×" in speedup and "run sequential" not in speedup
    assert len(second.compare.history.runs) == 3
    second.close()


@pytest.mark.timeout(60)
def test_a_corrupt_store_is_kept_aside_with_a_notice_and_a_fresh_one_works(qtbot):
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    garbage = b"this is not a database\x00\xff" * 100
    (folder / FILE_NAME).write_bytes(garbage)

    w = open_window(qtbot)
    w.pages.setCurrentWidget(w.compare)
    banner = child(w, "compareBanner")
    assert banner.isVisible()
    notice = w.compare.history.notice
    assert notice and "kept as" in notice and "\n" not in notice
    assert child(w, "compareBannerText").text() == notice
    assert w.statusBar().currentMessage() == notice
    kept = [p for p in folder.iterdir() if p.name.startswith(FILE_NAME + ".bad-")]
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert kept[0].name in notice

    live_run(qtbot, w, "sequential")
    assert len(w.compare.history.runs) == 1
    w.close()
    again = open_window(qtbot)
    assert len(again.compare.history.runs) == 1
    assert not child(again, "compareBanner").isVisible()  # told once: the new store is fine
    again.close()


@pytest.mark.timeout(90)
def test_export_csv_and_json_then_import_compares_two_machines(qtbot, monkeypatch, tmp_path):
    w = open_window(qtbot)
    live_run(qtbot, w, "sequential")
    live_run(qtbot, w, "pool-map")
    page = w.compare
    file_menu = w.file_menu
    assert w.menuBar().actions()[0].text() == file_menu.title() == "&File"
    for action in page.exports.actions():  # in the File menu, each with a shortcut
        assert action in file_menu.actions() and not action.shortcut().isEmpty()
    w.pages.setCurrentWidget(page)
    page.tabs.setCurrentIndex(HISTORY_TAB)  # with no selection: export the whole history

    csv_path = tmp_path / "runs.csv"
    save_as(monkeypatch, csv_path)
    page.exports.export_csv_action.trigger()
    with csv_path.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == [key for key, _ in TABLE_COLUMNS]
    assert sorted(r["strategy"] for r in table) == ["pool-map", "sequential"]
    assert all(r["correct"] == "True" for r in table)
    assert "exported 2 runs" in child(w, "compareBannerText").text()

    json_path = tmp_path / "runs.json"
    save_as(monkeypatch, json_path)
    page.exports.export_json_action.trigger()
    exported = read_json(json_path)
    assert sorted(r["strategy"] for r in exported) == ["pool-map", "sequential"]
    local_host = exported[0]["machine"]["hostname"]

    # the same file as it would come from another machine
    document = json.loads(json_path.read_text())
    document["machine"]["hostname"] = "other-box"
    for run in document["runs"]:
        run["machine"]["hostname"] = "other-box"
    other = tmp_path / "other-box.json"
    other.write_text(json.dumps(document))
    open_file(monkeypatch, other)
    page.exports.import_action.trigger()
    assert "imported 2 runs from other-box.json" in child(w, "compareBannerText").text()
    assert page.tabs.currentIndex() == HISTORY_TAB
    stored = page.history.runs
    assert len(stored) == 4
    imported = [run for run in stored if run.source == "import:other-box.json"]
    assert len(imported) == 2 and all(r.machine["hostname"] == "other-box" for r in imported)
    rows = history_rows(w)
    assert sorted(r["hostname"] for r in rows) == sorted([local_host] * 2 + ["other-box"] * 2)
    assert {run.id for run in page.history_panel.selected_runs()} == {r.id for r in imported}

    # chart local and imported runs together: labelled by machine
    page.history_panel.table.selectAll()
    qtbot.mouseClick(child(w, "historyShowButton"), Qt.MouseButton.LeftButton)
    assert page.tabs.currentIndex() == 0
    labels = page.charts.labels
    assert "pool-map K=2 · @ other-box" in labels
    assert f"pool-map K=2 · @ {local_host}" in labels
    assert "other-box" in child(w, "compareVerdict").text()

    # the charts on show, as PNG and SVG
    png, svg = tmp_path / "charts.png", tmp_path / "charts.svg"
    save_as(monkeypatch, png)
    page.exports.export_charts_action.trigger()
    image = QImage(str(png))
    assert not image.isNull() and image.width() >= page.charts.area.width()
    save_as(monkeypatch, tmp_path / "charts", "SVG image (*.svg)")
    page.exports.export_charts_action.trigger()
    assert QSvgRenderer(str(svg)).isValid()
    w.close()


BAD_FILES = {
    "garbage.json": (b"\x00\x01 not json", "not valid JSON"),
    "list.json": (b"[1, 2, 3]", "not an mpscope export"),
    "foreign.json": (b'{"format": "something-else", "runs": []}', "not an mpscope export"),
    "no-wall.json": (None, "run 2 wall_s is None"),
}


@pytest.mark.timeout(30)
def test_a_bad_import_file_says_what_is_wrong_and_imports_nothing(qtbot, monkeypatch, tmp_path):
    w = open_window(qtbot)
    page = w.compare
    good = tmp_path / "good.json"
    made_up_export(good, "box-a", n=2)
    open_file(monkeypatch, good)
    page.exports.import_action.trigger()
    assert len(page.history.runs) == 2
    for name, (content, problem) in BAD_FILES.items():
        path = tmp_path / name
        if content is None:  # a valid export whose second run lost its wall time
            document = json.loads(good.read_text())
            document["runs"][1]["wall_s"] = None
            path.write_text(json.dumps(document))
        else:
            path.write_bytes(content)
        open_file(monkeypatch, path)
        page.exports.import_action.trigger()
        message = child(w, "compareBannerText").text()
        assert name in message and problem in message and "nothing was imported" in message
        assert "\n" not in message and "Traceback" not in message
        assert child(w, "compareBanner").isVisible()
        assert len(page.history.runs) == 2, name
    w.close()


@pytest.mark.timeout(30)
def test_delete_asks_first_and_clear_all_empties_the_history(qtbot, monkeypatch, tmp_path):
    w = open_window(qtbot)
    page = w.compare
    source = tmp_path / "runs.json"
    made_up_export(source, "box-a", n=3)
    open_file(monkeypatch, source)
    page.exports.import_action.trigger()
    w.pages.setCurrentWidget(page)
    page.tabs.setCurrentIndex(HISTORY_TAB)
    table = page.history_panel.table
    ids = [run.id for run in page.history.runs]
    newest = max(ids)

    table.clearSelection()
    table.selectRow(0)
    assert [run.id for run in page.history_panel.selected_runs()] == [newest]
    asked = answer(monkeypatch, QMessageBox.StandardButton.No)
    with qtbot.waitActive(w, timeout=5_000):  # Del works where the keyboard is: the window
        w.activateWindow()
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert asked and "Delete the selected run" in asked[0]
    assert len(page.history.runs) == 3  # "No": nothing deleted

    answer(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert sorted(run.id for run in page.history.runs) == sorted(set(ids) - {newest})
    assert page.history_panel.model.rowCount() == 2

    asked = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(child(w, "historyClearButton"), Qt.MouseButton.LeftButton)
    assert asked and "all 2 stored runs" in asked[0]
    assert page.history.runs == [] and page.history_panel.model.rowCount() == 0
    assert "0 runs stored" in child(w, "historyCount").text()
    assert not child(w, "historyClearButton").isEnabled()
    w.close()
    again = open_window(qtbot)
    assert again.compare.history.runs == []  # deleted for good, not just from the view
    again.close()


@pytest.mark.timeout(30)
def test_a_store_from_a_newer_mpscope_is_left_alone_and_the_session_still_records(qtbot):
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, future TEXT)")
    before = path.read_bytes()

    w = open_window(qtbot)
    page = w.compare
    notice = page.history.notice
    assert notice and "newer mpscope" in notice and "this session only" in notice
    assert child(w, "compareBannerText").text() == notice
    assert not page.history.persistent
    assert "memory" in child(w, "historyCount").text()
    live_run(qtbot, w, "sequential")  # recorded for this session
    assert [r["strategy"] for r in history_rows(w)] == ["sequential"]
    w.close()
    assert path.read_bytes() == before  # untouched


def _record(strategy: str, wall_s: float, workers: int = 2) -> dict:
    return {
        "status": "finished",
        "strategy": strategy,
        "workload": "square",
        "items": 1000,
        "workers": 1 if strategy == "sequential" else workers,
        "chunksize": None if strategy == "sequential" else 125,
        "start_method": "forkserver",
        "wall_s": wall_s,
        "cpu_s": 0.01,
        "items_per_s": 1000 / wall_s,
        "correct": True,
    }


def test_a_run_that_ends_while_the_history_is_shown_adds_its_row_without_redoing_the_table(
    qtbot, tmp_path
):
    """A long history must not stall the window at every run's end: the new run's row goes on
    top; a new sequential run moves its job's baseline, and the rows of that job follow."""
    from mpscope.gui.compare.history_panel import HistoryPanel
    from mpscope.gui.compare.run_history import RunHistory

    history = RunHistory(str(tmp_path / "history.sqlite3"))
    history.add_many([_record("sequential", 1.0), _record("pool-map", 0.5)])
    panel = HistoryPanel(history, [])
    qtbot.addWidget(panel)
    panel.show()
    model = panel.model
    resets: list[int] = []
    model.modelReset.connect(lambda: resets.append(1))

    history.add(_record("pool-map", 0.25, workers=4))
    rows = [model.row_values(r) for r in range(model.rowCount())]
    assert [(r["strategy"], r["workers"], r["speedup"]) for r in rows] == [
        ("pool-map", 4, 4.0),
        ("pool-map", 2, 2.0),
        ("sequential", 1, 1.0),
    ]
    assert "3 runs stored in" in panel.count_label.text()

    history.add(_record("sequential", 3.0))  # the baseline is now the median: 2.0 s
    speedups = [model.row_values(r)["speedup"] for r in range(model.rowCount())]
    assert speedups == [pytest.approx(2.0 / 3.0), 8.0, 4.0, 2.0]
    assert resets == []  # rows added and updated in place, never the whole table redone
    assert "4 runs stored in" in panel.count_label.text()

    history.delete([history.runs[0].id])  # a deletion still redoes the table
    assert model.rowCount() == 3 and resets == [1]
    history.close()

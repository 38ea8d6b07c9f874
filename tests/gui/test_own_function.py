"""The window with the user's own function: picked from a file without importing it, run
under a strategy, checked against the loop, its refusals shown under the field."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from ui_steps import child, choose, open_window, retype
from user_code import MARK_VARIABLE, RECORDS_ITS_IMPORTERS, importers

from mpscope.gui.main_window import MainWindow
from mpscope.gui.settings import load_choices

USER_MODULE = (
    RECORDS_ITS_IMPORTERS
    + """

def word_lengths(line):
    return sum(len(word) for word in line.split())


def pair(a, b):
    return a + b


lines = [f"line {i} " + "word " * (i % 9) for i in range(300)]
"""
)


@pytest.fixture
def user_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's module in a folder of its own, with a marker of who imported it."""
    path = tmp_path / "text_jobs.py"
    path.write_text(USER_MODULE)
    monkeypatch.setenv(MARK_VARIABLE, str(tmp_path / "imported-by"))
    return path


def wait_ended(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(
        lambda: w.controller.state in ("finished", "failed", "cancelled"), timeout=60_000
    )


def pick_function(qtbot, w: MainWindow, path: Path, function: str, inputs: str) -> None:
    """Choose "Your function…", Browse… to ``path``, pick ``function``, type ``inputs``."""
    choose(child(w, "workloadCombo"), "function")
    field = child(w, "jobTargetField")
    field.ask_for_file = lambda: str(path)
    qtbot.mouseClick(child(w, "targetBrowseButton"), Qt.MouseButton.LeftButton)
    choose(child(w, "targetFunctionCombo"), function)
    retype(qtbot, child(w, "inputsEdit"), inputs)
    child(w, "inputsEdit").editingFinished.emit()


@pytest.mark.timeout(90)
def test_a_users_function_runs_from_the_window_checked_against_the_loop(
    qtbot, window, user_file: Path
):
    choose(child(window, "strategyCombo"), "pool-map")
    assert not child(window, "jobTargetField").isVisible()
    pick_function(qtbot, window, user_file, "word_lengths", "lines")  # in the same module
    assert child(window, "jobTargetField").isVisible()
    assert child(window, "itemsEdit").placeholderText() == "all the inputs"
    # the call under Strategy is written with the user's own names
    assert "word_lengths" in child(window, "strategyCall").text().replace("\u200b", "")
    code = child(window, "explanationView").toPlainText()
    assert "pool.map(" in code and "word_lengths, lines" in code
    assert child(window, "runButton").isEnabled(), window.controls.problem()
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    assert "N=all the inputs" in child(window, "summaryTitle").text()  # not yet counted
    wait_ended(qtbot, window)
    assert window.controller.state == "finished", child(window, "summaryError").text()
    assert "N=300" in child(window, "summaryTitle").text()  # as the conductor counted them
    check = child(window, "summaryCheck").text()
    assert "matches the sequential loop" in check and "300" in check
    assert "word_lengths over lines" in child(window, "summaryTitle").text()
    # the window's own process never imported the user's module
    who = importers(user_file.parent / "imported-by")
    assert who and os.getpid() not in who
    assert "text_jobs" not in sys.modules
    # the target is remembered, for the next launch too
    target = f"{user_file}:word_lengths"
    assert child(window, "jobTargetField").recent_targets()[0] == target
    assert load_choices().job == target and load_choices().inputs == "lines"
    # a new window shows the same job, its explanation's code in the user's names at once
    again = open_window(qtbot)
    assert again.controls.spec() is not None and again.controls.spec().job == target
    assert "word_lengths, lines" in child(again, "explanationView").toPlainText()
    again.close()


@pytest.mark.timeout(60)
def test_a_function_that_cannot_run_is_refused_under_its_field(qtbot, window, user_file: Path):
    choose(child(window, "strategyCombo"), "pool-map")
    pick_function(qtbot, window, user_file, "pair", "")
    assert child(window, "itemsEdit").text()  # range(N): a size is proposed
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert window.controller.state == "failed"
    message = child(window, "targetMessage")
    assert message.isVisible()
    assert "pool-map calls pair with 1 argument" in message.text()
    assert "\n" not in message.text()
    # choosing another function clears it, and that one runs
    choose(child(window, "targetFunctionCombo"), "word_lengths")
    assert not message.isVisible()


def test_without_a_function_run_says_what_to_choose(qtbot, window):
    choose(child(window, "workloadCombo"), "function")  # a fresh window: none chosen yet
    assert child(window, "jobTargetField").target() == ""
    assert not child(window, "runButton").isEnabled()
    assert "choose your function" in (window.controls.problem() or "")


@pytest.mark.timeout(120)
def test_compare_runs_the_users_function_and_the_verdict_names_it(qtbot, window, user_file: Path):
    choose(child(window, "strategyCombo"), "pool-map")
    pick_function(qtbot, window, user_file, "word_lengths", f"{user_file}:lines")
    window.pages.setCurrentWidget(window.compare)
    page = window.compare
    setup = page.setup
    with qtbot.waitSignal(page.plan_updated, timeout=5_000):
        for strategy, check in setup.strategy_checks.items():
            if check.isEnabled() and check.isChecked() != (strategy == "pool-map"):
                check.setChecked(strategy == "pool-map")
        combo = child(window, "compareWorkers")
        combo.lineEdit().selectAll()
        qtbot.keyClicks(combo.lineEdit(), "2")
        child(window, "compareRepeats").setValue(1)
    assert "word_lengths over lines" in child(window, "compareJob").text()
    with qtbot.waitSignal(page.driver.finished, timeout=90_000) as done:
        qtbot.mouseClick(child(window, "compareButton"), Qt.MouseButton.LeftButton)
    assert done.args == [False]
    rows = [page.runs_model.row_values(i) for i in range(page.runs_model.rowCount())]
    assert [(r["strategy"], r["correct"]) for r in rows] == [
        ("sequential", True),
        ("pool-map", True),
    ]
    assert "word_lengths" in child(window, "compareVerdict").text()
    assert "text_jobs" not in sys.modules


@pytest.mark.timeout(60)
def test_before_a_run_an_estimate_says_what_an_item_costs_and_from_what_n_processes_pay(
    qtbot, window, user_file: Path
):
    choose(child(window, "strategyCombo"), "pool-map")
    pick_function(qtbot, window, user_file, "word_lengths", f"{user_file}:lines")
    note = child(window, "ownEstimateNote")
    qtbot.waitUntil(lambda: note.text().startswith("Estimate: "), timeout=30_000)
    estimate = note.estimate
    assert estimate is not None and estimate.per_item_s > 0 and estimate.items_timed > 0
    assert estimate.pool_startup_s > 0 and estimate.task_round_trip_s > 0
    assert f"pay off from about {estimate.break_even_items:,} items" in note.text()
    assert "text_jobs" not in sys.modules  # measured in a process of its own
    # a function that cannot take the items is said so instead
    choose(child(window, "targetFunctionCombo"), "pair")
    qtbot.waitUntil(lambda: note.text().startswith("no estimate: "), timeout=30_000)
    assert "pair" in note.text() and "\n" not in note.text()

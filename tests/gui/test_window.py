"""The main window as a user drives it: controls, runs, stop, close, failures, settings."""

from __future__ import annotations

import re
import time

import psutil
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QProgressBar,
    QToolButton,
    QWidget,
)
from ui_steps import child, choose

from mpscope.gui.app import create_window
from mpscope.gui.explanation_view import explanation_markdown
from mpscope.gui.main_window import MainWindow
from mpscope.workers.spec import cpu_count, default_start_method, max_workers
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.strategies import why_not as unfit_reason
from mpscope.workers.workloads import WORKLOADS

NAMES = (
    "strategyCombo",
    "workloadCombo",
    "itemsEdit",
    "workersSpin",
    "chunksizeSpin",
    "startMethodCombo",
    "runButton",
    "stopButton",
    "throughputPlot",
    "progressView",
    "timelinePlot",
    "resourcesPlot",
    "summaryView",
    "explanationView",
)
LIVE_VIEWS = ("throughputPlot", "progressView", "timelinePlot", "resourcesPlot")
# what a user who never saw the tutorial the app grew out of could not follow
TUTORIAL_REFERENCE = re.compile(r"seed|notebook|In \[\d|[\u4e00-\u9fff]", re.IGNORECASE)
CODE_WIDTH = 55  # characters a code line may take in the narrow explanation panel


def type_items(qtbot, w: MainWindow, text: str) -> None:
    edit = child(w, "itemsEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, text)


def set_up(qtbot, w: MainWindow, strategy: str, workload: str, items: str) -> None:
    choose(child(w, "strategyCombo"), strategy)
    choose(child(w, "workloadCombo"), workload)
    type_items(qtbot, w, items)


def set_sleep(w: MainWindow, ms: float) -> None:
    w.controls.sleep_spin.setValue(ms)


def drawn_points(view: QWidget) -> int:
    """Data a view shows now: points of its curves, bars of its bar items, its bars' fill."""
    n = 0
    for graphics in view.findChildren(pg.GraphicsView):
        for item in graphics.scene().items():
            bare_curve = isinstance(item, pg.PlotCurveItem) and not isinstance(
                item.parentItem(), pg.PlotDataItem
            )
            if isinstance(item, pg.PlotDataItem) or bare_curve:
                x, _ = item.getData()
                n += 0 if x is None else len(x)
            elif isinstance(item, pg.BarGraphItem):
                for key in ("x0", "x", "x1"):
                    values = item.opts.get(key)
                    if values is not None:
                        n += len(values)
                        break
    n += sum(bar.value() for bar in view.findChildren(QProgressBar))
    return n


def wait_ended(qtbot, w: MainWindow, timeout_ms: int = 60_000) -> None:
    qtbot.waitUntil(
        lambda: w.controller.state in ("finished", "failed", "cancelled"), timeout=timeout_ms
    )


def live_processes(w: MainWindow) -> list[int]:
    pids = set(w.model.worker_pids().values())
    if w.model.conductor_pid:
        pids.add(w.model.conductor_pid)
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.mark.timeout(60)
def test_every_control_and_view_is_there_with_a_tooltip_and_the_window_fits(window):
    for name in NAMES:
        widget = child(window, name)
        assert widget.isVisible(), name
    for name in NAMES[:8]:
        assert child(window, name).toolTip(), f"{name} has no tooltip"
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 800, hint
    assert window.width() <= 1280 and window.height() <= 800
    workers = child(window, "workersSpin")
    assert (workers.minimum(), workers.maximum()) == (1, max_workers())
    assert workers.value() == cpu_count()
    chunks = child(window, "chunksizeSpin")
    assert chunks.value() == chunks.minimum() and chunks.text() == "auto"
    assert child(window, "startMethodCombo").currentData() == default_start_method()
    assert window.controls.run_action.shortcut().toString() == "Ctrl+R"
    assert window.controls.stop_action.shortcut().toString() == "Esc"
    assert not child(window, "stopButton").isEnabled()


@pytest.mark.timeout(90)
def test_a_run_feeds_every_live_view_while_it_is_live(qtbot, window):
    # 1.2 s of work on 2 workers: long enough for every view's live pace on a busy machine
    set_up(qtbot, window, "pool-map", "sleep", "600")
    set_sleep(window, 4.0)
    window.controls.chunksize_spin.setValue(10)
    seen: dict[str, int] = {name: 0 for name in LIVE_VIEWS}
    for view in window.views:
        original = view.refresh

        def recording(view=view, original=original) -> None:
            original()
            if window.model.live:  # only what was drawn before the run ended counts
                name = view.objectName()
                seen[name] = max(seen[name], drawn_points(view))

        view.refresh = recording
    run = child(window, "runButton")
    assert run.isEnabled()
    qtbot.mouseClick(run, Qt.MouseButton.LeftButton)
    assert not run.isEnabled()  # a second Run is impossible while this one is live
    assert child(window, "stopButton").isEnabled()
    assert not window.start_run()
    wait_ended(qtbot, window)
    assert window.controller.state == "finished"
    for name, points in seen.items():
        assert points > 0, f"{name} drew nothing while the run was live"
    assert run.isEnabled() and not child(window, "stopButton").isEnabled()
    check = child(window, "summaryCheck")
    assert check.isVisible() and "correct" in check.text() and "600" in check.text()
    assert (
        "ms" in child(window, "summary_wall").text() or " s" in child(window, "summary_wall").text()
    )
    assert "/s" in child(window, "summary_rate").text()
    assert "%" in child(window, "summary_probe").text()
    assert child(window, "statusState").text() == "finished"
    assert child(window, "statusElapsed").text()


@pytest.mark.timeout(90)
def test_stop_ends_a_run_within_a_second_and_leaves_no_process(qtbot, window):
    set_up(qtbot, window, "pool-map", "sleep", "100000")
    set_sleep(window, 10.0)
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.done > 0, timeout=30_000)
    assert live_processes(window)
    window.activateWindow()
    t0 = time.perf_counter()
    qtbot.keyClick(child(window, "itemsEdit"), Qt.Key.Key_Escape)  # the Stop shortcut
    wait_ended(qtbot, window, 5_000)
    assert time.perf_counter() - t0 < 1.0
    assert window.controller.state == "cancelled"
    assert child(window, "statusState").text() == "cancelled"
    assert "Stopped after" in child(window, "summaryCheck").text()
    assert not live_processes(window)
    assert child(window, "runButton").isEnabled()


@pytest.mark.timeout(90)
def test_closing_the_window_mid_run_stops_it_and_leaves_no_process(qtbot, window):
    set_up(qtbot, window, "pool-map", "sleep", "100000")
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.done > 0, timeout=30_000)
    assert live_processes(window)
    window.close()
    assert not window.isVisible()
    assert window.controller.state == "cancelled"
    assert not live_processes(window)


@pytest.mark.timeout(120)
def test_a_failing_job_shows_its_error_and_the_next_run_succeeds(qtbot, window):
    set_up(qtbot, window, "pool-map", "sleep", "200")
    set_sleep(window, 1.0)
    choose(child(window, "faultCombo"), "raise")
    qtbot.keyClicks(child(window, "faultItemEdit"), "50")
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert window.controller.state == "failed"
    error = child(window, "summaryError")
    assert error.isVisible()
    assert "injected fault" in error.text() and "50" in error.text()
    assert "\n" not in error.text()
    traceback = child(window, "summaryTraceback")
    toggle = child(window, "summaryTracebackToggle")
    assert not traceback.isVisible()
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert traceback.isVisible() and "Traceback" in traceback.toPlainText()
    assert child(window, "statusState").text() == "failed"

    child(window, "faultCombo").setCurrentIndex(0)  # no fault
    assert child(window, "runButton").isEnabled()
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert window.controller.state == "finished"
    assert "correct" in child(window, "summaryCheck").text()
    assert not child(window, "summaryError").isVisible()
    assert not traceback.isVisible()


@pytest.mark.timeout(30)
def test_no_control_is_cut_off_however_narrow_the_left_column(qtbot, window):
    """Each strategy shows its own options (lock, delay, flags, scheduler...): dragging the
    splitter all the way left must never clip one of them."""
    strategies = child(window, "strategyCombo")
    left = window.splitter.widget(0)
    for i in range(strategies.count()):
        strategies.setCurrentIndex(i)
        window.splitter.setSizes([50, 2000])
        QApplication.sendPostedEvents()  # the layouts settle (no timed wait needed)
        QApplication.processEvents()
        for control in [*left.findChildren(QAbstractButton), *left.findChildren(QComboBox)]:
            if control.isVisibleTo(window) and not isinstance(control, QToolButton):
                needed = control.minimumSizeHint().width()
                assert control.width() >= needed, (
                    strategies.currentData(),
                    control.text()
                    if isinstance(control, QAbstractButton)
                    else control.objectName(),
                )


@pytest.mark.timeout(30)
def test_workloads_a_strategy_cannot_run_are_disabled_with_the_reason(window):
    strategies = child(window, "strategyCombo")
    workloads = child(window, "workloadCombo")
    model = workloads.model()
    checked = 0
    for strategy in ("pool-map", "pool-starmap", "shared-counter"):
        choose(strategies, strategy)
        assert unfit_reason(strategy, workloads.currentData()) is None  # switched to a fit
        for i in range(workloads.count()):
            workload = workloads.itemData(i)
            if workload is None:
                continue  # the separator before "Your function…"
            item = model.item(i)
            reason = unfit_reason(strategy, workload)
            assert item.isEnabled() == (reason is None), (strategy, workload)
            if reason:
                assert reason in item.toolTip()
                checked += 1
    assert checked >= 3
    choose(strategies, "pool-starmap")
    assert workloads.currentData() == "square-plus"


@pytest.mark.timeout(60)
def test_settings_are_remembered_between_launches(qtbot):
    first = create_window()
    qtbot.addWidget(first)
    set_up(qtbot, first, "thread-pool", "heavy", "12345")
    first.controls.grain_spin.setValue(3000)
    child(first, "workersSpin").setValue(1)
    child(first, "chunksizeSpin").setValue(100)
    choose(child(first, "startMethodCombo"), "spawn")
    choose(child(first, "faultCombo"), "kill")
    first.close()

    second = create_window()
    qtbot.addWidget(second)
    assert child(second, "strategyCombo").currentData() == "thread-pool"
    assert child(second, "workloadCombo").currentData() == "heavy"
    assert child(second, "itemsEdit").text() == "12,345"
    assert second.controls.grain_spin.value() == 3000
    assert child(second, "workersSpin").value() == 1
    assert child(second, "chunksizeSpin").value() == 100
    assert child(second, "startMethodCombo").currentData() == "spawn"
    assert child(second, "faultCombo").currentData() is None  # a demo crash is not remembered
    assert second.explanation.strategy == "thread-pool"
    second.close()


@pytest.mark.timeout(30)
def test_bad_items_text_is_named_in_a_message_and_disables_run(qtbot, window):
    message = child(window, "itemsMessage")
    run = child(window, "runButton")
    for bad in ("12x", "-5", "1.5"):
        type_items(qtbot, window, bad)
        assert message.isVisible(), bad
        assert repr(bad) in message.text() or bad in message.text()
        assert not run.isEnabled() and not window.controls.run_action.isEnabled()
        assert window.controls.spec() is None
    type_items(qtbot, window, "0")
    assert message.isVisible() and "items 0" in message.text()
    for good, value in (("1e7", 10_000_000), ("10M", 10_000_000), ("10,000,000", 10_000_000)):
        type_items(qtbot, window, good)
        assert not message.isVisible(), good
        assert run.isEnabled()
        assert window.controls.spec().items == value
    child(window, "itemsEdit").editingFinished.emit()
    assert child(window, "itemsEdit").text() == "10,000,000"


@pytest.mark.timeout(30)
def test_items_set_without_typing_are_what_run_starts(qtbot, window):
    """An accessibility tool or a script sets the text, then Enter: the shown N is the run's N."""
    set_up(qtbot, window, "pool-map", "square", "1000")
    edit = child(window, "itemsEdit")
    edit.setText("25000")  # no keystrokes: no textEdited
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert edit.text() == "25,000"
    assert window.controls.spec().items == 25_000


@pytest.mark.timeout(30)
def test_a_bad_fault_item_is_rejected_before_run(qtbot, window):
    set_up(qtbot, window, "pool-map", "square", "1000")
    choose(child(window, "faultCombo"), "raise")
    qtbot.keyClicks(child(window, "faultItemEdit"), "5000")
    spec_message = child(window, "specMessage")
    assert spec_message.isVisible() and "5000" in spec_message.text()
    assert not child(window, "runButton").isEnabled()


@pytest.mark.timeout(30)
def test_job_parameters_show_only_for_their_workload(window):
    workloads = child(window, "workloadCombo")
    choose(child(window, "strategyCombo"), "pool-map")
    for workload, grain_shown, sleep_shown in (
        ("square", False, False),
        ("heavy", True, False),
        ("sleep", False, True),
    ):
        choose(workloads, workload)
        assert window.controls.grain_spin.isVisible() == grain_shown
        assert window.controls.sleep_spin.isVisible() == sleep_shown
    choose(child(window, "strategyCombo"), "sequential")
    assert not child(window, "chunksizeSpin").isEnabled()
    assert not child(window, "workersSpin").isEnabled()
    assert "one worker" in child(window, "workersSpin").toolTip()


@pytest.mark.timeout(30)
def test_every_strategy_has_an_explanation(window):
    combo = child(window, "strategyCombo")
    view = child(window, "explanationView")
    for strategy in STRATEGIES:
        markdown = explanation_markdown(strategy)
        assert markdown.startswith(f"# {strategy}")
        for heading in ("## The common belief", "## What to look for", "## The code"):
            assert heading in markdown, (strategy, heading)
        assert not TUTORIAL_REFERENCE.search(markdown), (strategy, TUTORIAL_REFERENCE.pattern)
        code = markdown.split("```python\n")[1].split("```")[0]
        # a whole script: imports, its own function, and the guard spawn and forkserver need
        assert 'if __name__ == "__main__":' in code and "def " in code, strategy
        for line in code.splitlines():
            assert len(line) <= CODE_WIDTH, (strategy, line)
        item = combo.model().item(combo.findData(strategy))
        assert not TUTORIAL_REFERENCE.search(item.toolTip()), (strategy, item.toolTip())
        if item.isEnabled():
            choose(combo, strategy)
            assert view.toPlainText().startswith(strategy)


@pytest.mark.timeout(120)
def test_speedup_is_against_the_last_sequential_run_of_the_same_problem(qtbot, window):
    set_up(qtbot, window, "sequential", "sleep", "40")
    set_sleep(window, 5.0)
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert "baseline" in child(window, "summary_speedup").text()
    sequential_wall = window.model.outcome.wall_s

    choose(child(window, "strategyCombo"), "pool-map")
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    speedup = child(window, "summary_speedup").text()
    expected = sequential_wall / window.model.outcome.wall_s
    assert speedup.startswith(f"{expected:.2f}×"), speedup

    type_items(qtbot, window, "41")  # another problem: no baseline for it
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    assert "run sequential" in child(window, "summary_speedup").text()


@pytest.mark.timeout(30)
def test_items_follow_the_workload_and_the_reset_button(qtbot, window):
    choose(child(window, "strategyCombo"), "pool-map")
    choose(child(window, "workloadCombo"), "square")
    type_items(qtbot, window, "777")
    choose(child(window, "workloadCombo"), "heavy")
    proposal = window.controls.proposed_items()
    assert child(window, "itemsEdit").text() == f"{proposal:,}"
    choose(child(window, "workloadCombo"), "square")
    assert child(window, "itemsEdit").text() == "777"
    qtbot.mouseClick(child(window, "itemsResetButton"), Qt.MouseButton.LeftButton)
    assert child(window, "itemsEdit").text() == f"{WORKLOADS['square'].default_items:,}"


@pytest.mark.timeout(60)
def test_closing_right_after_run_while_the_conductor_starts_leaves_no_process(qtbot, window):
    set_up(qtbot, window, "pool-map", "sleep", "100000")
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    assert window.controller.state == "starting"
    window.close()  # the autouse fixture fails the test if any process of the run is left
    assert window.controller.state == "cancelled"


def test_more_workers_than_cores_is_said_to_be_oversubscribed(window):
    spin = child(window, "workersSpin")
    cores = cpu_count()
    spin.setValue(cores)
    assert spin.suffix() == f"  of {cores} cores"
    spin.setValue(cores + 1)
    assert spin.suffix() == f"  of {cores} cores: oversubscribed"
    assert "oversubscription" in spin.toolTip()
    spin.setValue(1)
    assert "oversubscribed" not in spin.suffix()
    spin.setValue(64)  # a 64-core machine's lanes, on any machine
    assert spin.value() == 64 and spin.maximum() == max_workers() >= 64


@pytest.mark.timeout(60)
def test_before_the_first_run_each_plot_says_what_it_will_show(qtbot, window):
    plots = ("throughputPlot", "timelinePlot", "resourcesPlot")
    for name in plots:
        hint = child(child(window, name), "idleHint")
        assert hint.isVisible() and "Press Run" in hint.text(), name
        assert not hint.text().startswith("0"), name
        plot_area = hint.parentWidget()
        assert plot_area.rect().contains(hint.geometry()), name  # within the plot, whole
        left_axes = [a for a in hint.axes if a.orientation == "left"]
        assert left_axes and not any(a.style["showValues"] for a in left_axes), name
    set_up(qtbot, window, "pool-map", "square", "20000")
    qtbot.mouseClick(child(window, "runButton"), Qt.MouseButton.LeftButton)
    wait_ended(qtbot, window)
    for name in plots:
        hint = child(child(window, name), "idleHint")
        assert not hint.isVisible(), name
        assert all(axis.style["showValues"] for axis in hint.axes), name


def test_the_timeline_says_what_its_gaps_and_shades_mean(window):
    caption = child(window, "timelineCaption")
    assert "gap: waiting for a task or sending results" in caption.text()
    assert "shades alternating" in caption.text()
    assert "A gap between bars" in caption.toolTip()


def test_help_has_a_getting_started_page_on_f1(qtbot, window):
    actions = {a.text(): a for a in window.help_menu.actions()}
    guide = actions["&Getting started"]
    assert guide.shortcut().toString() == "F1"
    guide.trigger()
    page = window.getting_started
    assert page is not None and page.isVisible() and not page.isModal()
    text = child(page, "gettingStartedText").toPlainText()
    for words in ("Strategy", "Workload", "Your function", "Run (Ctrl+R)", "Compare"):
        assert words in text
    guide.trigger()  # again: the same page, raised
    assert window.getting_started is page
    page.close()

"""The compare page as a user drives it: a matrix end to end, Stop, the sweeps, the table."""

from __future__ import annotations

import html
import time

import numpy as np
import psutil
import pytest
from PySide6.QtCore import QPoint, Qt
from ui_steps import child, choose, open_window

from mpscope.gui.main_window import MainWindow
from mpscope.workers.compare import chunksize_series, grain_series, summarize, verdict
from mpscope.workers.spec import cpu_count
from mpscope.workers.strategies import why_not as unfit_reason


@pytest.fixture
def window(qtbot) -> MainWindow:
    w = open_window(qtbot)
    w.pages.setCurrentWidget(w.compare)
    return w


def set_job(qtbot, w: MainWindow, workload: str, items: str, sleep_ms: float = 0.0) -> None:
    """The job is set on the left, as for a single run; the compare page catches up."""
    with qtbot.waitSignal(w.compare.plan_updated, timeout=5_000):
        choose(child(w, "strategyCombo"), "pool-map")
        choose(child(w, "workloadCombo"), workload)
        edit = child(w, "itemsEdit")
        edit.selectAll()
        qtbot.keyClicks(edit, items)
        if sleep_ms:
            w.controls.sleep_spin.setValue(sleep_ms)


def set_matrix(qtbot, w: MainWindow, strategies: list[str], workers: str, repeats: int) -> None:
    setup = w.compare.setup
    with qtbot.waitSignal(w.compare.plan_updated, timeout=5_000):  # the plan line catches up
        for strategy, check in setup.strategy_checks.items():
            if check.isEnabled() and check.isChecked() != (strategy in strategies):
                indicator = QPoint(6, check.height() // 2)
                qtbot.mouseClick(check, Qt.MouseButton.LeftButton, pos=indicator)
                assert check.isChecked() == (strategy in strategies)
        combo = child(w, "compareWorkers")
        combo.lineEdit().selectAll()
        qtbot.keyClicks(combo.lineEdit(), workers)
        child(w, "compareRepeats").setValue(repeats)


def alive(pids: set[int]) -> list[int]:
    out = []
    for pid in pids:
        if not pid:
            continue
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.timeout(90)
def test_a_matrix_runs_one_run_at_a_time_and_fills_charts_table_and_verdict(qtbot, window):
    page = window.compare
    set_job(qtbot, window, "square", "20000")
    set_matrix(qtbot, window, ["pool-map"], "1,2", 1)
    assert "3 runs" in child(window, "compareJob").text()
    followed = []  # the spec the Live page's model showed while each run was live
    window.controller.state_changed.connect(
        lambda state: followed.append(window.model.spec) if state == "running" else None
    )
    started = []
    page.driver.run_started.connect(started.append)

    with qtbot.waitSignal(page.driver.finished, timeout=60_000) as done:
        qtbot.mouseClick(child(window, "compareButton"), Qt.MouseButton.LeftButton)
        assert page.driver.active
        assert child(window, "compareStopButton").isEnabled()
        assert not child(window, "compareButton").isEnabled()
        assert not window.controls.run_button.isEnabled()  # one run at a time, machine-wide
    assert done.args == [False]

    assert [(s.strategy, s.workers) for s in started] == [
        ("sequential", 1),
        ("pool-map", 1),
        ("pool-map", 2),
    ]
    assert followed == started  # the Live page's model followed each run of the matrix
    assert "3 runs done" in child(window, "compareProgress").text()

    records = page.shown.records
    table = page.runs_model
    assert table.rowCount() == 3
    rows = [table.row_values(i) for i in range(3)]
    assert {(r["strategy"], r["workers"]) for r in rows} == {
        (s.strategy, s.workers) for s in started
    }
    assert all(r["correct"] is True and r["status"] == "finished" for r in rows)
    correct_col = table.column_of("correct")
    assert table.index(0, correct_col).data() == "✓ correct"

    cells = summarize(records)
    charts = page.charts
    assert np.allclose(charts.wall_bars.opts["width"], [c.median_wall_s for c in cells])
    assert np.allclose(charts.speedup_bars.opts["width"], [c.speedup for c in cells])
    assert charts.labels == ["sequential", "pool-map K=1", "pool-map K=2"]
    pool = [c for c in cells if c.strategy == "pool-map"]
    k, speedup = charts.series["pool-map"].scaling.getData()
    assert list(k) == [1, 2] and np.allclose(speedup, [c.speedup for c in pool])
    _, efficiency = charts.series["pool-map"].efficiency.getData()
    assert np.allclose(efficiency, [c.speedup / c.workers * 100 for c in pool])
    assert charts.core_lines[0].value() == cpu_count()

    shown = child(window, "compareVerdict").text()
    for sentence in verdict(cells, cpu_count()):
        assert html.escape(sentence) in shown

    stored = page.history.runs
    assert len(stored) == 3
    assert {run.batch for run in stored} == {page.driver.batch}
    assert all(run.record["repeat"] == 1 for run in stored)
    assert child(window, "compareButton").isEnabled()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("how", ["stop button", "Esc on the Live page"])
def test_stop_mid_matrix_stops_within_a_second_and_leaves_nothing_running(qtbot, window, how):
    page = window.compare
    set_job(qtbot, window, "sleep", "300", sleep_ms=5.0)  # each run takes about 1.5 s
    set_matrix(qtbot, window, ["pool-map"], "1,2", 2)
    qtbot.mouseClick(child(window, "compareButton"), Qt.MouseButton.LeftButton)
    # the second run of six is under way
    qtbot.waitUntil(
        lambda: (
            len(page.driver.result().records) == 1
            and window.controller.state == "running"
            and window.model.done > 0
        ),
        timeout=30_000,
    )
    pids = set(window.model.worker_pids().values()) | {window.model.conductor_pid}
    assert alive(pids)
    if how != "stop button":
        with qtbot.waitActive(window, timeout=5_000):  # Esc works in the active window
            window.activateWindow()
    with qtbot.waitSignal(page.driver.finished, timeout=5_000) as done:
        t0 = time.perf_counter()
        if how == "stop button":
            qtbot.mouseClick(child(window, "compareStopButton"), Qt.MouseButton.LeftButton)
        else:
            window.pages.setCurrentIndex(0)
            qtbot.keyClick(child(window, "itemsEdit"), Qt.Key.Key_Escape)
    assert time.perf_counter() - t0 < 1.0
    assert done.args == [True]
    assert not alive(pids)
    assert window.controller.state == "cancelled" and not window.controller.busy
    assert page.driver.result().cancelled
    assert "Stopped after 1 of 6 runs" in child(window, "compareProgress").text()
    assert page.runs_model.rowCount() == 1
    assert len(page.history.runs) == 1  # the stopped run measured nothing: not stored
    assert child(window, "compareButton").isEnabled()
    assert not child(window, "compareStopButton").isEnabled()


@pytest.mark.timeout(90)
def test_the_chunksize_sweep_runs_from_its_button_and_fills_its_chart(qtbot, window):
    page = window.compare
    set_job(qtbot, window, "square", "2000")
    set_matrix(qtbot, window, ["pool-map"], "2", 1)
    button = child(window, "chunksizeSweepButton")
    assert button.isEnabled() and "runs" in button.toolTip()
    matrix_runs = child(window, "compareJob").text()
    with qtbot.waitSignal(page.driver.finished, timeout=60_000) as done:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert page.tabs.currentWidget() is page.sweeps
        # the header counts the sweep that runs, not the comparison it would run
        sweep = f"{page.driver.plan.total_runs} runs (chunksize sweep)"
        assert sweep in child(window, "compareJob").text(), matrix_runs
    assert done.args == [False]
    series = chunksize_series(page.shown.records)
    assert [s.label for s in series] == ["pool-map K=2"]
    x, y = page.sweeps.chunk_items["pool-map K=2"].curve.getData()  # log mode: x is log10
    assert np.allclose(10**x, [p.x for p in series[0].points])
    assert np.allclose(y, [p.y for p in series[0].points])
    assert len(series[0].points) >= 3
    assert "fastest at chunksize" in child(window, "sweepFindings").text()
    assert page.runs_model.rowCount() == page.driver.plan.total_runs


@pytest.mark.timeout(60)
def test_the_grain_sweep_button_runs_a_heavy_plan_through_the_driver(qtbot, window):
    page = window.compare
    set_job(qtbot, window, "square", "2000")
    set_matrix(qtbot, window, ["pool-map", "thread-pool"], "1,2", 1)
    with qtbot.waitSignal(page.driver.finished, timeout=10_000):
        qtbot.mouseClick(child(window, "grainSweepButton"), Qt.MouseButton.LeftButton)
        assert page.driver.kind == "grain"
        plan = page.driver.plan
        qtbot.mouseClick(child(window, "compareStopButton"), Qt.MouseButton.LeftButton)
    assert {c.workload for c in plan.cells} == {"heavy"}
    grains = sorted({c.grain for c in plan.cells})
    assert len(grains) >= 4 and grains[0] <= 10  # from a few iterations (well under 1 µs)...
    assert {(c.strategy, c.workers) for c in plan.cells} == {
        ("sequential", 1),
        ("pool-map", 2),
        ("thread-pool", 2),
    }


@pytest.mark.timeout(30)
def test_the_grain_chart_plots_speedup_against_work_per_item(window):
    """The chart draws what grain_series computes from records (here: made-up timings)."""
    records = []
    for grain, seq_wall, pool_wall in ((10, 0.2, 0.4), (1000, 0.3, 0.2), (20000, 0.4, 0.21)):
        items = 1000
        for strategy, workers, wall in (("sequential", 1, seq_wall), ("pool-map", 2, pool_wall)):
            records.append(
                {
                    "status": "finished",
                    "strategy": strategy,
                    "workload": "heavy",
                    "items": items,
                    "grain": grain,
                    "workers": workers,
                    "wall_s": wall,
                    "correct": True,
                }
            )
    page = window.compare
    page.show_records(records, "grain", "made-up runs")
    (series,) = grain_series(records)
    x, y = page.sweeps.grain_items[series.label].curve.getData()
    assert np.allclose(10**x, [p.x for p in series.points])
    assert np.allclose(y, [0.5, 1.5, 0.4 / 0.21])
    assert "beats the loop from about 300 µs" in child(window, "sweepFindings").text()


@pytest.mark.timeout(30)
def test_the_setup_says_what_is_wrong_and_disables_what_cannot_run(qtbot, window):
    set_job(qtbot, window, "square", "1000")
    setup = window.compare.setup
    starmap = setup.strategy_checks["pool-starmap"]
    assert not starmap.isEnabled()
    assert unfit_reason("pool-starmap", "square") in starmap.toolTip()
    sequential = setup.strategy_checks["sequential"]
    assert sequential.isChecked() and not sequential.isEnabled()
    assert "baseline" in sequential.toolTip()
    for name in ("compareWorkers", "compareRepeats", "compareButton", "chunksizeSweepButton"):
        assert child(window, name).toolTip(), name

    set_matrix(qtbot, window, ["pool-map"], "1,x", 1)
    message = child(window, "compareMessage")
    assert message.isVisible() and "'x'" in message.text()
    assert not child(window, "compareButton").isEnabled()
    assert not window.compare.start_comparison()

    set_matrix(qtbot, window, ["pool-map"], "1-3", 1)
    assert not message.isVisible()
    assert setup.worker_counts() == [1, 2, 3]
    assert "4 runs" in child(window, "compareJob").text()

    set_matrix(qtbot, window, [], "1,2", 1)
    assert message.isVisible() and "check at least one strategy" in message.text()
    assert not child(window, "compareButton").isEnabled()


def test_a_workload_the_loop_cannot_run_says_what_to_change(qtbot, window):
    with qtbot.waitSignal(window.compare.plan_updated, timeout=5_000):
        choose(child(window, "strategyCombo"), "shared-counter")  # its workload: increment
    assert window.controls.workload == "increment"
    message = child(window, "compareMessage")
    assert message.isVisible()
    text = message.text()
    assert "increment runs only under shared-counter" in text
    assert "pick square" in text and "under Workload on the left" in text
    assert not child(window, "compareButton").isEnabled()


@pytest.mark.timeout(30)
def test_the_results_table_sorts_by_the_numbers(qtbot, window):
    walls = [0.5, 0.05, 2.0, 0.3]
    records = [
        {
            "status": "finished",
            "strategy": "sequential" if i == 0 else "pool-map",
            "workload": "square",
            "items": 1000,
            "workers": 1 if i == 0 else i,
            "wall_s": wall,
            "correct": i != 3,
        }
        for i, wall in enumerate(walls)
    ]
    records.append(
        {
            "status": "failed",
            "strategy": "pool-map",
            "workload": "square",
            "items": 1000,
            "workers": 2,
            "error": "injected fault at item 5",
        }
    )
    page = window.compare
    page.show_records(records, "history", "made-up runs")
    page.tabs.setCurrentIndex(2)
    table = page.runs_table
    header = table.horizontalHeader()
    wall_col = page.runs_model.column_of("wall_s")
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(header.sectionViewportPosition(wall_col) + 5, 5),
    )
    shown = [table.proxy.index(r, wall_col).data() for r in range(5)]
    assert shown == ["", "50.0 ms", "300.0 ms", "500.0 ms", "2.00 s"]  # by value, not by text
    correct_col = page.runs_model.column_of("correct")
    failed = table.proxy.index(0, correct_col)
    assert failed.data() == "✗ failed"
    assert "injected fault at item 5" in failed.data(Qt.ItemDataRole.ToolTipRole)
    assert table.proxy.index(2, correct_col).data() == "✗ WRONG"
    assert table.proxy.index(1, correct_col).data() == "✓ correct"


@pytest.mark.timeout(60)
def test_closing_the_window_mid_comparison_stops_it_and_leaves_no_process(qtbot, window):
    page = window.compare
    set_job(qtbot, window, "sleep", "300", sleep_ms=5.0)
    set_matrix(qtbot, window, ["pool-map"], "1,2", 1)
    qtbot.mouseClick(child(window, "compareButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.model.done > 0, timeout=30_000)
    window.close()  # the autouse fixture fails the test if a process of the run is left
    assert not page.driver.active
    assert window.controller.state == "cancelled"


def test_compare_plans_with_the_start_method_chosen_not_joblibs_own(window):
    """joblib on the left resolves its start method to its own "loky": Compare's other
    strategies must get the start method the user chose, never "loky"."""
    pytest.importorskip("joblib")
    choose(child(window, "startMethodCombo"), "spawn")
    choose(child(window, "strategyCombo"), "joblib")
    assert window.controls.spec().start_method == "loky"
    plan = window.compare.planner.matrix_plan()  # before: "start method 'loky' is not available"
    assert not [skip for skip in plan.skipped if "loky" in str(skip)]
    pooled = [cell for cell in plan.cells if cell.strategy == "pool-map"]
    assert pooled and {cell.start_method for cell in pooled} == {"spawn"}


@pytest.mark.timeout(90)
def test_compare_chooses_strategies_and_workers_itself_and_the_live_page_says_last_run(
    qtbot, window
):
    controls, page = window.controls, window.compare
    # on the Compare page the left's Strategy and Workers are greyed, saying where they are set
    for field in (controls.strategy_combo, controls.workers_spin):
        assert not field.isEnabled()
        assert "Compare page" in field.toolTip()
    set_job(qtbot, window, "square", "20000")
    controls.workers_spin.setValue(1)  # what Run would start: pool-map K=1
    set_matrix(qtbot, window, ["pool-map"], "2", 1)
    title = child(window, "summaryTitle")
    titles: list[str] = []
    page.driver.run_started.connect(lambda _spec: titles.append(title.text()))
    with qtbot.waitSignal(page.driver.finished, timeout=60_000):
        assert page.start_comparison()
    assert [t.split(" · ")[0] for t in titles] == [
        "Compare's run: sequential",
        "Compare's run: pool-map",
    ]
    # the comparison's last run stays on the Live page: named as such, what Run would start
    # in the tooltip
    assert title.text().startswith("last run: pool-map") and "K=2" in title.text()
    assert "K=1" in title.toolTip() and "Run (Ctrl+R) would start" in title.toolTip()

    window.pages.setCurrentWidget(window.live_page)
    assert controls.strategy_combo.isEnabled() and controls.workers_spin.isEnabled()
    assert "Compare page" not in controls.workers_spin.toolTip()
    controls.workers_spin.setValue(2)  # the controls now show the run on show: no label
    assert not title.text().startswith("last run") and "K=2" in title.text()
    controls.workers_spin.setValue(1)
    assert title.text().startswith("last run: ")

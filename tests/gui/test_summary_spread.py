"""A finished run's speed-up says how far repeats of its setting spread on this machine (from
the run history), or, with too few repeats stored, how to find out: one run is not a
measurement."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from ui_steps import child, choose, open_window

from mpscope.gui.compare.run_history import RunHistory
from mpscope.gui.main_window import MainWindow
from mpscope.gui.run_model import RunModel
from mpscope.gui.summary_view import SummaryView
from mpscope.workers.events import RunFinished, RunStarted
from mpscope.workers.spec import RunSpec
from mpscope.workers.validation import validate_spec

T0 = 1000.0
WALLS = (0.5, 0.45, 0.55, 0.6, 0.4)  # five made-up repeats of one setting
SEQUENTIAL_WALL = 1.0


def finished_model(workers: int = 2, wall_s: float = 0.5) -> RunModel:
    """A made-up finished, correct pool-map run of square over 1000 items."""
    spec = validate_spec(
        RunSpec(strategy="pool-map", workload="square", items=1000, workers=workers)
    )
    model = RunModel()
    model.reset(spec)
    expected = sum(i * i for i in range(1000))
    model.fold(
        [
            RunStarted("run-made-up", spec, 1000, spec.chunksize, workers, 4242, 0.1, T0),
            RunFinished(
                "run-made-up", expected, expected, True, wall_s, 0.9, 0.1, 0.01, 0.001, {}, T0
            ),
        ]
    )
    return model


def history_with_repeats(tmp_path: Path, model: RunModel, walls: tuple[float, ...]) -> RunHistory:
    """A history holding ``walls`` as runs of ``model``'s setting, and one sequential run."""
    assert model.tally is not None
    record: dict[str, Any] = model.tally.summary()
    history = RunHistory(str(tmp_path / "history.sqlite"))
    sequential = {**record, "strategy": "sequential", "workers": 1, "chunksize": None}
    runs = [{**sequential, "wall_s": SEQUENTIAL_WALL}] + [{**record, "wall_s": w} for w in walls]
    assert len(history.add_many(runs)) == len(runs)
    return history


def finished_summary(qtbot, model: RunModel, history: RunHistory | None) -> SummaryView:
    view = SummaryView()
    qtbot.addWidget(view)
    view.resize(900, view.sizeHint().height())
    view.show()
    if history is not None:
        view.repeats_of = history.repeats_of
    view.show_outcome(model, SEQUENTIAL_WALL, 0.6)
    return view


def test_the_speedup_names_how_far_five_stored_repeats_spread(qtbot, tmp_path):
    model = finished_model()
    history = history_with_repeats(tmp_path, model, WALLS)
    view = finished_summary(qtbot, model, history)
    speedup = view.values["speedup"]
    slowest, fastest = SEQUENTIAL_WALL / max(WALLS), SEQUENTIAL_WALL / min(WALLS)
    assert speedup.text() == (
        "2.00× (faster than sequential's 1.00 s) · "
        f"repeats here: {slowest:.2f}–{fastest:.2f}× (5 runs)"
    )
    assert "slowest and the fastest" in speedup.toolTip()
    history.close()


def test_with_no_repeats_stored_it_suggests_a_compare_and_says_why(qtbot, tmp_path):
    model = finished_model()
    history = RunHistory(str(tmp_path / "history.sqlite"))
    view = finished_summary(qtbot, model, history)
    speedup = view.values["speedup"]
    assert speedup.text().endswith(
        "· one run: press Compare with repeats to see how far it spreads"
    )
    assert "not a measurement" in speedup.toolTip()
    history.close()


def test_runs_of_another_setting_or_too_few_are_not_a_spread(qtbot, tmp_path):
    other = finished_model(workers=3)  # the stored runs: K=3; the finished run: K=2
    history = history_with_repeats(tmp_path, other, WALLS)
    text = finished_summary(qtbot, finished_model(), history).values["speedup"].text()
    assert "one run: press Compare with repeats" in text and "repeats here" not in text
    history.close()

    model = finished_model()
    few = history_with_repeats(tmp_path / "few", model, WALLS[:2])
    text = finished_summary(qtbot, model, few).values["speedup"].text()
    assert "only 2 runs here: press Compare with repeats" in text
    few.close()


def test_the_long_speedup_line_keeps_the_summary_height(qtbot, tmp_path):
    model = finished_model()
    history = history_with_repeats(tmp_path, model, WALLS)
    view = SummaryView()
    qtbot.addWidget(view)
    view.resize(420, view.sizeHint().height())
    view.show()
    view.repeats_of = history.repeats_of
    idle_height = view.sizeHint().height()
    view.show_outcome(model, SEQUENTIAL_WALL, 0.6)
    speedup = view.values["speedup"]
    assert view.sizeHint().height() == idle_height
    assert speedup.is_elided() and "(5 runs)" in speedup.toolTip()  # cut, whole in the tooltip
    history.close()


def live_run(qtbot, w: MainWindow) -> None:
    """One pool-map run of square over 3000 items from the Live page's Run button."""
    choose(child(w, "strategyCombo"), "pool-map")
    choose(child(w, "workloadCombo"), "square")
    edit = child(w, "itemsEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, "3000")
    with qtbot.waitSignal(w.controller.run_ended, timeout=60_000):
        qtbot.mouseClick(child(w, "runButton"), Qt.MouseButton.LeftButton)
    assert w.controller.state == "finished"


@pytest.mark.timeout(90)
def test_in_the_window_a_run_with_stored_repeats_names_their_spread(qtbot):
    w = open_window(qtbot)
    live_run(qtbot, w)
    assert "one run: press Compare with repeats" in child(w, "summary_speedup").text()
    # three more runs of the same setting, and a sequential one, as an earlier session left them
    assert w.model.tally is not None
    record = w.model.tally.summary()
    sequential = {**record, "strategy": "sequential", "workers": 1, "chunksize": None}
    earlier = [{**record, "wall_s": record["wall_s"] * f} for f in (0.9, 1.0, 1.1)]
    w.compare.history.add_many([sequential, *earlier])
    live_run(qtbot, w)
    speedup = child(w, "summary_speedup").text()
    assert re.search(r"· repeats here: \d+\.\d\d–\d+\.\d\d× \(5 runs\)$", speedup), speedup
    w.close()

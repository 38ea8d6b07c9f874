"""64 workers in the live views: the total and a chosen few lanes, condensed rows and columns.

Events are fed to a RunModel as a run of 64 workers would send them (each worker at its own
steady pace, one chunk span per 0.1 s), so the views are checked on what they hold and show.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from mpscope.gui.palette import worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views import ProgressView, ThroughputPlot, TimelinePlot
from mpscope.gui.views.lane_bars import MIN_LABEL_PX, label_step
from mpscope.gui.views.lane_choice import EXTREMES_EACH, MAX_PICKED, extremes
from mpscope.gui.views.plot_helpers import spread
from mpscope.gui.views.progress_strip import ProgressStrip, StripColumn
from mpscope.workers.events import Event, Progress, RunStarted, TaskSpan, WorkerStarted
from mpscope.workers.spec import RunSpec
from mpscope.workers.validation import validate_spec

AGE_S = 3.0  # the fed run started this long ago; its last events are "now"
VIEW_SIZE = (470, 330)  # about what each view gets in a 1280 x 800 window


def rate_of(worker: int) -> float:
    """Items/s of each fed worker: all different, w0 the slowest, the last the fastest."""
    return 100.0 + 10.0 * worker


def fed_run(model: RunModel, workers: int, first_worker: int = 0) -> list[Event]:
    """Reset ``model`` for a run of ``workers`` and the events of its first ``AGE_S`` seconds."""
    spec = validate_spec(
        RunSpec(strategy="pool-map", workload="square", items=1_000_000, workers=workers)
    )
    t0 = time.perf_counter() - AGE_S
    model.reset(spec)
    events: list[Event] = [RunStarted("run-many", spec, 1_000_000, 10, workers, 4_200_000, 0.1, t0)]
    for w in range(first_worker, workers):
        events.append(WorkerStarted(w, 4_200_001 + w, t0 + 0.2))
        events += lane_events(t0, w, 0.3, AGE_S)
    return events


def lane_events(t0: float, worker: int, s_from: float, s_to: float) -> list[Event]:
    """A worker's progress every 50 ms and a chunk span every 0.1 s from ``s_from`` on."""
    rate = rate_of(worker)
    events: list[Event] = []
    for t in np.arange(s_from + 0.05, s_to + 1e-9, 0.05):
        chunk_t0 = s_from + 0.1 * np.floor((t - s_from) / 0.1 + 1e-9)  # the chunk running
        events.append(Progress(worker, round(rate * (t - s_from)), t0 + t, t0 + chunk_t0))
    for a in np.arange(s_from, s_to - 0.1 + 1e-9, 0.1):
        events.append(TaskSpan(worker, 0, round(rate * 0.1), t0 + a, t0 + a + 0.09))
    return events


@pytest.fixture
def model() -> RunModel:
    return RunModel()


@pytest.fixture
def throughput(qtbot: QtBot, model: RunModel) -> ThroughputPlot:
    return shown(qtbot, ThroughputPlot(model))


@pytest.fixture
def timeline(qtbot: QtBot, model: RunModel) -> TimelinePlot:
    return shown(qtbot, TimelinePlot(model))


@pytest.fixture
def progress(qtbot: QtBot, model: RunModel) -> Iterator[ProgressView]:
    return shown(qtbot, ProgressView(model))


def shown(qtbot: QtBot, view):  # -> the view, shown at a window's size for it
    qtbot.addWidget(view)
    view.resize(*VIEW_SIZE)
    view.show()
    qtbot.waitExposed(view)
    return view


def refresh_until(qtbot: QtBot, views: Sequence[QWidget], condition: Callable[[], bool]) -> None:
    """Refresh as the window's timer would until ``condition`` holds (a live view redraws a
    few times a second at most)."""

    def check() -> None:
        for view in views:
            view.refresh()
        assert condition()

    qtbot.waitUntil(check, timeout=3_000)


def draw_sixty_four(qtbot: QtBot, model: RunModel, throughput: ThroughputPlot) -> None:
    """Feed a 64-worker run and let the throughput plot lay itself out and draw its curves."""
    model.fold(fed_run(model, 64))
    refresh_until(qtbot, [throughput], lambda: len(throughput.lane_curves) == 2 * EXTREMES_EACH)


def legend_names(plot: ThroughputPlot) -> list[str]:
    """The names in the throughput legend, in order."""
    return re.findall(r"</span>&nbsp;([^&<]+)", plot.legend.text)


def test_sixty_four_lanes_show_the_total_and_the_slowest_and_fastest_few(
    qtbot: QtBot, model: RunModel, throughput: ThroughputPlot
) -> None:
    draw_sixty_four(qtbot, model, throughput)
    slowest = list(range(EXTREMES_EACH))
    fastest = list(range(64 - EXTREMES_EACH, 64))
    assert sorted(throughput.lane_curves) == slowest + fastest
    assert legend_names(throughput) == ["total"] + [f"w{i}" for i in slowest + fastest]
    # each drawn lane is its worker's own rate, in its colour, named at its end
    for i in slowest + fastest:
        curve = throughput.lane_curves[i]
        assert float(np.interp(2.5, curve.xData, curve.yData)) == pytest.approx(rate_of(i), 0.05)
        assert curve.opts["pen"].color() == worker_color(i)
        assert throughput.lane_labels[i].toPlainText() == f"w{i}"
    total = throughput.total_curve
    expected_total = sum(rate_of(i) for i in range(64))
    assert float(np.interp(2.5, total.xData, total.yData)) == pytest.approx(expected_total, 0.05)
    button = throughput.choice_button
    assert button.isVisible()
    assert button.text() in ("3 slowest, 3 fastest of 64 ▾", "3 slowest, 3 fastest ▾")
    area = throughput.plot_widget
    assert area.rect().contains(button.geometry())  # in the plot's corner, not cut off
    title = area.mapFromScene(throughput.title.item.sceneBoundingRect()).boundingRect()
    assert button.geometry().left() > title.right()  # beside the title, not over it


def test_the_condensed_layout_and_its_first_curves_are_drawn_in_separate_moments(
    qtbot: QtBot, model: RunModel, throughput: ThroughputPlot
) -> None:
    # one pass of the event loop laying out the lanes' plot, making its items and drawing
    # them was the window's longest stall at 64 workers: the curves follow a moment later,
    # with no further redraw asked for
    model.fold(fed_run(model, 64))
    throughput.refresh()
    assert throughput.stacked and throughput.lanes_plot.isVisible()
    assert not throughput.lane_curves  # not in the same pass
    qtbot.waitUntil(lambda: len(throughput.lane_curves) == 2 * EXTREMES_EACH, timeout=2_000)
    assert legend_names(throughput) == ["total"] + [f"w{i}" for i in (0, 1, 2, 61, 62, 63)]


def test_picking_a_lane_from_the_menu_shows_it_and_auto_brings_back_the_extremes(
    qtbot: QtBot, model: RunModel, throughput: ThroughputPlot
) -> None:
    draw_sixty_four(qtbot, model, throughput)
    button = throughput.choice_button
    button.menu().aboutToShow.emit()  # the menu fills its list as it opens
    lane_list = button.lane_list
    assert lane_list.count() == 64
    row_30 = lane_list.item(30)
    assert row_30.text() == f"w30 · {model.workers[30].done:,}"
    assert lane_list.item(0).checkState() == Qt.CheckState.Checked  # shown: ticked
    assert row_30.checkState() == Qt.CheckState.Unchecked

    row_30.setCheckState(Qt.CheckState.Checked)  # as a click on its box does
    assert 30 in throughput.lane_curves  # drawn at once, not at the next redraw
    assert "w30" in legend_names(throughput)
    assert button.text() == "7 picked of 64 lanes ▾"
    curve = throughput.lane_curves[30]
    assert float(np.interp(2.5, curve.xData, curve.yData)) == pytest.approx(rate_of(30), 0.05)

    lane_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    assert 0 not in throughput.lane_curves
    assert 0 not in throughput.lane_labels
    # the pick holds as the run goes on (new events, a redraw)
    model.fold([Progress(63, model.workers[63].done + 50, time.perf_counter())])
    version = throughput.total_curve.xData
    refresh_until(qtbot, [throughput], lambda: throughput.total_curve.xData is not version)
    assert sorted(throughput.lane_curves) == [1, 2, 30, 61, 62, 63]

    button.auto_action.trigger()
    assert sorted(throughput.lane_curves) == [0, 1, 2, 61, 62, 63]
    assert button.text().startswith("3 slowest, 3 fastest")


def test_the_pick_is_limited_so_that_the_legend_stays_short(
    qtbot: QtBot, model: RunModel, throughput: ThroughputPlot
) -> None:
    draw_sixty_four(qtbot, model, throughput)
    button = throughput.choice_button
    button.menu().aboutToShow.emit()
    for row in (10, 11):  # 6 shown + 2: the most one may pick
        button.lane_list.item(row).setCheckState(Qt.CheckState.Checked)
    assert len(throughput.lane_curves) == MAX_PICKED
    refused = button.lane_list.item(12)
    assert not refused.flags() & Qt.ItemFlag.ItemIsEnabled
    refused.setCheckState(Qt.CheckState.Checked)  # even if it were ticked somehow
    assert 12 not in throughput.lane_curves
    assert refused.checkState() == Qt.CheckState.Unchecked
    assert len(legend_names(throughput)) == MAX_PICKED + 1


def test_the_timeline_condenses_sixty_four_lanes_into_the_view(
    model: RunModel, timeline: TimelinePlot
) -> None:
    model.fold(fed_run(model, 64))
    timeline.refresh()
    assert timeline.condensed
    assert sorted(timeline.lanes) == list(range(64))
    assert timeline.rows == 64
    view_box = timeline.plot_widget.getPlotItem().getViewBox()
    low, high = view_box.viewRange()[1]
    assert low <= -0.5 and high >= 63.5  # every row in the view, none scrolled away
    assert timeline.row_height_px() >= 2.0 and timeline.row_height_px() * 64 <= view_box.height()
    # one item draws every lane's bars (not three per lane)
    assert len(timeline.plot_widget.getPlotItem().items) < 10
    for w in (0, 31, 63):
        spans = model.lanes[w].spans.view()[:, :2]
        np.testing.assert_allclose(timeline.drawn_spans(w), spans)
    # row names are thinned so that they stay apart, starting at w0
    axis = timeline.lane_axis
    ((_, named),) = axis.tickValues(*view_box.viewRange()[1], view_box.height())
    assert named[0] == 0 and 4 <= len(named) < 64
    assert (named[1] - named[0]) * timeline.row_height_px() >= MIN_LABEL_PX
    assert axis.tickStrings(named[:2], 1.0, 1.0) == ["w0", f"w{round(named[1])}"]
    # hovering anywhere in a row names its worker, in a gap between chunks too
    gap_t = model.lanes[30].spans.view()[5, 1] + 0.005
    assert timeline.describe_at(gap_t, 30.45) == f"w30 · {model.workers[30].done:,} items done"
    assert timeline.describe_at(gap_t - 0.05, 29.6).startswith("w30 · chunk from item")


def test_the_condensed_timeline_paints_each_lane_in_its_colour(
    model: RunModel, timeline: TimelinePlot
) -> None:
    model.fold(fed_run(model, 64))
    timeline.refresh()
    area = timeline.plot_widget
    view_box = area.getPlotItem().getViewBox()
    view_box.setXRange(0.6, 1.0, padding=0)  # zoomed in on a few chunks, as a user would
    image = area.viewport().grab().toImage()
    for w in (0, 40, 63):
        spans = model.lanes[w].spans.view()
        t = float(spans[4, 0] + spans[4, 1]) / 2  # the middle of an even (full colour) chunk
        pixel = area.mapFromScene(view_box.mapViewToScene(QPointF(t, w)))
        assert image.pixelColor(pixel).rgb() == worker_color(w).rgb(), w
        between = area.mapFromScene(view_box.mapViewToScene(QPointF(t, w + 0.5)))
        assert image.pixelColor(between).rgb() != worker_color(w).rgb(), w  # rows apart


def test_a_replacement_worker_past_the_limit_condenses_the_timeline_with_what_was_drawn(
    qtbot: QtBot, model: RunModel, timeline: TimelinePlot, progress: ProgressView
) -> None:
    events = fed_run(model, 8)
    model.fold(events)
    timeline.refresh()
    progress.refresh()
    assert not timeline.condensed and len(progress.worker_rows) == 8
    t0 = model.t0
    model.fold([WorkerStarted(8, 4_200_100, t0 + 2.0), *lane_events(t0, 8, 2.0, AGE_S)])
    refresh_until(qtbot, [timeline, progress], lambda: len(timeline.lanes) == 9)
    assert timeline.condensed and sorted(timeline.lanes) == list(range(9))
    for w in (0, 8):
        np.testing.assert_allclose(timeline.drawn_spans(w), model.lanes[w].spans.view()[:, :2])
    assert progress.worker_rows == {} and len(progress.strip.columns) == 9


def test_progress_condenses_to_a_strip_of_sixty_four_columns(
    model: RunModel, progress: ProgressView
) -> None:
    model.fold(fed_run(model, 64))
    progress.refresh()
    strip = progress.strip
    assert progress.worker_rows == {}
    assert strip.isVisible()
    assert [c.index for c in strip.columns] == list(range(64))
    assert strip.rows() == 1
    # every column inside the strip, the strip inside the view: nothing to scroll to
    strip_rect = QRect(strip.mapTo(progress, QPoint(0, 0)), strip.size())
    assert progress.rect().contains(strip_rect)
    rects = [strip.column_rect(i) for i in range(64)]
    assert all(strip.rect().contains(r) for r in rects)
    assert all(r.width() >= 3 for r in rects)
    assert all(a.right() < b.left() for a, b in itertools.pairwise(rects))
    # a column is full at the worker's even share of all items (a 64th here)
    for w in (0, 63):
        assert strip.columns[w].fraction == pytest.approx(model.workers[w].done / 15_625)
    assert strip.columns[0].fraction < strip.columns[63].fraction
    # hovering a column gives its worker's figures
    column = strip.column_at(rects[17].center())
    assert column is not None and column.index == 17
    assert column.tip.startswith(f"w17 · {model.workers[17].done:,} items · ")
    assert "pid 4200018" in column.tip
    # names thinned so that they do not overlap: every 2nd, 4th, ... worker
    assert 2 <= strip.label_step() <= 16


def test_the_strip_has_a_column_for_every_worker_before_they_all_started(
    model: RunModel, progress: ProgressView
) -> None:
    events = fed_run(model, 64)
    model.fold([e for e in events if getattr(e, "worker", 0) < 10])  # 10 of 64 started
    progress.refresh()
    strip = progress.strip
    assert [c.index for c in strip.columns] == list(range(64))  # none moves as the rest start
    assert strip.columns[9].fraction > 0.0
    assert strip.columns[10].fraction == 0.0
    assert strip.columns[10].tip == "w10 · not started yet"


def test_a_narrow_strip_wraps_its_columns_onto_more_rows(qtbot: QtBot) -> None:
    strip = ProgressStrip()
    qtbot.addWidget(strip)
    strip.set_columns([StripColumn(i, i / 64, f"w{i}") for i in range(64)])
    strip.resize(150, strip.heightForWidth(150))
    assert strip.per_row() * 4 <= 150 + 1  # columns of 3 px and a 1 px gap at least
    assert strip.rows() == -(-64 // strip.per_row()) >= 2
    rects = [strip.column_rect(i) for i in range(64)]
    assert all(strip.rect().contains(r) for r in rects)
    assert len({r.top() for r in rects}) == strip.rows()
    assert strip.column_at(rects[40].center()).index == 40


def test_four_workers_keep_every_lane_in_every_view(
    qtbot: QtBot,
    model: RunModel,
    throughput: ThroughputPlot,
    timeline: TimelinePlot,
    progress: ProgressView,
) -> None:
    model.fold(fed_run(model, 4))
    for view in (throughput, timeline, progress):
        view.refresh()
    assert sorted(throughput.lane_curves) == [0, 1, 2, 3]
    assert legend_names(throughput) == ["total", "w0", "w1", "w2", "w3"]
    assert not throughput.choice_button.isVisible()
    assert throughput.lane_labels == {}  # the legend names them: no labels on the curves
    assert not timeline.condensed
    ticks = timeline.plot_widget.getPlotItem().getAxis("left")._tickLevels[0]
    assert [label for _, label in ticks] == ["w0", "w1", "w2", "w3"]
    assert timeline.describe_at(0.05, 1.45) is None  # rows are tall: off the bars is nothing
    assert sorted(progress.worker_rows) == [0, 1, 2, 3]
    assert not progress.strip.isVisible()


def test_the_slowest_and_fastest_hold_their_place_while_they_stay_near_the_ends() -> None:
    done = {i: 100.0 + i for i in range(20)}
    assert extremes(done, each=3) == [0, 1, 2, 17, 18, 19]
    # lane 2 falls to 4th slowest, lane 17 to 5th fastest: both near their end, both kept
    done[2], done[3] = 103.0, 102.0
    done[17], done[15], done[16] = 114.5, 118.5, 118.7
    assert extremes(done, each=3, keep=[0, 1, 2, 17, 18, 19]) == [0, 1, 2, 17, 18, 19]
    # lane 2 is now the 8th slowest: beyond twice the three, so the 3rd slowest takes its place
    done[2] = 107.5
    assert extremes(done, each=3, keep=[0, 1, 2, 17, 18, 19]) == [0, 1, 3, 17, 18, 19]
    assert extremes({5: 1.0, 9: 2.0}, each=3) == [5, 9]  # fewer lanes than places: all
    assert extremes(dict.fromkeys(range(10), 7.0), each=2) == [0, 1, 2, 3]  # ties: low index


def test_lane_names_stay_apart_at_any_row_height() -> None:
    assert label_step(MIN_LABEL_PX + 5) == 1
    assert label_step(MIN_LABEL_PX) == 1
    assert label_step(MIN_LABEL_PX / 2) == 2
    assert label_step(MIN_LABEL_PX / 4 - 0.01) == 8  # 64 rows of a few pixels: w0, w8, ...


def test_names_next_to_each_other_are_spread_apart_within_the_plot() -> None:
    assert spread([1.0, 5.0, 20.0], gap=2.0) == [1.0, 5.0, 20.0]  # apart already: unmoved
    assert spread([1.0, 1.5, 2.0], gap=2.0) == [1.0, 3.0, 5.0]
    assert spread([1.0, 1.5, 2.0], gap=2.0, top=4.0) == [0.0, 2.0, 4.0]  # the top one stays in


def test_a_small_run_after_a_big_one_shows_every_lane_again(
    qtbot: QtBot,
    model: RunModel,
    throughput: ThroughputPlot,
    timeline: TimelinePlot,
    progress: ProgressView,
) -> None:
    model.fold(fed_run(model, 64))
    for view in (throughput, timeline, progress):
        view.refresh()
    assert throughput.stacked and timeline.condensed and progress.strip.isVisible()
    model.fold(fed_run(model, 3))  # a new run: the model resets
    views = [throughput, timeline, progress]
    refresh_until(
        qtbot,
        views,
        lambda: (
            len(throughput.lane_curves) == len(timeline.lanes) == len(progress.worker_rows) == 3
        ),
    )
    assert not throughput.stacked and not throughput.choice_button.isVisible()
    assert sorted(throughput.lane_curves) == [0, 1, 2]
    assert throughput.plot.getAxis("bottom").isVisible()  # one plot again, with its time axis
    assert not timeline.condensed and sorted(timeline.lanes) == [0, 1, 2]
    assert timeline.lanes[0].items[0].opts["brush"] == worker_color(0)  # a lane's own items
    assert sorted(progress.worker_rows) == [0, 1, 2] and not progress.strip.isVisible()


class FedSamples:
    """Resource samples as the sampler records them: every lane, the conductor, all workers."""

    def __init__(self, workers: int) -> None:
        from mpscope.gui.lane_series import GrowableArray
        from mpscope.gui.views.resource_sampler import ALL_WORKERS, CONDUCTOR

        self.cpu: dict[int, GrowableArray] = {}
        self.memory: dict[int, GrowableArray] = {}
        for key in (CONDUCTOR, ALL_WORKERS, *range(workers)):
            for series, value in ((self.cpu, 3.0), (self.memory, 20.0)):
                array = series[key] = GrowableArray(2)
                for t in (0.5, 1.0, 1.5):
                    array.append((t, value * (workers if key == ALL_WORKERS else 1)))
        self.samples = 3


@pytest.mark.parametrize("workers", [4, 64])
def test_the_resources_view_draws_the_conductor_all_workers_and_a_few_lanes_past_eight(
    qtbot: QtBot, model: RunModel, workers: int
) -> None:
    from mpscope.gui.views.resource_sampler import ALL_WORKERS, CONDUCTOR
    from mpscope.gui.views.resources_plot import ResourcesPlot

    view = shown(qtbot, ResourcesPlot(model, series=FedSamples(workers)))
    model.fold(fed_run(model, workers))
    view.refresh()
    drawn = set(view.cpu_curves)
    if workers == 4:  # every lane, as always; no sum line
        assert drawn == {CONDUCTOR, 0, 1, 2, 3}
    else:
        slowest_and_fastest = set(extremes({w: rate_of(w) for w in range(workers)}))
        assert drawn == {CONDUCTOR, ALL_WORKERS} | slowest_and_fastest
        assert len(drawn) == 2 + 2 * EXTREMES_EACH
        assert set(view.memory_curves) == drawn

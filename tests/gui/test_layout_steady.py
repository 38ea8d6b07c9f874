"""Nothing moves under the user: the window's layout is the same idle, running, finished and
failed, for every strategy; no label is cut; every page fits or scrolls at 1024x700; the first
window is sized from the screen and the last geometry comes back.

The offscreen platform's screen is small (800x800 here), so each test sets the size it is about.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTabBar,
    QTabWidget,
    QWidget,
)
from ui_steps import child, choose, open_window, retype

from mpscope.gui.fitting_labels import ElidedLabel
from mpscope.gui.main_window import (
    FRAME_ALLOWANCE,
    MINIMUM_SIZE,
    PREFERRED_SIZE,
    MainWindow,
    window_sizes,
)
from mpscope.workers.optional import unavailable_reason
from mpscope.workers.strategies import STRATEGIES, baseline, why_not

LIVE_VIEWS = ("throughputPlot", "progressView", "timelinePlot", "resourcesPlot", "summaryView")
ITEMS = 40  # of 5 ms each: short runs (the layout is taken the moment a run is running)
SLEEP_MS = 5.0
FAULT_AT = "10"


def settle() -> None:
    """Let every posted layout request and resize run (no timed wait); last, what a timer that
    fired meanwhile posted (a text set, its layout request)."""
    for _ in range(3):
        QApplication.processEvents()
        QApplication.sendPostedEvents()


def rect_in(window: QWidget, widget: QWidget) -> QRect:
    """``widget``'s rectangle in ``window``'s coordinates."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def layout_of(window: MainWindow) -> dict[str, object]:
    """Where everything a user looks at or clicks is: the left column's controls, the splitter,
    the live views and summary, the counter page."""
    left = window.splitter.widget(0)
    where: dict[str, object] = {
        "window size": window.size(),
        "splitter sizes": window.splitter.sizes(),
        "left panel width": left.width(),
        "pages": rect_in(window, window.pages),
        "counter page": rect_in(window, window.counter_view),
    }
    controls = [
        *left.findChildren(QAbstractButton),
        *left.findChildren(QComboBox),
        *left.findChildren(QLineEdit),
    ]
    for control in controls:
        if control.isVisibleTo(window) and control.objectName():
            where[control.objectName()] = rect_in(window, control)
    for name in LIVE_VIEWS:
        where[name] = rect_in(window, child(window, name))
    for part in window.counter_view.findChildren(QWidget):
        if part.objectName() and part.parent() is window.counter_view:
            where[f"counter {part.objectName()}"] = rect_in(window, part)
    return where


def on_show(widget: QWidget, window: QWidget) -> bool:
    """``widget`` is visible in ``window`` and not inside a part folded to nothing (a collapsed
    section such as "Advanced")."""
    if not widget.isVisibleTo(window):
        return False
    part: QWidget | None = widget.parentWidget()
    while part is not None and part is not window:
        if part.width() == 0 or part.height() == 0:
            return False
        part = part.parentWidget()
    return True


def clipped_labels(window: QWidget) -> list[str]:
    """Every label on show whose text does not fit its rectangle (an eliding label may cut
    its text only if its tooltip carries the whole of it)."""
    out = []
    for label in window.findChildren(QLabel):
        if not on_show(label, window) or not label.text():
            continue
        name = label.objectName() or repr(label.text()[:40])
        if isinstance(label, ElidedLabel):
            if label.height() < label.minimumSizeHint().height():
                out.append(f"{name}: {label.height()} px high, needs {label.minimumSizeHint()}")
            if label.is_elided() and label.text() not in label.toolTip():
                out.append(f"{name}: cut, and its tooltip lacks the whole text")
        elif label.wordWrap():
            needed = label.heightForWidth(label.width())
            if needed > label.height():
                out.append(f"{name}: {label.height()} px high, its text needs {needed}")
            if label.minimumSizeHint().width() > label.width():
                out.append(f"{name}: a word wider than its {label.width()} px")
        else:
            hint = label.sizeHint()
            if hint.width() > label.width() or hint.height() > label.height():
                out.append(f"{name}: {label.size()} but its text needs {hint}")
    return out


def strategies_here() -> list[str]:
    """Every strategy this machine can run (an optional one without its extra is left out)."""
    return [s for s in STRATEGIES if unavailable_reason(s) is None]


@pytest.fixture
def big_window(qtbot) -> Iterator[MainWindow]:
    """The window at 1280x800 (larger than the offscreen screen)."""
    window = open_window(qtbot)
    window.resize(1280, 800)
    settle()
    yield window


def prepare(qtbot, window: MainWindow, strategy: str) -> None:
    """Pick ``strategy`` on a short sleep job (the counter: a short count), no fault."""
    choose(child(window, "strategyCombo"), strategy)
    choose(child(window, "faultCombo"), None)
    if strategy == "shared-counter":
        window.controls.findChild(QWidget, "delaySpin").setValue(0.001)
        retype(qtbot, child(window, "itemsEdit"), "40")
        return
    child(window, "workersSpin").setValue(2)
    if why_not(strategy, "sleep") is None:  # else the workload the strategy switched to
        choose(child(window, "workloadCombo"), "sleep")
        window.controls.sleep_spin.setValue(SLEEP_MS)
    retype(qtbot, child(window, "itemsEdit"), str(ITEMS))


def run_once(qtbot, window: MainWindow, fail: bool) -> dict[str, object]:
    """Run what the controls show (``fail``: with a fault); the layout the moment the window
    said it was running (empty if it never did); returns once the run has ended and the
    views have had their last redraw."""
    if fail:
        choose(child(window, "faultCombo"), "raise")
        retype(qtbot, child(window, "faultItemEdit"), FAULT_AT)
    seen: dict[str, object] = {}

    def on_state(state: str) -> None:
        if state == "running" and not seen:
            settle()
            seen.update(layout_of(window))

    # the views' last redraws, one at a time after the end (MainWindow._refresh_in_turn):
    # the turn with no view left is the end of them
    last_redraws: list[bool] = []
    in_turn = window._refresh_in_turn

    def refresh_in_turn(views: list) -> None:
        if not views:
            last_redraws.append(True)
        in_turn(views)

    window._refresh_in_turn = refresh_in_turn
    window.controller.state_changed.connect(on_state)
    try:
        assert window.start_run(), window.controls.problem()
        qtbot.waitUntil(
            lambda: window.controller.state in ("finished", "failed", "cancelled"),
            timeout=60_000,
        )
        qtbot.waitUntil(lambda: bool(last_redraws), timeout=10_000)
    finally:
        window.controller.state_changed.disconnect(on_state)
        del window._refresh_in_turn  # the method again
    settle()
    return seen


@pytest.mark.timeout(120)
def test_nothing_moves_when_a_run_starts_finishes_or_fails_for_any_strategy(qtbot, big_window):
    window = big_window
    strategies = strategies_here()
    assert strategies[0] == baseline().id  # first: the speed-ups after it have a baseline
    for strategy in strategies:
        prepare(qtbot, window, strategy)
        settle()
        idle = layout_of(window)
        assert not clipped_labels(window), (strategy, "idle", clipped_labels(window))
        # "About this strategy" wraps its code lines: no horizontal scroll bar (the text laid
        # out to its end first: a text view lays a long text out a part at a time)
        window.explanation.document().size()
        settle()
        assert window.explanation.horizontalScrollBar().maximum() == 0, strategy

        running = run_once(qtbot, window, fail=False)
        assert window.controller.state == "finished", window.summary.error.text()
        if strategy == "pool-map":  # the long line of the issue, against the loop's time
            assert "than sequential's" in child(window, "summary_speedup").text()
        finished = layout_of(window)
        assert not clipped_labels(window), (strategy, "finished", clipped_labels(window))

        running_too = run_once(qtbot, window, fail=True)
        assert window.controller.state == "failed", strategy
        failed = layout_of(window)
        assert not clipped_labels(window), (strategy, "failed", clipped_labels(window))

        for state, where in (
            ("running", running),
            ("running (failing)", running_too),
            ("finished", finished),
            ("failed", failed),
        ):
            assert where, f"{strategy}: the window never saw the run {state}"
            moved = {k: (idle[k], where.get(k)) for k in idle if where.get(k) != idle[k]}
            assert not moved, f"{strategy}: moved between idle and {state}: {moved}"


@pytest.mark.timeout(60)
def test_a_long_line_elides_and_its_tooltip_holds_it_whole(qtbot, big_window):
    window = big_window
    window.resize(1024, 700)
    settle()
    value = child(window, "summary_speedup")
    title = child(window, "summaryTitle")
    before = layout_of(window)
    text = "2.14× (faster than sequential's 983.5 ms) " * 4
    value.setText(text)
    title.setText("pool-map · " + "my_long_function_name over many inputs · " * 6)
    window.summary.body.setCurrentWidget(window.summary.figures)
    settle()
    assert layout_of(window) == before
    assert value.is_elided() and value.shown_text().endswith("…")
    assert text in value.toolTip() and value.text() == text
    assert title.is_elided() and title.text() in title.toolTip()
    assert not clipped_labels(window)


@pytest.mark.timeout(60)
def test_the_strategy_call_is_never_cut_and_breaks_only_between_words(qtbot, big_window):
    window = big_window
    call = child(window, "strategyCall")
    for width in (1280, 1024):
        window.resize(width, 700)
        for strategy in STRATEGIES:
            choose(child(window, "strategyCombo"), strategy)
            settle()
            assert call.height() >= call.heightForWidth(call.width()), (strategy, width)
            assert call.minimumSizeHint().width() <= call.width(), (strategy, width)
            code = STRATEGIES[strategy].call
            # every line it wraps into ends at a space of the call: no name or call is split
            assert call.text().replace("\u200b", "") == code
            assert "\u200b" not in call.text(), strategy  # no break inside a word


def outside_of_its_container(window: QWidget) -> list[str]:
    """Widgets on show that reach beyond their parent's rectangle (cut off) where the parent
    is no scroll area's viewport, and charts wider or taller than their view."""
    out = []
    for widget in window.findChildren(QWidget):
        if not on_show(widget, window) or widget.isWindow():
            continue
        parent = widget.parentWidget()
        if parent is None or isinstance(parent, QTabBar):
            continue  # a tab bar scrolls its own tabs
        scrolls = parent.parentWidget()
        if isinstance(scrolls, QAbstractScrollArea) and parent is scrolls.viewport():
            continue  # the content of a scroll area: it scrolls
        if not parent.rect().adjusted(-1, -1, 1, 1).contains(widget.geometry()):
            name = widget.objectName() or type(widget).__name__
            where = parent.objectName() or type(parent).__name__
            out.append(f"{name} {widget.geometry()} outside {where} {parent.rect()}")
    for view in window.findChildren(pg.GraphicsView):
        if not view.isVisibleTo(window):
            continue
        central = view.centralWidget.geometry()
        room = view.viewport().rect()
        if central.width() > room.width() + 1 or central.height() > room.height() + 1:
            name = view.objectName() or type(view).__name__
            out.append(f"the charts of {name} are {central.size()} in a {room.size()} view")
    return out


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("width", "height", "strategy"),
    [
        (1024, 700, None),  # the default strategy
        # the smallest window, with the strategy whose options make the left column widest
        (MINIMUM_SIZE.width(), MINIMUM_SIZE.height(), "shared-counter"),
    ],
)
def test_every_page_fits_or_scrolls_at_1024x700_and_at_the_minimum(
    qtbot, big_window, width: int, height: int, strategy: str | None
):
    window = big_window
    if strategy is not None:
        choose(child(window, "strategyCombo"), strategy)
    window.resize(width, height)
    settle()
    assert window.size() == QSize(width, height)
    tabs: list[tuple[QTabWidget, int]] = []
    for page in range(window.pages.count()):
        window.pages.setCurrentIndex(page)
        settle()
        nested = [t for t in window.pages.currentWidget().findChildren(QTabWidget)]
        for inner in [None, *nested]:
            for index in range(inner.count()) if inner is not None else [None]:
                if inner is not None:
                    inner.setCurrentIndex(index)
                    tabs.append((inner, index))
                settle()
                where = window.pages.tabText(page)
                if inner is not None:
                    where += " > " + inner.tabText(index)
                assert not outside_of_its_container(window), (
                    where,
                    outside_of_its_container(window),
                )
                assert not clipped_labels(window), (where, clipped_labels(window))
                assert window.size() == QSize(width, height), where  # it never grows itself
    names = {inner.tabText(i).replace("&", "") for inner, i in tabs}
    assert {"Charts", "Sweeps", "Runs", "History"} <= names  # the compare page's tabs were seen


def test_the_first_window_is_sized_from_the_screen_with_a_minimum():
    laptop = QSize(1280, 800 - 32)  # a 1280x800 screen with a panel
    size, minimum = window_sizes(laptop)
    assert size.width() + FRAME_ALLOWANCE.width() <= laptop.width()
    assert size.height() + FRAME_ALLOWANCE.height() <= laptop.height()
    assert minimum == MINIMUM_SIZE
    big, _ = window_sizes(QSize(2560, 1400))
    assert big == PREFERRED_SIZE
    small, small_minimum = window_sizes(QSize(800, 600))
    assert small.width() <= 800 and small.height() <= 600
    assert small_minimum.width() <= small.width() and small_minimum.height() <= small.height()


@pytest.mark.timeout(30)
def test_the_window_fits_its_screen_and_its_last_geometry_comes_back(qtbot):
    first = open_window(qtbot)
    available = first.screen().availableGeometry()
    expected, minimum = window_sizes(available.size())
    assert first.size() == expected
    assert first.minimumSize() == minimum
    assert first.frameGeometry().width() <= available.width()
    assert first.height() + FRAME_ALLOWANCE.height() <= available.height()
    chosen = QSize(expected.width() - 20, expected.height() - 10).expandedTo(minimum)
    first.resize(chosen)
    first.move(available.x() + 3, available.y() + 5)
    first.splitter.setSizes([330, chosen.width() - 330])
    settle()
    sizes = first.splitter.sizes()
    first.close()

    second = open_window(qtbot)
    settle()
    assert isinstance(second, QMainWindow)
    assert second.size() == chosen
    assert second.splitter.sizes() == sizes


@pytest.mark.timeout(30)
def test_compare_fits_the_smallest_window_without_sideways_scrolling(qtbot, big_window):
    """At the minimum window the compare page lays its strategies out in fewer columns rather
    than scroll sideways, and its four charts keep the height their titles and axes need."""
    from mpscope.gui.compare.charts import MINIMUM_HEIGHT
    from mpscope.gui.compare.setup_panel import STRATEGY_COLUMNS

    window = big_window
    window.pages.setCurrentWidget(window.compare)
    setup = window.compare.setup
    scroll = window.compare.parentWidget().parentWidget()
    assert isinstance(scroll, QAbstractScrollArea)
    window.resize(1400, 900)
    settle()
    assert setup.columns == STRATEGY_COLUMNS
    for size in (QSize(1024, 700), MINIMUM_SIZE):
        window.resize(size)
        settle()
        assert setup.columns < STRATEGY_COLUMNS, size
        assert not scroll.horizontalScrollBar().isVisible(), size
        assert window.compare.charts.area.height() >= MINIMUM_HEIGHT, size
        boxes = [check.geometry() for check in setup.strategy_checks.values()]
        assert all(setup.strategy_box.rect().contains(box) for box in boxes), size
    # with results on show too: the bars' names ("thread-pool K=2") widen the left axes
    records = [
        {
            "status": "finished",
            "strategy": strategy,
            "workload": "square",
            "items": 1000,
            "workers": workers,
            "start_method": "forkserver",
            "wall_s": 0.1 * workers,
            "cpu_s": 0.01,
            "correct": True,
        }
        for strategy in ("sequential", "process", "pool-map", "thread-pool")
        for workers in ((1,) if strategy == "sequential" else (1, 2))
    ]
    window.compare.show_records(records, "matrix", "four strategies")
    settle()
    assert not scroll.horizontalScrollBar().isVisible()
    assert not outside_of_its_container(window), outside_of_its_container(window)
    window.resize(1400, 900)
    settle()
    assert setup.columns == STRATEGY_COLUMNS  # and back when there is room


def test_an_error_with_its_own_line_breaks_and_indents_reads_as_one_text(qtbot):
    """Python's messages carry their own line breaks and indents ("RuntimeError:\\n
    An attempt has been made..."): the summary's error shows them as single spaces, wrapped
    at its own width, not as gaps that read like two columns."""
    label = ElidedLabel(lines=2)
    qtbot.addWidget(label)
    label.resize(420, label.sizeHint().height())
    message = (
        "the run could not start: RuntimeError: \n        An attempt has been made to start "
        "a new process before the\n        current process has finished its bootstrapping "
        "phase."
    )
    label.setText(message)
    shown = label.shown_text()
    assert "  " not in shown
    assert shown.startswith("the run could not start: RuntimeError: An attempt")
    assert len(shown.split("\n")) == 2 and shown.endswith("…")
    assert message in label.toolTip()  # whole, as the program wrote it

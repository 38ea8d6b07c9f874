"""MainWindow: controls and the strategy's explanation on the left, the live pages on the right.

The "Live" page holds the four live views in a 2x2 grid above the run summary. Later pages
(the shared counter, the comparison) are added with ``add_page()``. While a run is live one
redraw timer refreshes the views from the RunModel (which the RunController fills from the
run's queue): one view per tick, so the event loop never waits for all four to repaint at
once, and a few rounds of all four a second, fewer when painting would take more than the
GUI's CPU budget (``RedrawPacer``).
"""

from __future__ import annotations

import importlib.metadata
import platform
from concurrent.futures import Future

from PySide6.QtCore import QByteArray, QEvent, QSize, QStandardPaths, Qt, QTimer, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui.background import Background
from mpscope.gui.baselines import SequentialBaselines
from mpscope.gui.calibration import ItemProposals, calibration_disabled, measure_all
from mpscope.gui.compare import ComparePage
from mpscope.gui.controls import ControlsPanel
from mpscope.gui.counter import CounterView
from mpscope.gui.explanation_view import ExplanationView
from mpscope.gui.getting_started import GettingStarted
from mpscope.gui.naming import named
from mpscope.gui.pages import Pages
from mpscope.gui.redraw_pacer import RedrawPacer
from mpscope.gui.run_controller import RunController
from mpscope.gui.run_model import RunModel
from mpscope.gui.settings import load_choices, load_window_state, save_choices, save_window_state
from mpscope.gui.status import RunStatusBar
from mpscope.gui.summary_view import SummaryView, describe_spec
from mpscope.gui.theme import apply_theme
from mpscope.gui.views import LiveView, ProgressView, ResourcesPlot, ThroughputPlot, TimelinePlot
from mpscope.workers.events import RunFailed

LEFT_WIDTH = 340
# the first window: this size where the screen has room for it, else the screen's available
# area (the panels and docks taken off) less what a window manager adds around a window
PREFERRED_SIZE = QSize(1280, 800)
FRAME_ALLOWANCE = QSize(16, 48)  # a title bar and borders
MINIMUM_SIZE = QSize(960, 640)  # below this the views' axes and the summary crowd each other
FINAL_REFRESH_STEP_MS = 25  # between the views' final refreshes when a run ends


class MainWindow(QMainWindow):
    """The mpscope window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle("mpscope: see what Python's parallel strategies really do")
        self.model = RunModel(self)
        self.controller = RunController(self.model, self)
        self.baselines = SequentialBaselines()
        self._closing = False
        self.getting_started: GettingStarted | None = None  # opened from Help (F1)

        self.controls = ControlsPanel(load_choices())
        self.explanation = ExplanationView()
        self.explanation.show_strategy(self.controls.strategy, self.controls.job_names())
        self.view_widgets: list[QWidget] = [
            ThroughputPlot(self.model),
            ProgressView(self.model),
            TimelinePlot(self.model),
            ResourcesPlot(self.model),
        ]
        # the same four, as the window drives them: redrawn in turn by the paced timer
        self.views: list[LiveView] = [
            view for view in self.view_widgets if isinstance(view, LiveView)
        ]
        self.summary = SummaryView()
        self.pages = named(Pages(), "pages")
        self.pages.setDocumentMode(True)
        self.pages.setTabBarAutoHide(True)  # one page for now; the tab bar appears with two
        self.live_page = self._build_live_page()
        self.pages.add_page(self.live_page, "Live")
        # the compare page stores every run that ends in the history (added as a page below)
        self.compare = ComparePage(self.controller, self.model, self.controls)
        self.compare.driver.run_started.connect(self.summary.show_running)
        self.compare.focus_requested.connect(lambda: self.pages.setCurrentWidget(self.compare))
        self.compare.live_page_requested.connect(
            lambda: self.pages.setCurrentWidget(self.live_page)
        )
        self.compare.message.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.compare.title_changed.connect(
            lambda title: self.pages.setTabText(self.pages.indexOf(self.compare), title)
        )
        self.compare.show_notice()
        self.baselines.fallback = self.compare.history.sequential_wall_s
        self.summary.repeats_of = self.compare.history.repeats_of

        self.splitter = named(QSplitter(Qt.Orientation.Horizontal), "mainSplitter")
        self.splitter.addWidget(self._build_left_column())
        self.splitter.addWidget(self.pages)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(0, False)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

        self.status = RunStatusBar(self.statusBar(), self.controller)
        self._build_menus()

        self.pacer = RedrawPacer()
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setSingleShot(True)  # re-armed by each redraw, at the pacer's interval
        self.redraw_timer.timeout.connect(self._redraw_tick)
        self._next_view = 0

        self.controls.run_action.triggered.connect(self.start_run)
        self.controls.stop_action.triggered.connect(self.controller.stop)
        self.controls.strategy_changed.connect(self._show_explanation)
        self.controls.job_names_changed.connect(self._show_explanation)
        self.controls.workload_notice.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.controller.busy_changed.connect(self._on_busy)
        self.controller.rejected.connect(self._on_rejected)
        self.controller.run_ended.connect(self._on_run_ended)
        self.counter_view = CounterView(self.model, controls=self.controls)
        self.add_page(self.counter_view, "Counter")
        # connected after start_run: a shared-counter run that Run started shows its page
        self.controls.run_action.triggered.connect(self.counter_view.on_run_pressed)
        self.counter_view.focus_requested.connect(
            lambda: self.pages.setCurrentWidget(self.counter_view)
        )
        self.add_page(self.compare, "Compare")
        # the summary says "last run" when the run on show is not what Run would start now
        for signal in (
            self.controls.choices_changed,
            self.controller.busy_changed,
            self.controller.run_ended,
            self.compare.driver.run_started,
            self.compare.driver.finished,
        ):
            signal.connect(self._label_shown_run)
        # Compare chooses its strategies and worker counts itself: the left's are greyed there
        self.pages.currentChanged.connect(
            lambda _index: self.controls.set_compare_shown(
                self.pages.currentWidget() is self.compare
            )
        )

        apply_theme()  # the palette may have changed since the application was set up
        self._size_for_screen()
        self._restore_window_state()
        # measuring the workloads takes a fraction of a second: off the GUI thread
        self.background = Background("mpscope-calibration", self)
        if not calibration_disabled():
            self.background.submit(measure_all, on_done=self._on_calibrated)
        QTimer.singleShot(0, self.redraw)  # the views' empty state

    # -- building --------------------------------------------------------------------------------
    def _build_left_column(self) -> QWidget:
        """The controls, and below them the chosen strategy's explanation."""
        left = named(QWidget(), "leftPanel")
        layout = QVBoxLayout(left)
        layout.setContentsMargins(8, 8, 4, 4)
        layout.addWidget(self.controls)
        about = named(QLabel("About this strategy"), "explanationHeading")
        about.setProperty("role", "heading")
        layout.addWidget(about)
        layout.addWidget(self.explanation, 1)
        # no fixed minimum: the layout's own (it grows when options such as the counter's
        # appear), so the splitter can never squeeze a control until its label is cut off
        return left

    def _build_live_page(self) -> QWidget:
        """The four live views in a 2x2 grid, the run summary below them."""
        live = named(QWidget(), "livePage")
        grid = QGridLayout()
        grid.setSpacing(6)
        for i, widget in enumerate(self.view_widgets):
            grid.addWidget(widget, i // 2, i % 2)
        for i in (0, 1):
            grid.setRowStretch(i, 1)
            grid.setColumnStretch(i, 1)
        layout = QVBoxLayout(live)
        layout.setContentsMargins(4, 8, 8, 4)
        layout.addLayout(grid, 1)
        layout.addWidget(self.summary)
        return live

    def _build_menus(self) -> None:
        menu = self.menuBar()
        # the menus are kept here: PySide6 before 6.11.2 hands back a dead wrapper from
        # QAction.menu() once the first wrapper of a menu was collected
        self.file_menu = file_menu = menu.addMenu("&File")
        shot = QAction("Save &screenshot…", self)
        shot.setShortcut(QKeySequence("Ctrl+Shift+S"))
        shot.setToolTip("Save a PNG of the window as it is now")
        shot.triggered.connect(self._ask_screenshot)
        file_menu.addAction(shot)
        file_menu.addSeparator()
        for action in self.compare.exports.actions():  # import, export CSV / JSON / charts
            file_menu.addAction(action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.run_menu = run_menu = menu.addMenu("&Run")
        run_menu.addAction(self.controls.run_action)
        run_menu.addAction(self.controls.stop_action)
        run_menu.addAction(self.compare.setup.compare_action)
        self.help_menu = help_menu = menu.addMenu("&Help")
        guide = QAction("&Getting started", self)
        guide.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))  # F1
        guide.triggered.connect(self.show_getting_started)
        help_menu.addAction(guide)
        about = QAction("&About mpscope", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def add_page(self, widget: QWidget, title: str) -> int:
        """Add a page next to "Live" (the counter and compare pages); returns its index."""
        return self.pages.add_page(widget, title)

    def _show_explanation(self, *_: object) -> None:
        """The strategy's explanation, its code in the user's names when it is their function."""
        self.explanation.show_strategy(self.controls.strategy, self.controls.job_names())

    # -- running -------------------------------------------------------------------------------
    def start_run(self) -> bool:
        """Start the spec the controls show; False if it is invalid or a run is live."""
        spec = self.controls.spec()
        if spec is None or self.controller.busy:
            return False
        save_choices(self.controls.choices())
        if not self.controller.start(spec):
            return False
        if self.controls.own_job:
            self.controls.own.remember()
        self.summary.show_running(spec)
        self.pages.setCurrentIndex(0)
        self.redraw()
        return True

    def _on_busy(self, busy: bool) -> None:
        self.controls.set_busy(busy)
        if busy:
            self.pacer.reset()
            self._schedule_tick()

    def _on_rejected(self, message: str) -> None:
        self.statusBar().showMessage(message, 10_000)
        self.controls.spec_message.setText(message)
        self.controls.spec_message.show()

    def _on_run_ended(self, outcome: object) -> None:
        self.redraw_timer.stop()
        if isinstance(outcome, RunFailed) and outcome.refused:  # the user's job cannot run
            self.controls.own.show_error(outcome.error)
        if self.model.spec is not None:
            self.baselines.record(self.model.spec, outcome)
            baseline = self.baselines.wall_s(self.model.spec)
            self.summary.show_outcome(self.model, baseline, self.controller.elapsed_s)
        self.status.refresh()
        self._refresh_in_turn(list(self.views))

    def _label_shown_run(self, *_: object) -> None:
        """Name the run on show "last run" (or "Compare's run") in the summary when the
        controls on the left would now start something else, and say what in its tooltip."""
        shown = self.model.spec
        if shown is None:
            return
        wanted = self.controls.spec()
        by_compare = self.compare.driver.active
        if (wanted is not None and describe_spec(wanted) == describe_spec(shown)) or (
            self.controller.busy and not by_compare  # the badge says running; Run waits
        ):
            self.summary.note_origin(None)
            return
        now = describe_spec(wanted) if wanted is not None else "nothing (a value is invalid)"
        what = "a run of the comparison" if by_compare else "the last run"
        self.summary.note_origin(
            "Compare's run" if by_compare else "last run",
            f"The Live page shows {what}, not what the controls on the left set up now.\n"
            f"Run (Ctrl+R) would start: {now}",
        )

    def _refresh_in_turn(self, views: list[LiveView]) -> None:
        """Refresh ``views`` one at a time (the final redraw when a run ends)."""
        if self._closing or not views:
            return
        views[0].refresh()
        # a pause lets this view paint before the next refreshes: one paint pass for all of
        # them (every axis re-rendered for the final range) would stall the window
        QTimer.singleShot(FINAL_REFRESH_STEP_MS, self, lambda: self._refresh_in_turn(views[1:]))

    def redraw(self) -> None:
        """Refresh the status bar and every view from the model, now."""
        if self._closing:
            return
        self.status.refresh()
        for view in self.views:
            view.refresh()

    def _redraw_tick(self) -> None:
        """The redraw timer: the status bar and the next view in turn, then re-arm."""
        if self._closing:
            return
        self.status.refresh()
        # hidden views cost nothing: they catch up when shown (or when the run ends)
        live_page_shown = self.pages.currentWidget() is self.live_page
        if not self.isMinimized() and self.views and live_page_shown:
            self._next_view %= len(self.views)
            self.views[self._next_view].refresh()
            self._next_view += 1
        if self.controller.busy:
            self._schedule_tick()

    def _schedule_tick(self) -> None:
        # the pacer's interval is one round of all the views
        interval = self.pacer.next_interval_ms() / max(len(self.views), 1)
        self.redraw_timer.start(max(round(interval), 1))

    # -- calibration ---------------------------------------------------------------------------
    def _on_calibrated(self, measured: Future[dict[str, float]]) -> None:
        if not self._closing and measured.exception() is None:
            self.controls.set_proposals(ItemProposals(measured.result()))

    # -- window state --------------------------------------------------------------------------
    def _size_for_screen(self) -> None:
        """The first size and a minimum size from the screen's available area; the splitter
        gives the left column its width and the pages the rest."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        size, minimum = window_sizes(available.size() if available is not None else None)
        self.setMinimumSize(minimum)
        self.resize(size)
        if available is not None:  # centred in the available area, its frame included
            spare = available.size() - size - FRAME_ALLOWANCE
            self.move(
                available.x() + max(0, spare.width()) // 2,
                available.y() + max(0, spare.height()) // 2,
            )
        # (on a small screen the splitter narrows the left column towards its minimum first,
        # to show the pages unscrolled: each page asks for its own minimum width)
        self.splitter.setSizes([LEFT_WIDTH, size.width() - LEFT_WIDTH])

    def _restore_window_state(self) -> None:
        geometry, state, splitter = load_window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light / dark switch (the style sheet's colours)."""
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            QTimer.singleShot(0, apply_theme)
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Save the settings, stop any live run and wait until its processes are gone."""
        if not self._closing:
            self._closing = True
            save_choices(self.controls.choices())
            save_window_state(
                QByteArray(self.saveGeometry()),
                QByteArray(self.saveState()),
                QByteArray(self.splitter.saveState()),
            )
            self.redraw_timer.stop()
            self.hide()
            self.controller.shutdown()
            self.background.shutdown()
            self.compare.shutdown()
            self.controls.shutdown()
        event.accept()

    # -- dialogs -------------------------------------------------------------------------------
    def save_screenshot(self, path: str) -> bool:
        """Save a PNG of the window; True on success."""
        return bool(self.grab().save(path, "PNG"))

    def _ask_screenshot(self) -> None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        path, _ = QFileDialog.getSaveFileName(
            self, "Save screenshot", f"{folder}/mpscope.png", "PNG images (*.png)"
        )
        if path and not self.save_screenshot(path):
            QMessageBox.warning(self, "mpscope", f"could not write {path}")

    def show_getting_started(self) -> None:
        """Open (or raise) the getting-started page beside the window."""
        if self.getting_started is None:
            self.getting_started = GettingStarted(self)
        self.getting_started.show()
        self.getting_started.raise_()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About mpscope",
            "<b>mpscope</b>: see what Python's parallel strategies really do.<br>"
            "Pick a strategy, a workload and a core count; press Run; watch every worker live."
            "<br>Every number is measured and every result checked: against its closed form,"
            " or against the plain loop for your own function. Help › Getting started (F1)."
            f"<br><br>version {_version()} · Qt {qVersion()} · Python {platform.python_version()}",
        )


def window_sizes(available: QSize | None) -> tuple[QSize, QSize]:
    """(first size, minimum size) of the window on a screen whose available area (without
    its panels) is ``available``: the preferred size where it fits with a title bar and
    borders, else that area less them; the minimum never larger than the first size."""
    if available is None or available.isEmpty():
        return QSize(PREFERRED_SIZE), QSize(MINIMUM_SIZE)
    room = available - FRAME_ALLOWANCE
    size = PREFERRED_SIZE.boundedTo(room)
    return size, MINIMUM_SIZE.boundedTo(size)


def _version() -> str:
    try:
        return importlib.metadata.version("mpscope")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"

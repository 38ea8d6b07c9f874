"""ComparePage (objectName "compareView"): strategies side by side, sweeps, history, export.

At the top, what to compare (CompareSetup) for the job the controls on the left show, and a
progress line ("run 3 of 12 · pool-map K=2 · repeat 1 · about 20 s left") with a button to
watch the run in progress on the Live page. Below, four tabs (ResultsTabs): the comparison's
charts with the verdict under them, the sweep charts, the table of its runs, and the history.

The page records every run the controller ends, from any page, in the history (a stopped run
is not recorded: it measured nothing). Runs of a comparison go in with its batch name and their
repeat index; their records carry this machine, so they compare cleanly with imported ones.
"""

from __future__ import annotations

import uuid
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import qdebounced

from mpscope.gui.compare.banner import Banner
from mpscope.gui.compare.export_actions import ExportActions, ExportSelection
from mpscope.gui.compare.history_panel import HistoryPanel
from mpscope.gui.compare.matrix_driver import MatrixDriver
from mpscope.gui.compare.planner import ComparePlanner, job_line
from mpscope.gui.compare.results_tabs import (
    CHARTS_TAB,
    HISTORY_TAB,
    KIND_TAB,
    ResultsTabs,
    cores_of,
)
from mpscope.gui.compare.run_history import RunHistory
from mpscope.gui.compare.setup_panel import CompareSetup
from mpscope.gui.controls import ControlsPanel
from mpscope.gui.naming import named
from mpscope.gui.run_controller import RunController
from mpscope.gui.run_model import RunModel
from mpscope.workers.compare import MatrixPlan, Skipped, summarize, verdict
from mpscope.workers.events import RunCancelled, RunStatus
from mpscope.workers.records.history import StoredRun
from mpscope.workers.spec import SpecError

TITLE = "Compare"
PLAN_LINE_DELAY_MS = 120
KIND_NAME = {"matrix": "comparison", "chunksize": "chunksize sweep", "grain": "grain sweep"}
RUNNING = {"matrix": "comparing", "chunksize": "chunksize sweep", "grain": "grain sweep"}
BUTTON_TIPS = {
    "matrix": "Run the comparison",
    "chunksize": "Items/s against chunksize",
    "grain": "Speed-up against work per item (heavy)",
}


def plural(n: int, word: str) -> str:
    """'1 run', '3 runs'."""
    return f"{n} {word}{'s' * (n != 1)}"


class ComparePage(QWidget):
    """The compare page: setup, progress, results tabs; the run history and its exports."""

    # fires after the plan line, the setup's message and the buttons were brought up to date
    plan_updated = Signal()
    # the page asks to be shown (a problem to read, imported runs to look at)
    focus_requested = Signal()
    # the page asks for the Live page to be shown (the run in progress, worker by worker)
    live_page_requested = Signal()
    # one line for the window's status bar (what the banner says)
    message = Signal(str)
    # the page's title changed (it counts the comparison's runs): for its tab
    title_changed = Signal(str)

    def __init__(
        self,
        controller: RunController,
        model: RunModel,
        controls: ControlsPanel,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("compareView")
        self.controller = controller
        self.model = model
        self.controls = controls
        self.history = RunHistory(parent=self)
        self.driver = MatrixDriver(controller, self)
        self.exports = ExportActions(self, self)
        self.setup = CompareSetup()
        self.planner = ComparePlanner(controls, self.setup)
        self._build()
        self._connect()
        self._workload = controls.workload
        self.setup.update_fit(self._workload)
        self.update_plan_line()

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        self.addAction(self.setup.compare_action)
        for action in self.exports.actions():
            self.addAction(action)
        self.banner = Banner("compareBanner")
        self.progress_bar = named(QProgressBar(), "compareProgressBar")
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedWidth(160)
        self.progress_bar.setMaximumHeight(12)
        self.progress_label = named(QLabel("No comparison run yet."), "compareProgress")
        self.progress_label.setToolTip("Where the comparison stands, and the time it still needs")
        self.watch_button = named(QPushButton("Watch live ▸"), "compareWatchLive")
        self.watch_button.setToolTip("Show the Live page: the run in progress, worker by worker")
        self.watch_button.clicked.connect(self.live_page_requested)
        progress = QHBoxLayout()
        progress.setContentsMargins(0, 0, 0, 0)
        progress.addWidget(self.progress_bar)
        progress.addWidget(self.progress_label, 1)
        progress.addWidget(self.watch_button)

        self.history_panel = HistoryPanel(
            self.history,
            [
                ("Import…", self.exports.import_action),
                ("CSV…", self.exports.export_csv_action),
                ("JSON…", self.exports.export_json_action),
            ],
        )
        self.tabs = ResultsTabs(self.history_panel)
        self.charts, self.sweeps = self.tabs.charts, self.tabs.sweeps
        self.runs_model, self.runs_table = self.tabs.runs_model, self.tabs.runs_table

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.setup)
        layout.addLayout(progress)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setup.set_running(False)

    def _connect(self) -> None:
        self.setup.compare_action.triggered.connect(self.start_comparison)
        self.setup.chunksize_button.clicked.connect(self.start_chunksize_sweep)
        self.setup.grain_button.clicked.connect(self.start_grain_sweep)
        self.setup.stop_button.clicked.connect(self.driver.stop)
        self.setup.changed.connect(self.update_plan_line_soon)
        self.controls.choices_changed.connect(self.controls_changed)
        self.controller.busy_changed.connect(lambda _busy: self.update_plan_line())
        self.controller.run_ended.connect(self._on_run_ended)
        self.driver.started.connect(self._on_started)
        self.driver.run_recorded.connect(lambda _record: self._show_driver_results())
        self.driver.progress.connect(self._on_progress)
        self.driver.finished.connect(self._on_finished)
        self.history.failed.connect(lambda text: self.report(text, error=True))
        self.history_panel.show_requested.connect(self.show_history_runs)

    @property
    def shown(self) -> ExportSelection:
        """The runs on show in the charts and the runs table."""
        return self.tabs.shown

    def show_records(
        self,
        records: list[dict[str, Any]],
        kind: str,
        what: str,
        skipped: list[Skipped] | None = None,
    ) -> None:
        """Put ``records`` on show (see ResultsTabs.show_records)."""
        self.tabs.show_records(records, kind, what, skipped)

    # -- the plan line -------------------------------------------------------------------------
    def controls_changed(self) -> None:
        """The job on the left changed: refit the strategy list, recount the plan."""
        workload = self.controls.workload
        if workload != self._workload:
            self._workload = workload
            self.setup.update_fit(workload)  # emits changed
        self.update_plan_line_soon()

    @qdebounced(timeout=PLAN_LINE_DELAY_MS)
    def update_plan_line_soon(self) -> None:
        """update_plan_line() once typing pauses (planning validates every cell)."""
        self.update_plan_line()

    def update_plan_line(self) -> None:
        """Say what Compare and the sweeps would run, or what stops them."""
        running = self.driver.active
        busy = self.controller.busy and not running
        plans: dict[str, MatrixPlan | str] = {}
        for kind in BUTTON_TIPS:
            try:
                plans[kind] = self.planner.plan(kind)
            except SpecError as exc:
                plans[kind] = str(exc)
        matrix = plans["matrix"]
        try:
            count = f"{matrix.total_runs} runs" if isinstance(matrix, MatrixPlan) else "—"
            if running and self.driver.plan is not None:  # what runs now, not what would
                count = f"{self.driver.plan.total_runs} runs ({RUNNING[self.driver.kind]})"
            job = f"{job_line(self.planner.base_spec())}  →  {count}"
        except SpecError:
            job = "—"
        self.setup.job_label.setText(f"Job (set on the left): {job}")
        self.setup.show_problem(matrix if isinstance(matrix, str) and not running else None)
        buttons = {
            "matrix": self.setup.compare_button,
            "chunksize": self.setup.chunksize_button,
            "grain": self.setup.grain_button,
        }
        for kind, button in buttons.items():
            plan = plans[kind]
            button.setEnabled(isinstance(plan, MatrixPlan) and not running and not busy)
            if busy:
                tip = "A run is in progress: wait for it or stop it (Esc)"
            elif isinstance(plan, MatrixPlan):
                tip = f"{BUTTON_TIPS[kind]}: {plan.total_runs} runs, one at a time"
                tip += " (Ctrl+Shift+R)" if kind == "matrix" else f", K={plan.cells[-1].workers}"
            else:
                tip = plan
            button.setToolTip(tip)
        self.setup.compare_action.setEnabled(self.setup.compare_button.isEnabled())
        self.setup.stop_button.setEnabled(running)
        self.plan_updated.emit()

    # -- starting and following a plan ---------------------------------------------------------
    def start_comparison(self) -> bool:
        """Run the comparison the setup describes; False (and a message) if it cannot."""
        return self._start("matrix")

    def start_chunksize_sweep(self) -> bool:
        """Run the chunksize sweep."""
        return self._start("chunksize")

    def start_grain_sweep(self) -> bool:
        """Run the grain sweep."""
        return self._start("grain")

    def _start(self, kind: str) -> bool:
        try:
            plan = self.planner.plan(kind)
        except SpecError as exc:
            self.setup.show_problem(str(exc))
            return False
        if not self.driver.start(plan, kind):
            self.report("a run is in progress: wait for it or stop it first", error=True)
            return False
        return True

    def _on_started(self, kind: str) -> None:
        self.setup.set_running(True)
        self.setup.show_problem(None)
        self.tabs.setCurrentIndex(KIND_TAB[kind])
        self._show_driver_results()
        self.update_plan_line()

    def _on_progress(self, done: int, total: int, text: str) -> None:
        self.progress_bar.setMaximum(max(total, 1))
        self.progress_bar.setValue(done)
        self.progress_label.setText(text[:1].upper() + text[1:])
        self.title_changed.emit(f"{TITLE} · {done}/{total}" if self.driver.active else TITLE)

    def _on_finished(self, cancelled: bool) -> None:
        self.setup.set_running(False)
        self._show_driver_results()
        self.title_changed.emit(TITLE)
        self.update_plan_line()

    def _on_run_ended(self, outcome: object) -> None:
        """Every run the controller ends: count it for the comparison, store it in the history."""
        tally = self.model.tally
        if tally is None:
            return
        record = tally.summary()
        cancelled = isinstance(outcome, RunCancelled) or record.get("status") == RunStatus.CANCELLED
        batch = self.driver.batch if self.driver.owns_run else None
        counted = self.driver.run_ended(record, cancelled)
        if not cancelled:
            self.history.add(counted or record, batch=batch)

    def _show_driver_results(self) -> None:
        result = self.driver.result()
        plan = self.driver.plan
        if result is None or plan is None:
            return
        name = KIND_NAME.get(self.driver.kind, self.driver.kind)
        done = len(result.records)
        if self.driver.active:
            what = f"the {name} so far ({done} of {plan.total_runs} runs)"
        elif result.cancelled:
            what = f"the stopped {name} ({done} of {plan.total_runs} runs)"
        else:
            what = f"the {name} ({plural(done, 'run')})"
        machine = self.history.machine
        records = [{**r, "machine": r.get("machine") or machine} for r in result.records]
        self.tabs.show_records(records, self.driver.kind, what, list(result.skipped))

    def show_history_runs(self, runs: list[StoredRun]) -> None:
        """Chart stored runs (the history's selection) with their table and verdict."""
        if self.driver.active:
            self.report("a comparison is running: its results stay on show until it ends", True)
            return
        what = f"{plural(len(runs), 'run')} from the history"
        self.tabs.show_records([run.export_record() for run in runs], "history", what)
        self.tabs.setCurrentIndex(CHARTS_TAB)

    # -- closing -------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """The window is closing: forget the comparison, close the history."""
        self.driver.shutdown()
        self.history.close()

    # -- export / import (the ResultsSource of ExportActions) ----------------------------------
    def export_selection(self) -> ExportSelection:
        """The runs on show: the history's selection (or all of it) when History is open."""
        if self.tabs.currentIndex() != HISTORY_TAB:
            return self.tabs.shown
        runs = self.history_panel.selected_runs() or list(self.history.runs)
        records = [run.export_record() for run in runs]
        sentences = verdict(summarize(records), cores_of(records)) if records else []
        return ExportSelection(
            records, f"{plural(len(records), 'history run')}", verdict=" ".join(sentences) or None
        )

    def chart_area(self) -> tuple[pg.GraphicsLayoutWidget, str]:
        """The charts on show (the sweeps when their tab is open)."""
        return self.tabs.chart_area()

    def import_records(self, records: list[dict[str, Any]], file_name: str) -> str | None:
        """Store imported runs in the history and select them there."""
        stored = self.history.add_many(
            records, batch=f"import-{uuid.uuid4().hex[:12]}", source=f"import:{file_name}"
        )
        if not stored:
            return "the history could not store the runs"
        hosts = sorted({run.machine.get("hostname") or "?" for run in stored})
        self.report(
            f"imported {plural(len(stored), 'run')} from {file_name} (measured on "
            f"{', '.join(hosts)}): they are selected in the History tab; press Enter to chart them"
        )
        self.bring_forward()
        self.tabs.setCurrentIndex(HISTORY_TAB)
        self.history_panel.select_ids([run.id for run in stored])
        self.history_panel.table.setFocus()
        return None

    def show_notice(self) -> None:
        """Say what was wrong with the history file found at start-up, if anything (call it
        once the window listens to ``message``)."""
        if self.history.notice:
            self.report(self.history.notice, error=True)

    def report(self, text: str, error: bool = False) -> None:
        """One line in the banner (and the window's status bar)."""
        self.banner.show_message(text, error)
        self.message.emit(text)
        if error:
            self.bring_forward()

    # -- the window's pages --------------------------------------------------------------------
    def bring_forward(self) -> None:
        """Ask the window to show this page."""
        self.focus_requested.emit()

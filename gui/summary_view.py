"""SummaryView: what a run measured, once it has ended, and what went wrong if it failed.

Figures: wall time, CPU time (and cores busy on average), items/s, conductor start-up, probe
overhead (the CPU of the in-worker probes' ticks as a share of the run's CPU), speed-up
against the last sequential run of the same problem (and how far repeats of the same setting
spread on this machine, from the run history: one run alone is not a measurement), and the
result checked against its closed form. A failed run shows its one-line error; its traceback
is one click away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui.choice_combos import start_method_unused
from mpscope.gui.fitting_labels import ElidedLabel
from mpscope.gui.naming import named
from mpscope.gui.run_model import RunModel
from mpscope.workers.compare.summary import CellSummary
from mpscope.workers.events import RunCancelled, RunFailed, RunFinished, RunStatus
from mpscope.workers.spec import RunSpec, job_label, size_label
from mpscope.workers.strategies import baseline
from mpscope.workers.units import format_count, format_rate, format_seconds
from mpscope.workers.workloads import WORKLOADS

SPEEDUP_TIP = "Against the last sequential run of the same workload and N"
# two rows of three, each column's longest figure under its shortest neighbour's column: the
# short ones (wall, items/s), the middling ones (CPU, probe), the long ones (speed-up, start-up)
FIGURES = (
    ("wall", "Wall time", "From just before the workers start to the result in hand"),
    ("cpu", "CPU time", "User + system CPU of the conductor and every worker"),
    ("speedup", "Speed-up", SPEEDUP_TIP),
    ("rate", "Throughput", "Items per second of wall time"),
    ("probe", "Probe overhead", "CPU of the in-worker progress probes, as a share of all CPU"),
    ("startup", "Start-up", "Starting the conductor process (not counted in the wall time)"),
)


CHECK_TIP = "The result against the workload's closed form (exact integers)"
ERROR_LINES = 2  # an error takes the figures' two lines; its whole text is in the tooltip
BADGE_TEXTS = ("ready", "running", "correct", "unchecked", "WRONG", "failed", "stopped")


def describe_spec(spec: RunSpec) -> str:
    """One line naming a run: strategy · workload · N · K · chunksize · start method."""
    parts = [str(spec.strategy), job_label(spec), f"N={size_label(spec)}"]
    takes = WORKLOADS[str(spec.workload)].params.values() if spec.workload in WORKLOADS else ()
    if "grain" in takes:
        parts.append(f"grain {format_count(spec.grain)}")
    if "sleep_ms" in takes:
        parts.append(f"{spec.sleep_ms:g} ms/item")
    parts.append(f"K={spec.workers}")
    if spec.chunksize:
        parts.append(f"chunksize {format_count(spec.chunksize)}")
    if start_method_unused(str(spec.strategy)) is None:
        parts.append(str(spec.start_method))
    if spec.inject:
        parts.append(f"fault {spec.inject}")
    return " · ".join(parts)


def speedup_text(spec: RunSpec, wall_s: float, baseline_s: float | None) -> str:
    """How this run compares with the sequential loop on the same problem."""
    loop = baseline().id
    if spec.strategy == loop:
        return "1.00× (this is the baseline)"
    if baseline_s is None:
        return f"run {loop} on the same N to see it"
    ratio = baseline_s / wall_s if wall_s > 0 else 0.0
    verdict = "faster" if ratio >= 1 else "slower"
    return f"{ratio:.2f}× ({verdict} than {loop}'s {format_seconds(baseline_s)})"


MIN_REPEATS = 3  # good runs of a setting before its spread means anything
SPREAD_TIP = (
    "Repeats here: the slowest and the fastest of this setting's correct runs stored on this "
    "machine (this one included), against the median sequential run: how far one run of it "
    "lands from the next."
)
ONE_RUN_TIP = (
    "One run is one sample, not a measurement: on a busy machine other programs, the CPU's "
    "clock and the scheduler move a run's time by 10% or more from one run to the next. "
    "Compare (on the Compare page, with Repeats 3 or more) runs this setting several times "
    "and shows the median and the spread."
)
RepeatsLookup = Callable[[dict[str, Any]], CellSummary | None]


def spread_text(cell: CellSummary | None) -> str:
    """How far repeats of a setting spread here (from ``cell``, the history's summary of
    its runs), or, with fewer than ``MIN_REPEATS`` good runs, how to find out."""
    ok = cell.ok if cell is not None else 0
    if cell is None or ok < MIN_REPEATS:
        if ok <= 1:
            return "one run: press Compare with repeats to see how far it spreads"
        return f"only {ok} runs here: press Compare with repeats to see how far it spreads"
    if cell.speedup_min is not None and cell.speedup_max is not None:
        return f"repeats here: {cell.speedup_min:.2f}–{cell.speedup_max:.2f}× ({ok} runs)"
    if cell.min_wall_s is not None and cell.max_wall_s is not None:
        fastest, slowest = format_seconds(cell.min_wall_s), format_seconds(cell.max_wall_s)
        return f"repeats here: {fastest}–{slowest} ({ok} runs)"
    return f"repeats here: {ok} runs"


def keep_room(widget: QWidget) -> QWidget:
    """``widget`` keeps its place in the layout while hidden (nothing below it moves up)."""
    policy = widget.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    widget.setSizePolicy(policy)
    return widget


class SummaryView(QWidget):
    """The ended run's figures, or its error and traceback.

    Its room is fixed from the start: a header line, two lines of figures (or of error, or of
    nothing before the first run ends) and the check's line, so the live views above it never
    move when a run starts or ends. Every line elides what does not fit, the whole text in its
    tooltip; only opening the traceback (a click) makes the summary taller.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # the stored runs of a record's setting (the window sets it to the run history's
        # ``repeats_of``): the speed-up then says how far repeats of the setting spread here
        self.repeats_of: RepeatsLookup | None = None
        self._described = ""  # the run on show, described (empty before the first run)
        self._origin: str | None = None  # "last run" when it is not what Run would start now
        self._origin_tip = ""
        self.setObjectName("summaryView")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.title = named(ElidedLabel(), "summaryTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = named(QLabel(), "summaryStatus")
        self.status.setProperty("role", "badge")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        header = QHBoxLayout()
        header.addWidget(self.status)
        header.addWidget(self.title, 1)

        self.values: dict[str, ElidedLabel] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        columns = 3
        for i, (key, caption, tip) in enumerate(FIGURES):
            row, col = divmod(i, columns)
            name = QLabel(caption + ":")
            name.setProperty("role", "caption")
            name.setToolTip(tip)
            value = named(ElidedLabel("–", tip=tip), f"summary_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, row, 2 * col, Qt.AlignmentFlag.AlignRight)
            grid.addWidget(value, row, 2 * col + 1)
            self.values[key] = value
        # no stretch on the figures: each column as wide as its longest (the spare room after
        # the last), and where room is short the longest gives way first
        grid.setColumnStretch(2 * columns, 1)
        self.figures = QWidget()
        self.figures.setLayout(grid)
        grid.setContentsMargins(0, 0, 0, 0)

        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.check = named(ElidedLabel(tip=CHECK_TIP), "summaryCheck")
        self.check.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        keep_room(self.check)

        self.error = named(ElidedLabel(lines=ERROR_LINES), "summaryError")
        self.error.setProperty("role", "error")
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.traceback_toggle = named(QToolButton(), "summaryTracebackToggle")
        self.traceback_toggle.setText("Show traceback")
        self.traceback_toggle.setCheckable(True)
        self.traceback_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.traceback_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.traceback_toggle.setToolTip("The full traceback, as the worker or conductor saw it")
        keep_room(self.traceback_toggle)
        self.traceback = named(QPlainTextEdit(), "summaryTraceback")
        self.traceback.setReadOnly(True)
        self.traceback.setFont(mono)
        self.traceback.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.traceback.setMinimumHeight(120)
        self.traceback.setMaximumHeight(260)  # the live views above stay readable
        self.traceback.hide()
        self.traceback_toggle.toggled.connect(self._toggle_traceback)
        self.failure = QWidget()
        error_row = QHBoxLayout(self.failure)
        error_row.setContentsMargins(0, 0, 0, 0)
        error_row.addWidget(self.error, 1, Qt.AlignmentFlag.AlignTop)
        error_row.addWidget(self.traceback_toggle, 0, Qt.AlignmentFlag.AlignTop)

        # the figures, or the error, or (before a run ends) nothing: in the same room
        self.body = QStackedWidget()
        self.nothing = QWidget()
        for page in (self.nothing, self.figures, self.failure):
            self.body.addWidget(page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addWidget(self.body)
        layout.addWidget(self.check)
        layout.addWidget(self.traceback, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._reserve_badge_width()
        self.show_idle()

    # -- states --------------------------------------------------------------------------------
    def show_idle(self) -> None:
        """Before any run: how to start one."""
        self._set_status(RunStatus.IDLE, "ready")
        self._described = ""
        self.title.setText("Press Run (Ctrl+R): the run's figures appear here when it ends")
        self._show_parts(figures=False)

    def show_running(self, spec: RunSpec) -> None:
        """A run started: name it; the figures come when it ends."""
        self._set_status(RunStatus.RUNNING, "running")
        self._show_title(describe_spec(spec))
        self._show_parts(figures=False)

    def note_origin(self, origin: str | None, tip: str = "") -> None:
        """Say what the run on show is when it is not what the controls would run now
        (``origin``: "last run", "Compare's run"; None: it is), with ``tip`` saying why."""
        if (origin, tip) != (self._origin, self._origin_tip):
            self._origin, self._origin_tip = origin, tip
            self.title.set_tip(tip)
            if self._described:
                self._show_title(self._described)

    def _show_title(self, described: str) -> None:
        self._described = described
        self.title.setText(f"{self._origin}: {described}" if self._origin else described)

    def show_outcome(self, model: RunModel, baseline_s: float | None, elapsed_s: float) -> None:
        """The ended run of ``model``: its figures, or why it stopped."""
        spec = model.spec
        outcome = model.outcome
        if spec is None or outcome is None:
            self.show_idle()
            return
        self._show_title(describe_spec(spec))
        if isinstance(outcome, RunFinished):
            record = model.tally.summary() if model.tally is not None else None
            self._show_finished(spec, outcome, baseline_s, record)
        elif isinstance(outcome, RunFailed):
            self._set_status(RunStatus.FAILED, "failed")
            self.error.setText(outcome.error)
            self.traceback.setPlainText(outcome.traceback)
            self._show_parts(figures=False, error=True, traceback=bool(outcome.traceback))
        elif isinstance(outcome, RunCancelled):
            self._set_status(RunStatus.CANCELLED, "stopped")
            done, units = model.done, model.units
            share = f" ({100 * done / units:.0f}%)" if units else ""
            self.check.setText(
                f"Stopped after {format_seconds(elapsed_s)}: {format_count(done)} of "
                f"{format_count(units or spec.items or 0)} items done{share}. "
                "Every process of the run is gone."
            )
            self.check.setProperty("verdict", "")
            self._show_parts(figures=False, check=True)
        self._repolish(self.check)

    def _show_finished(
        self,
        spec: RunSpec,
        out: RunFinished,
        baseline_s: float | None,
        record: dict[str, Any] | None,
    ) -> None:
        items = spec.items or 0
        cores = out.cpu_s / out.wall_s if out.wall_s > 0 else 0.0
        probe = 100 * out.probe_cpu_s / out.cpu_s if out.cpu_s > 0 else 0.0
        self.values["wall"].setText(format_seconds(out.wall_s))
        self.values["cpu"].setText(f"{format_seconds(out.cpu_s)} ({cores:.2f} cores busy)")
        self.values["rate"].setText(format_rate(items / out.wall_s) if out.wall_s > 0 else "–")
        self.values["startup"].setText(
            f"{format_seconds(out.startup_s)} (+ teardown {format_seconds(out.teardown_s)})"
        )
        self.values["probe"].setText(f"{probe:.2f}% ({format_seconds(out.probe_cpu_s)} CPU)")
        self._show_speedup(spec, out, baseline_s, record)
        if spec.job is not None:  # the user's function: its results against the loop's
            self._show_own_check(out)
        elif out.correct is None or out.expected is None:
            self._set_status(RunStatus.FINISHED, "unchecked")
            self.check.setText(
                f"result {format_count(out.result)}: nothing to check it against (unchecked)"
            )
        elif out.correct:
            self._set_status(RunStatus.FINISHED, "correct")
            self.check.setText(
                f"✓ correct: {format_count(out.result)} equals the closed form "
                f"({format_count(out.expected)})"
            )
        else:
            self._set_status(RunStatus.FAILED, "WRONG")
            self.check.setText(
                f"✗ WRONG result: got {format_count(out.result)}, "
                f"expected {format_count(out.expected)} "
                f"(off by {format_count(out.result - out.expected)})"
            )
        self.check.setProperty("verdict", "correct" if out.correct else "wrong")
        self._show_parts(figures=True, check=True)

    def _show_speedup(
        self,
        spec: RunSpec,
        out: RunFinished,
        baseline_s: float | None,
        record: dict[str, Any] | None,
    ) -> None:
        """The speed-up, and how far repeats of this setting spread here (or how to see it)."""
        label = self.values["speedup"]
        text = speedup_text(spec, out.wall_s, baseline_s)
        cell = None
        if self.repeats_of is not None and record is not None:
            cell = self.repeats_of(record)
        spread = spread_text(cell)
        label.setText(f"{text} · {spread}")
        few = cell is None or cell.ok < MIN_REPEATS
        label.set_tip(f"{SPEEDUP_TIP}\n{ONE_RUN_TIP if few else SPREAD_TIP}")

    def _show_own_check(self, out: RunFinished) -> None:
        line = str(out.extra.get("check_line", ""))
        if out.correct is None:
            self._set_status(RunStatus.FINISHED, "unchecked")
            self.check.setText(f"{format_count(out.result)} results, unchecked: {line}")
        elif out.correct:
            self._set_status(RunStatus.FINISHED, "correct")
            self.check.setText(f"✓ correct: matches the sequential loop ({line})")
        else:
            self._set_status(RunStatus.FAILED, "WRONG")
            self.check.setText(f"✗ WRONG: does not match the sequential loop: {line}")

    # -- helpers -------------------------------------------------------------------------------
    def _set_status(self, state: RunStatus, text: str) -> None:
        self.status.setText(text)
        self.status.setProperty("state", state.value)  # the style sheet's badge colour
        self._repolish(self.status)

    def _show_parts(
        self, figures: bool, check: bool = False, error: bool = False, traceback: bool = False
    ) -> None:
        """Which parts are on show; the room they take stays the same."""
        page = self.figures if figures else self.failure if error else self.nothing
        self.body.setCurrentWidget(page)
        self.check.setVisible(check)
        self.traceback_toggle.setVisible(traceback)
        if not traceback:
            self.traceback_toggle.setChecked(False)
        self.traceback.setVisible(traceback and self.traceback_toggle.isChecked())

    def _reserve_badge_width(self) -> None:
        """The badge as wide as its widest word, so the title beside it never shifts."""
        self.status.ensurePolished()
        widest = 0
        for text in BADGE_TEXTS:
            self.status.setText(text)
            widest = max(widest, self.status.sizeHint().width())
        self.status.setMinimumWidth(widest)

    def _toggle_traceback(self, shown: bool) -> None:
        self.traceback.setVisible(shown)
        self.traceback_toggle.setText("Hide traceback" if shown else "Show traceback")
        self.traceback_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

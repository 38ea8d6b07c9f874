"""CompareSetup: what a comparison runs — strategies, worker counts, repeats — and its buttons.

The job itself (workload, items, grain or sleep, start method, chunksize) is the one the
controls on the left show, so there is one place to set it; the setup names it in a line and
says how many runs the plan makes. Strategies that cannot run that workload, or whose optional
packages are missing, are disabled with the reason as their tooltip. The choices are
remembered between launches.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from mpscope.gui.naming import named
from mpscope.gui.settings import open_settings
from mpscope.workers.compare import DEFAULT_REPEATS, is_baseline
from mpscope.workers.compare.plan import MAX_REPEATS
from mpscope.workers.optional import unavailable_reason
from mpscope.workers.spec import SpecError, cpu_count, max_workers
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.strategies import why_not as unfit_reason

STRATEGY_COLUMNS = 5  # the strategies' columns where the page has the room
NARROWEST_COLUMNS = 3  # and where it has not (a 960-pixel window): one row more
SETTINGS_PREFIX = "compare/"
WORKERS_TIP = (
    "Worker counts to try, e.g. 1,2,4 or a range 1-8. Every strategy that uses workers runs "
    "at each count; the sequential loop runs once per repeat as the baseline. (Workers on "
    "the left is for Run alone: it is greyed while this page is on show.)"
)
REPEATS_TIP = (
    "How often each setting runs (interleaved: A B C A B C). The charts show the median, "
    "whiskers the fastest and slowest repeat."
)


def worker_presets(cores: int) -> list[tuple[str, str]]:
    """(text, tooltip) of the worker-count presets for a machine with ``cores`` cores."""
    presets = []
    if cores > 1:
        presets.append((f"1, {cores}", f"one worker and one per core ({cores})"))
    powers = [1 << i for i in range(cores.bit_length()) if 1 << i <= cores]
    if len(powers) > 2:
        presets.append((", ".join(map(str, powers)), "powers of two up to the core count"))
    if cores > 2:
        presets.append((f"1-{cores}", "every count up to the core count"))
    presets.append((f"1-{2 * cores}", "every count up to twice the core count (oversubscribed)"))
    return presets


def parse_worker_counts(text: str) -> list[int]:
    """'1,2,4' / '1 2 4' / '1-4' / '1..4' -> sorted counts; SpecError (one line) if bad."""
    allowed = f"allowed 1..{max_workers()}, e.g. 1,2,4 or 1-4"
    counts: set[int] = set()
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)\s*(?:-|\.\.)\s*(\d+)", part)
        if match:
            low, high = int(match[1]), int(match[2])
            if low > high:
                raise SpecError(f"workers range {part!r} runs backwards: {allowed}")
            if high > max_workers():
                raise SpecError(f"workers {high} is out of range: {allowed}")
            counts.update(range(low, high + 1))
        elif part.isdigit():
            counts.add(int(part))
        else:
            raise SpecError(f"workers {part!r} is not a whole number: {allowed}")
    if not counts:
        raise SpecError(f"no worker counts given: {allowed}")
    bad = [c for c in counts if not 1 <= c <= max_workers()]
    if bad:
        raise SpecError(f"workers {min(bad)} is out of range: {allowed}")
    return sorted(counts)


class CompareSetup(QWidget):
    """Strategies (checkable), worker counts, repeats; Compare, the two sweeps, Stop."""

    # fires when anything the plan depends on changed
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareSetup")
        self.strategy_box = named(QGroupBox("Strategies"), "compareStrategies")
        self.strategy_box.setToolTip(
            "The strategies to compare with the sequential loop (which always runs, as the "
            "baseline). Greyed out: cannot run this workload here; hover for why."
        )
        self._boxes = QGridLayout(self.strategy_box)
        self._boxes.setContentsMargins(8, 2, 8, 4)
        self._boxes.setVerticalSpacing(2)
        self.strategy_checks: dict[str, QCheckBox] = {}
        self._fits: dict[str, bool] = {}  # can run the current workload (set by update_fit)
        for strategy in STRATEGIES:
            check = named(QCheckBox(strategy), f"compareStrategy-{strategy}")
            self.strategy_checks[strategy] = check
        self.columns = 0
        self._arrange_strategies(STRATEGY_COLUMNS)

        cores = cpu_count()
        self.workers_combo = named(QComboBox(), "compareWorkers")
        self.workers_combo.setEditable(True)
        self.workers_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for text, tip in worker_presets(cores):
            self.workers_combo.addItem(text)
            self.workers_combo.setItemData(
                self.workers_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.workers_combo.setToolTip(f"{WORKERS_TIP} This machine has {cores} cores.")
        self.repeats_spin = named(QSpinBox(), "compareRepeats")
        self.repeats_spin.setRange(1, MAX_REPEATS)
        self.repeats_spin.setValue(DEFAULT_REPEATS)
        self.repeats_spin.setToolTip(REPEATS_TIP)

        self.compare_action = QAction("Run &comparison", self)
        self.compare_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.compare_action.setToolTip(
            "Run every checked strategy at every worker count, one run at a time (Ctrl+Shift+R)"
        )
        self.compare_button = named(QPushButton("▶  Compare"), "compareButton")
        self.chunksize_button = named(QPushButton("Chunksize sweep"), "chunksizeSweepButton")
        self.grain_button = named(QPushButton("Grain sweep"), "grainSweepButton")
        self.stop_button = named(QPushButton("■  Stop"), "compareStopButton")
        self.stop_button.setToolTip("Stop the comparison: the run in progress ends within a second")
        self.compare_button.clicked.connect(self.compare_action.trigger)
        self.addAction(self.compare_action)

        self.job_label = named(QLabel(), "compareJob")
        self.job_label.setProperty("role", "note")
        self.job_label.setWordWrap(True)
        self.message = named(QLabel(), "compareMessage")
        self.message.setProperty("role", "error")
        self.message.setWordWrap(True)
        self.message.hide()

        # [strategies        ] [Compare]
        # [                  ] [Stop   ]
        # Workers [..] Repeats [..] [Chunksize sweep] [Grain sweep]
        # job line
        # problem line
        row = self._row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for text, field in (("Wor&kers", self.workers_combo), ("Re&peats", self.repeats_spin)):
            label = QLabel(text)
            label.setBuddy(field)
            row.addWidget(label)
            row.addWidget(field)
            row.addSpacing(6)
        row.addWidget(self.chunksize_button)
        row.addWidget(self.grain_button)
        row.addStretch(1)
        grid = self._grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.addWidget(self.strategy_box, 0, 0, 2, 1)
        grid.addWidget(self.compare_button, 0, 1)
        grid.addWidget(self.stop_button, 1, 1)
        grid.addLayout(row, 2, 0, 1, 2)
        grid.addWidget(self.job_label, 3, 0, 1, 2)
        grid.addWidget(self.message, 4, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        self.compare_button.setMinimumWidth(130)
        self.workers_combo.setMinimumWidth(
            self.fontMetrics().horizontalAdvance("1, 2, 4, 8, 16") + 30
        )
        for button in (
            self.compare_button,
            self.stop_button,
            self.chunksize_button,
            self.grain_button,
        ):
            button.setMinimumHeight(28)

        self.setMinimumWidth(self._width_for(NARROWEST_COLUMNS))
        self._restore()
        for check in self.strategy_checks.values():
            check.toggled.connect(lambda _on: self._changed())
        self.workers_combo.currentTextChanged.connect(lambda _text: self._changed())
        self.repeats_spin.valueChanged.connect(lambda _value: self._changed())

    # -- the strategies' columns: as many as the width has room for -------------------------
    def _arrange_strategies(self, columns: int) -> None:
        """Lay the strategy boxes out in ``columns`` columns (row by row, in their order)."""
        if columns == self.columns:
            return
        self.columns = columns
        for check in self.strategy_checks.values():
            self._boxes.removeWidget(check)
        for i, check in enumerate(self.strategy_checks.values()):
            self._boxes.addWidget(check, i // columns, i % columns)

    def _width_for(self, columns: int) -> int:
        """The setup's width with the strategies in ``columns`` columns: the wider of the
        strategies beside the buttons and the row of workers, repeats and sweeps."""
        widths = [0] * columns
        for i, check in enumerate(self.strategy_checks.values()):
            widths[i % columns] = max(widths[i % columns], check.sizeHint().width())
        margins = self._boxes.contentsMargins()
        spacing = max(self._boxes.horizontalSpacing(), 0)
        box = sum(widths) + (columns - 1) * spacing + margins.left() + margins.right() + 4
        buttons = max(self.compare_button.minimumWidth(), self.compare_button.sizeHint().width())
        row = self._row.minimumSize().width()
        return max(box + self._grid.horizontalSpacing() + buttons, row)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-flow the strategies into as many columns as the new width holds."""
        width = event.size().width()
        columns = STRATEGY_COLUMNS
        while columns > NARROWEST_COLUMNS and self._width_for(columns) > width:
            columns -= 1
        self._arrange_strategies(columns)
        super().resizeEvent(event)

    # -- what the page reads -------------------------------------------------------------------
    def checked_strategies(self) -> list[str]:
        """The checked strategies that can run now (the loop excluded: it always runs)."""
        return [
            strategy
            for strategy, check in self.strategy_checks.items()
            if not is_baseline(strategy) and self._fits.get(strategy, True) and check.isChecked()
        ]

    def worker_counts(self) -> list[int]:
        """The worker counts typed or picked; SpecError (one line) if the text is bad."""
        return parse_worker_counts(self.workers_combo.currentText())

    @property
    def repeats(self) -> int:
        """How often each setting runs."""
        return self.repeats_spin.value()

    # -- what the page sets --------------------------------------------------------------------
    def set_strategies(self, strategies: list[str]) -> None:
        """Check exactly ``strategies`` (and the loop)."""
        for strategy, check in self.strategy_checks.items():
            check.setChecked(is_baseline(strategy) or strategy in strategies)

    def update_fit(self, workload: str) -> None:
        """Disable the strategies that cannot run ``workload`` or are not installed, saying why."""
        for strategy, check in self.strategy_checks.items():
            check.blockSignals(True)
            reason = unavailable_reason(strategy)
            reason = f"not available: {reason}" if reason else unfit_reason(strategy, workload)
            enabled = reason is None
            self._fits[strategy] = enabled
            if is_baseline(strategy):
                check.setChecked(True)
                enabled = False  # always runs: not to be unchecked
                reason = reason or "the baseline: always runs first, in every repeat"
            check.setEnabled(enabled)
            info = STRATEGIES[strategy]
            check.setToolTip(reason or f"{info.description}\n{info.call}")
            check.blockSignals(False)
        self._changed()

    def set_running(self, running: bool) -> None:
        """A comparison runs (its inputs locked, Stop enabled) or not."""
        for widget in (
            self.strategy_box,
            self.workers_combo,
            self.repeats_spin,
            self.chunksize_button,
            self.grain_button,
        ):
            widget.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def show_problem(self, text: str | None) -> None:
        """One line under the setup saying what stops a comparison, or nothing."""
        self.message.setText(text or "")
        self.message.setVisible(bool(text))

    # -- settings ------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._save()
        self.changed.emit()

    def _restore(self) -> None:
        settings = open_settings()
        saved = settings.value(SETTINGS_PREFIX + "strategies")
        if isinstance(saved, str):
            chosen = [s for s in saved.split(",") if s in STRATEGIES]
        elif isinstance(saved, list):
            chosen = [str(s) for s in saved if str(s) in STRATEGIES]
        else:
            chosen = [s.id for s in STRATEGIES.values() if s.compared_by_default]
        self.set_strategies(chosen)
        workers = settings.value(SETTINGS_PREFIX + "workers")
        if isinstance(workers, str) and workers.strip():
            self.workers_combo.setCurrentText(workers)
        try:
            repeats = int(str(settings.value(SETTINGS_PREFIX + "repeats", DEFAULT_REPEATS)))
        except ValueError:
            repeats = DEFAULT_REPEATS
        self.repeats_spin.setValue(min(max(repeats, 1), MAX_REPEATS))

    def _save(self) -> None:
        settings = open_settings()
        checked = [
            strategy for strategy, check in self.strategy_checks.items() if check.isChecked()
        ]
        settings.setValue(SETTINGS_PREFIX + "strategies", ",".join(checked))
        settings.setValue(SETTINGS_PREFIX + "workers", self.workers_combo.currentText())
        settings.setValue(SETTINGS_PREFIX + "repeats", self.repeats_spin.value())

"""CounterRunBar: the Counter page's own Run button and the counter's lock mode and race switch.

The page says what it shows and how to get it; this row lets the user get it from there. It
holds no setting of its own: the lock combo and the "Force the race" box mirror the left
panel's ``lockCombo`` and ``forceRaceCheck`` both ways (the combo shares their item model; a
change on either side is copied to the other, the left panel's value being the one the run
takes), and Run selects ``shared-counter`` under Strategy when another one is chosen, then
triggers the panel's ``run_action``, so the status bar, Stop and the history behave as for any
run. While a run is live the button is disabled, as the panel's Run is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from mpscope.gui import choice_combos as combos
from mpscope.gui.naming import named
from mpscope.workers.strategies.shared_counter import SHARED_COUNTER

if TYPE_CHECKING:
    from mpscope.gui.controls import ControlsPanel

COUNTER = SHARED_COUNTER.id
RUN_TIP = (
    "Run the shared counter (as Run on the left does, Ctrl+R): chooses shared-counter under "
    "Strategy if another is chosen,\nthen starts it with the workers, items and delay on the "
    "left and the lock mode shown here."
)
BUSY_TIP = "A run is in progress: stop it first (Esc)"
LOCK_TIP = (
    "How the shared counter is guarded: the same setting as Lock on the left (changing one "
    "changes the other).\nHover over a mode to see what it does."
)


class CounterRunBar(QWidget):
    """The row at the top of the Counter page: Run the counter, Lock, Force the race."""

    def __init__(self, controls: ControlsPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterRunBar")
        self.controls = controls
        left_lock = self._left_lock()
        self.run_button = named(QPushButton("▶  Run the counter"), "counterRunButton")
        self.run_button.setMinimumHeight(28)
        self.run_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.lock_combo = named(QComboBox(), "counterLockCombo")
        self.lock_combo.setModel(left_lock.model())  # the same items (and their tips)
        self.lock_combo.setToolTip(LOCK_TIP)
        self.lock_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        lock_label = QLabel("Lock")
        lock_label.setBuddy(self.lock_combo)
        self.race_check = named(QCheckBox("Force the race"), "counterForceRaceCheck")

        row = QHBoxLayout(self)
        row.setContentsMargins(4, 6, 8, 0)
        row.addWidget(self.run_button)
        row.addSpacing(12)
        row.addWidget(lock_label)
        row.addWidget(self.lock_combo)
        row.addSpacing(8)
        row.addWidget(self.race_check)
        row.addStretch(1)

        # page -> left panel
        self.run_button.clicked.connect(self.run)
        self.lock_combo.currentIndexChanged.connect(left_lock.setCurrentIndex)
        self.race_check.toggled.connect(self._left_race().setChecked)
        # left panel -> page (options.changed fires after the race box followed the lock)
        controls.options.changed.connect(self._pull)
        controls.strategy_changed.connect(self._update_run)
        controls.run_action.changed.connect(self._update_run)
        controls.stop_action.changed.connect(self._update_run)
        self._pull()

    def _left_lock(self) -> QComboBox:
        widget = self.controls.options.widgets["lock"].widget
        assert isinstance(widget, QComboBox)
        return widget

    def _left_race(self) -> QCheckBox:
        widget = self.controls.options.widgets["force_race"].widget
        assert isinstance(widget, QCheckBox)
        return widget

    @property
    def busy(self) -> bool:
        """True while a run is live (the panel's Stop is enabled then, and only then)."""
        return self.controls.stop_action.isEnabled()

    def run(self) -> None:
        """Choose shared-counter under Strategy if needed, then start it as Run does."""
        if self.busy:
            return
        if self.controls.strategy != COUNTER:
            combos.select_data(self.controls.strategy_combo, COUNTER)
        self.controls.run_action.trigger()  # does nothing if the values are invalid

    def _pull(self) -> None:
        """Show the left panel's lock mode and race switch (without echoing them back)."""
        left_race = self._left_race()
        for widget in (self.lock_combo, self.race_check):
            widget.blockSignals(True)
        self.lock_combo.setCurrentIndex(self._left_lock().currentIndex())
        self.race_check.setChecked(left_race.isChecked())
        self.race_check.setEnabled(left_race.isEnabled())
        self.race_check.setToolTip(left_race.toolTip())
        for widget in (self.lock_combo, self.race_check):
            widget.blockSignals(False)
        self._update_run()

    def _update_run(self, *_: object) -> None:
        """Enabled unless a run is live or the counter's own values are invalid."""
        counter_chosen = self.controls.strategy == COUNTER
        blocked = counter_chosen and not self.controls.run_action.isEnabled()
        self.run_button.setEnabled(not self.busy and not blocked)
        if self.busy:
            self.run_button.setToolTip(BUSY_TIP)
        elif blocked:
            self.run_button.setToolTip(
                f"Fix this first: {self.controls.problem() or 'invalid value'}"
            )
        else:
            self.run_button.setToolTip(RUN_TIP)

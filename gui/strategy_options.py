"""StrategyOptions: the controls only some strategies take, shown only while they apply.

shared-counter (the seed's In [20]) takes a lock mode, a delay per increment, "force the race"
and "trace"; dask takes the address of a running scheduler. Their rows live in the controls'
form (so labels line up with the others) and are hidden for every other strategy, like the
grain and sleep rows are for other workloads. The values go straight into the ``RunSpec``;
validation stays ``workers.spec.validate_spec``'s, and a bad scheduler address gets its one
line right under the field.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from mpscope.gui.settings import ControlChoices
from mpscope.workers.scheduler_address import EXAMPLE
from mpscope.workers.spec import MAX_DELAY_S, RunSpec

COUNTER = "shared-counter"
DASK = "dask"
DEFAULTS = RunSpec()  # the engine's defaults: lock whole, 0.1 s per increment (the seed)

LOCK_MODES = (
    (
        "whole",
        "whole loop (the seed)",
        "The lock is held around each worker's whole loop, sleep included, as the seed does:\n"
        "one worker counts 1..10 while the other waits, then the other counts 11..20.\n"
        "Correct, and nothing runs in parallel.",
    ),
    (
        "step",
        "each increment",
        "The lock is held for each read-add-write only; the delay is spent outside it,\n"
        "so the workers take turns increment by increment. Every update lands.",
    ),
    (
        "none",
        "none (the race)",
        "v.value += 1 on a Value(lock=False), nothing guarding it: two workers that read the\n"
        "same value both write it plus one, and an update is lost. The seed leaves this out.\n"
        "How many are lost is luck, unless you force the race.",
    ),
)
LOCK_TIP = (
    "How the shared counter is guarded. The seed holds one mp.Lock around each worker's whole "
    "loop;\nhover over a mode to see what it does."
)
DELAY_TIP = (
    "Seconds each increment sleeps, as the seed's time.sleep(0.1).\n"
    "With the lock around the whole loop the sleep is inside the lock; around each increment "
    "it is outside,\nso the workers interleave. 0 = as fast as possible (the view then shows "
    "a sample: at most 1,000 increments/s are reported)."
)
FORCE_RACE_TIP = (
    "With no lock: in every round each worker reads the counter, then all K workers meet at "
    "a barrier,\nthen each writes what it read plus one. All of a round's writes write the "
    "same value, so every round\nloses K-1 updates, every time (a plain unguarded += loses "
    "some, some of the time). Needs 2 or more workers."
)
FORCE_RACE_OFF_TIP = (
    'Only with lock "no lock": a lock rules the race out, so there is nothing to force'
)
TRACE_TIP = (
    "Record which worker wrote which value, in the order of the writes, and show the "
    "sequence after the run\n(the first 20,000 writes)."
)
SCHEDULER_TIP = (
    "The address of a running Dask scheduler to use, tcp://HOST:PORT (or tls://).\n"
    "Empty: start a LocalCluster of K worker processes for this run and shut it down after."
)


def _message_label(name: str) -> QLabel:
    label = QLabel(objectName=name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setProperty("role", "error")
    label.hide()
    return label


class StrategyOptions(QObject):
    """The shared-counter and dask rows of the controls' form, and what they add to a spec."""

    # fires when any option changes (the spec Run would start changed)
    changed = Signal()

    def __init__(self, form: QFormLayout, parent: QWidget) -> None:
        super().__init__(parent)
        self.form = form
        self.strategy = ""

        self.lock_combo = QComboBox(objectName="lockCombo")
        for mode, label, tip in LOCK_MODES:
            self.lock_combo.addItem(label, mode)
            self.lock_combo.setItemData(
                self.lock_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.lock_combo.setToolTip(LOCK_TIP)
        form.addRow("Loc&k", self.lock_combo)

        self.delay_spin = QDoubleSpinBox(objectName="delaySpin")
        self.delay_spin.setRange(0.0, MAX_DELAY_S)
        self.delay_spin.setDecimals(3)
        self.delay_spin.setSingleStep(0.01)
        self.delay_spin.setValue(DEFAULTS.delay_s)
        self.delay_spin.setSuffix(" s per increment")
        self.delay_spin.setToolTip(DELAY_TIP)
        form.addRow("&Delay", self.delay_spin)

        self.force_race_check = QCheckBox("Force the r&ace", objectName="forceRaceCheck")
        self.trace_check = QCheckBox("&Trace writes", objectName="traceCheck")
        self.trace_check.setToolTip(TRACE_TIP)
        self.counter_flags = QWidget(objectName="counterFlags")
        flags = QHBoxLayout(self.counter_flags)
        flags.setContentsMargins(0, 0, 0, 0)
        flags.addWidget(self.force_race_check)
        flags.addWidget(self.trace_check)
        flags.addStretch(1)
        form.addRow("", self.counter_flags)

        self.scheduler_edit = QLineEdit(objectName="schedulerEdit")
        self.scheduler_edit.setPlaceholderText(f"empty: a LocalCluster (or {EXAMPLE})")
        self.scheduler_edit.setToolTip(SCHEDULER_TIP)
        self.scheduler_edit.setClearButtonEnabled(True)
        scheduler_label = QLabel("Sc&heduler")
        scheduler_label.setBuddy(self.scheduler_edit)
        form.addRow(scheduler_label, self.scheduler_edit)
        self.scheduler_message = _message_label("schedulerMessage")
        form.addRow("", self.scheduler_message)

        self.lock_combo.currentIndexChanged.connect(self._on_lock)
        for signal in (
            self.delay_spin.valueChanged,
            self.force_race_check.toggled,
            self.trace_check.toggled,
            self.scheduler_edit.textChanged,
        ):
            signal.connect(self.changed)
        self._on_lock()

    # -- what applies ------------------------------------------------------------------------------
    def show_for(self, strategy: str) -> None:
        """Show the rows ``strategy`` takes, hide the others."""
        self.strategy = strategy
        counter = strategy == COUNTER
        for widget in (self.lock_combo, self.delay_spin, self.counter_flags):
            self.form.setRowVisible(widget, counter)
        self.form.setRowVisible(self.scheduler_edit, strategy == DASK)
        self.form.setRowVisible(
            self.scheduler_message, strategy == DASK and bool(self.scheduler_message.text())
        )

    @property
    def lock(self) -> str:
        """The chosen lock mode: whole, step or none."""
        return str(self.lock_combo.currentData())

    @property
    def scheduler(self) -> str | None:
        """The scheduler address typed (stripped), None when the field is empty."""
        return self.scheduler_edit.text().strip() or None

    def uses_scheduler(self) -> bool:
        """True if the run goes to an existing Dask scheduler (its workers are already up)."""
        return self.strategy == DASK and self.scheduler is not None

    def spec_fields(self, strategy: str) -> dict[str, Any]:
        """The RunSpec fields these options set for ``strategy`` (the engine's defaults else)."""
        if strategy == COUNTER:
            return {
                "lock": self.lock,
                "delay_s": self.delay_spin.value(),
                "force_race": self.force_race_check.isChecked() and self.lock == "none",
                "trace": self.trace_check.isChecked(),
            }
        if strategy == DASK:
            return {"scheduler": self.scheduler}
        return {}

    # -- messages ----------------------------------------------------------------------------------
    def claim_problem(self, message: str | None) -> bool:
        """Show ``message`` under the field it is about; True if it was one of these fields'."""
        mine = message is not None and message.startswith("scheduler address")
        self.scheduler_message.setText(message if mine and message else "")
        self.form.setRowVisible(self.scheduler_message, mine and self.strategy == DASK)
        self.scheduler_edit.setProperty("invalid", mine)
        self.scheduler_edit.style().polish(self.scheduler_edit)
        return mine

    def problem(self) -> str | None:
        """The one-line problem shown under a field, if any."""
        return self.scheduler_message.text() or None

    # -- choices -----------------------------------------------------------------------------------
    def store(self, choices: ControlChoices) -> None:
        """Write the options into ``choices`` (for the settings store)."""
        choices.lock = self.lock
        choices.delay_s = self.delay_spin.value()
        choices.force_race = self.force_race_check.isChecked()
        choices.trace = self.trace_check.isChecked()
        choices.scheduler = self.scheduler

    def apply(self, choices: ControlChoices) -> None:
        """Show the options of ``choices`` (unknown values fall back to the defaults)."""
        index = self.lock_combo.findData(choices.lock or DEFAULTS.lock)
        self.lock_combo.setCurrentIndex(max(index, 0))
        delay = choices.delay_s
        valid = delay is not None and 0.0 <= delay <= MAX_DELAY_S
        self.delay_spin.setValue(delay if valid and delay is not None else DEFAULTS.delay_s)
        self.force_race_check.setChecked(bool(choices.force_race) and self.lock == "none")
        self.trace_check.setChecked(bool(choices.trace))
        self.scheduler_edit.setText(choices.scheduler or "")

    # -- reactions ---------------------------------------------------------------------------------
    def _on_lock(self) -> None:
        """Force race only makes sense without a lock: enable it only then."""
        unguarded = self.lock == "none"
        if not unguarded:
            self.force_race_check.setChecked(False)
        self.force_race_check.setEnabled(unguarded)
        self.force_race_check.setToolTip(FORCE_RACE_TIP if unguarded else FORCE_RACE_OFF_TIP)
        self.changed.emit()

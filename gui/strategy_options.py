"""StrategyOptions: the controls only some strategies take, shown only while they apply.

Made from the strategies' own options (``Strategy.options``): a choice becomes a combo box
(each choice's tip on its item), seconds a spin box, a switch a check box (a strategy's
switches share one row), an address a line edit with its one-line problem right under it.
Each widget is named after its flag (``--force-race``: ``forceRaceCheck``). Their rows live
in the controls' form, so labels line up with the others, and are hidden for every other
strategy, like the grain and sleep rows are for other workloads. The values go straight into
the ``RunSpec``; validation stays the engine's.
"""

from __future__ import annotations

import dataclasses
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

from mpscope.gui.naming import named
from mpscope.gui.settings import ControlChoices
from mpscope.workers.spec import RunSpec
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.strategy import Option

# the engine's defaults for every option field (lock whole, 0.1 s per increment: the seed)
DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(RunSpec)}
SUFFIX = {"choice": "Combo", "seconds": "Spin", "switch": "Check", "address": "Edit"}


def widget_name(option: Option) -> str:
    """The widget's object name: its flag in camel case plus its kind (``lockCombo``)."""
    words = option.flag.lstrip("-").split("-")
    return words[0] + "".join(w.capitalize() for w in words[1:]) + SUFFIX[option.kind]


def _message_label(name: str) -> QLabel:
    label = named(QLabel(), name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setProperty("role", "error")
    label.hide()
    return label


class OptionWidget:
    """One option's widget: reads and shows its value, says when it changes."""

    def __init__(self, option: Option, on_change: Any) -> None:
        self.option = option
        name = widget_name(option)
        self.widget: QComboBox | QDoubleSpinBox | QCheckBox | QLineEdit
        if option.kind == "choice":
            combo = named(QComboBox(), name)
            for choice in option.choices:
                combo.addItem(choice.label, choice.value)
                combo.setItemData(combo.count() - 1, choice.tip, Qt.ItemDataRole.ToolTipRole)
            combo.currentIndexChanged.connect(on_change)
            self.widget = combo
        elif option.kind == "seconds":
            spin = named(QDoubleSpinBox(), name)
            spin.setRange(0.0, option.maximum)
            spin.setDecimals(3)
            spin.setSingleStep(0.01)
            spin.setSuffix(option.suffix)
            spin.valueChanged.connect(on_change)
            self.widget = spin
        elif option.kind == "switch":
            check = named(QCheckBox(option.label), name)
            check.toggled.connect(on_change)
            self.widget = check
        else:
            edit = named(QLineEdit(), name)
            edit.setPlaceholderText(option.placeholder)
            edit.setClearButtonEnabled(True)
            edit.textChanged.connect(on_change)
            self.widget = edit
        self.widget.setToolTip(option.tip)
        self.set(DEFAULTS[option.field])

    def value(self) -> Any:
        """The value shown, as the RunSpec field takes it (an empty address: None)."""
        w = self.widget
        if isinstance(w, QComboBox):
            return str(w.currentData())
        if isinstance(w, QDoubleSpinBox):
            return w.value()
        if isinstance(w, QCheckBox):
            return w.isChecked() and w.isEnabled()
        return w.text().strip() or None

    def set(self, value: Any) -> None:
        """Show ``value`` (one that does not fit falls back to the engine's default)."""
        w = self.widget
        default = DEFAULTS[self.option.field]
        if isinstance(w, QComboBox):
            index = w.findData(value)
            w.setCurrentIndex(index if index >= 0 else max(w.findData(default), 0))
        elif isinstance(w, QDoubleSpinBox):
            fits = isinstance(value, (int, float)) and 0.0 <= value <= self.option.maximum
            w.setValue(float(value) if fits else float(default))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        else:
            w.setText(value or "")


class StrategyOptions(QObject):
    """The rows of every strategy's own options in the controls' form, and their values."""

    # fires when any option changes (the spec Run would start changed)
    changed = Signal()

    def __init__(self, form: QFormLayout, parent: QWidget) -> None:
        super().__init__(parent)
        self.form = form
        self.strategy = ""
        self.widgets: dict[str, OptionWidget] = {}  # by RunSpec field
        self._rows: dict[str, list[QWidget]] = {}  # strategy -> its rows' field widgets
        self._messages: dict[str, QLabel] = {}  # address field -> the problem under it
        for strategy in STRATEGIES.values():
            self._add_rows(strategy.id, strategy.options)
        self._apply_dependencies()

    def _add_rows(self, strategy: str, options: tuple[Option, ...]) -> None:
        rows: list[QWidget] = []
        switches: list[QCheckBox] = []
        for option in options:
            item = self.widgets[option.field] = OptionWidget(option, self._on_change)
            if option.kind == "switch":
                assert isinstance(item.widget, QCheckBox)
                switches.append(item.widget)
                continue
            label = QLabel(option.label)
            label.setBuddy(item.widget)
            self.form.addRow(label, item.widget)
            rows.append(item.widget)
            if option.kind == "address":
                message = self._messages[option.field] = _message_label(
                    f"{widget_name(option)[: -len(SUFFIX['address'])]}Message"
                )
                self.form.addRow("", message)
        if switches:
            flags = named(QWidget(), f"{strategy}Flags")
            line = QHBoxLayout(flags)
            line.setContentsMargins(0, 0, 0, 0)
            for check in switches:
                line.addWidget(check)
            line.addStretch(1)
            self.form.addRow("", flags)
            rows.append(flags)
        self._rows[strategy] = rows

    # -- what applies ------------------------------------------------------------------------------
    def show_for(self, strategy: str) -> None:
        """Show the rows ``strategy`` takes, hide the others."""
        self.strategy = strategy
        for owner, rows in self._rows.items():
            for widget in rows:
                self.form.setRowVisible(widget, owner == strategy)
        for name, message in self._messages.items():
            mine = self._owner(name) == strategy
            self.form.setRowVisible(message, mine and bool(message.text()))

    def _owner(self, field: str) -> str | None:
        return next(
            (s.id for s in STRATEGIES.values() for o in s.options if o.field == field), None
        )

    def uses_scheduler(self) -> bool:
        """True if the run goes to workers that are already up elsewhere (an address given)."""
        info = STRATEGIES.get(self.strategy)
        return info is not None and any(
            o.kind == "address" and self.widgets[o.field].value() for o in info.options
        )

    def spec_fields(self, strategy: str) -> dict[str, Any]:
        """The RunSpec fields these options set for ``strategy`` (its own options only)."""
        info = STRATEGIES.get(strategy)
        return {o.field: self.widgets[o.field].value() for o in (info.options if info else ())}

    # -- messages ----------------------------------------------------------------------------------
    def claim_problem(self, message: str | None) -> bool:
        """Show ``message`` under the field it is about; True if it was one of these fields'.

        A problem belongs to an address field when it starts with the field's name as the
        engine says it ("scheduler address ...").
        """
        claimed = False
        for name, label in self._messages.items():
            mine = message is not None and message.startswith(f"{name} address")
            label.setText(message if mine and message else "")
            self.form.setRowVisible(label, mine and self._owner(name) == self.strategy)
            edit = self.widgets[name].widget
            edit.setProperty("invalid", mine)
            edit.style().polish(edit)
            claimed = claimed or mine
        return claimed

    def problem(self) -> str | None:
        """The one-line problem shown under a field, if any."""
        return next((m.text() for m in self._messages.values() if m.text()), None)

    # -- choices -----------------------------------------------------------------------------------
    def store(self, choices: ControlChoices) -> None:
        """Write the options into ``choices`` (for the settings store)."""
        choices.options = {field: item.value() for field, item in self.widgets.items()}

    def apply(self, choices: ControlChoices) -> None:
        """Show the options of ``choices`` (unknown values fall back to the defaults)."""
        for field, item in self.widgets.items():
            item.set(choices.options.get(field, DEFAULTS[field]))
        self._apply_dependencies()

    # -- reactions ---------------------------------------------------------------------------------
    def _on_change(self) -> None:
        self._apply_dependencies()
        self.changed.emit()

    def _apply_dependencies(self) -> None:
        """An option that applies only with another's value (force-race: only with no lock)
        is unchecked and disabled otherwise, its tooltip saying why."""
        for item in self.widgets.values():
            needs = item.option.only_with
            if needs is None:
                continue
            other, wanted = needs
            applies = self.widgets[other].value() == wanted
            widget = item.widget
            if not applies and isinstance(widget, QCheckBox):
                widget.blockSignals(True)
                widget.setChecked(False)
                widget.blockSignals(False)
            widget.setEnabled(applies)
            widget.setToolTip(item.option.tip if applies else item.option.off_tip)

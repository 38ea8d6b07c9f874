"""FaultSection: the "Advanced" part of the controls, where a user injects a fault on purpose.

Seeing what a crash looks like is part of choosing a strategy: a job that raises, a worker
that exits, a worker the OOM killer takes (``Pool.map`` alone would hang forever on that one,
CPython gh-96062). The run then fails with the worker's error, and the app stays usable.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QWidget
from superqt import QCollapsible

from mpscope.gui.naming import named
from mpscope.workers.units import parse_count

FAULTS = (
    ("none", "no fault: the run goes as it should"),
    ("raise", "raise: the job raises ValueError at that item (the run fails with its traceback)"),
    ("exit", "exit: the worker calls os._exit(70) at that item (a worker dies)"),
    ("kill", "kill: the worker SIGKILLs itself at that item (as the OOM killer would)"),
)


class FaultSection(QCollapsible):
    """A collapsible section with the fault to inject and the item at which it fires."""

    # fires when the fault or its item changes
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Advanced", parent, expandedIcon="▾", collapsedIcon="▸")
        self.setObjectName("advancedSection")
        self.setToolTip("Rarely needed options: inject a fault to see what a crash looks like")
        box = QWidget()
        form = QFormLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        self.fault_combo = named(QComboBox(), "faultCombo")
        for kind, tip in FAULTS:
            self.fault_combo.addItem(kind, None if kind == "none" else kind)
            self.fault_combo.setItemData(
                self.fault_combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole
            )
        self.fault_combo.setToolTip(
            "Inject a fault to see what a crash looks like: the job raises, or a worker exits "
            "or is killed.\nmpscope reports it in the summary instead of hanging "
            "(Pool.map alone would hang forever on a killed worker)."
        )
        self.item_edit = named(QLineEdit(), "faultItemEdit")
        self.item_edit.setPlaceholderText("the middle item, N/2")
        self.item_edit.setToolTip("The item (0 .. N-1) at which the fault fires")
        form.addRow("Inject a &fault", self.fault_combo)
        form.addRow("at item", self.item_edit)
        self.addWidget(box)
        self.fault_combo.currentIndexChanged.connect(self.changed)
        self.item_edit.textChanged.connect(self.changed)

    def inject(self, items: int) -> str | None:
        """The RunSpec ``inject`` value (``kind@ITEM``), or None for no fault.

        Raises ValueError (one line) if the item is not a count.
        """
        kind = self.fault_combo.currentData()
        if not kind:
            return None
        text = self.item_edit.text().strip()
        try:
            at = parse_count(text) if text else items // 2
        except ValueError as exc:
            raise ValueError(f"fault item {exc}") from None
        return f"{kind}@{at}"

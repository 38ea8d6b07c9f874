"""HistoryPanel: every stored run, newest first; show a selection in the charts, delete, clear.

Deleting (the Del key or the button) and clearing ask first; nothing else changes the store.
Runs imported from another machine are listed with that machine's name, so a selection of
local and imported runs compares the two machines in the charts.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui.compare.results_table import RunsTableModel, RunsTableView
from mpscope.gui.compare.run_history import RunHistory
from mpscope.gui.naming import named
from mpscope.workers.records.history import StoredRun


def confirm(parent: QWidget, title: str, question: str) -> bool:
    """Ask a yes/no question (No is the default answer); True for Yes."""
    answer = QMessageBox.question(
        parent,
        title,
        question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class HistoryPanel(QWidget):
    """The stored runs as a sortable table, with Show in charts, Delete and Clear all."""

    # fires when the user asks to chart runs; the argument: the selected StoredRuns, oldest first
    show_requested = Signal(list)

    def __init__(
        self,
        history: RunHistory,
        extra_actions: list[tuple[str, QAction]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self.history = history
        self.model = RunsTableModel(self)
        self.table = RunsTableView(self.model, "historyTable")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setToolTip(
            "Every run that ended, on any page, newest first. Select runs (Ctrl/Shift-click, "
            "Ctrl+A) and press Enter to chart them; Del deletes them."
        )
        self.count_label = named(QLabel(), "historyCount")
        self.count_label.setProperty("role", "note")
        self.count_label.setWordWrap(True)
        self.count_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.show_action = QAction("Show in charts", self)
        self.show_action.setShortcuts(
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)]
        )
        self.show_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.show_action.triggered.connect(self.show_selected)
        self.delete_action = QAction("Delete…", self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(self.delete_selected)
        self.table.addAction(self.show_action)
        self.table.addAction(self.delete_action)
        self.table.doubleClicked.connect(lambda _index: self.show_selected())

        self.show_button = named(QPushButton("Show in charts"), "historyShowButton")
        self.show_button.setToolTip("Chart the selected runs, with their verdict (Enter)")
        self.show_button.clicked.connect(self.show_selected)
        self.delete_button = named(QPushButton("Delete…"), "historyDeleteButton")
        self.delete_button.setToolTip("Delete the selected runs from the history (Del)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button = named(QPushButton("Clear all…"), "historyClearButton")
        self.clear_button.setToolTip("Delete every stored run (asks first)")
        self.clear_button.clicked.connect(self.clear_all)

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.count_label, 1)
        for text, action in extra_actions:  # short labels for the File menu's actions
            button = QToolButton()
            button.setText(text)
            button.setToolTip(action.toolTip())
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        row.addWidget(self.show_button)
        row.addWidget(self.delete_button)
        row.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)

        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        history.added.connect(self._runs_added)
        history.changed.connect(self._history_changed)
        self._stale = False
        self.refresh()

    def _runs_added(self, runs: list[StoredRun]) -> None:
        # a run just ended while the table is shown and up to date: add its row on top
        if self.isVisible() and not self._stale:
            newest_first = list(reversed(runs))
            self.model.prepend_runs(
                [run.export_record() for run in newest_first],
                ids=[run.id for run in newest_first],
                sources=[run.source for run in newest_first],
            )

    def _history_changed(self, count: int) -> None:
        # rebuilding a long table would stall the window at the end of every run, so a hidden
        # panel only notes a change and catches up when it is shown, and a shown one that has
        # already added the new rows only updates its count
        if not self.isVisible():
            self._stale = True
        elif self.model.rowCount() == count and not self._stale:
            self._show_count(count)
        else:
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        """Catch up with runs stored while the panel was hidden."""
        if self._stale:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Show the store's runs again, newest first."""
        self._stale = False
        runs = list(reversed(self.history.runs))
        self.model.set_runs(
            [run.export_record() for run in runs],
            ids=[run.id for run in runs],
            sources=[run.source for run in runs],
        )
        self._show_count(len(runs))

    def _show_count(self, n: int) -> None:
        self.count_label.setText(
            f"{n} run{'s' if n != 1 else ''} stored in {self.history.location}"
        )
        self._update_buttons()

    def selected_runs(self) -> list[StoredRun]:
        """The selected stored runs, oldest first."""
        wanted = {self.model.ids[row] for row in self.table.selected_rows()}
        return [run for run in self.history.runs if run.id in wanted]

    def select_ids(self, ids: list[int]) -> None:
        """Select the rows of these run ids (e.g. the runs just imported)."""
        self.table.clearSelection()
        wanted = set(ids)
        selection = self.table.selectionModel()
        for row, run_id in enumerate(self.model.ids):
            if run_id in wanted:
                index = self.table.proxy.mapFromSource(self.model.index(row, 0))
                selection.select(
                    index,
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )
        self._update_buttons()

    def show_selected(self) -> None:
        """Ask for the selected runs to be charted."""
        runs = self.selected_runs()
        if runs:
            self.show_requested.emit(runs)

    def delete_selected(self) -> None:
        """Delete the selected runs, after asking."""
        runs = self.selected_runs()
        if not runs:
            return
        n = len(runs)
        what = "the selected run" if n == 1 else f"the {n} selected runs"
        if confirm(self, "Delete runs", f"Delete {what} from the history?\nThis cannot be undone."):
            self.history.delete([run.id for run in runs])

    def clear_all(self) -> None:
        """Delete every stored run, after asking."""
        n = len(self.history.runs)
        if n and confirm(
            self,
            "Clear the history",
            f"Delete all {n} stored runs?\nThis cannot be undone; export them first to keep them.",
        ):
            self.history.clear()

    def _update_buttons(self) -> None:
        selected = bool(self.table.selectionModel().selectedRows())
        for widget in (self.show_button, self.delete_button, self.show_action, self.delete_action):
            widget.setEnabled(selected)
        self.clear_button.setEnabled(bool(self.history.runs))

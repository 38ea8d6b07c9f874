"""The results table: one row per run (strategy, workload, items, workers, ..., correct), sortable.

``RunsTableModel`` shows run records through ``workers.records.export.results_table`` (the same
rows the CSV export writes, speed-up per run against its job's sequential median);
``RunsTableView`` is the QTableView with a sorting proxy, used for the current comparison and
for the history. Sorting uses the raw numbers, never the formatted text; a wrong result and a
failed run are marked in words and in colour, so they read the same on a light and a dark theme.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from mpscope.gui.choice_combos import start_method_unused
from mpscope.gui.palette import current_palette
from mpscope.gui.theme import is_dark_palette
from mpscope.workers.compare.summary import (
    JobKey,
    baselines,
    is_baseline,
    is_good,
    job_key,
    run_speedup,
)
from mpscope.workers.events import RunStatus
from mpscope.workers.records.export import TABLE_COLUMNS, table_row
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.units import format_count, format_rate, format_seconds

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
# headings short enough for every column to fit beside the controls (the tooltips say more;
# the CSV export keeps the TABLE_COLUMNS keys)
HEADINGS = {
    "items": "N",
    "workers": "K",
    "chunksize": "chunk",
    "start_method": "start",
    "repeat": "rep.",
    "wall_s": "wall",
    "cpu_s": "CPU",
}
NUMERIC = {"items", "workers", "chunksize", "repeat", "wall_s", "cpu_s", "items_per_s", "speedup"}
COLUMN_TIPS = {
    "strategy": "The parallel strategy",
    "workload": "The job every item runs",
    "items": "N: how many items",
    "workers": "K: workers (processes or threads)",
    "chunksize": "Chunksize: items per task handed to a worker (pool strategies, executor)",
    "start_method": "Start method: how worker processes were started",
    "repeat": "Repeat: which repeat of its setting this run was",
    "status": "finished, failed or cancelled",
    "wall_s": "Wall time: from just before the workers start to the result in hand",
    "cpu_s": "CPU time of the run's processes (user + system)",
    "items_per_s": "Items per second of wall time",
    "speedup": "The sequential loop's median wall time for this job / this run's wall time",
    "correct": "The result checked against the workload's closed form (or why there is none: "
    "the run failed or was stopped)",
    "hostname": "The machine the run was measured on",
    "recorded_at": "When the run was stored (local time)",
}
# (light, dark) colours for good and bad results
OK_COLORS = ("#1b7f3b", "#7bd88f")
BAD_COLORS = ("#b3261e", "#ff8a80")


def status_color(good: bool) -> QColor:
    """Green for a good result, red for a bad one, in the shade the current theme needs."""
    pair = OK_COLORS if good else BAD_COLORS
    return QColor(pair[1] if is_dark_palette(current_palette()) else pair[0])


def local_time(iso: str) -> str:
    """An ISO 8601 timestamp (UTC) as local 'YYYY-MM-DD HH:MM:SS'; the text itself if unparsable."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(iso)


def cell_text(key: str, value: Any) -> str:
    """How a table cell shows ``value`` of column ``key``."""
    if key == "correct":
        return {True: "✓ correct", False: "✗ WRONG"}.get(value, "—")
    if value is None or value == "":
        return "—" if key in ("chunksize", "start_method", "speedup") else ""
    if key in ("wall_s", "cpu_s"):
        return format_seconds(float(value))
    if key == "items_per_s":
        return format_rate(float(value))
    if key == "speedup":
        return f"{value:.2f}×"
    if key in ("items", "chunksize"):
        return format_count(int(value))
    if key == "recorded_at":
        return local_time(value)
    return str(value)


def sort_value(key: str, value: Any) -> float | str:
    """What the column sorts by: the number itself, or the text (missing values first)."""
    if key in NUMERIC:
        return float(value) if isinstance(value, (int, float)) else -math.inf
    if key == "correct":
        return {True: 2.0, False: 1.0}.get(value, 0.0)
    return "" if value is None else str(value)


def _start_method_moot(strategy: object) -> bool:
    """True if ``strategy`` (an id from a record, maybe one this mpscope does not know) starts
    no worker processes of its own, so its record's start method means nothing."""
    return strategy in STRATEGIES and start_method_unused(str(strategy)) is not None


class RunsTableModel(QAbstractTableModel):
    """Run records as table rows (the TABLE_COLUMNS of workers.records.export)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[dict[str, Any]] = []
        self.ids: list[int | None] = []
        self.sources: list[str] = []
        self._rows: list[dict[str, Any]] = []
        self._baselines: dict[JobKey, float] = {}
        self._keys = [key for key, _ in TABLE_COLUMNS]

    def set_runs(
        self,
        records: list[dict[str, Any]],
        ids: list[int | None] | None = None,
        sources: list[str] | None = None,
    ) -> None:
        """Show ``records`` (history ``ids`` and ``sources`` alongside, if they have them)."""
        self.beginResetModel()
        self.records = list(records)
        self.ids = list(ids) if ids is not None else [None] * len(self.records)
        self.sources = list(sources) if sources is not None else [""] * len(self.records)
        self._baselines = baselines(self.records)
        self._rows = [table_row(record, self._baselines) for record in self.records]
        self.endResetModel()

    def prepend_runs(
        self, records: list[dict[str, Any]], ids: list[int], sources: list[str]
    ) -> None:
        """Show new runs above the others (the history: newest first) without a reset.

        A run ending with 10,000 in the history must not rebuild the table (a reset re-reads
        every row and re-fits the columns: about half a second). A good sequential run moves
        its job's baseline: the speed-ups of that job's rows are recomputed, in place.
        """
        if not records:
            return
        moved = {job_key(r) for r in records if is_baseline(r.get("strategy")) and is_good(r)}
        if moved:
            self._baselines = baselines([*records, *self.records])
            column = self.column_of("speedup")
            for row, record in enumerate(self.records):
                if job_key(record) in moved:
                    self._rows[row]["speedup"] = run_speedup(record, self._baselines)
            if self._rows:
                last = self.index(len(self._rows) - 1, column)
                self.dataChanged.emit(self.index(0, column), last)
        self.beginInsertRows(QModelIndex(), 0, len(records) - 1)
        self.records[:0] = records
        self.ids[:0] = ids
        self.sources[:0] = sources
        self._rows[:0] = [table_row(record, self._baselines) for record in records]
        self.endInsertRows()

    def column_of(self, key: str) -> int:
        """The column showing ``key``."""
        return self._keys.index(key)

    def row_values(self, row: int) -> dict[str, Any]:
        """The raw values of one row (TABLE_COLUMNS keys)."""
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        """Qt: one row per run."""
        return 0 if parent is not None and parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex | None = None) -> int:
        """Qt: one column per TABLE_COLUMNS entry."""
        return 0 if parent is not None and parent.isValid() else len(self._keys)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Qt: the column headings and what each means."""
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._keys):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            key, heading = TABLE_COLUMNS[section]
            return HEADINGS.get(key, heading)
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS.get(self._keys[section])
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        """Qt: text, sort value, alignment, colour and tooltip of a cell."""
        if not index.isValid():
            return None
        key = self._keys[index.column()]
        row = self._rows[index.row()]
        value = row[key]
        ended_badly = row["status"] not in (None, RunStatus.FINISHED)
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "start_method" and _start_method_moot(row["strategy"]):
                return "—"  # it starts no worker processes of its own
            if key == "correct" and ended_badly:
                return f"✗ {row['status']}"  # no result to check
            return cell_text(key, value)
        if role == SORT_ROLE:
            return -1.0 if key == "correct" and ended_badly else sort_value(key, value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if key in NUMERIC else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._foreground(key, row)
        if (
            role == Qt.ItemDataRole.FontRole
            and key == "correct"
            and (value is False or ended_badly)
        ):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(index.row())
        return None

    @staticmethod
    def _foreground(key: str, row: dict[str, Any]) -> QColor | None:
        ended_badly = row["status"] not in (None, RunStatus.FINISHED)
        if key == "correct" and (ended_badly or row["correct"] is not None):
            return status_color(not ended_badly and bool(row["correct"]))
        if key == "status" and ended_badly:
            return status_color(False)
        return None

    def _tooltip(self, row: int) -> str | None:
        record = self.records[row]
        lines = []
        if record.get("error"):
            lines.append(f"error: {record['error']}")
        if record.get("correct") is False:
            lines.append(f"result {record.get('result')} but expected {record.get('expected')}")
        if self.sources[row] and self.sources[row] != "local":
            lines.append(f"imported ({self.sources[row].removeprefix('import:')})")
        return "\n".join(lines) or None


class RunsTableView(QTableView):
    """A sortable table of runs (click a heading to sort; the model's order until then).

    The status column is hidden: the "correct" column says "failed" or "cancelled" instead.
    """

    def __init__(
        self,
        model: RunsTableModel,
        name: str,
        hidden: tuple[str, ...] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.runs_model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        self.setModel(self.proxy)
        header = self.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # unsorted: the model's order
        header.setSortIndicatorClearable(True)
        header.setStretchLastSection(True)
        header.setResizeContentsPrecision(200)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.setSortingEnabled(True)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        for key in ("status", *hidden):
            self.setColumnHidden(model.column_of(key), True)
        model.modelReset.connect(self.resizeColumnsToContents)

    def selected_rows(self) -> list[int]:
        """The model rows selected (in the model's order)."""
        rows = {self.proxy.mapToSource(i).row() for i in self.selectionModel().selectedRows()}
        return sorted(rows)

"""The trace window's lists: its pools (to pick one), the selected pool's calls, the processes.

Each list updates its rows in place from a ``TraceModel`` (a row's text is set only when it
changed, and a new row goes at the end), so nothing moves while a program is watched and a
selection holds. A pool the replay has not reached yet keeps its row, greyed, with the time
it will be made.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from mpscope.gui.palette import blend
from mpscope.gui.trace.trace_texts import (
    call_items,
    call_tasks,
    call_time,
    call_tooltip,
    exit_text,
    lifetime,
    plain_processes,
    pool_summary,
    pool_tooltip,
    process_name,
    root_process,
    since,
)
from mpscope.workers.trace.model import PoolTrace, TraceModel

KEY_ROLE = Qt.ItemDataRole.UserRole


def _set_text(item: QListWidgetItem | QTreeWidgetItem, text: str, column: int = 0) -> None:
    """Set a cell's text only if it changed (setting it again re-lays the view out)."""
    if isinstance(item, QListWidgetItem):
        if item.text() != text:
            item.setText(text)
    elif item.text(column) != text:
        item.setText(column, text)


class PoolRowDelegate(QStyledItemDelegate):
    """Draws a pool's row as its two lines: the line that made it in bold, its figures below."""

    PADDING = 4

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        """The row's background as the style draws it, then its two lines."""
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        # the option's text has its line break as a Unicode line separator
        title, _, summary = opt.text.replace("\u2028", "\n").partition("\n")
        opt.text = ""
        style = opt.widget.style() if opt.widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        palette = opt.palette
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        enabled = bool(opt.state & QStyle.StateFlag.State_Enabled)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        group = QPalette.ColorGroup.Normal if enabled else QPalette.ColorGroup.Disabled
        text = palette.color(group, role)
        dim = text if selected else blend(text, palette.color(QPalette.ColorRole.Base), 0.35)
        rect = opt.rect.adjusted(6, self.PADDING, -6, -self.PADDING)
        line = opt.fontMetrics.lineSpacing()
        painter.save()
        bold = QFont(opt.font)
        bold.setBold(True)
        for font, color, words, top in ((bold, text, title, 0), (opt.font, dim, summary, line)):
            painter.setFont(font)
            painter.setPen(color)
            box = QRect(rect.left(), rect.top() + top, rect.width(), line)
            elided = painter.fontMetrics().elidedText(
                words, Qt.TextElideMode.ElideMiddle, box.width()
            )
            painter.drawText(
                box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided
            )
        painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        """Two lines and a little room around them."""
        line = option.fontMetrics.lineSpacing()
        return QSize(200, 2 * line + 2 * self.PADDING + 2)


class PoolList(QListWidget):
    """The pools of the program, in the order they were made: one row of two lines each.

    The first pool is selected when it appears; the arrow keys move between pools.
    """

    # emitted when the user (or the first pool's arrival) selects a pool: its key
    pool_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tracePoolList")
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setToolTip(
            "The pools and executors the program made, in order: the line that made each, "
            "its kind, its workers, the items they finished and whether it is still open.\n"
            "Pick one (arrow keys, or click) to see it on the four views."
        )
        self.rows: dict[str, QListWidgetItem] = {}
        self.setItemDelegate(PoolRowDelegate(self))
        self.currentItemChanged.connect(self._on_current_changed)

    @property
    def selected_key(self) -> str | None:
        """The key of the selected pool (None before any)."""
        item = self.currentItem()
        return None if item is None else str(item.data(KEY_ROLE))

    def select(self, key: str) -> None:
        """Select the pool ``key`` (emits ``pool_selected``)."""
        item = self.rows.get(key)
        if item is not None:
            self.setCurrentItem(item)

    def update_pools(self, pools: dict[str, PoolTrace], now: TraceModel, t0: float | None) -> None:
        """Rows for ``pools`` (every pool there is), each as ``now`` holds it (greyed, with
        the time it is made, if ``now`` has not got it yet)."""
        for key, pool in pools.items():
            item = self.rows.get(key)
            if item is None:
                item = self.rows[key] = QListWidgetItem()
                item.setData(KEY_ROLE, key)
                self.addItem(item)
            current = now.pools.get(key)
            if current is None:
                _set_text(item, f"{pool.label}\nmade at {since(pool.t_open, t0)}")
                flags = item.flags() & ~Qt.ItemFlag.ItemIsEnabled
            else:
                _set_text(item, f"{current.label}\n{pool_summary(current)}")
                flags = item.flags() | Qt.ItemFlag.ItemIsEnabled
                tip = pool_tooltip(current, t0)
                if item.toolTip() != tip:
                    item.setToolTip(tip)
            if item.flags() != flags:
                item.setFlags(flags)
        if self.currentItem() is None and self.count():
            self.setCurrentRow(0)  # the first pool, as soon as there is one

    def _on_current_changed(self, current: QListWidgetItem | None, *_: object) -> None:
        if current is not None:
            self.pool_selected.emit(str(current.data(KEY_ROLE)))


def _tree(name: str, headers: list[str], tooltip: str) -> QTreeWidget:
    tree = QTreeWidget()
    tree.setObjectName(name)
    tree.setRootIsDecorated(False)
    tree.setUniformRowHeights(True)
    tree.setAlternatingRowColors(True)
    tree.setHeaderLabels(headers)
    tree.setToolTip(tooltip)
    tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    header = tree.header()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for column in range(1, len(headers)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    return tree


class CallTable:
    """The selected pool's calls, in the order the program made them: items, tasks, time."""

    def __init__(self) -> None:
        self.tree = _tree(
            "traceCallTable",
            ["call", "items", "tasks", "time"],
            "Each call the program made on the selected pool, by its line: the items done (of "
            "how many, if known up front), the tasks (chunks) finished, and the time from the "
            "call to its latest finished task.",
        )
        for column in (1, 2, 3):
            self.tree.headerItem().setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
        self._pool: str | None = None
        self.rows: dict[str, QTreeWidgetItem] = {}

    def show_pool(self, pool: PoolTrace | None, key: str | None, t0: float | None) -> None:
        """The calls of ``pool`` (None: the pool ``key`` has none yet at this moment)."""
        if key != self._pool:
            self._pool = key
            self.tree.clear()
            self.rows.clear()
        if pool is None:
            if self.rows:
                self.tree.clear()
                self.rows.clear()
            return
        for call in pool.calls.values():
            item = self.rows.get(call.key)
            if item is None:
                item = self.rows[call.key] = QTreeWidgetItem(self.tree)
                for column in (1, 2, 3):
                    item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight)
            for column, text in enumerate(
                (call.label, call_items(call), call_tasks(call), call_time(call))
            ):
                _set_text(item, text, column)
            tip = call_tooltip(call, t0)
            if item.toolTip(0) != tip:
                for column in range(4):
                    item.setToolTip(column, tip)
        gone = set(self.rows) - set(pool.calls)  # a replay went back before them
        for key_gone in gone:
            item = self.rows.pop(key_gone)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))


class ProcessTable:
    """The program's processes that are not pool workers: its own, its ``Process``es."""

    def __init__(self) -> None:
        self.tree = _tree(
            "traceProcessTable",
            ["process", "lifetime", "exit"],
            "The program's processes other than pool workers: the program itself and each "
            "multiprocessing.Process it started (by the line that started it), with when each "
            "ran (seconds since the program started) and how it ended.",
        )
        self.rows: dict[int, QTreeWidgetItem] = {}

    def update(
        self,
        trace: TraceModel,
        t0: float | None,
        ended: bool,
        root_exit: int | None = None,
        root_end: float | None = None,
    ) -> None:
        """Rows for ``trace``'s plain processes (``ended``: the program is over, so a process
        with no exit code recorded is not "running"; ``root_exit`` and ``root_end``: how and
        when the program's own process ended, which no packet tells)."""
        root = root_process(trace)
        shown = plain_processes(trace)
        for proc in shown:
            item = self.rows.get(proc.pid)
            if item is None:
                item = self.rows[proc.pid] = QTreeWidgetItem(self.tree)
            is_root = root is not None and proc.pid == root.pid
            exitcode = root_exit if is_root and proc.exitcode is None else proc.exitcode
            texts = (
                process_name(proc, root.pid if root else None),
                lifetime(proc, t0, root_end if is_root else None),
                exit_text(exitcode, ended or proc.t_end is not None),
            )
            for column, text in enumerate(texts):
                _set_text(item, text, column)
            tip = f"{texts[0]}\npid {proc.pid}, started by {proc.ppid or 'an unknown process'}"
            if item.toolTip(0) != tip:
                for column in range(3):
                    item.setToolTip(column, tip)
        for pid in set(self.rows) - {p.pid for p in shown}:
            item = self.rows.pop(pid)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))

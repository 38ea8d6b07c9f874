"""The trace window's layout: a help line, the notes banner, the lists left, the views right.

Every part has a fixed place and size from the start (the banner keeps two lines whether or
not there is anything to say, the pool's heading one line, the calls a few rows), so nothing
moves while a program's packets arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui.naming import named
from mpscope.gui.trace.trace_lists import CallTable, PoolList, ProcessTable
from mpscope.gui.trace.trace_texts import since
from mpscope.workers.trace.model import PoolTrace

LEFT_WIDTH = 360
CALL_ROWS = 3  # rows the calls' table shows without scrolling
BANNER_LINES = 2
NO_NOTES = "Nothing unusual so far: no worker has died under a pool."
NOTES_TIP = (
    "What mpscope saw go wrong inside the program's pools: a worker killed or exited while "
    "its pool was still in use (a stdlib Pool then waits for ever; an executor breaks)."
)
LIVE_HELP = (
    "mpscope trace: the pools and executors of {script}, watched from inside its processes "
    "as it runs. Pick a pool on the left to see its workers on the four views (times: seconds "
    "since the pool was made); the calls made on it are listed below them."
)


def _heading(text: str, tooltip: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "heading")
    label.setToolTip(tooltip)
    return label


def _restyle(label: QLabel, role: str) -> None:
    """Give ``label`` a style-sheet role (the sheet colours notes and errors)."""
    if label.property("role") != role:
        label.setProperty("role", role)
        label.style().unpolish(label)
        label.style().polish(label)


@dataclass
class TraceLayout:
    """The parts of the window its code updates."""

    help_line: QLabel
    banner: QLabel
    pools: PoolList
    processes: ProcessTable
    pool_heading: QLabel
    calls: CallTable
    column: QVBoxLayout  # the window's one column: the replay bar goes at its end
    splitter: QSplitter

    def set_help(self, text: str) -> None:
        """What the window is, in a line or two."""
        self.help_line.setText(text)

    def set_notes(self, notes: Sequence[str]) -> None:
        """The model's notes in the banner (a worker killed, ...), or that there are none."""
        if not notes:
            text, tip = NO_NOTES, NOTES_TIP
        else:
            shown = list(notes[:BANNER_LINES])
            if len(notes) > BANNER_LINES:
                shown[-1] += f"  (and {len(notes) - BANNER_LINES + 1} more: hover to see all)"
            text, tip = "\n".join(f"⚠ {n}" for n in shown), "\n".join(notes)
            tip += "\n\n" + NOTES_TIP
        if self.banner.text() != text:
            self.banner.setText(text)
            self.banner.setToolTip(tip)
            _restyle(self.banner, "error" if notes else "note")

    def set_pool_heading(self, pool: PoolTrace, t0: float | None) -> None:
        """The selected pool's line above the views."""
        text = (
            f"{pool.label}  ·  {pool.kind} made by process {pool.pid} "
            f"at {since(pool.t_open, t0)} into the program  ·  the views count from there"
        )
        if self.pool_heading.text() != text:
            self.pool_heading.setText(text)
            self.pool_heading.setToolTip(
                f"{text}\nThe views' times count from the moment the pool was made."
            )

    def add_replay_bar(self, bar: QWidget) -> None:
        """Put the replay's slider along the window's bottom."""
        self.column.addWidget(bar)


def build_layout(window: QMainWindow, views: Sequence[QWidget]) -> TraceLayout:
    """Lay ``window`` out around the four ``views`` (throughput, progress, timeline,
    resources); returns the parts its code updates."""
    script = getattr(window, "script", "the program")
    help_line = named(QLabel(LIVE_HELP.format(script=script)), "traceHelp")
    help_line.setProperty("role", "note")
    help_line.setWordWrap(True)
    banner = named(QLabel(NO_NOTES), "traceNotes")
    banner.setToolTip(NOTES_TIP)
    banner.setProperty("role", "note")
    bold = QFont(banner.font())
    bold.setBold(True)
    banner.setFont(bold)
    banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    line = banner.fontMetrics().lineSpacing()
    banner.setFixedHeight(BANNER_LINES * line + 6)
    help_line.setFixedHeight(2 * help_line.fontMetrics().lineSpacing() + 4)
    for label in (banner, help_line):
        label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    pools = PoolList()
    processes = ProcessTable()
    left = named(QWidget(), "traceLeft")
    left_column = QVBoxLayout(left)
    left_column.setContentsMargins(8, 4, 4, 4)
    left_column.addWidget(_heading("Pools", pools.toolTip()))
    left_column.addWidget(pools, 3)
    left_column.addWidget(_heading("Other processes", processes.tree.toolTip()))
    left_column.addWidget(processes.tree, 2)

    pool_heading = named(QLabel("No pool yet: the program has not made one."), "tracePoolHeading")
    pool_heading.setProperty("role", "heading")
    pool_heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    grid = QGridLayout()
    grid.setSpacing(6)
    for i, view in enumerate(views):
        grid.addWidget(view, i // 2, i % 2)
    for i in (0, 1):
        grid.setRowStretch(i, 1)
        grid.setColumnStretch(i, 1)
    calls = CallTable()
    row_height = calls.tree.fontMetrics().lineSpacing() + 6
    calls.tree.setFixedHeight(row_height * (CALL_ROWS + 1) + 6)
    right = named(QWidget(), "traceRight")
    right_column = QVBoxLayout(right)
    right_column.setContentsMargins(4, 4, 8, 4)
    right_column.addWidget(pool_heading)
    right_column.addLayout(grid, 1)
    right_column.addWidget(_heading("Calls on this pool", calls.tree.toolTip()))
    right_column.addWidget(calls.tree)

    splitter = named(QSplitter(Qt.Orientation.Horizontal), "traceSplitter")
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    splitter.setCollapsible(0, False)
    splitter.setCollapsible(1, False)
    splitter.setSizes([LEFT_WIDTH, 1000])

    central = named(QWidget(), "traceCentral")
    column = QVBoxLayout(central)
    column.setContentsMargins(0, 4, 0, 0)
    column.setSpacing(2)
    top = QVBoxLayout()
    top.setContentsMargins(10, 0, 10, 0)
    top.addWidget(help_line)
    top.addWidget(banner)
    column.addLayout(top)
    column.addWidget(splitter, 1)
    window.setCentralWidget(central)
    return TraceLayout(help_line, banner, pools, processes, pool_heading, calls, column, splitter)

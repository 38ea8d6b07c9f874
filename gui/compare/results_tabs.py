"""ResultsTabs: what the compare page has on show — charts and verdict, sweeps, runs, history.

``show_records(records, kind, what)`` puts one set of runs on show: the runs table always, and
the charts of their kind (the four comparison charts with the verdict under them, or one of the
sweep charts with its findings). ``shown`` is that set, as the exports write it.
"""

from __future__ import annotations

import html
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QSplitter, QTabWidget, QVBoxLayout, QWidget

from mpscope.gui.compare.charts import MatrixCharts
from mpscope.gui.compare.export_actions import ExportSelection
from mpscope.gui.compare.results_table import RunsTableModel, RunsTableView
from mpscope.gui.compare.sweep_charts import (
    SweepCharts,
    chunksize_findings,
    grain_findings,
    sentence_list,
)
from mpscope.gui.naming import named
from mpscope.workers.compare import Skipped, chunksize_series, grain_series, summarize, verdict
from mpscope.workers.compare.summary import hostname_of
from mpscope.workers.spec import cpu_count

CHARTS_TAB, SWEEPS_TAB, RUNS_TAB, HISTORY_TAB = range(4)
KIND_TAB = {
    "matrix": CHARTS_TAB,
    "history": CHARTS_TAB,
    "chunksize": SWEEPS_TAB,
    "grain": SWEEPS_TAB,
}
VERDICT_HEIGHT = 56  # pixels under the charts for the verdict at first (it grows with one)
NO_VERDICT = "<i>The verdict in words appears here once the comparison has numbers.</i>"


def skipped_text(skipped: list[Skipped]) -> list[str]:
    """One sentence per setting left out of a plan."""
    out = []
    for s in skipped:
        who = s.strategy if s.workers is None else f"{s.strategy} K={s.workers}"
        out.append(f"Left out {who}: {s.reason}.")
    return out


def cores_of(records: list[dict[str, Any]]) -> int:
    """The core count to mark: the measuring machine's if all runs come from one that says."""
    hosts = {hostname_of(r) for r in records}
    if len(hosts) == 1:
        machine = records[0].get("machine")
        if isinstance(machine, dict) and isinstance(machine.get("cpu_count"), int):
            return max(1, int(machine["cpu_count"]))
    return cpu_count()


class ResultsTabs(QTabWidget):
    """Charts (+ verdict), Sweeps, Runs and the given History panel, as tabs."""

    def __init__(self, history_panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareTabs")
        self.setDocumentMode(True)
        self.shown = ExportSelection([], "nothing yet")
        self.shown_kind = "matrix"

        self.charts = MatrixCharts()
        self.verdict_label = named(QLabel(NO_VERDICT), "compareVerdict")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextFormat(Qt.TextFormat.RichText)
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict_label.setToolTip("What the measured numbers say (medians of the repeats)")
        verdict_scroll = QScrollArea()
        verdict_scroll.setWidgetResizable(True)
        verdict_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        verdict_scroll.setWidget(self.verdict_label)
        verdict_scroll.setMinimumHeight(48)
        charts_tab = named(QSplitter(Qt.Orientation.Vertical), "compareChartsSplitter")
        charts_tab.addWidget(self.charts)
        charts_tab.addWidget(verdict_scroll)
        charts_tab.setStretchFactor(0, 1)
        charts_tab.setStretchFactor(1, 0)
        charts_tab.setCollapsible(0, False)
        charts_tab.setSizes([400, VERDICT_HEIGHT])
        self.charts_splitter = charts_tab
        self.verdict_scroll = verdict_scroll

        self.sweeps = SweepCharts()
        self.runs_model = RunsTableModel(self)
        # a comparison's runs are not stored yet when shown: no time to show for them
        self.runs_table = RunsTableView(self.runs_model, "compareTable", hidden=("recorded_at",))
        self.runs_caption = named(QLabel(), "compareTableCaption")
        self.runs_caption.setProperty("role", "note")
        runs_tab = QWidget()
        runs_layout = QVBoxLayout(runs_tab)
        runs_layout.setContentsMargins(4, 4, 4, 4)
        runs_layout.addWidget(self.runs_caption)
        runs_layout.addWidget(self.runs_table, 1)

        for widget, title, tip in (
            (charts_tab, "Char&ts", "The comparison's four charts and its verdict"),
            (self.sweeps, "Sw&eeps", "The chunksize and grain sweeps"),
            (runs_tab, "R&uns", "Every run of the results on show, one row each"),
            (history_panel, "Histor&y", "Every run stored, from any page and any session"),
        ):
            self.setTabToolTip(self.addTab(widget, title), tip)

    def show_records(
        self,
        records: list[dict[str, Any]],
        kind: str,
        what: str,
        skipped: list[Skipped] | None = None,
    ) -> None:
        """Put ``records`` on show: the runs table, and the charts of their ``kind``
        ("matrix", "history", "chunksize" or "grain"); ``what`` names them for the user."""
        skipped = skipped or []
        self.runs_model.set_runs(records)
        self.runs_caption.setText(f"On show: {what}. Click a heading to sort.")
        cores = cores_of(records)
        if kind == "chunksize":
            chunk = chunksize_series(records)
            self.sweeps.show_chunksize(chunk)
            sentences = chunksize_findings(chunk)
        elif kind == "grain":
            grain = grain_series(records)
            self.sweeps.show_grain(grain)
            sentences = grain_findings(grain)
        else:
            summaries = summarize(records)
            self.charts.show_cells(summaries, cores)
            sentences = verdict(summaries, cores) if records else []
            self._show_verdict(sentences + skipped_text(skipped), what)
        self.shown = ExportSelection(records, what, skipped, " ".join(sentences) or None)
        self.shown_kind = kind

    def _show_verdict(self, sentences: list[str], what: str) -> None:
        if not sentences:
            self.verdict_label.setText(NO_VERDICT)
            return
        self.verdict_label.setText(
            f"<b>What the numbers say</b> ({html.escape(what)}):{sentence_list(sentences)}"
        )
        self._make_room_for_verdict()

    def _make_room_for_verdict(self) -> None:
        """Give the verdict the height its text needs, up to a third of the tab, taking it
        from the charts (never below their minimum); room the user gave it stays."""
        splitter = self.charts_splitter
        charts, verdict_now = splitter.sizes()
        total = charts + verdict_now
        width = max(self.verdict_scroll.viewport().width(), 200)
        needed = self.verdict_label.heightForWidth(width) + 4
        room = min(needed, total // 3, total - self.charts.minimumSizeHint().height())
        if room > verdict_now:
            splitter.setSizes([total - room, room])

    def chart_area(self) -> tuple[pg.GraphicsLayoutWidget, str]:
        """The charts on show (the sweeps when their tab is open), and a name for a file."""
        if self.currentIndex() == SWEEPS_TAB:
            return self.sweeps.area, "sweeps"
        return self.charts.area, "comparison"

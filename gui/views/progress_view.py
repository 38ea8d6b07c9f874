"""ProgressView: one bar per worker and an overall bar with done/total, rate and ETA.

Past ``lane_choice.MANY_LANES`` workers the bars condense into a strip of one column per worker
(``progress_strip``), all of them in view at once.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QProgressBar,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui.fitting_labels import ElidedLabel
from mpscope.gui.palette import TITLE_POINT_SIZE, blend, scaled_font, total_color, worker_color
from mpscope.gui.run_model import RunModel
from mpscope.gui.views.lane_choice import condensed, lane_count
from mpscope.gui.views.live_view import ModelWatch
from mpscope.gui.views.plot_helpers import LIVE_BARS_INTERVAL_S, RedrawBudget
from mpscope.gui.views.progress_strip import ProgressStrip, StripColumn
from mpscope.workers.events import RunCancelled, RunFailed, RunFinished
from mpscope.workers.units import format_count, format_eta, format_rate, format_seconds

ETA_WINDOW_S = 2.0  # the ETA divides what is left by the rate over the last 2 s
BAR_STEPS = 1000  # bars count in permille: item counts can exceed a QProgressBar's int range


def recent_rate(model: RunModel) -> float | None:
    """Items/s over the last ``ETA_WINDOW_S`` (since the first worker started, if sooner)."""
    lanes = [lane for lane in model.lanes.values() if len(lane.progress)]
    if not lanes:
        return None
    t_hi = model.clock() if model.live else max(lane.last_t for lane in lanes)
    starts = [t for i in model.lanes if (t := model.worker_started_at(i)) is not None]
    t_lo = max(t_hi - ETA_WINDOW_S, min(starts, default=0.0))
    if t_hi - t_lo <= 1e-3:
        return None
    d_lo, d_hi = model.done_at(np.array([t_lo, t_hi]))
    return float(d_hi - d_lo) / (t_hi - t_lo)


def overall_text(model: RunModel) -> str:
    """'1,234 / 4,000 (31%) · 9.70 k/s · ETA 0.28 s', or how the run ended."""
    units, done = model.units, model.done
    if model.spec is None:
        return "idle"
    if not units:
        return "starting…"
    head = f"{format_count(done)} / {format_count(units)} ({100 * done / units:.0f}%)"
    outcome = model.outcome
    if isinstance(outcome, RunFinished):
        return f"{head} · finished in {format_seconds(outcome.wall_s)}"
    if isinstance(outcome, RunFailed):
        return f"{head} · failed"
    if isinstance(outcome, RunCancelled):
        return f"{head} · cancelled"
    rate = recent_rate(model)
    if not rate:
        return f"{head} · ETA —"
    return f"{head} · {format_rate(rate)} · ETA {format_eta(max(units - done, 0) / rate)}"


def _bar_style(chunk: QColor, palette: QPalette) -> str:
    base = palette.color(QPalette.ColorRole.Base)
    border = blend(palette.color(QPalette.ColorRole.Text), base, 0.7)
    return (
        f"QProgressBar {{ border: 1px solid {border.name()}; border-radius: 3px;"
        f" background: {base.name()}; min-height: 14px; max-height: 16px; }}"
        f" QProgressBar::chunk {{ background: {chunk.name()}; border-radius: 2px; }}"
    )


class ProgressRow:
    """One bar with its name and its figures."""

    def __init__(self, grid: QGridLayout, row: int, name: str, object_name: str) -> None:
        self.name = QLabel(name)
        self.bar = QProgressBar()
        self.bar.setObjectName(object_name)
        self.bar.setRange(0, BAR_STEPS)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.text = ElidedLabel()  # cut short (whole in its tooltip) where room is short
        self.text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.name, row, 0)
        grid.addWidget(self.bar, row, 1)
        grid.addWidget(self.text, row, 2)

    def set(self, fraction: float, text: str) -> None:
        """Show ``fraction`` (0..1) of the bar and ``text`` beside it."""
        value = round(BAR_STEPS * min(max(fraction, 0.0), 1.0))
        if value != self.bar.value():
            self.bar.setValue(value)
        if text != self.text.text():
            self.text.setText(text)

    def remove(self) -> None:
        """Take the row's widgets out of the view."""
        for widget in (self.name, self.bar, self.text):
            widget.setParent(None)
            widget.deleteLater()


class ProgressView(QWidget):
    """An overall bar (done/total, rate, ETA) and one bar per worker in the worker's colour.

    Pools hand out chunks as workers ask, so a worker's own total is unknown: its bar is full
    at its even share of the work (or at the busiest worker's count, if more), and its text
    gives its count and its share of all items. Past ``MANY_LANES`` workers the bars give way
    to ``strip``: one column per worker, filled the same way, its figures on hover.
    """

    def __init__(self, model: RunModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressView")
        self._model = model
        self._budget = RedrawBudget(LIVE_BARS_INTERVAL_S)
        self._watch = ModelWatch(model)
        self.title = QLabel("Progress")
        title_font = QFont(self.font())
        title_font.setPointSizeF(TITLE_POINT_SIZE)
        self.title.setFont(title_font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        grid_host = QWidget()
        self._grid = QGridLayout(grid_host)
        self._grid.setColumnStretch(1, 1)
        self._grid.setHorizontalSpacing(8)
        self._grid.setVerticalSpacing(4)
        self.overall = ProgressRow(self._grid, 0, "all", "overallProgressBar")
        bold = scaled_font(self.font(), 0.0)
        bold.setBold(True)
        self.overall.name.setFont(bold)
        # two lines at most, elided where room is short: the bars never scroll sideways
        self.eta_label = ElidedLabel("idle", lines=2)
        self.eta_label.setObjectName("progressEta")
        self._grid.addWidget(self.eta_label, 1, 0, 1, 3)
        self._grid.setRowStretch(1000, 1)
        self.worker_rows: dict[int, ProgressRow] = {}
        self.strip = ProgressStrip()
        self.strip.hide()
        self._grid.addWidget(self.strip, 2, 0, 1, 3)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)
        self.setBackgroundRole(QPalette.ColorRole.Base)  # like the plots beside it
        self.setAutoFillBackground(True)
        scroll.viewport().setAutoFillBackground(False)
        grid_host.setAutoFillBackground(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(scroll)
        self._apply_palette()

    # -- the contract with the window ---------------------------------------------------------
    def refresh(self) -> None:
        """Update bars and texts if the model changed (the ETA also moves while live)."""
        model, watch = self._model, self._watch
        if not watch.begin(self._clear):
            return
        live = model.live
        if live and not model.reported:
            if not watch.changed:
                return  # nothing new, and the budget is kept: the first progress shows at once
        elif not self._budget.due(live):
            return
        watch.drew()
        units, done = model.units, model.done
        self.overall.set(
            done / units if units else 0.0, f"{100 * done / units:.0f}%" if units else ""
        )
        text = overall_text(model)
        if text != self.eta_label.text():
            self.eta_label.setText(text)
        workers = model.workers
        fair_share = units / max(model.started.workers, 1) if model.started else 0.0
        full = max([fair_share, *(fig.done for fig in workers.values())])
        if condensed(model):
            self._show_strip(full)
            return
        for index in sorted(workers):
            fig = workers[index]
            row = self.worker_rows.get(index) or self._add_row(index)
            share = f"{100 * fig.done / units:.0f}% of all" if units else ""
            row.set(fig.done / full if full else 0.0, f"{format_count(fig.done)} · {share}")
            if fig.pid and not row.name.toolTip():
                row.name.setToolTip(f"worker {index} · pid {fig.pid}")

    def _show_strip(self, full: float) -> None:
        """Many workers: a column each in the strip, in place of the bars."""
        if self.worker_rows:  # a replacement worker made one lane too many
            self._remove_rows()
        model = self._model
        units, workers = model.units, model.workers
        columns = []
        # a column for each of the run's K workers from the start: none moves as they start
        for index in sorted(set(range(lane_count(model))) | set(workers)):
            fig = workers.get(index)
            if fig is None:
                columns.append(StripColumn(index, 0.0, f"w{index} · not started yet"))
                continue
            share = f" · {100 * fig.done / units:.1f}% of all" if units else ""
            pid = f" · pid {fig.pid}" if fig.pid else ""
            tip = f"w{index} · {format_count(fig.done)} items{share}{pid}"
            columns.append(StripColumn(index, fig.done / full if full else 0.0, tip))
        self.strip.set_columns(columns)
        if self.strip.isHidden():
            self.strip.show()
            self._grid.setRowStretch(2, 4)  # the strip takes most of the room below the bars

    # -- rows -----------------------------------------------------------------------------------
    def _add_row(self, index: int) -> ProgressRow:
        row = ProgressRow(self._grid, index + 2, f"w{index}", f"workerProgressBar{index}")
        row.bar.setStyleSheet(_bar_style(worker_color(index), self.palette()))
        row.name.setStyleSheet(f"color: {worker_color(index).name()}; font-weight: bold;")
        self.worker_rows[index] = row
        return row

    def _remove_rows(self) -> None:
        for row in self.worker_rows.values():
            row.remove()
        self.worker_rows.clear()

    def _clear(self) -> None:
        self._remove_rows()
        self.strip.set_columns([])
        self.strip.hide()
        self._grid.setRowStretch(2, 0)
        self.overall.set(0.0, "")
        self.eta_label.setText(overall_text(self._model))

    # -- looks ----------------------------------------------------------------------------------
    def _apply_palette(self) -> None:
        palette = self.palette()
        self.overall.bar.setStyleSheet(_bar_style(total_color(palette), palette))
        for index, row in self.worker_rows.items():
            row.bar.setStyleSheet(_bar_style(worker_color(index), palette))

    def changeEvent(self, event: QEvent) -> None:
        """Follow the system's light/dark palette when it changes."""
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
        super().changeEvent(event)


__all__ = ["ProgressRow", "ProgressView", "overall_text", "recent_rate"]

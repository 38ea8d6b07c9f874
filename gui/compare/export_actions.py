"""Export and import: the results as CSV or JSON, the charts as PNG or SVG, a JSON file back in.

The actions (with shortcuts, for the File menu) ask for a file name and do the work through
``workers.records.export`` (atomic writes, the same formats as ``mpscope compare``) and
pyqtgraph's exporters. What goes out is what the page says is on show (``ResultsSource``). An
import is checked whole before anything is stored: a bad file gives one line naming the file
and the problem, and nothing is imported. Every outcome is reported in one line, never a
traceback.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QObject, QStandardPaths
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from mpscope.gui.compare.svg_compat import allow_closepath
from mpscope.gui.settings import open_settings
from mpscope.workers.compare import Skipped
from mpscope.workers.records.export import ResultsFileError, read_json, write_csv, write_json

LAST_DIR_KEY = "compare/lastDirectory"
PNG_FILTER, SVG_FILTER = "PNG image (*.png)", "SVG image (*.svg)"
CHART_SCALE = 2  # PNG pixels per screen pixel: sharp on a high-density screen and in print


@dataclass
class ExportSelection:
    """What an export writes: run records, the settings left out, the verdict, a name for it."""

    records: list[dict[str, Any]]
    what: str  # "the comparison", "12 history runs", ...
    skipped: list[Skipped] = field(default_factory=list)
    verdict: str | None = None


class ResultsSource(Protocol):
    """What the export actions need from the page."""

    def export_selection(self) -> ExportSelection:
        """The runs on show."""

    def chart_area(self) -> tuple[pg.GraphicsLayoutWidget, str]:
        """The charts on show, and a short name for the file."""

    def import_records(self, records: list[dict[str, Any]], file_name: str) -> str | None:
        """Store imported runs; a one-line error if that failed (nothing stored)."""

    def report(self, text: str, error: bool = False) -> None:
        """Tell the user, in one line."""


def export_chart(area: pg.GraphicsLayoutWidget, path: str | Path) -> None:
    """Write the charts of ``area`` to ``path``: SVG if it ends in .svg, else PNG.

    Raises OSError if the file cannot be written.
    """
    scene = area.scene()
    if str(path).lower().endswith(".svg"):
        allow_closepath()
        pg.exporters.SVGExporter(scene).export(str(path))
        return
    exporter = pg.exporters.ImageExporter(scene)
    # the area on show (the scene's own rect only ever grows: an item once placed far off
    # while the layout settled would make a giant, unwritable image)
    exporter.parameters()["width"] = max(1, int(exporter.getSourceRect().width() * CHART_SCALE))
    if not exporter.export(str(path)):
        raise OSError(f"could not write {path}")


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


class ExportActions(QObject):
    """The File menu's import and export actions, working on a ResultsSource."""

    def __init__(self, source: ResultsSource, parent: QWidget) -> None:
        super().__init__(parent)
        self.source = source
        self.parent_widget = parent
        self.import_action = self._action(
            "&Import results (JSON)…",
            "Ctrl+O",
            "Add the runs of an mpscope JSON export (from this or another machine) to the "
            "history, to compare them",
            self.import_json,
        )
        self.export_csv_action = self._action(
            "Export results as &CSV…",
            "Ctrl+E",
            "Write the results table on show (the comparison, or the history's selection "
            "when the History tab is open) as CSV",
            self.export_csv,
        )
        self.export_json_action = self._action(
            "Export results as &JSON…",
            "Ctrl+Shift+E",
            "Write the runs on show, their summary and the verdict as JSON (importable)",
            self.export_json,
        )
        self.export_charts_action = self._action(
            "Export c&harts (PNG, SVG)…",
            "Ctrl+Shift+P",
            "Save the charts on show as a PNG or SVG image",
            self.export_charts,
        )

    def _action(self, text: str, keys: str, tip: str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.setToolTip(f"{tip} ({keys})")
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def actions(self) -> list[QAction]:
        """The actions, in menu order (import first)."""
        return [
            self.import_action,
            self.export_csv_action,
            self.export_json_action,
            self.export_charts_action,
        ]

    # -- file names ----------------------------------------------------------------------------
    def _folder(self) -> str:
        saved = open_settings().value(LAST_DIR_KEY)
        if isinstance(saved, str) and Path(saved).is_dir():
            return saved
        return QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)

    def _remember(self, path: str) -> None:
        open_settings().setValue(LAST_DIR_KEY, str(Path(path).parent))

    def _ask_save(self, title: str, name: str, filters: str) -> tuple[str, str]:
        path, chosen = QFileDialog.getSaveFileName(
            self.parent_widget, title, str(Path(self._folder()) / name), filters
        )
        if path:
            self._remember(path)
        return path, chosen

    def _selection(self) -> ExportSelection | None:
        """The runs on show, or None (and a message saying why) when there are none."""
        selection = self.source.export_selection()
        if not selection.records:
            self.source.report("nothing to export: run a comparison or select runs first", True)
            return None
        return selection

    # -- the actions ---------------------------------------------------------------------------
    def export_csv(self) -> None:
        """Ask for a file and write the runs on show as CSV."""
        selection = self._selection()
        if selection is None:
            return
        path, _ = self._ask_save(
            "Export results as CSV", f"mpscope-results-{_stamp()}.csv", "CSV (*.csv)"
        )
        if path:
            self._write(path, selection, lambda: write_csv(path, selection.records))

    def export_json(self) -> None:
        """Ask for a file and write the runs on show, their summary and verdict as JSON."""
        selection = self._selection()
        if selection is None:
            return
        path, _ = self._ask_save(
            "Export results as JSON", f"mpscope-results-{_stamp()}.json", "JSON (*.json)"
        )
        if path:
            self._write(
                path,
                selection,
                lambda: write_json(
                    path, selection.records, skipped=selection.skipped, verdict=selection.verdict
                ),
            )

    def _write(self, path: str, selection: ExportSelection, write: Any) -> None:
        try:
            write()
        except OSError as exc:
            self.source.report(f"{Path(path).name}: not written: {exc.strerror or exc}", True)
            return
        n = len(selection.records)
        self.source.report(f"exported {n} run{'s' if n != 1 else ''} ({selection.what}) to {path}")

    def export_charts(self) -> None:
        """Ask for a file and save the charts on show as PNG or SVG."""
        area, name = self.source.chart_area()
        path, chosen = self._ask_save(
            "Export charts", f"mpscope-{name}-{_stamp()}.png", f"{PNG_FILTER};;{SVG_FILTER}"
        )
        if not path:
            return
        if Path(path).suffix.lower() not in (".png", ".svg"):
            path += ".svg" if chosen == SVG_FILTER else ".png"
        try:
            export_chart(area, path)
        except OSError as exc:
            self.source.report(f"{Path(path).name}: not written: {exc.strerror or exc}", True)
            return
        self.source.report(f"saved the charts to {path}")

    def import_json(self) -> None:
        """Ask for a JSON export and add its runs to the history (all of them, or none)."""
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget,
            "Import results",
            self._folder(),
            "mpscope results (*.json);;All files (*)",
        )
        if not path:
            return
        self._remember(path)
        self.import_file(path)

    def import_file(self, path: str | Path) -> bool:
        """Import ``path``; True if its runs were stored (else one line says why)."""
        name = Path(path).name
        try:
            records = read_json(path)
        except ResultsFileError as exc:
            self.source.report(f"{exc}; nothing was imported", True)
            return False
        if not records:
            self.source.report(f"{name}: the file holds no runs; nothing was imported", True)
            return False
        problem = self.source.import_records(records, name)
        if problem:
            self.source.report(f"{name}: {problem}; nothing was imported", True)
            return False
        return True

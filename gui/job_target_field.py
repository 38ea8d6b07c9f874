"""JobTargetField: where a user names their own function for every strategy to run.

A TARGET is ``module:function`` or ``path/to/file.py:function``. The user types one, takes a
recent one from the drop-down, or browses to a ``.py`` file and picks one of its top-level
functions from a second list. That list is read from the file's text (``target_scan``), never
by importing it: a user's module may crash, hang, print or ``sys.exit`` on import, and it is
imported only in mpscope's worker processes. Scan errors, and the errors the engine reports
for the target later (``show_error``), go on one line under the field.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QSettings, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui.naming import named
from mpscope.gui.settings import open_settings
from mpscope.workers.target_scan import (
    FunctionInfo,
    TargetScanError,
    is_file_target,
    scan_file,
)

RECENT_KEY = "job/recentTargets"
MAX_RECENT = 10
TARGET_TIP = (
    "The function every strategy runs: module:function or path/to/file.py:function; the module "
    "is imported only in mpscope's worker processes, never in the window"
)
BROWSE_TIP = (
    "Choose the .py file that defines your function: its top-level functions are listed "
    "beside it, read from the file's text without importing it"
)
FUNCTION_TIP = (
    "The chosen .py file's top-level functions (read without importing the file): picking "
    "one makes the target path/to/file.py:function"
)
NO_FILE = "functions of a .py file are listed here"


def load_recent_targets(settings: QSettings | None = None) -> list[str]:
    """The recent targets, most recent first (at most MAX_RECENT; garbage is skipped)."""
    value = (settings or open_settings()).value(RECENT_KEY)
    # an INI file gives a one-item list back as a plain string on some Qt versions
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    recent: list[str] = []
    for item in values:
        if isinstance(item, str) and item.strip() and item.strip() not in recent:
            recent.append(item.strip())
    return recent[:MAX_RECENT]


def save_recent_targets(targets: list[str], settings: QSettings | None = None) -> None:
    """Store ``targets`` (most recent first) as the recent ones, written to disk at once."""
    s = settings or open_settings()
    s.setValue(RECENT_KEY, list(targets[:MAX_RECENT]))
    s.sync()


def function_label(info: FunctionInfo) -> str:
    """How the function list shows a function: ``name(a, b, c=…, *args)``, ``async`` marked."""
    params = [p if i < info.required else f"{p}=…" for i, p in enumerate(info.params)]
    if info.varargs:
        params.append("*args")
    return f"{'async ' if info.is_async else ''}{info.name}({', '.join(params)})"


def _file_part(text: str) -> tuple[str, str] | None:
    """(file, function) if ``text`` names a .py file (the function may be ""), else None."""
    left, colon, function = text.rpartition(":")
    if colon and is_file_target(left.strip()):
        return left.strip(), function.strip()
    if is_file_target(text):  # a file alone, or a Windows path with no function yet
        return text, ""
    return None


class JobTargetField(QWidget):
    """The TARGET text (editable, with the recent targets), Browse…, the chosen file's
    functions, and a one-line error under them."""

    # fires when the user commits a target: a function picked, a recent one chosen, the text
    # typed and confirmed (Return or leaving the field); the argument is the target's text
    target_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobTargetField")
        # the file dialog, replaceable (tests): returns the chosen path, or "" if cancelled
        self.ask_for_file: Callable[[], str] = self._ask_with_dialog
        self._committed = ""  # the target last committed (target_changed fires on a change)
        self._file: str | None = None  # the .py file whose functions are listed, as written
        self._scan_error = False  # the error line is the file's (else the engine's, or none)
        self._build()
        self._show_recent(load_recent_targets())

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        self.target_combo = named(QComboBox(), "targetCombo")
        self.target_edit = named(QLineEdit(), "targetEdit")
        self.target_combo.setLineEdit(self.target_edit)  # the combo is editable with it
        self.target_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target_combo.setMaxCount(MAX_RECENT)
        self.target_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.target_combo.setMinimumContentsLength(16)  # a long path must not widen the panel
        self.target_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.target_combo.setToolTip(TARGET_TIP)
        self.target_combo.setAccessibleName("Target")
        edit = self.target_edit
        edit.setPlaceholderText("module:function or path/to/file.py:function")
        edit.setClearButtonEnabled(True)
        edit.setToolTip(TARGET_TIP)

        self.browse_button = named(QPushButton("&Browse…"), "targetBrowseButton")
        self.browse_button.setToolTip(BROWSE_TIP)
        self.browse_button.setAccessibleName("Browse for a .py file")

        self.function_combo = named(QComboBox(), "targetFunctionCombo")
        self.function_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.function_combo.setMinimumContentsLength(16)
        self.function_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.function_combo.setToolTip(FUNCTION_TIP)
        self.function_combo.setAccessibleName("Function")
        self.function_combo.setPlaceholderText(NO_FILE)
        self.function_combo.setEnabled(False)

        self.message = named(QLabel(), "targetMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.setProperty("role", "error")  # red, from the theme's style sheet
        self.message.hide()

        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.target_combo, 1)
        row.addWidget(self.browse_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.function_combo)
        layout.addWidget(self.message)
        QWidget.setTabOrder(self.target_combo, self.browse_button)
        QWidget.setTabOrder(self.browse_button, self.function_combo)

        edit.editingFinished.connect(self._typed)
        self.target_combo.activated.connect(self._typed)  # a recent target chosen
        self.browse_button.clicked.connect(self._browse)
        self.function_combo.currentIndexChanged.connect(self._function_picked)

    # -- the public face -----------------------------------------------------------------------
    def target(self) -> str:
        """The target as it stands in the field (spaces around it dropped)."""
        return self.target_combo.currentText().strip()

    def set_target(self, text: str) -> None:
        """Show ``text`` as the target (e.g. the last session's) and list its file's functions.

        target_changed does not fire: the caller knows what it set.
        """
        text = text.strip()
        self.target_combo.setEditText(text)
        self._committed = text
        self.clear_error()
        self._follow(text)

    def remember(self, text: str) -> None:
        """Put ``text`` first among the recent targets (kept between launches, at most ten).

        The window calls it when a run with this target starts.
        """
        text = text.strip()
        if not text:
            return
        recent = [text, *(t for t in load_recent_targets() if t != text)][:MAX_RECENT]
        save_recent_targets(recent)
        self._show_recent(recent)

    def recent_targets(self) -> list[str]:
        """The drop-down's recent targets, most recent first."""
        return [self.target_combo.itemText(i) for i in range(self.target_combo.count())]

    def show_error(self, text: str) -> None:
        """Show one line under the field: a scan error, or the engine's error for the target.

        A longer text shows its first line; the whole of it is the line's tooltip. An error
        shown here stays until the target changes or ``clear_error`` is called.
        """
        lines = [line for line in text.strip().splitlines() if line.strip()]
        if not lines:
            self.clear_error()
            return
        self.message.setText(lines[0].strip())
        self.message.setToolTip(text.strip() if len(lines) > 1 else "")
        self.message.show()
        self._scan_error = False

    def clear_error(self) -> None:
        """Hide the error line (nothing to say)."""
        self.message.clear()
        self.message.setToolTip("")
        self.message.hide()
        self._scan_error = False

    def error_text(self) -> str:
        """The error line's text, "" when it is hidden."""
        return self.message.text() if not self.message.isHidden() else ""

    # -- reacting to the user ------------------------------------------------------------------
    def _ask_with_dialog(self) -> str:
        folder = ""
        if self._file is not None:
            folder = os.path.dirname(os.path.abspath(os.path.expanduser(self._file)))
        path, _filter = QFileDialog.getOpenFileName(
            self, "Choose the .py file that defines your function", folder, "Python files (*.py)"
        )
        return path

    def _typed(self) -> None:
        """The text was confirmed (Return, focus left, a recent target chosen): follow it.

        Its file is read again even if the text did not change: it may have been edited.
        """
        text = self.target()
        self._follow(text)
        self._commit(text)

    def _browse(self) -> None:
        path = self.ask_for_file()
        if not path:
            return  # cancelled
        wanted = ""
        found = _file_part(self.target())
        if found is not None and found[0] == path:
            wanted = found[1]  # the same file again: keep its function if it still has it
        self.target_combo.setEditText(f"{path}:")
        functions = self._list_file(path)
        if not functions:
            return
        if wanted not in (f.name for f in functions) and len(functions) == 1:
            wanted = functions[0].name  # nothing to choose between
        index = self.function_combo.findData(wanted)
        if index >= 0:
            self.function_combo.setCurrentIndex(index)  # sets and commits the target
        self.function_combo.setFocus(Qt.FocusReason.OtherFocusReason)

    def _function_picked(self, index: int) -> None:
        name = self.function_combo.itemData(index)
        if index < 0 or not isinstance(name, str) or self._file is None:
            return
        text = f"{self._file}:{name}"
        self.target_combo.setEditText(text)
        self._commit(text)

    def _commit(self, text: str) -> None:
        if text != self._committed:
            self._committed = text
            if not self._scan_error:
                self.clear_error()  # what the engine said was about the target before
            self.target_changed.emit(text)

    # -- the function list ---------------------------------------------------------------------
    def _follow(self, text: str) -> None:
        """List the functions of the file ``text`` names, with its function picked if listed;
        a module target lists nothing (it is not imported here to find its file)."""
        found = _file_part(text)
        if found is None:
            self._clear_scan_error()
            self._fill(None, [], "listed for a .py file only: a module is not imported here")
            if not text:
                self.function_combo.setPlaceholderText(NO_FILE)
            return
        path, function = found
        functions = self._list_file(path)
        if not functions:
            return
        index = self.function_combo.findData(function) if function else -1
        with QSignalBlocker(self.function_combo):
            self.function_combo.setCurrentIndex(index)
        if function and index < 0:
            self.function_combo.setPlaceholderText(f"no top-level def {function} in this file")

    def _list_file(self, path: str) -> list[FunctionInfo]:
        """Scan ``path`` and list its functions, none picked; a scan error goes on the line."""
        try:
            functions = scan_file(path)
        except TargetScanError as exc:
            self._fill(None, [], "no functions: see the error below")
            self.show_error(str(exc))
            self._scan_error = True
            return []
        self._clear_scan_error()
        placeholder = {0: "no top-level functions in this file", 1: "pick its one function"}.get(
            len(functions), f"pick one of {len(functions)} functions"
        )
        self._fill(path, functions, placeholder)
        return functions

    def _clear_scan_error(self) -> None:
        if self._scan_error:
            self.clear_error()

    def _fill(self, path: str | None, functions: list[FunctionInfo], placeholder: str) -> None:
        self._file = path
        combo = self.function_combo
        with QSignalBlocker(combo):
            combo.clear()
            for info in functions:
                combo.addItem(function_label(info), info.name)
                where = f"line {info.line}"
                tip = f"{info.doc}\n({where})" if info.doc else f"no docstring ({where})"
                combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentIndex(-1)
        combo.setPlaceholderText(placeholder)
        combo.setEnabled(bool(functions))

    def _show_recent(self, recent: list[str]) -> None:
        text = self.target_combo.currentText()
        with QSignalBlocker(self.target_combo):
            self.target_combo.clear()
            self.target_combo.addItems(recent)
            self.target_combo.setCurrentIndex(-1)  # Down from here is the most recent
            self.target_combo.setEditText(text)  # clear() emptied the text being edited

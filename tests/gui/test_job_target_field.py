"""The target picker: browse to a .py file, pick one of its functions (read without importing
the file), type a target by hand, come back to a recent one; errors on one line under it."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_steps import retype

from mpscope.gui.job_target_field import MAX_RECENT, JobTargetField

JOBS = '''\
def square(x):
    """Square one item."""
    return x * x


class Helper:
    def method(self, x):
        return x


async def fetch(url, timeout=3.0, *rest):
    return url


def _no_doc(a, b=1):
    return a
'''


def make_field(qtbot, picked: str = "") -> JobTargetField:
    field = JobTargetField()
    qtbot.addWidget(field)
    field.ask_for_file = lambda: picked
    field.show()
    qtbot.waitExposed(field)
    return field


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def listed(field: JobTargetField) -> list[str]:
    combo = field.function_combo
    return [combo.itemText(i) for i in range(combo.count())]


def pick(qtbot, field: JobTargetField, name: str) -> None:
    """Choose ``name`` from the function list as a user does: arrow down to it."""
    combo = field.function_combo
    index = combo.findData(name)
    assert index >= 0, name
    combo.setFocus()
    for _ in range(index - combo.currentIndex()):
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentIndex() == index


def test_browsing_to_a_file_lists_its_top_level_functions(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.py", JOBS)
    field = make_field(qtbot, path)
    assert not field.function_combo.isEnabled()
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    assert listed(field) == ["square(x)", "async fetch(url, timeout=…, *args)", "_no_doc(a, b=…)"]
    assert field.function_combo.isEnabled()
    assert field.function_combo.currentIndex() == -1  # three to choose from: none chosen
    tip = field.function_combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines()[0] == "Square one item."
    assert field.error_text() == ""


def test_picking_a_function_sets_the_target_and_says_so(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.py", JOBS)
    field = make_field(qtbot, path)
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    committed: list[str] = []
    field.target_changed.connect(committed.append)
    pick(qtbot, field, "fetch")  # past square: each function arrowed to is the target in turn
    assert field.target() == f"{path}:fetch"
    assert committed == [f"{path}:square", f"{path}:fetch"]
    assert field.target_edit.text() == f"{path}:fetch"


def test_a_file_with_one_function_picks_it(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path / "single.py", "def only(x):\n    return x\n")
    field = make_field(qtbot, path)
    with qtbot.waitSignal(field.target_changed, timeout=1000) as signal:
        qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    assert signal.args == [f"{path}:only"]


def test_a_cancelled_dialog_changes_nothing(qtbot, tmp_path: Path) -> None:
    field = make_field(qtbot, "")
    field.set_target("pkg.mod:job")
    with qtbot.assertNotEmitted(field.target_changed):
        qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    assert field.target() == "pkg.mod:job"


def test_a_typed_target_lists_its_file_once_confirmed(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.py", JOBS)
    field = make_field(qtbot)
    field.target_edit.setFocus()
    retype(qtbot, field.target_edit, f"{path}:square")
    assert field.function_combo.count() == 0  # not scanned at every keystroke
    with qtbot.waitSignal(field.target_changed, timeout=1000) as signal:
        qtbot.keyClick(field.target_edit, Qt.Key.Key_Return)
    assert signal.args == [f"{path}:square"]
    assert field.function_combo.count() == 3
    assert field.function_combo.currentData() == "square"
    # a module target lists nothing: the module is not imported to find its file
    retype(qtbot, field.target_edit, "json.decoder:py_scanstring")
    qtbot.keyClick(field.target_edit, Qt.Key.Key_Return)
    assert field.target() == "json.decoder:py_scanstring"
    assert field.function_combo.count() == 0
    assert not field.function_combo.isEnabled()


def test_a_syntax_error_shows_one_line_and_an_empty_list(qtbot, tmp_path: Path) -> None:
    good = write(tmp_path / "jobs.py", JOBS)
    broken = write(tmp_path / "broken.py", "def ok():\n    pass\n\ndef broken(:\n    pass\n")
    field = make_field(qtbot, good)
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    assert field.function_combo.count() == 3
    field.ask_for_file = lambda: broken
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    assert field.message.isVisible()
    assert field.error_text().startswith(f"{broken}:4: syntax error: ")
    assert "\n" not in field.error_text()
    assert field.function_combo.count() == 0
    # fixed in the editor and picked again: the error goes, the functions come
    write(tmp_path / "broken.py", "def ok():\n    pass\n")
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    assert not field.message.isVisible()
    assert listed(field) == ["ok()"]


def test_a_module_that_exits_or_writes_on_import_is_never_imported(qtbot, tmp_path: Path) -> None:
    marker = tmp_path / "imported.txt"
    path = write(
        tmp_path / "hostile_job.py",
        "import pathlib, sys\n"
        f"pathlib.Path({str(marker)!r}).write_text('imported')\n"
        "print('hello from the import')\n"
        "sys.exit(3)\n\n"
        "def job(x):\n    return x\n\n"
        "def other(x):\n    return x\n",
    )
    field = make_field(qtbot, path)
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    pick(qtbot, field, "job")
    assert field.target() == f"{path}:job"
    field.set_target(f"{path}:other")
    assert field.function_combo.currentData() == "other"
    assert not marker.exists()
    assert "hostile_job" not in sys.modules


def test_recent_targets_keep_the_ten_newest_between_launches(qtbot, tmp_path: Path) -> None:
    field = make_field(qtbot)
    for i in range(12):
        field.remember(f"pkg.mod:job{i}")
    field.remember("pkg.mod:job5")  # used again: moves to the top, not listed twice
    newest = ["pkg.mod:job5", *(f"pkg.mod:job{i}" for i in (11, 10, 9, 8, 7, 6, 4, 3, 2))]
    assert MAX_RECENT == 10
    assert field.recent_targets() == newest
    again = make_field(qtbot)
    assert again.recent_targets() == newest


def test_a_single_recent_target_comes_back_whole(qtbot) -> None:
    target = "C:\\Users\\me, too\\jobs.py:square"  # a comma and backslashes in an INI file
    make_field(qtbot).remember(target)
    assert make_field(qtbot).recent_targets() == [target]


def test_choosing_a_recent_target_commits_it(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.py", JOBS)
    first = make_field(qtbot)
    first.remember("pkg.mod:job")
    first.remember(f"{path}:square")
    field = make_field(qtbot)
    field.target_combo.setFocus()
    with qtbot.waitSignal(field.target_changed, timeout=1000) as signal:
        qtbot.keyClick(field.target_combo, Qt.Key.Key_Down)
    assert signal.args == [f"{path}:square"]
    assert field.function_combo.currentData() == "square"
    assert field.target_edit.text() == f"{path}:square"  # remembering kept what was typed


def test_remembering_keeps_the_text_being_edited(qtbot) -> None:
    field = make_field(qtbot)
    field.set_target("pkg.mod:job")
    field.remember("other.mod:run")
    assert field.target() == "pkg.mod:job"


def test_engine_errors_show_one_line_until_cleared(qtbot) -> None:
    field = make_field(qtbot)
    assert not field.message.isVisible()
    field.show_error("ModuleNotFoundError: No module named 'pkg'\n  (in worker 3)")
    assert field.message.isVisible()
    assert field.error_text() == "ModuleNotFoundError: No module named 'pkg'"
    assert "worker 3" in field.message.toolTip()
    assert field.message.property("role") == "error"  # red, from the theme
    field.clear_error()
    assert not field.message.isVisible()
    assert field.error_text() == ""


def test_an_engine_error_stays_until_the_target_changes(qtbot, tmp_path: Path) -> None:
    path = write(tmp_path / "jobs.py", JOBS)
    field = make_field(qtbot)
    field.set_target(f"{path}:square")
    field.show_error("AttributeError: module 'jobs' has no attribute 'square'")
    field.target_combo.setFocus()
    qtbot.keyClick(field.target_edit, Qt.Key.Key_Return)  # confirmed again, unchanged
    assert field.error_text().startswith("AttributeError")
    retype(qtbot, field.target_edit, f"{path}:_no_doc")
    qtbot.keyClick(field.target_edit, Qt.Key.Key_Return)
    assert field.error_text() == ""


def test_every_control_says_what_it_wants(qtbot) -> None:
    field = make_field(qtbot)
    assert "never in the window" in field.target_combo.toolTip()
    assert "module:function" in field.target_combo.toolTip()
    assert "without importing" in field.browse_button.toolTip()
    assert "without importing" in field.function_combo.toolTip()
    assert field.browse_button.text() == "&Browse…"
    assert field.browse_button.shortcut().toString() == "Alt+B"


def test_tab_goes_from_the_target_to_browse_to_the_functions(qtbot, tmp_path: Path) -> None:
    field = make_field(qtbot, write(tmp_path / "jobs.py", JOBS))
    qtbot.mouseClick(field.browse_button, Qt.MouseButton.LeftButton)
    field.activateWindow()
    qtbot.waitUntil(field.isActiveWindow, timeout=1000)
    field.target_combo.setFocus()
    order = [QApplication.focusWidget()]
    for _ in range(2):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        order.append(QApplication.focusWidget())
    assert order == [field.target_combo, field.browse_button, field.function_combo]

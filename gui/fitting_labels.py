"""Labels that always fit their text: ``ElidedLabel`` keeps its size and cuts, ``WrappingLabel``
keeps its width and takes the height its lines need.

ElidedLabel: a run prints lines of any length (a speed-up against a named baseline, the user's
function and inputs, an error); a plain ``QLabel`` grows with them and pushes the rest of the
window about. This label takes a fixed number of lines from the start, wraps at spaces up to
that many, ends the last one in an ellipsis when the text needs more, and then carries the
whole text in its tooltip. ``text()`` is the whole text; what is painted is the part that fits.

WrappingLabel: a word-wrapped ``QLabel`` relies on its layout asking for its height at its width,
which a form layout inside a splitter does not always do again after the text changed (a
strategy's three-line call was cut to two). This one sets its minimum height to what its text
needs at its width whenever either changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

ELLIPSIS = "…"
MAX_HINT_WIDTH = 2000  # the most it asks for, however long its text
MIN_CHARACTERS = 6  # the narrowest it may be made: a few characters and the ellipsis


def _utf16_slice(text: str, start: int, length: int | None = None) -> str:
    """``text[start:start+length]`` counted in UTF-16 units, as QTextLayout counts."""
    units = text.encode("utf-16-le")
    end = None if length is None else 2 * (start + length)
    return units[2 * start : end].decode("utf-16-le", errors="ignore")


def one_line(text: str) -> str:
    """``text`` with its runs of whitespace, line breaks and indents too, as single spaces:
    how a message's own layout ("RuntimeError:\n        An attempt...") reads in a label."""
    return " ".join(text.split())


def fit_lines(text: str, font: QFont, width: int, lines: int) -> str:
    """``text`` (its runs of whitespace, line breaks too, as single spaces) wrapped at spaces
    into at most ``lines`` lines of ``width`` pixels in ``font``, the last one elided ("…")
    when the whole text needs more; lines joined with newlines."""
    if width <= 0:
        return ""
    metrics = QFontMetrics(font)
    flat = one_line(text)
    if lines <= 1 or metrics.horizontalAdvance(flat) <= width:
        return metrics.elidedText(flat, Qt.TextElideMode.ElideRight, width)
    layout = QTextLayout(flat, font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    out: list[str] = []
    layout.beginLayout()
    try:
        while len(out) < lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            if len(out) == lines - 1:  # the last line allowed: the rest, elided
                rest = _utf16_slice(flat, line.textStart()).strip()
                out.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            else:
                out.append(_utf16_slice(flat, line.textStart(), line.textLength()).rstrip())
    finally:
        layout.endLayout()
    return "\n".join(out)


class ElidedLabel(QLabel):
    """Plain text in a fixed number of lines (``lines``), elided to its width, whole in the
    tooltip when cut (after ``tip``, the label's own explanation, if any)."""

    def __init__(
        self, text: str = "", lines: int = 1, tip: str = "", parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self._lines = max(1, lines)
        self._full = text
        self._tip = tip
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._fit()

    # -- what callers see ----------------------------------------------------------------------
    def text(self) -> str:
        """The whole text, whatever part of it is painted."""
        return self._full

    def setText(self, text: str) -> None:
        """Show ``text`` (as much of it as fits; all of it in the tooltip when it does not)."""
        if text != self._full:
            self._full = text
            self._fit()
            self.updateGeometry()  # its size hint follows the text (its minimum never does)

    def set_tip(self, tip: str) -> None:
        """The label's own explanation, shown in its tooltip above any cut text."""
        self._tip = tip
        self._fit()

    def shown_text(self) -> str:
        """What is painted now (the text, or its start and "…")."""
        return super().text()

    def is_elided(self) -> bool:
        """True when part of the text is not painted (it is then in the tooltip)."""
        return one_line(self.shown_text()) != one_line(self._full)

    # -- size ----------------------------------------------------------------------------------
    def _height(self) -> int:
        margins = self.contentsMargins()
        lines = self.fontMetrics().lineSpacing() * self._lines
        return lines + margins.top() + margins.bottom() + 2 * self.margin()

    def sizeHint(self) -> QSize:
        """The whole text's width over its lines (a layout with room to spare gives it that,
        so a long text is cut only where room is short), its lines' height."""
        margins = self.contentsMargins()
        frame = margins.left() + margins.right() + 2 * self.margin()
        wide = self.fontMetrics().horizontalAdvance(one_line(self._full))
        return QSize(min(-(-wide // self._lines), MAX_HINT_WIDTH) + frame + 2, self._height())

    def minimumSizeHint(self) -> QSize:
        """A few characters wide, its lines high: no text can widen or heighten it."""
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance("M" * (MIN_CHARACTERS - 1) + ELLIPSIS)
        return QSize(width, self._height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the text to the new width."""
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        """A new font (a style sheet's bold, say) measures differently: fit again."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()
            self.updateGeometry()

    def _fit(self) -> None:
        margins = self.contentsMargins()
        width = self.width() - margins.left() - margins.right() - 2 * self.margin()
        shown = fit_lines(self._full, self.font(), width, self._lines)
        if shown != super().text():
            super().setText(shown)
        cut = self.is_elided()
        tip = "\n".join(part for part in (self._tip, self._full if cut else "") if part)
        if tip != self.toolTip():
            self.setToolTip(tip)


class WrappingLabel(QLabel):
    """A word-wrapped label whose minimum height is always what its text needs at its width."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)
        self._fit_height()

    def hasHeightForWidth(self) -> bool:
        """False: its height is set here (its minimum and its size hint), not asked of the
        layout for a width (a form layout asks for another width than it then gives)."""
        return False

    def setText(self, text: str) -> None:
        """Show ``text`` and take the height it needs."""
        super().setText(text)
        self._fit_height()

    def sizeHint(self) -> QSize:
        """QLabel's width, and the height of its lines at the width it has (not at the width
        QLabel would have liked: a form layout takes that height and leaves a gap)."""
        hint = super().sizeHint()
        if self.width() > 0 and self.text():
            hint.setHeight(self.minimumHeight())
        return hint

    def minimumSizeHint(self) -> QSize:
        """QLabel's (its longest word's) width, the height of its lines at its width."""
        hint = super().minimumSizeHint()
        if self.width() > 0 and self.text():
            hint.setHeight(self.minimumHeight())
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        """A new width may need another number of lines."""
        super().resizeEvent(event)
        self._fit_height()

    def changeEvent(self, event: QEvent) -> None:
        """A new font measures differently."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit_height()

    def _fit_height(self) -> None:
        old = self.minimumHeight()
        if old:
            # QLabel's height for a width is never less than its minimum height: measure
            # without the minimum set for the previous text
            self.setMinimumHeight(0)
        needed = self.heightForWidth(self.width()) if self.text() else 0
        self.setMinimumHeight(max(needed, 0))
        if needed != old:
            self.updateGeometry()  # the size hint follows


def message_label(name: str) -> WrappingLabel:
    """A control's one-line problem under it: wrapping, selectable, in the error role, hidden
    until there is something to say."""
    label = WrappingLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setProperty("role", "error")
    label.hide()
    return label


def note_label(name: str) -> WrappingLabel:
    """A control's quiet note under it (a hint, what auto means): wrapping, in the note role."""
    label = WrappingLabel()
    label.setObjectName(name)
    label.setProperty("role", "note")
    return label

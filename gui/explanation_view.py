"""ExplanationView: the chosen strategy explained, from ``resources/strategies/<id>.md``.

Each text stands alone: what the strategy does, what people commonly believe about it and what
is measured instead, what to look for in the live views, and a complete script that runs as
written (its per-item function named ``job``, mapped over ``range(N)``, so that the user's own
names can be written in).
"""

from __future__ import annotations

from PySide6.QtGui import (
    QFontDatabase,
    QFontMetricsF,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from mpscope import resources
from mpscope.gui.control_texts import with_user_names
from mpscope.workers.strategies import STRATEGIES

HEADING_SCALE = {1: 1.3, 2: 1.1, 3: 1.0}
CODE_HANG = 4  # characters a wrapped code line's continuation is indented by


def explanation_markdown(strategy: str, names: tuple[str, str | None] | None = None) -> str:
    """The Markdown text for ``strategy``: its explanation file, or (none, or missing) a short
    stand-in made of its description and call. ``names``: the user's own function and inputs
    (None: range(N)), written into the code blocks in place of ``job`` and ``range(N)``."""
    info = STRATEGIES.get(strategy)
    if info is None:
        return f"# {strategy}\n\nNo explanation is available for this strategy."
    text = f"# {strategy}\n\n{info.description}.\n\n```python\n{info.call}\n```\n"
    try:
        if info.explanation:
            text = resources.read_text(info.explanation)
    except (FileNotFoundError, OSError):
        pass
    return text if names is None else _with_names(text, *names)


def _with_names(markdown: str, function: str, items: str | None) -> str:
    """``markdown`` with the code blocks (between ``` fences) written with the user's names."""
    parts = markdown.split("```")
    for i in range(1, len(parts), 2):  # the odd parts are inside fences
        parts[i] = with_user_names(parts[i], function, items)
    return "```".join(parts)


class ExplanationView(QTextBrowser):
    """Read-only Markdown view of one strategy's explanation; links open in the browser."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("explanationView")
        self.setOpenExternalLinks(True)
        self.setToolTip("")
        self.strategy: str | None = None
        self.names: tuple[str, str | None] | None = None

    def show_strategy(self, strategy: str, names: tuple[str, str | None] | None = None) -> None:
        """Show ``strategy``'s explanation (scrolled to the top), its code written with the
        user's function and inputs when ``names`` gives them."""
        if (strategy, names) == (self.strategy, self.names):
            return
        self.strategy, self.names = strategy, names
        self.setMarkdown(explanation_markdown(strategy, names))
        self._tune_typography()
        self.verticalScrollBar().setValue(0)

    def _tune_typography(self) -> None:
        """Modest headings and compact code: Qt's Markdown defaults suit a page, not a panel.

        A code line longer than the panel is wide wraps at a space, its continuation indented
        (``CODE_HANG`` characters further in), instead of giving the panel a horizontal scroll
        bar; copying it still copies the line as written."""
        base = self.font().pointSizeF()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(base - 1)
        hang = QFontMetricsF(mono).horizontalAdvance(" " * CODE_HANG)
        doc = self.document()
        block = doc.begin()
        while block.isValid():
            level = block.blockFormat().headingLevel()
            fmt = QTextCharFormat()
            if level:
                # the importer sizes headings with FontSizeAdjustment (h1 = +3 steps)
                fmt.setProperty(QTextFormat.Property.FontSizeAdjustment, 0)
                fmt.setFontPointSize(base * HEADING_SCALE.get(level, 1.0))
            elif block.blockFormat().nonBreakableLines():  # a line of a code block
                fmt.setFont(mono)
                fmt.setFontPointSize(base - 1)
                code_line = QTextBlockFormat()
                code_line.setNonBreakableLines(False)
                code_line.setLeftMargin(block.blockFormat().leftMargin() + hang)
                code_line.setTextIndent(-hang)
            else:
                block = block.next()
                continue
            cursor = QTextCursor(block)
            cursor.movePosition(
                QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
            cursor.mergeCharFormat(fmt)
            if level:
                spacing = QTextBlockFormat()
                spacing.setTopMargin(8 if level > 1 else 0)
                spacing.setBottomMargin(4)
                cursor.mergeBlockFormat(spacing)
            else:
                cursor.mergeBlockFormat(code_line)
            block = block.next()

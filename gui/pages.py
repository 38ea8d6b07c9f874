"""Pages: the window's pages as tabs (Live, Counter, Compare), each of which scrolls when the
window is too small for it.

Each page sits in a frameless scroll area that asks its splitter for the page's own minimum
size, so the window shares its room as it would without it (the left column gives way down to
its minimum before a page is squeezed); only when the window is too small for both does the
page scroll, where a plain page would have its right edge cut off (Qt's layouts and pyqtgraph's
keep children at their minimum size and clip them). Callers still see the pages themselves:
``widget``, ``currentWidget``, ``indexOf`` and ``setCurrentWidget`` look through the scroll
areas.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class PageScroll(QScrollArea):
    """A frameless scroll area around one page, asking for the page's own minimum size."""

    def __init__(self, page: QWidget) -> None:
        super().__init__()
        self.setObjectName(f"{page.objectName() or 'page'}Scroll")
        self.setWidgetResizable(True)  # the page fills the tab whenever it fits
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWidget(page)
        page.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        """The page's minimum: what it needs to show without scrolling."""
        page = self.widget()
        if page is None:
            return super().minimumSizeHint()
        return page.minimumSizeHint().expandedTo(page.minimumSize())

    def sizeHint(self) -> QSize:
        """The page's own size hint."""
        page = self.widget()
        return super().sizeHint() if page is None else page.sizeHint()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The page's layout changed: its minimum may have too."""
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)


class Pages(QTabWidget):
    """Tabs whose pages scroll instead of being cut off or squeezed below their minimum."""

    def add_page(self, page: QWidget, title: str) -> int:
        """Add ``page`` under the tab ``title`` (in a scroll area); returns its index."""
        return self.addTab(PageScroll(page), title)

    def widget(self, index: int) -> QWidget | None:
        """The page at ``index`` (not the scroll area holding it)."""
        holder = super().widget(index)
        page = holder.widget() if isinstance(holder, QScrollArea) else None
        return page if page is not None else holder

    def currentWidget(self) -> QWidget:
        """The page on show."""
        page = self.widget(self.currentIndex())
        return page if page is not None else super().currentWidget()

    def indexOf(self, page: QWidget) -> int:
        """The index of ``page`` (-1 if it is not one of the pages)."""
        for index in range(self.count()):
            if self.widget(index) is page:
                return index
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:
        """Show ``page``."""
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)

"""Light and dark: the style sheet's few colours, filled in for the palette in use.

Fusion follows the system's colour scheme by itself; the style sheet (``resources/mpscope.qss``)
only adds what the palette has no role for (error red, success green, state badges), so those
colours come in a light and a dark variant.
"""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from mpscope import resources

# colours the style sheet needs that the palette does not have, per theme
_LIGHT = {
    "error": "#b3261e",
    "ok": "#1b7f3b",
    "running": "#1565c0",
    "warn": "#a15c00",
    "note": "#5f6368",
    "badge_fg": "#ffffff",
}
_DARK = {
    "error": "#ff8a80",
    "ok": "#7bd88f",
    "running": "#82b1ff",
    "warn": "#ffcc80",
    "note": "#a8adb3",
    "badge_fg": "#10141a",
}


def is_dark_palette(palette: QPalette) -> bool:
    """True if the palette's window background is dark."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def style_sheet(dark: bool) -> str:
    """The application's style sheet with the theme's colours filled in."""
    text = resources.read_text("mpscope.qss")
    for name, colour in (_DARK if dark else _LIGHT).items():
        text = text.replace(f"@{name}@", colour)
    return text


def apply_theme(app: QApplication | None = None) -> None:
    """Fill the style sheet's colours for the palette in use (light or dark), if it changed.

    Called at start-up, when the system switches colour scheme, and when the window sees its
    palette change (some platforms only send that).
    """
    found = app or QApplication.instance()
    if not isinstance(found, QApplication):
        return
    app = found
    dark = is_dark_palette(app.palette())
    if app.property("mpscopeDark") != dark:
        app.setProperty("mpscopeDark", dark)
        app.setStyleSheet(style_sheet(dark))

"""Colours shared by every view: one colour per worker, and plots that follow the system palette.

Worker colours come first from the Okabe-Ito palette (distinguishable with the common forms of
colour blindness), without its black and yellow, which vanish on a dark or a light background;
two colours of ColorBrewer's Dark2 and five of tab10 follow. Workers past those reuse them with
the hue turned a little, kept readable on both themes. The total uses the palette's own text
colour, so it reads as "neutral" on either theme.
"""

from __future__ import annotations

from functools import cache

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

WORKER_COLORS = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#7570B3",  # slate violet (Dark2)
    "#A6761D",  # ochre (Dark2)
    "#D62728",  # red (tab10)
    "#8C564B",  # brown (tab10)
    "#E377C2",  # pink (tab10)
    "#BCBD22",  # olive (tab10)
    "#17BECF",  # cyan (tab10)
)
TITLE_POINT_SIZE = 11  # the views' titles (pyqtgraph's own title size)
HUE_STEP = 0.07  # workers past the list reuse it with the hue turned this far per pass
MIN_CONTRAST = 2.0  # WCAG contrast every worker colour keeps against white and near-black
_LIGHT, _DARK = QColor("#ffffff"), QColor("#1e1e1e")


def _luminance(color: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in (color.redF(), color.greenF(), color.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    low, high = sorted((_luminance(a), _luminance(b)))
    return (high + 0.05) / (low + 0.05)


def _readable_on_both(color: QColor) -> QColor:
    """``color`` with its lightness moved towards the middle until it reads on both themes."""
    hue, sat, light = color.hslHueF(), color.hslSaturationF(), color.lightnessF()
    for _step in range(20):
        if min(contrast(color, _LIGHT), contrast(color, _DARK)) >= MIN_CONTRAST:
            break
        light += 0.03 if contrast(color, _DARK) < MIN_CONTRAST else -0.03
        color = QColor.fromHslF(hue, sat, min(max(light, 0.0), 1.0))
    return color


def worker_color(index: int) -> QColor:
    """The colour of worker ``index``: the same in every view and on every theme."""
    return QColor(_worker_color_name(index))  # a copy: the caller may change it


@cache
def _worker_color_name(index: int) -> str:
    """Worker ``index``'s colour as #rrggbb, found once: past the list it takes a few tries to
    keep it readable, and with 64 workers every view asks for every lane's colour."""
    base = QColor(WORKER_COLORS[index % len(WORKER_COLORS)])
    turn = index // len(WORKER_COLORS)
    if not turn:
        return str(base.name())
    hue, sat, light = base.hslHueF(), base.hslSaturationF(), base.lightnessF()
    color = _readable_on_both(QColor.fromHslF((hue + HUE_STEP * turn) % 1.0, sat, light))
    return str(color.name())


def current_palette() -> QPalette:
    """The application's palette (a default one before a QGuiApplication exists)."""
    app = QGuiApplication.instance()
    return QGuiApplication.palette() if app is not None else QPalette()


def is_dark(palette: QPalette | None = None) -> bool:
    """True if the palette's background is dark."""
    pal = palette or current_palette()
    return pal.color(QPalette.ColorRole.Base).lightness() < 128


def total_color(palette: QPalette | None = None) -> QColor:
    """The colour of "all workers together": the palette's text colour, softened a little."""
    pal = palette or current_palette()
    text = pal.color(QPalette.ColorRole.Text)
    base = pal.color(QPalette.ColorRole.Base)
    return blend(text, base, 0.15)


def blend(color: QColor, other: QColor, amount: float) -> QColor:
    """``color`` moved ``amount`` (0..1) of the way towards ``other``."""
    keep = 1.0 - amount
    return QColor(
        round(color.red() * keep + other.red() * amount),
        round(color.green() * keep + other.green() * amount),
        round(color.blue() * keep + other.blue() * amount),
    )


def scaled_font(base: QFont, delta_pt: float) -> QFont:
    """A copy of ``base``, ``delta_pt`` points larger (or smaller, never below 7 pt)."""
    font = QFont(base)
    size = font.pointSizeF()
    if size > 0:
        font.setPointSizeF(max(size + delta_pt, 7.0))
    return font


def style_plot_item(plot: pg.PlotItem, palette: QPalette, font: QFont) -> None:
    """Colour a PlotItem's axes, labels and legend from the palette; readable tick fonts."""
    pal = palette
    fg = pal.color(QPalette.ColorRole.Text)
    axis_pen = pg.mkPen(blend(fg, pal.color(QPalette.ColorRole.Base), 0.35))
    tick_font = scaled_font(font, -1.0)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(axis_pen)
        axis.setTextPen(pg.mkPen(fg))
        axis.setTickFont(tick_font)
        if axis.labelText or axis.labelUnits:
            axis.setLabel(axis.labelText, axis.labelUnits, color=fg.name())
    legend = plot.legend
    if legend is not None:
        back = QColor(pal.color(QPalette.ColorRole.Base))
        back.setAlpha(200)
        legend.setBrush(pg.mkBrush(back))
        legend.setPen(pg.mkPen(blend(fg, back, 0.6)))
        legend.setLabelTextColor(fg)
        for _sample, label in legend.items:
            label.setText(label.text)  # setAttr alone does not re-render an existing label
    title = plot.titleLabel
    if title.text:
        title.setText(title.text, color=fg.name(), size=f"{TITLE_POINT_SIZE}pt")


def style_plot_widget(
    widget: pg.PlotWidget | pg.GraphicsLayoutWidget, palette: QPalette | None = None
) -> None:
    """Give a pyqtgraph widget the palette's background; style its plots and text labels."""
    pal = palette or widget.palette()
    widget.setBackground(pal.color(QPalette.ColorRole.Base))
    if isinstance(widget, pg.PlotWidget):
        style_plot_item(widget.getPlotItem(), pal, widget.font())
        return
    fg = pal.color(QPalette.ColorRole.Text).name()
    for item in widget.ci.items:
        if isinstance(item, pg.PlotItem):
            style_plot_item(item, pal, widget.font())
        elif isinstance(item, pg.LabelItem):
            item.setText(item.text, color=fg)

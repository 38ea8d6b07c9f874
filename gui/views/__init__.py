"""The four live views of a run: throughput, progress, timeline and resources.

Each is built as ``View(model, parent)`` and redrawn by the window's timer through ``refresh()``
(the ``LiveView`` contract, ``live_view``).
"""

from mpscope.gui.views.live_view import LiveView
from mpscope.gui.views.progress_view import ProgressView
from mpscope.gui.views.resources_plot import ResourcesPlot
from mpscope.gui.views.throughput_plot import ThroughputPlot
from mpscope.gui.views.timeline_plot import TimelinePlot

__all__ = ["LiveView", "ProgressView", "ResourcesPlot", "ThroughputPlot", "TimelinePlot"]

"""The four live views of a run: throughput, progress, timeline and resources.

Each is built as ``View(model, parent)`` and redrawn by the window's timer through ``refresh()``.
"""

from mpscope.gui.views.progress_view import ProgressView
from mpscope.gui.views.resources_plot import ResourcesPlot
from mpscope.gui.views.throughput_plot import ThroughputPlot
from mpscope.gui.views.timeline_plot import TimelinePlot

__all__ = ["ProgressView", "ResourcesPlot", "ThroughputPlot", "TimelinePlot"]

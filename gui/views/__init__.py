"""The four live views of a run: throughput, progress, timeline and resources.

Each is built as ``View(model, parent)`` and redrawn by the window's timer through ``refresh()``.
"""

from gui.views.progress_view import ProgressView
from gui.views.resources_plot import ResourcesPlot
from gui.views.throughput_plot import ThroughputPlot
from gui.views.timeline_plot import TimelinePlot

__all__ = ["ProgressView", "ResourcesPlot", "ThroughputPlot", "TimelinePlot"]

"""The compare page: strategies side by side, chunksize and grain sweeps, history, export.

Modules: ``compare_page`` (the page, objectName "compareView"), ``setup_panel`` (what to
compare) and ``planner`` (the plans it makes), ``matrix_driver`` (runs a plan through the
window's RunController), ``results_tabs`` (what is on show), ``charts`` and ``sweep_charts``
(pyqtgraph), ``chart_style`` (colours, labels, axes), ``results_table`` (the sortable runs
table), ``history_panel`` and ``run_history`` (the stored runs), ``export_actions`` (CSV,
JSON, PNG, SVG, import), ``banner``, ``svg_compat``.
"""

from mpscope.gui.compare.compare_page import ComparePage

__all__ = ["ComparePage"]

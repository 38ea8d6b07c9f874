"""OwnJobRows: the controls' rows for the user's own function ("Your function…").

The target (a file's function, picked without importing it), the inputs, and the estimate
measured before a run; shown only while "Your function…" is the workload. The controls panel
asks them for the spec's ``job`` / ``inputs`` and for the names the call and the explanation
are written with.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFormLayout, QLineEdit

from mpscope.gui import control_texts as texts
from mpscope.gui.job_target_field import JobTargetField
from mpscope.gui.naming import named
from mpscope.gui.own_estimate_note import OwnEstimateNote
from mpscope.workers.spec import ResolvedSpec


class OwnJobRows(QObject):
    """The function, inputs and estimate rows of ``form``."""

    # the target or the inputs were committed (picked, typed and confirmed)
    changed = Signal()

    def __init__(self, form: QFormLayout, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._form = form
        self.target_field = named(JobTargetField(), "jobTargetField")
        form.addRow("&Function", self.target_field)
        self.inputs_edit = named(QLineEdit(), "inputsEdit")
        self.inputs_edit.setPlaceholderText("range(N), or a name in the function's module")
        self.inputs_edit.setToolTip(texts.INPUTS_TIP)
        self.inputs_edit.setClearButtonEnabled(True)
        form.addRow("In&puts", self.inputs_edit)
        self.estimate_note = OwnEstimateNote()
        form.addRow("", self.estimate_note)
        self.target_field.target_changed.connect(self._on_changed)
        self.inputs_edit.editingFinished.connect(self._on_changed)

    # -- what the panel reads ------------------------------------------------------------------
    @property
    def target(self) -> str:
        """The function, ``module:function`` or ``file.py:function`` ("" if none yet)."""
        return self.target_field.target().strip()

    @property
    def inputs(self) -> str | None:
        """The inputs as typed (None: range(N))."""
        return self.inputs_edit.text().strip() or None

    def names(self) -> tuple[str, str | None] | None:
        """The function and inputs as the user's code names them (``parse_row``, ``rows``;
        inputs None: range(N)); None while no function is chosen."""
        if ":" not in self.target:
            return None
        inputs = self.inputs
        return self.target.rpartition(":")[2], inputs.rpartition(":")[2] if inputs else None

    def call(self, call: str) -> str:
        """A strategy's call written with the user's names (``your_function`` until one is
        chosen)."""
        function, items = self.names() or ("your_function", None)
        return texts.with_user_names(call, function, items)

    # -- what the panel does to them -----------------------------------------------------------
    def show_rows(self, shown: bool) -> None:
        """Show the rows ("Your function…" is the workload) or hide them."""
        for widget in (self.target_field, self.inputs_edit, self.estimate_note):
            self._form.setRowVisible(widget, shown)

    def apply(self, job: str | None, inputs: str | None) -> None:
        """Show a remembered job and inputs."""
        self.target_field.set_target(job or "")
        self.inputs_edit.setText(inputs or "")

    def show_error(self, message: str) -> None:
        """An error the run's conductor found in the job or its inputs, under the field."""
        self.target_field.show_error(message)

    def remember(self) -> None:
        """A run of the function started: keep its target among the recent ones."""
        if self.target:
            self.target_field.remember(self.target)

    def estimate(self, spec: ResolvedSpec | None, spread: bool) -> None:
        """Measure ``spec``'s job before it runs (nothing to measure: clear the note)."""
        if spec is not None and spec.job is not None:
            self.estimate_note.request(spec, spread)
        else:
            self.estimate_note.clear()

    def _on_changed(self) -> None:
        self.target_field.clear_error()
        self.changed.emit()

"""ControlsPanel: the left column where a user picks what to run, and the Run / Stop buttons.

Everything typed is checked as it is typed, with the engine's own rules (``parse_count``,
``validate_spec``): a bad value gets one line under the field naming it and what is allowed,
and Run stays disabled until it is fixed. Nothing here starts a run; the window connects
``run_action`` / ``stop_action`` to the RunController.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QFontDatabase, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mpscope.gui import choice_combos as combos
from mpscope.gui import control_texts as texts
from mpscope.gui import number_fields as fields
from mpscope.gui.calibration import ItemProposals
from mpscope.gui.fault_section import FaultSection
from mpscope.gui.fitting_labels import message_label, note_label
from mpscope.gui.naming import named
from mpscope.gui.own_job_rows import OwnJobRows
from mpscope.gui.settings import ControlChoices
from mpscope.gui.strategy_options import StrategyOptions
from mpscope.workers.spec import (
    ResolvedSpec,
    RunSpec,
    SpecError,
    cpu_count,
    default_start_method,
)
from mpscope.workers.strategies import STRATEGIES, default_strategy
from mpscope.workers.units import format_count, parse_count
from mpscope.workers.validation import validate_spec
from mpscope.workers.workloads import OWN_WORKLOAD, find_workload

CALL_INDENT = 12  # the strategy's call, under its combo box, a little in from the labels


class ControlsPanel(QWidget):
    """Strategy, workload, size, workers, chunksize, start method, the strategy's own options
    (``StrategyOptions``), a fault to inject; Run, Stop."""

    # fires after any control changed (the spec Run would start, or its validity, changed)
    choices_changed = Signal()
    # fires when the chosen strategy changes; the argument is its id
    strategy_changed = Signal(str)
    # fires when a strategy change forced another workload; the argument says which and why
    workload_notice = Signal(str)
    # the user's function or inputs changed (the explanation's code is written with them)
    job_names_changed = Signal()

    def __init__(self, choices: ControlChoices | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("controlsPanel")
        self.proposals = ItemProposals()
        self._typed_items: dict[str, int] = {}  # workload -> items the user typed
        self._busy = False
        self._spec: ResolvedSpec | None = None
        self._loading = True
        # the worker count of the strategies without a count of their own, and the count last
        # chosen for each strategy with one (shared-counter proposes the seed's 2)
        self._common_workers: int | None = None
        self._own_workers: dict[str, int] = {}
        self._shown_strategy = ""
        self._on_compare = False  # the Compare page is on show (set_compare_shown)
        self._build()
        self.apply_choices(choices or ControlChoices())
        self._loading = False
        self._evaluate()

    # -- construction --------------------------------------------------------------------------
    def _build(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form = form

        self.strategy_combo = named(QComboBox(), "strategyCombo")
        combos.populate_strategies(self.strategy_combo)
        self.strategy_call = note_label("strategyCall")
        code_font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        code_font.setPointSizeF(max(self.font().pointSizeF() - 1, 8.0))  # as the explanation's
        self.strategy_call.setFont(code_font)
        self.strategy_call.setToolTip("The stdlib call this strategy makes, as you would write it")
        self.strategy_call.setIndent(CALL_INDENT)
        form.addRow("&Strategy", self.strategy_combo)
        # the whole row's width (not the field column's): a call's longest word stays whole
        form.addRow(self.strategy_call)

        self.workload_combo = named(QComboBox(), "workloadCombo")
        self.workload_combo.setToolTip(texts.WORKLOAD_TIP)
        combos.populate_workloads(self.workload_combo)
        form.addRow("&Workload", self.workload_combo)

        # the user's own function (workload "Your function…"), its inputs, the estimate
        self.own = OwnJobRows(form, self)

        self.items_edit = named(QLineEdit(), "itemsEdit")
        self.items_edit.setToolTip(texts.ITEMS_TIP)
        self.items_reset = named(QToolButton(), "itemsResetButton")
        self.items_reset.setText("↺")
        self.items_reset.setToolTip("Use the proposed size for this workload")
        items_row = QHBoxLayout()
        items_row.setSpacing(4)
        items_row.addWidget(self.items_edit, 1)
        items_row.addWidget(self.items_reset)
        items_label = QLabel("&Items")
        items_label.setBuddy(self.items_edit)
        form.addRow(items_label, items_row)
        self.items_message = message_label("itemsMessage")
        form.addRow("", self.items_message)

        self.grain_spin = fields.grain_spin()
        form.addRow("&Grain", self.grain_spin)
        self.sleep_spin = fields.sleep_spin()
        form.addRow("S&leep", self.sleep_spin)
        self.workers_spin = fields.workers_spin(cpu_count())
        form.addRow("W&orkers", self.workers_spin)
        self.chunksize_spin = fields.chunksize_spin()
        form.addRow("&Chunksize", self.chunksize_spin)
        self.chunksize_hint = note_label("chunksizeHint")
        form.addRow("", self.chunksize_hint)

        self.start_method_combo = named(QComboBox(), "startMethodCombo")
        combos.populate_start_methods(self.start_method_combo)
        form.addRow("Start &method", self.start_method_combo)

        self.options = StrategyOptions(form, self)

        self.advanced = FaultSection(self)
        self.fault_combo = self.advanced.fault_combo
        self.fault_item_edit = self.advanced.item_edit

        self.run_action = QAction("Run", self)
        self.run_action.setShortcut(QKeySequence("Ctrl+R"))
        self.run_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_action = QAction("Stop", self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.addAction(self.run_action)
        self.addAction(self.stop_action)
        self.run_button = named(QPushButton("▶  Run"), "runButton")
        self.run_button.setDefault(True)
        self.stop_button = named(QPushButton("■  Stop"), "stopButton")
        self.run_button.setToolTip(texts.RUN_TIP)
        self.stop_button.setToolTip(texts.STOP_TIP)
        for button in (self.run_button, self.stop_button):
            button.setMinimumHeight(32)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.run_button.clicked.connect(self.run_action.trigger)
        self.stop_button.clicked.connect(self.stop_action.trigger)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button, 3)
        buttons.addWidget(self.stop_button, 2)
        self.spec_message = message_label("specMessage")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.advanced)
        layout.addLayout(buttons)
        layout.addWidget(self.spec_message)

        self.strategy_combo.currentIndexChanged.connect(self._on_strategy)
        self.workload_combo.currentIndexChanged.connect(self._on_workload)
        self.own.changed.connect(self._on_own_job)
        self.items_edit.textEdited.connect(self._on_items_typed)
        self.items_edit.editingFinished.connect(self._tidy_items_text)
        self.items_reset.clicked.connect(self._reset_items)
        self.grain_spin.valueChanged.connect(self._on_job_parameter)
        self.sleep_spin.valueChanged.connect(self._on_job_parameter)
        for signal in (
            self.workers_spin.valueChanged,
            self.chunksize_spin.valueChanged,
            self.start_method_combo.currentIndexChanged,
            self.advanced.changed,
        ):
            signal.connect(self._evaluate)
        self.options.changed.connect(self._on_option)

    # -- what the window reads -----------------------------------------------------------------
    @property
    def strategy(self) -> str:
        """The chosen strategy id."""
        return str(self.strategy_combo.currentData())

    @property
    def workload(self) -> str:
        """The chosen workload id."""
        return str(self.workload_combo.currentData())

    def spec(self) -> ResolvedSpec | None:
        """The spec Run would start, resolved, or None while some value is invalid."""
        return self._spec

    def problem(self) -> str | None:
        """The one-line reason Run is disabled, if a value is invalid."""
        for label in (self.items_message, self.spec_message):
            if not label.isHidden() and label.text():
                return label.text()
        return self.options.problem()

    def set_compare_shown(self, shown: bool) -> None:
        """The Compare page is on show (or no longer): it chooses the strategies and worker
        counts itself, so Strategy and Workers here are greyed, saying where they are set."""
        if shown != self._on_compare:
            self._on_compare = shown
            self._update_relevance()

    def set_busy(self, busy: bool) -> None:
        """A run is live (Run disabled, Stop enabled) or not."""
        self._busy = busy
        self._update_buttons()
        if busy:
            self.own.estimate_note.pause()
        else:
            self._update_estimate()

    # -- choices (settings) --------------------------------------------------------------------
    def choices(self) -> ControlChoices:
        """The current choices, for the settings store."""
        chunk = self.chunksize_spin.value()
        choices = ControlChoices(
            strategy=self.strategy,
            workload=self.workload,
            items=dict(self._typed_items),
            workers=self.workers_spin.value(),
            chunksize=chunk or None,
            start_method=str(self.start_method_combo.currentData()),
            grain=self.grain_spin.value(),
            sleep_ms=self.sleep_spin.value(),
            job=self.own.target or None,
            inputs=self.own.inputs,
            advanced_open=self.advanced.isExpanded(),
        )
        self.options.store(choices)
        return choices

    def apply_choices(self, c: ControlChoices) -> None:
        """Show ``c`` (unknown or unfit values fall back to the defaults)."""
        was_loading, self._loading = self._loading, True
        try:
            fallback = default_strategy().id
            strategy = (
                c.strategy if c.strategy is not None and c.strategy in STRATEGIES else fallback
            )
            if not combos.select_data(self.strategy_combo, strategy):
                strategy = fallback
                combos.select_data(self.strategy_combo, strategy)
            self._shown_strategy = strategy
            workload = combos.first_fitting_workload(strategy, c.workload)
            self.workload_combo.setCurrentIndex(self.workload_combo.findData(workload))
            combos.apply_fit(strategy, self.workload_combo)
            self._typed_items = {w: n for w, n in c.items.items() if find_workload(w) and n > 0}
            if c.workers is not None:
                self.workers_spin.setValue(c.workers)
            self.chunksize_spin.setValue(c.chunksize or 0)
            method = c.start_method or default_start_method()
            if not combos.select_data(self.start_method_combo, method):
                combos.select_data(self.start_method_combo, default_start_method())
            if c.grain is not None:
                self.grain_spin.setValue(c.grain)
            if c.sleep_ms is not None:
                self.sleep_spin.setValue(c.sleep_ms)
            self.own.apply(c.job, c.inputs)
            if c.advanced_open:
                self.advanced.expand(animate=False)
            self.options.apply(c)
            self._show_items()
            self._update_relevance()
        finally:
            self._loading = was_loading
        self._evaluate()

    def set_proposals(self, proposals: ItemProposals) -> None:
        """New default sizes (after calibration): shown where the user typed no size."""
        self.proposals = proposals
        self._show_items()
        self._evaluate()

    def proposed_items(self) -> int:
        """The proposed size for the current workload and job parameters."""
        return self.proposals.propose(
            self.workload, self.grain_spin.value(), self.sleep_spin.value()
        )

    # -- reactions -----------------------------------------------------------------------------
    def _on_strategy(self) -> None:
        strategy = self.strategy
        if not self._loading and self._shown_strategy in STRATEGIES:
            self._propose_workers(self._shown_strategy, strategy)
        self._shown_strategy = strategy
        combos.apply_fit(strategy, self.workload_combo)
        workload = combos.first_fitting_workload(strategy, self.workload)
        if workload != self.workload:
            self.workload_notice.emit(
                f"{self.workload} does not run under {strategy}: switched to {workload}"
            )
            was_loading, self._loading = self._loading, True
            self.workload_combo.setCurrentIndex(self.workload_combo.findData(workload))
            self._loading = was_loading
            self._show_items()
        self._update_relevance()
        self._evaluate()
        self.strategy_changed.emit(self.strategy)

    def _propose_workers(self, leaving: str, entering: str) -> None:
        """A strategy with its own worker count proposes it (or what was chosen for it last);
        leaving it brings back the count the other strategies had."""
        value = self.workers_spin.value()
        if STRATEGIES[leaving].default_workers is not None:
            self._own_workers[leaving] = value
        else:
            self._common_workers = value
        default = STRATEGIES[entering].default_workers
        if default is not None:
            self.workers_spin.setValue(self._own_workers.get(entering, default))
        elif self._common_workers is not None:
            self.workers_spin.setValue(self._common_workers)

    def _on_option(self) -> None:
        self._update_relevance()  # a scheduler address makes the start method moot
        self._evaluate()

    def _on_workload(self) -> None:
        self._show_items()
        self._update_relevance()
        self._evaluate()

    def _on_own_job(self) -> None:
        self._update_relevance()  # the call shown is written with the function's names
        self._show_items()
        self._evaluate()

    @property
    def own_job(self) -> bool:
        """True while the workload is the user's own function."""
        return self.workload == OWN_WORKLOAD.id

    def job_names(self) -> tuple[str, str | None] | None:
        """The user's function and inputs as their code names them, while "Your function…"
        is the workload (``OwnJobRows.names``); else None."""
        return self.own.names() if self.own_job else None

    def _all_inputs(self) -> bool:
        """The user's own function over inputs with no size typed: every input item."""
        return self.own_job and self.own.inputs is not None

    def _on_job_parameter(self) -> None:
        if self.workload not in self._typed_items:
            self._show_items()  # the proposal depends on grain / sleep
        self._evaluate()

    def _on_items_typed(self, text: str) -> None:
        try:
            self._typed_items[self.workload] = parse_count(text)
        except ValueError:
            self._typed_items.pop(self.workload, None)
        self._evaluate()

    def _tidy_items_text(self) -> None:
        """Show a valid count with thousands separators once the user is done typing."""
        try:
            n = parse_count(self.items_edit.text())
        except ValueError:
            return
        if self.items_edit.text() != format_count(n):
            self.items_edit.setText(format_count(n))
        if self._spec is None or self._spec.items != n:
            self._evaluate()  # text set without typing (a script, an accessibility tool)

    def _reset_items(self) -> None:
        self._typed_items.pop(self.workload, None)
        self._show_items()
        self._evaluate()

    def _show_items(self) -> None:
        n = self._typed_items.get(self.workload)
        if n is None and self._all_inputs():
            self.items_edit.setText("")
            self.items_edit.setPlaceholderText("all the inputs")
            self.items_edit.setToolTip(f"{texts.ITEMS_TIP}\n{texts.OWN_ITEMS_TIP}")
            return
        self.items_edit.setPlaceholderText("")
        self.items_edit.setText(format_count(n if n is not None else self.proposed_items()))
        explanation = self.proposals.explain(
            self.workload, self.grain_spin.value(), self.sleep_spin.value()
        )
        self.items_edit.setToolTip(f"{texts.ITEMS_TIP}\n{explanation}")
        self.items_reset.setToolTip(f"Use the proposed size for this workload ({explanation})")

    def _update_relevance(self) -> None:
        """Show the job parameters only for their workload; disable what does not apply."""
        info = STRATEGIES[self.strategy]
        workload = find_workload(self.workload)
        takes = workload.params.values() if workload is not None else ()
        own = workload is OWN_WORKLOAD
        self.form.setRowVisible(self.grain_spin, "grain" in takes)
        self.form.setRowVisible(self.sleep_spin, "sleep_ms" in takes)
        self.own.show_rows(own)
        self.job_names_changed.emit()
        self.strategy_call.setText(
            texts.breakable_code(self.own.call(info.call) if own else info.call)
        )
        on_compare = self._on_compare
        self.strategy_combo.setEnabled(not on_compare)
        self.strategy_combo.setToolTip(
            texts.chosen_on_compare_tip("strategies", "Strategies")
            if on_compare
            else texts.STRATEGY_TIP
        )
        self.workers_spin.setEnabled(info.multi_worker and not on_compare)
        self.workers_spin.setToolTip(
            texts.chosen_on_compare_tip("worker counts", "Workers")
            if on_compare
            else texts.workers_tip(self.strategy)
        )
        self.chunksize_spin.setEnabled(info.chunked)
        self.chunksize_spin.setToolTip(
            texts.CHUNKSIZE_TIP if info.chunked else f"{self.strategy} takes no chunksize"
        )
        self.options.show_for(self.strategy)
        remote = self.options.uses_scheduler()
        unused = combos.start_method_unused(self.strategy) is not None or remote
        self.start_method_combo.setEnabled(not unused)
        self.start_method_combo.setToolTip(
            texts.REMOTE_START_METHOD_TIP if remote else texts.start_method_tip(self.strategy)
        )

    def _evaluate(self) -> None:
        """Re-check every value; show what is wrong; remember the spec Run would start."""
        if self._loading:
            return
        self._spec = None
        items_problem: str | None = None
        spec_problem: str | None = None
        items: int | None
        try:
            items = parse_count(self.items_edit.text())
        except ValueError as exc:
            items_problem = f"items {exc}"
            items = None
        every_input = self._all_inputs() and not self.items_edit.text().strip()
        if every_input:
            items, items_problem = 0, None  # every input item (counted by the conductor)
        if items is not None and self.own_job and not self.own.target:
            spec_problem = texts.NO_TARGET
        elif items is not None:
            try:
                self._spec = validate_spec(self._raw_spec(None if every_input else items))
            except SpecError as exc:
                message = str(exc)
                if message.startswith("items "):
                    items_problem = message
                else:
                    spec_problem = message
            except ValueError as exc:  # the fault item is not a count
                spec_problem = str(exc)
        if self.options.claim_problem(spec_problem):
            spec_problem = None  # shown under its own field
        self._show_message(self.items_message, items_problem)
        self._show_message(self.spec_message, spec_problem)
        self.items_edit.setProperty("invalid", items_problem is not None)
        self.items_edit.style().polish(self.items_edit)
        self._update_chunk_hint()
        self._update_buttons()
        self._update_estimate()
        self.choices_changed.emit()

    def _update_estimate(self) -> None:
        """Measure the user's function before it runs (its cost per item, the break-even N)."""
        if not self._busy:  # measuring would take CPU from a run: after it
            self.own.estimate(self._spec, STRATEGIES[self.strategy].unpacks_items)

    def shutdown(self) -> None:
        """The window closes: end any measurement under way."""
        self.own.estimate_note.shutdown()

    def _raw_spec(self, items: int | None) -> RunSpec:
        """The spec the controls show, ``items`` None: every item of the user's inputs."""
        own = self.own_job
        return RunSpec(
            strategy=self.strategy,
            workload=self.workload,
            items=items,
            job=self.own.target if own else None,
            inputs=self.own.inputs if own else None,
            workers=self.workers_spin.value(),
            chunksize=self.chunksize_spin.value() or None,
            start_method=str(self.start_method_combo.currentData()),
            grain=self.grain_spin.value(),
            sleep_ms=self.sleep_spin.value(),
            inject=self.advanced.inject(items or 0),
            **self.options.spec_fields(self.strategy),
        )

    @staticmethod
    def _show_message(label: QLabel, text: str | None) -> None:
        label.setText(text or "")
        label.setVisible(bool(text))

    def _update_chunk_hint(self) -> None:
        self.chunksize_hint.setText(
            texts.chunk_hint(self.strategy, self._spec, self.chunksize_spin.value())
        )

    def _update_buttons(self) -> None:
        can_run = not self._busy and self._spec is not None
        self.run_action.setEnabled(can_run)
        self.run_button.setEnabled(can_run)
        self.stop_action.setEnabled(self._busy)
        self.stop_button.setEnabled(self._busy)
        if self._busy:
            self.run_button.setToolTip("A run is in progress: stop it first (Esc)")
        elif self._spec is None:
            self.run_button.setToolTip(f"Fix this first: {self.problem() or 'invalid value'}")
        else:
            self.run_button.setToolTip(texts.RUN_TIP)

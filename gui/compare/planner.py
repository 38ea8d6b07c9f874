"""ComparePlanner: the plans the compare page can run, from its setup and the job on the left.

The job (workload, items, grain or sleep, start method, chunksize) is what the controls panel
shows, without any injected fault; what to compare (strategies, worker counts, repeats) is the
CompareSetup's. Every method raises ``SpecError`` (one line) when the plan cannot run.
"""

from __future__ import annotations

from mpscope.gui.compare.setup_panel import CompareSetup
from mpscope.gui.controls import ControlsPanel
from mpscope.workers.compare import (
    MatrixPlan,
    is_baseline,
    plan_chunksize_sweep,
    plan_grain_sweep,
    plan_matrix,
)
from mpscope.workers.spec import (
    RunSpec,
    SpecError,
    available_start_methods,
    job_label,
    size_label,
)
from mpscope.workers.strategies import (
    STRATEGIES,
    accepted_workloads,
    baseline,
    default_strategy,
)
from mpscope.workers.strategies import why_not as unfit_reason
from mpscope.workers.units import format_count
from mpscope.workers.workloads import WORKLOADS


def job_line(spec: RunSpec) -> str:
    """'square · N=1,000,000 · forkserver · chunksize auto'."""
    parts = [job_label(spec), f"N={size_label(spec)}"]
    workload = WORKLOADS.get(str(spec.workload))
    takes = workload.params.values() if workload else ()
    if "grain" in takes:
        parts.append(f"grain {format_count(spec.grain)}")
    if "sleep_ms" in takes:
        parts.append(f"{spec.sleep_ms:g} ms per item")
    parts.append(str(spec.start_method))
    parts.append(f"chunksize {format_count(spec.chunksize) if spec.chunksize else 'auto'}")
    return " · ".join(parts)


class ComparePlanner:
    """Builds the comparison and the two sweeps the user asked for."""

    def __init__(self, controls: ControlsPanel, setup: CompareSetup) -> None:
        self.controls = controls
        self.setup = setup

    def base_spec(self) -> RunSpec:
        """The job the controls show (chunksize as chosen: auto stays auto), no fault."""
        spec = self.controls.spec()
        if spec is None:
            problem = self.controls.problem() or "a value is invalid"
            raise SpecError(f"fix the controls on the left first: {problem}")
        loop = baseline()
        if unfit_reason(loop, spec.workload) is not None:  # nothing to compare against
            runs = [s.id for s in STRATEGIES.values() if unfit_reason(s, spec.workload) is None]
            fitting = accepted_workloads(loop)
            choices = ", ".join(fitting[:-1]) + f" or {fitting[-1]}" if fitting else "another"
            raise SpecError(
                f"{spec.workload} runs only under {' or '.join(runs)}, and Compare measures "
                f"strategies against {loop.id}, which cannot run it: pick {choices} under "
                "Workload on the left"
            )
        chosen = self.controls.choices()
        # the start method the user chose, not the one the left panel's strategy resolved to:
        # joblib's own "loky" is no start method for the other strategies compared
        method = chosen.start_method if chosen.start_method in available_start_methods() else None
        return spec.replace(inject=None, chunksize=chosen.chunksize, start_method=method)

    def matrix_plan(self) -> MatrixPlan:
        """The checked strategies at every worker count, the loop first."""
        base = self.base_spec()  # first: a job the loop cannot run is the thing to change
        strategies = self.setup.checked_strategies()
        if not strategies:
            raise SpecError("check at least one strategy to compare with the sequential loop")
        return plan_matrix(strategies, self.setup.worker_counts(), base, self.setup.repeats)

    def chunksize_plan(self) -> MatrixPlan:
        """The checked pool strategies (or pool-map) at the most workers, chunksize swept."""
        chunked = [s for s in self.setup.checked_strategies() if STRATEGIES[s].chunked]
        plan = plan_chunksize_sweep(
            self.base_spec(),
            chunked or [default_strategy().id],
            workers=max(self.setup.worker_counts()),
            repeats=self.setup.repeats,
        )
        if len(plan.cells) < 2:
            reasons = "; ".join(s.reason for s in plan.skipped) or "no pool strategy fits"
            raise SpecError(f"nothing to sweep: {reasons}")
        return plan

    def grain_plan(self) -> MatrixPlan:
        """The checked strategies (or pool-map) on heavy at the most workers, grain swept."""
        plan = plan_grain_sweep(
            self.setup.checked_strategies() or [default_strategy().id],
            workers=max(self.setup.worker_counts()),
            repeats=self.setup.repeats,
            base=self.base_spec(),
        )
        if all(is_baseline(cell.strategy) for cell in plan.cells):
            reasons = "; ".join(s.reason for s in plan.skipped) or "no strategy fits"
            raise SpecError(f"nothing to sweep: {reasons}")
        return plan

    def plan(self, kind: str) -> MatrixPlan:
        """The plan of ``kind``: "matrix", "chunksize" or "grain"."""
        make = {
            "matrix": self.matrix_plan,
            "chunksize": self.chunksize_plan,
            "grain": self.grain_plan,
        }[kind]
        return make()

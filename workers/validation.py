"""validate_spec: a RunSpec checked against its strategy and workload, into a ResolvedSpec.

Every check says what is wrong in one line naming the bad value and what is allowed
(SpecError). The facts checked come from the strategy and the workload themselves (the
registry); a strategy's own options are checked by the strategy (``resolve_options``).
"""

from __future__ import annotations

import dataclasses

from mpscope.workers.optional import unavailable_reason
from mpscope.workers.spec import (
    INJECT_KINDS,
    MAX_GRAIN,
    MAX_SLEEP_MS,
    ResolvedSpec,
    RunSpec,
    SpecError,
    available_start_methods,
    cpu_count,
    default_start_method,
    did_you_mean,
    max_workers,
)
from mpscope.workers.strategies import (
    UnknownStrategy,
    all_strategies,
    default_strategy,
    get_strategy,
    why_not,
)
from mpscope.workers.strategy import Strategy
from mpscope.workers.target_scan import TargetScanError, split_target
from mpscope.workers.units import format_bytes, format_count
from mpscope.workers.workloads import OWN_WORKLOAD, WORKLOADS, Workload

MEMORY_HEADROOM = 0.7  # share of available memory a full result list may take
MIN_TICK_S, MAX_TICK_S = 0.005, 1.0


def _available_memory() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001  # pragma: no cover - psutil is a dependency; be safe anyway
        return 2**34


def _check_memory(strategy: Strategy, items: int) -> None:
    per_item = strategy.result_bytes_per_item
    if not per_item:
        return
    budget = int(_available_memory() * MEMORY_HEADROOM)
    need = items * per_item
    if need > budget:
        allowed = budget // per_item
        raise SpecError(
            f"items {format_count(items)} needs about {format_bytes(need)} for {strategy.id}'s "
            f"full result list and {format_bytes(budget)} can be spared: allowed up to "
            f"{format_count(allowed)} (pool-imap, process and sequential stream and have no limit)"
        )


def _check_inject(spec: RunSpec, items: int) -> None:
    if spec.inject is None:
        return
    kind, sep, at = spec.inject.partition("@")
    ok = sep == "@" and kind in INJECT_KINDS and at.isdigit() and int(at) < items
    if not ok:
        raise SpecError(
            f"inject {spec.inject!r} is invalid: allowed raise@ITEM, exit@ITEM or kill@ITEM "
            f"with 0 <= ITEM < {format_count(items)}"
        )


def _check_tasks(strategy: Strategy, items: int, chunksize: int | None) -> None:
    """Bound the task count where the strategy needs it."""
    if strategy.max_tasks is None or chunksize is None:
        return
    tasks = -(-items // chunksize)
    if tasks > strategy.max_tasks:
        raise SpecError(
            f"chunksize {format_count(chunksize)} makes {format_count(tasks)} {strategy.id} "
            f"tasks: allowed up to {format_count(strategy.max_tasks)} tasks, i.e. chunksize >= "
            f"{format_count(-(-items // strategy.max_tasks))} for {format_count(items)} items"
        )


def _strategy_of(spec: RunSpec) -> Strategy:
    if spec.strategy is None:
        return default_strategy()
    try:
        return get_strategy(spec.strategy)
    except UnknownStrategy as exc:
        raise SpecError(str(exc)) from None


def _start_method(spec: RunSpec, strategy: Strategy) -> str:
    start_method = spec.start_method or default_start_method()
    # a spec validated before already names what really starts its workers (joblib: loky)
    own = strategy.own_start_method
    if start_method != own and start_method not in available_start_methods():
        raise SpecError(
            f"start method {start_method!r} is not available"
            f"{did_you_mean(start_method, available_start_methods())}: allowed "
            f"{', '.join(available_start_methods())}"
        )
    return own or start_method  # what really starts its workers, reported as such


def _others_options_reset(strategy: Strategy) -> dict[str, object]:
    """The other strategies' option fields at their defaults: this one ignores them."""
    own = {option.field for option in strategy.options}
    defaults = {f.name: f.default for f in dataclasses.fields(RunSpec)}
    return {
        option.field: defaults[option.field]
        for other in all_strategies().values()
        for option in other.options
        if option.field not in own
    }


def _inputs_of(spec: RunSpec) -> str | None:
    """The inputs in full: a bare name (``rows``) is one in the job's own module."""
    inputs = spec.inputs.strip() if spec.inputs else None
    if inputs and ":" not in inputs and inputs.isidentifier() and spec.job and ":" in spec.job:
        return f"{spec.job.rpartition(':')[0]}:{inputs}"
    return inputs or None


def _workload_of(spec: RunSpec, strategy: Strategy) -> Workload:
    if spec.job is None:
        if spec.inputs is not None:
            raise SpecError(f"inputs {spec.inputs!r} need a job: add --job module:function")
        workload_id = spec.workload or strategy.default_workload
        workload = WORKLOADS.get(workload_id)
        if workload is None:
            raise SpecError(
                f"unknown workload {workload_id!r}{did_you_mean(workload_id, WORKLOADS)}: "
                f"allowed {', '.join(WORKLOADS)}"
            )
        return workload
    for text, what in ((spec.job, "job"), (_inputs_of(spec), "inputs")):
        if text is None:
            continue
        try:
            split_target(text)  # the form only: the module is imported by the conductor
        except TargetScanError as exc:
            raise SpecError(f"{what}: {exc}") from None
    if spec.inject is not None:
        raise SpecError(f"inject {spec.inject!r} works on the built-in workloads only, not a job")
    return OWN_WORKLOAD


def validate_spec(spec: RunSpec) -> ResolvedSpec:
    """Check ``spec`` and return it with every default resolved (a ResolvedSpec is returned
    as it is: it was validated already).

    Raises SpecError with one line naming the bad value and what is allowed.
    """
    if isinstance(spec, ResolvedSpec):
        return spec
    strategy = _strategy_of(spec)
    missing = unavailable_reason(strategy.id)
    if missing:
        raise SpecError(missing)
    workload = _workload_of(spec, strategy)
    reason = why_not(strategy, workload)
    if reason:
        raise SpecError(reason)

    items = workload.default_items if spec.items is None else spec.items
    if spec.inputs is not None and not spec.items:
        # every item of the inputs (None, or 0 in a spec resolved so): counted in the
        # conductor, the only process of mpscope that imports them
        items = 0
    elif not isinstance(items, int) or items < 1:
        raise SpecError(f"items {items} is too small: allowed 1 or more")
    _check_memory(strategy, items)

    workers = (strategy.default_workers or cpu_count()) if spec.workers is None else spec.workers
    if not isinstance(workers, int) or not 1 <= workers <= max_workers():
        raise SpecError(
            f"workers {workers} is out of range: allowed 1..{max_workers()} "
            f"(8 x {cpu_count()} cores)"
        )
    if not strategy.multi_worker:
        workers = 1

    chunksize = spec.chunksize
    if chunksize is not None and (not isinstance(chunksize, int) or chunksize < 1):
        raise SpecError(f"chunksize {chunksize} is invalid: allowed 1 or more, or auto")
    if not strategy.chunked:
        chunksize = None
    elif chunksize is None and items:  # items 0 (all the inputs): auto in the conductor
        chunksize = strategy.auto_chunksize(items, workers)

    start_method = _start_method(spec, strategy)
    if not 0 <= spec.grain <= MAX_GRAIN:
        raise SpecError(
            f"grain {spec.grain} is out of range: allowed 0..{format_count(MAX_GRAIN)} "
            "iterations per item"
        )
    if not 0 <= spec.sleep_ms <= MAX_SLEEP_MS:
        raise SpecError(f"sleep {spec.sleep_ms} ms is out of range: allowed 0..{MAX_SLEEP_MS:g} ms")
    if not MIN_TICK_S <= spec.tick_s <= MAX_TICK_S:
        raise SpecError(
            f"tick {spec.tick_s} s is out of range: allowed {MIN_TICK_S:g}..{MAX_TICK_S:g} s"
        )
    _check_inject(spec, items)
    _check_tasks(strategy, items, chunksize)
    options = {**_others_options_reset(strategy), **strategy.resolve_options(spec, items, workers)}
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(RunSpec)}
    values.update(
        strategy=strategy.id,
        workload=workload.id,
        inputs=_inputs_of(spec),
        items=items,
        workers=workers,
        chunksize=chunksize,
        start_method=start_method,
        **options,
    )
    return ResolvedSpec(**values, strategy_module=strategy.module)

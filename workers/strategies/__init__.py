"""The strategy registry: every strategy mpscope knows, in the order the app lists them.

Each module named in ``BUILT_IN`` declares its ``Strategy`` objects in ``STRATEGIES`` (a tuple)
and keeps its heavy imports (Dask, joblib) inside its functions, so listing and validating
import none of them. ``register`` adds one more at run time (a plugin, or a test's throwaway);
the spec a run is validated into names the module that declares its strategy, so the run's
conductor (another process) finds it too.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping

from mpscope.workers.spec import did_you_mean
from mpscope.workers.strategy import Strategy
from mpscope.workers.workloads import WORKLOADS, Workload, find_workload

BUILT_IN = (
    "mpscope.workers.strategies.sequential",
    "mpscope.workers.strategies.process_split",
    "mpscope.workers.strategies.pool_map",
    "mpscope.workers.strategies.thread_pool",
    "mpscope.workers.strategies.executor",
    "mpscope.workers.strategies.shared_counter",
    "mpscope.workers.strategies.dask_cluster",
    "mpscope.workers.strategies.joblib_loky",
)

_registry: dict[str, Strategy] = {}
_lock = threading.Lock()


class UnknownStrategy(KeyError):
    """No strategy has this id (str(): one line naming it and the ids there are)."""

    def __str__(self) -> str:
        wrong, ids = str(self.args[0]), all_strategies()
        return f"unknown strategy {wrong!r}{did_you_mean(wrong, ids)}: allowed {', '.join(ids)}"


def _load_built_in() -> None:
    with _lock:
        if _registry:
            return
        for name in BUILT_IN:
            module = importlib.import_module(name)
            for strategy in module.STRATEGIES:
                _registry[strategy.id] = _declared_in(strategy, name)


def _declared_in(strategy: Strategy, module: str) -> Strategy:
    """``strategy`` with the module that declares it noted (the conductor imports it)."""
    object.__setattr__(strategy, "module", strategy.module or module)
    return strategy


def register(strategy: Strategy, module: str) -> Strategy:
    """Add ``strategy``, declared in ``module`` (importable by its name), to the registry."""
    _load_built_in()
    with _lock:
        _registry[strategy.id] = _declared_in(strategy, module)
    return strategy


def unregister(strategy_id: str) -> None:
    """Remove a strategy added with ``register`` (built-in ones stay)."""
    with _lock:
        strategy = _registry.get(strategy_id)
        if strategy is not None and strategy.module not in BUILT_IN:
            del _registry[strategy_id]


def all_strategies() -> dict[str, Strategy]:
    """Every strategy, by id, in the order the app lists them."""
    _load_built_in()
    return dict(_registry)


class _Registry(Mapping[str, Strategy]):
    """A read-only, live view of the registry: id -> Strategy, in the app's order."""

    def __getitem__(self, strategy_id: str) -> Strategy:
        return all_strategies()[strategy_id]

    def __iter__(self) -> Iterator[str]:
        return iter(all_strategies())

    def __len__(self) -> int:
        return len(all_strategies())


STRATEGIES: Mapping[str, Strategy] = _Registry()


def get_strategy(strategy_id: str, module: str = "") -> Strategy:
    """The strategy ``strategy_id``; ``module`` (where it is declared) is imported if it is
    not registered yet, as a run's conductor must for a strategy registered by its caller.
    Raises UnknownStrategy."""
    _load_built_in()
    strategy = _registry.get(strategy_id)
    if strategy is None and module:
        importlib.import_module(module)  # its import registers it
        strategy = _registry.get(strategy_id)
    if strategy is None:
        raise UnknownStrategy(strategy_id)
    return strategy


def _the_one(role: str) -> Strategy:
    found = [s for s in all_strategies().values() if getattr(s, role)]
    if len(found) != 1:
        raise LookupError(f"exactly one strategy must be the {role}, not {len(found)}")
    return found[0]


def baseline() -> Strategy:
    """The strategy every other is compared with (the plain for-loop)."""
    return _the_one("baseline")


def default_strategy() -> Strategy:
    """What a fresh window, ``mpscope run`` and a sweep start with."""
    return _the_one("default")


def why_not(strategy: Strategy | str, workload: Workload | str) -> str | None:
    """Why ``strategy`` cannot run ``workload`` (one line), or None if the pair fits."""
    s = strategy if isinstance(strategy, Strategy) else all_strategies().get(strategy)
    w = workload if isinstance(workload, Workload) else find_workload(workload)
    if s is None or w is None:
        return None
    if w.shared_state and not s.shares_state:
        sharing = [t.id for t in all_strategies().values() if t.shares_state]
        return (
            f"{w.id} changes one shared value ({w.description.split(' on ')[0]}) and {s.id} "
            f"does not share one; use {', '.join(sharing)}"
        )
    return s.why_not(w)


def accepted_workloads(strategy: Strategy | str) -> list[str]:
    """The workloads ``strategy`` can run, in the registry's order."""
    return [w for w in WORKLOADS if why_not(strategy, w) is None]

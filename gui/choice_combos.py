"""The strategy, workload and start-method combo boxes: their items, tooltips and fit rules.

The strategy leads: a workload that cannot run under the chosen strategy
(``mpscope.workers.strategies.why_not``) stays listed but disabled, with the reason as the item's
tooltip, so a user sees *why* rather than wondering where an option went. (Disabling both ways
would lock some pairs out for good: shared-counter runs only ``increment``, which no other
strategy runs.) A strategy whose optional packages are missing is disabled the same way, its
tooltip saying what to install.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox

from mpscope.workers.optional import unavailable_reason
from mpscope.workers.spec import available_start_methods, default_start_method
from mpscope.workers.strategies import STRATEGIES
from mpscope.workers.strategies import why_not as unfit_reason
from mpscope.workers.workloads import OWN_WORKLOAD, WORKLOADS, find_workload


def start_method_unused(strategy: str) -> str | None:
    """Why the start method does not apply to ``strategy``, or None if it does."""
    info = STRATEGIES[strategy]
    if not info.starts_processes:
        return info.no_processes_note or f"{info.id} starts no worker processes"
    if info.own_start_method:
        return (
            f"{info.id} starts its workers its own way ({info.own_start_method}), "
            "whatever the start method says"
        )
    return None


START_METHOD_TIPS = {
    "fork": "fork: the child is a copy of the parent (fast; unsafe beside threads, and "
    "no longer the default on Linux from Python 3.14)",
    "forkserver": "forkserver: a clean server process forks each worker (safe beside "
    "threads, cheap per worker)",
    "spawn": "spawn: each worker is a fresh interpreter that imports your module "
    "(slowest start, the default on macOS and Windows)",
}


def _item(combo: QComboBox, index: int) -> QStandardItem:
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(index)
    assert item is not None
    return item


def populate_strategies(combo: QComboBox) -> None:
    """One item per strategy id, its description and call as the tooltip; unavailable ones
    (an optional extra is missing) disabled, saying what to install."""
    combo.clear()
    for info in STRATEGIES.values():
        combo.addItem(info.id, info.id)
        missing = unavailable_reason(info.id)
        item = _item(combo, combo.count() - 1)
        item.setToolTip(f"not available: {missing}" if missing else strategy_tip(info.id))
        item.setEnabled(missing is None)


def strategy_tip(strategy: str) -> str:
    """What a strategy is, in one tooltip."""
    info = STRATEGIES[strategy]
    return f"{info.description}\n{info.call}"


OWN_FUNCTION_LABEL = "Your function…"


def workload_tip(workload: str) -> str:
    """What a workload computes, in one tooltip."""
    w = find_workload(workload)
    assert w is not None, workload
    if w is OWN_WORKLOAD:
        return (
            "Run your own function: pick a .py file and one of its functions (and, if you "
            "like, its inputs)\nresults checked against the plain loop's, item by item"
        )
    check = f"the closed form {w.formula}" if w.formula else "the sequential loop's results"
    return f"{w.description}\nresult checked against {check}"


def populate_workloads(combo: QComboBox) -> None:
    """One item per workload id, its description as the tooltip; last, the user's own
    function."""
    combo.clear()
    for w in WORKLOADS.values():
        combo.addItem(w.id, w.id)
        combo.setItemData(combo.count() - 1, workload_tip(w.id), Qt.ItemDataRole.ToolTipRole)
    combo.insertSeparator(combo.count())
    combo.addItem(OWN_FUNCTION_LABEL, OWN_WORKLOAD.id)
    combo.setItemData(combo.count() - 1, workload_tip(OWN_WORKLOAD.id), Qt.ItemDataRole.ToolTipRole)


def populate_start_methods(combo: QComboBox) -> None:
    """The platform's start methods, the default one marked."""
    combo.clear()
    default = default_start_method()
    for method in available_start_methods():
        label = f"{method} (default)" if method == default else method
        combo.addItem(label, method)
        combo.setItemData(
            combo.count() - 1, START_METHOD_TIPS.get(method, method), Qt.ItemDataRole.ToolTipRole
        )


def apply_fit(strategy: str, workloads: QComboBox) -> None:
    """Disable the workloads ``strategy`` cannot run, each with the reason as its tooltip."""
    for i in range(workloads.count()):
        w = workloads.itemData(i)
        if w is None:
            continue  # the separator before the user's own function
        reason = unfit_reason(strategy, w)
        item = _item(workloads, i)
        item.setEnabled(reason is None)
        item.setToolTip(f"not available with {strategy}: {reason}" if reason else workload_tip(w))


def item_enabled(combo: QComboBox, index: int) -> bool:
    """True if the combo's item ``index`` can be chosen."""
    return _item(combo, index).isEnabled()


def select_data(combo: QComboBox, value: object) -> bool:
    """Make the item whose data is ``value`` current; False if there is none or it is disabled."""
    index = combo.findData(value)
    if index < 0 or not item_enabled(combo, index):
        return False
    combo.setCurrentIndex(index)
    return True


def first_fitting_workload(strategy: str, preferred: str | None) -> str:
    """``preferred`` if it fits ``strategy``, else the strategy's own default workload, else
    the first workload that fits."""
    if preferred and find_workload(preferred) and unfit_reason(strategy, preferred) is None:
        return preferred
    default = STRATEGIES[strategy].default_workload
    if default in WORKLOADS and unfit_reason(strategy, default) is None:
        return default
    return next(w for w in WORKLOADS if unfit_reason(strategy, w) is None)

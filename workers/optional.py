"""Strategies that need an optional extra: are its packages installed, and how to get them.

The check looks for the packages without importing them (``importlib.util.find_spec``), so
listing strategies stays fast and never drags Dask into the GUI or the CLI process.
"""

from __future__ import annotations

import importlib.util

from mpscope.workers.strategies import all_strategies


def install_command(extra: str) -> str:
    """The command that installs mpscope's optional ``extra``."""
    return f"pip install 'mpscope[{extra}]'"


def module_installed(name: str) -> bool:
    """True if the top-level module ``name`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(strategy: str) -> list[str]:
    """The modules ``strategy`` needs that are not installed (empty: it can run)."""
    info = all_strategies().get(strategy)
    if info is None:
        return []
    return [name for name in info.requires if not module_installed(name)]


def is_available(strategy: str) -> bool:
    """True if every package ``strategy`` needs is installed."""
    return not missing_modules(strategy)


def unavailable_reason(strategy: str) -> str | None:
    """One line saying what ``strategy`` lacks and how to install it, or None if it can run."""
    missing = missing_modules(strategy)
    if not missing:
        return None
    info = all_strategies()[strategy]
    what = " and ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"strategy {strategy} needs {what}, which {verb} not installed: "
        f"install them with {install_command(info.extra)}"
    )

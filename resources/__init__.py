"""Package data for mpscope: style sheet, icons and the per-strategy explanations."""

from __future__ import annotations

from importlib import resources as _resources


def read_text(name: str) -> str:
    """The text of resource ``name`` (a path relative to this package)."""
    return _resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def path_of(name: str) -> str:
    """A filesystem path for resource ``name`` (installed packages are plain directories)."""
    return str(_resources.files(__name__).joinpath(name))

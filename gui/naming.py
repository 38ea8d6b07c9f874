"""named(): a Qt object with its object name, in one expression.

Tests, the style sheet and accessibility tools find widgets by their object names. PySide
accepts ``objectName=`` in any constructor, but type checkers know only the constructors'
own arguments: this keeps the name next to the construction and the checkers informed.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

Q = TypeVar("Q", bound=QObject)


def named(obj: Q, name: str) -> Q:
    """``obj`` with ``objectName`` set to ``name``."""
    obj.setObjectName(name)
    return obj

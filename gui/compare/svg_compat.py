"""Makes pyqtgraph's SVGExporter work with Qt 6.10 and later.

Newer Qt SVG generators close paths with a bare "Z" command; pyqtgraph 0.14's
``correctCoordinates`` expects every token of a path to be an "x,y" pair and fails on it
(pyqtgraph issue #3485). ``allow_closepath()`` wraps that function once: the "Z" tokens are
taken out, the coordinates are corrected as before (one token in, one token out), and the "Z"
tokens are put back where they were. Nothing changes for paths without "Z".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

CLOSE_COMMANDS = ("Z", "z")


def _with_closepath(correct: Callable[..., Any]) -> Callable[..., Any]:
    def correct_coordinates(node: Any, defs: Any, item: Any, options: Any) -> Any:
        closed: list[tuple[Any, list[int]]] = []
        for path in node.getElementsByTagName("path"):
            tokens = path.getAttribute("d").split()
            where = [i for i, token in enumerate(tokens) if token in CLOSE_COMMANDS]
            if where:
                path.setAttribute("d", " ".join(t for t in tokens if t not in CLOSE_COMMANDS))
                closed.append((path, where))
        result = correct(node, defs, item, options)
        for path, where in closed:
            tokens = path.getAttribute("d").split()
            for i in where:
                tokens.insert(i, "Z")
            path.setAttribute("d", " ".join(tokens))
        return result

    correct_coordinates.mpscope_closepath = True  # type: ignore[attr-defined]
    return correct_coordinates


def allow_closepath() -> None:
    """Let pyqtgraph's SVG export read paths closed with "Z" (idempotent)."""
    module: Any = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    current = module.correctCoordinates
    if not getattr(current, "mpscope_closepath", False):
        module.correctCoordinates = _with_closepath(current)

"""The contract between the window and its live views, and the bookkeeping they share.

The window redraws one view per tick of its paced timer (``RedrawPacer``) by calling its
``refresh()``; a view must return at once when it has nothing new to draw. Every view starts
``refresh()`` the same way: a new run (the model's ``generation`` moved on) clears what it drew
for the last one, and a run that is over and already drawn needs nothing. ``ModelWatch`` keeps
that in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from mpscope.gui.run_model import RunModel


@runtime_checkable
class LiveView(Protocol):
    """A view of the run the window redraws on its timer."""

    def refresh(self) -> None:
        """Redraw from the model if anything changed (cheap when nothing did)."""
        ...


class ModelWatch:
    """Which run (``generation``) and which ``version`` of the model a view last drew."""

    def __init__(self, model: RunModel) -> None:
        self.model = model
        self.generation = model.generation
        self.drawn_version = -1

    def begin(self, clear: Callable[[], None]) -> bool:
        """The start of every ``refresh()``: ``clear()`` the view if a new run began; False
        if there is nothing to do (the run is over and its last version is drawn)."""
        if self.model.generation != self.generation:
            clear()
            self.generation = self.model.generation
            self.drawn_version = -1
        return self.changed or self.model.live

    @property
    def changed(self) -> bool:
        """True if the model changed since the view last drew it."""
        return self.model.version != self.drawn_version

    def drew(self) -> None:
        """The view has drawn the model as it is now."""
        self.drawn_version = self.model.version

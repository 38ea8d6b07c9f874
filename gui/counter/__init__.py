"""The Counter page: the shared counter (the seed's In [20]) animated, and its verdict."""

from gui.counter.view import CounterView

__all__ = ["CounterView"]

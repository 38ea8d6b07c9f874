"""The Counter page: the shared counter (the seed's In [20]) animated, and its verdict."""

from mpscope.gui.counter.view import CounterView

__all__ = ["CounterView"]

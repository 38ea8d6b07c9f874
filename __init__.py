"""mpscope: see what Python's parallel strategies really do, live, measured and checked.

One import package with three parts, kept as folders at the repository's top and mapped here
by pyproject.toml (``package-dir``): ``mpscope.workers``, the engine (never imports Qt),
``mpscope.gui``, the window over it, and ``mpscope.resources``, the package data. The command
line is ``mpscope`` or ``python -m mpscope``.
"""

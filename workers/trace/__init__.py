"""``mpscope trace``: watch an unmodified program's pools and processes, live, at small cost.

The program runs as it would alone; a ``sitecustomize`` on its ``PYTHONPATH`` (``bootstrap/``)
loads ``hooks`` into every Python process of it, and the hooks report pools, calls, chunks and
processes as ``packets`` through a local socket to the ``recorder``, which writes a Chrome
trace (``chrome``) and feeds the window. Nothing here imports Qt.
"""

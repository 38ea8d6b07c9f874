"""The window of ``mpscope trace`` and ``mpscope open``: a traced program's pools, live or
replayed."""

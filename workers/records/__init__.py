"""What runs leave behind: the history store (SQLite) and the exported files (CSV, JSON).

Above the comparison in the engine's layers: the history keeps run records, export writes
them with their summaries; neither is needed to run anything.
"""

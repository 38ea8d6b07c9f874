"""Steps the ``mpscope trace`` tests share: telling the program's stderr from mpscope's own."""

from __future__ import annotations


def split_stderr(stderr: str) -> tuple[str, list[str]]:
    """(the program's stderr, mpscope's closing lines): mpscope writes only at the end, each
    of its lines starting "mpscope: "."""
    lines = stderr.splitlines(keepends=True)
    cut = len(lines)
    while cut and lines[cut - 1].startswith("mpscope: "):
        cut -= 1
    return "".join(lines[:cut]), [line.rstrip("\n") for line in lines[cut:]]

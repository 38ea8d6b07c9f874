"""Where in the program a pool was made or called: its own file and line, and what it says there.

A label names the program's line, not the standard library's: the frame looked for is the
first one, walking out from the hook, whose file is neither the standard library's (Python's
own ``lib/pythonX.Y``, its site-packages excepted: a library the program uses is part of the
program) nor mpscope's hooks. So ``Pool(4)`` called through ``multiprocessing.Pool`` or inside
``with`` names the user's line, and ``loop.run_in_executor`` names the line that called it.

``call_text`` cuts the call itself out of that line's source (``pool.map(parse, rows)`` from
``results = pool.map(parse, rows)  # parse all``), reading on over the next lines when the call
spans several, and falls back to the stripped line (or to ``fallback`` without a source).
"""

from __future__ import annotations

import linecache
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

LABEL_CHARS = 80  # a call's text is cut to about this many characters
MORE_LINES = 20  # a call spanning lines is read on for at most this many

_STDLIB = os.path.dirname(os.__file__) + os.sep
_HOOKS = os.path.dirname(os.path.abspath(__file__)) + os.sep
_THIRD_PARTY = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)
_internal_files: dict[str, bool] = {}


def is_internal(filename: str) -> bool:
    """True for a file of the standard library or of mpscope's hooks (cached per file)."""
    internal = _internal_files.get(filename)
    if internal is None:
        if filename.startswith("<"):
            internal = filename.startswith("<frozen")  # "<string>", "<stdin>": the program's
        elif filename.startswith(_HOOKS):
            internal = True
        else:
            internal = filename.startswith(_STDLIB) and not any(
                part in filename for part in _THIRD_PARTY
            )
        _internal_files[filename] = internal
    return internal


def program_frame() -> tuple[FrameType | None, FrameType | None]:
    """The program's frame nearest to the caller, and the frame it called (the entry point
    into the standard library: ``map``, ``Pool``...; None if the caller is the program's).

    (None, ...) if every frame is internal (code run by the standard library alone)."""
    try:
        frame: FrameType | None = sys._getframe(1)
    except ValueError:
        return None, None
    entry = None
    while frame is not None and is_internal(frame.f_code.co_filename):
        entry = frame
        frame = frame.f_back
    return frame, entry


def where(frame: FrameType | None) -> tuple[str, int]:
    """(file, line) of ``frame``: ("?", 0) without one."""
    if frame is None:
        return "?", 0
    return frame.f_code.co_filename, frame.f_lineno or 0


def short_place(file: str, line: int) -> str:
    """``etl.py:42``: the file's base name and the line."""
    return f"{os.path.basename(file) or file}:{line}"


def call_text(file: str, line: int, method: str, fallback: str) -> str:
    """The call of ``method`` on ``file``'s ``line``, as the program wrote it, cut to
    ``LABEL_CHARS``; the stripped line if the call is not found there; ``fallback`` without
    a source."""
    source = linecache.getline(file, line) if line > 0 else ""
    text = source.strip()
    if not text:
        return fallback
    found = _find_call(text, method)
    if found is None:
        return cut(text)
    start, open_paren = found
    end = _closing(text, open_paren)
    if end is None:
        # the call goes on over the next lines: join them (stripped) until it closes
        joined = text
        for more in range(1, MORE_LINES + 1):
            nxt = linecache.getline(file, line + more).strip()
            if not nxt:
                break
            tight = joined.endswith(("(", "[", "{")) or nxt.startswith((")", "]", "}"))
            joined += ("" if tight else " ") + nxt
            end = _closing(joined, open_paren)
            if end is not None:
                break
        text = joined
        if end is None:
            return cut(text[start:])
    return cut(text[start : end + 1])


def cut(text: str) -> str:
    """``text`` with runs of spaces folded, at most ``LABEL_CHARS`` (ending in ``...``)."""
    text = " ".join(text.split())
    if len(text) > LABEL_CHARS:
        return text[: LABEL_CHARS - 3].rstrip() + "..."
    return text


def _find_call(text: str, method: str) -> tuple[int, int] | None:
    """Where the receiver of ``.method(`` starts in ``text``, and where its ``(`` is."""
    needle = "." + method + "("
    at = text.find(needle)
    if at < 0:
        return None
    start = at
    depth = 0
    while start > 0:  # back over the receiver: names, dots, and bracketed parts
        ch = text[start - 1]
        if ch in ")]":
            depth += 1
        elif ch in "([":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not (ch.isalnum() or ch in "._"):
            break
        start -= 1
    return start, at + len(needle) - 1


def _closing(text: str, open_paren: int) -> int | None:
    """The index of the bracket closing the one at ``open_paren`` (strings skipped)."""
    depth = 0
    quote = ""
    i = open_paren
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            return None
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def trim_own_frame(exc: BaseException) -> None:
    """Called in a hook's ``except`` before a bare ``raise``: take the hook's own frame off
    ``exc``'s traceback, so an error the standard library raises through a hook prints exactly
    as it would without it. Python 3.11+ re-raises the traceback as the exception holds it;
    3.10 re-raises the one it caught, so there the hook's frame stays in."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame is sys._getframe(1):
        exc.__traceback__ = tb.tb_next

"""The functions a user's ``.py`` file defines, read from its text: never imported.

A job's TARGET is the user's own function, ``package.module:function`` or
``path/to/file.py:function``. The window offers the chosen file's top-level functions to pick
from; importing the file to list them would run its module-level code in the window's process,
and a user's module may crash, hang, print or ``sys.exit`` on import. So the file is only
parsed (``ast``), and every way of failing is one line naming the file: a picker shows it under
the field. The module is imported only in the worker processes, when a run starts.
"""

from __future__ import annotations

import ast
import keyword
import os
import stat
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_FILE_BYTES = 5_000_000  # a module larger than this is data, not the one defining a function
_SEPARATORS = ("/", "\\")  # neither can be part of a module's name, on any platform


class TargetScanError(ValueError):
    """A target or a file that cannot be read; ``str()`` is one line naming what is wrong."""


@dataclass(frozen=True)
class FunctionInfo:
    """A module-level function as its source defines it: what a picker shows of it.

    ``params`` are its positional parameters (positional-only ones first), ``required`` how
    many of them have no default, ``varargs`` whether it takes ``*args``; ``doc`` is the first
    line of its docstring, or "".
    """

    name: str
    line: int
    params: tuple[str, ...]
    required: int
    varargs: bool
    is_async: bool
    doc: str


def _one_line(text: str) -> str:
    """``text`` with its line breaks turned into spaces (messages go on one line)."""
    return " ".join(text.splitlines()) if text else text


def _info(node: ast.FunctionDef | ast.AsyncFunctionDef) -> FunctionInfo:
    args = node.args
    positional = (*args.posonlyargs, *args.args)
    doc = ast.get_docstring(node) or ""
    return FunctionInfo(
        name=node.name,
        line=node.lineno,
        params=tuple(a.arg for a in positional),
        required=len(positional) - len(args.defaults),
        varargs=args.vararg is not None,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        doc=doc.strip().splitlines()[0].strip() if doc.strip() else "",
    )


def _module_level_defs(
    body: Sequence[ast.stmt],
) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The ``def``s that run at module level: in ``body`` and in its ``if``/``try``/``with``/
    loop blocks, in file order; never inside a function or a class (their own scopes)."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield stmt
        elif not isinstance(stmt, ast.ClassDef):
            # if/else, try/except/else/finally (and except*), with, for/while, match: their
            # blocks are lists of statements, or of handlers and cases holding them
            for _field, value in ast.iter_fields(stmt):
                if not isinstance(value, list):
                    continue
                for item in value:
                    if isinstance(item, ast.stmt):
                        yield from _module_level_defs([item])
                    elif isinstance(item, (ast.ExceptHandler, ast.match_case)):
                        yield from _module_level_defs(item.body)


def scan_functions(source: str, filename: str = "<source>") -> list[FunctionInfo]:
    """The top-level functions ``source`` defines (``def`` and ``async def``), in file order.

    Functions defined in a module-level ``if``, ``try`` or ``with`` block count (``if
    sys.platform == ...: def f``); methods and nested functions do not, as they are no
    attribute of the module. A name defined twice is listed once, as its last definition (the
    one an import keeps when both run). The source is parsed, never run. Raises
    TargetScanError (one line: ``{filename}:{lineno}: syntax error: {msg}``) if it is not
    Python this interpreter reads.
    """
    try:
        with warnings.catch_warnings():
            # an invalid escape warns; under a warnings-as-errors filter it would be an error
            warnings.simplefilter("ignore")
            tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        where = f"{filename}:{exc.lineno}" if exc.lineno else filename
        raise TargetScanError(_one_line(f"{where}: syntax error: {exc.msg}")) from None
    except ValueError as exc:  # a null byte, before Python 3.12
        raise TargetScanError(_one_line(f"{filename}: syntax error: {exc}")) from None
    except (MemoryError, RecursionError):
        raise TargetScanError(
            _one_line(f"{filename}: syntax error: too deeply nested for the parser")
        ) from None
    found: dict[str, FunctionInfo] = {}
    for node in _module_level_defs(tree.body):
        found[node.name] = _info(node)
    return sorted(found.values(), key=lambda f: f.line)


def scan_file(path: str | os.PathLike[str]) -> list[FunctionInfo]:
    """The top-level functions of the ``.py`` file at ``path`` (see ``scan_functions``).

    A leading ``~`` is the user's home. The file is read as Python reads it (UTF-8 unless a
    PEP 263 coding line says otherwise), and parsed, never imported. Raises TargetScanError,
    one line naming the path, if it is missing, a directory or another non-regular file (a
    FIFO would block the reader), not a ``.py`` file, larger than MAX_FILE_BYTES, unreadable
    or not text in its encoding.
    """
    name = _one_line(os.fspath(path))
    path = os.path.expanduser(path)  # ~/jobs.py, as the worker that imports it reads it
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise TargetScanError(f"no such file: {name}") from None
    except OSError as exc:
        raise TargetScanError(_one_line(f"cannot read {name}: {exc.strerror}")) from None
    if stat.S_ISDIR(info.st_mode):
        raise TargetScanError(f"{name} is a directory: pick the .py file that defines the function")
    if not os.fspath(path).endswith(".py"):
        raise TargetScanError(f"{name} is not a .py file")
    if not stat.S_ISREG(info.st_mode):
        raise TargetScanError(f"{name} is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise TargetScanError(
            f"{name} is larger than 5 MB: pick the module that defines the function"
        )
    try:
        with tokenize.open(path) as file:
            source = file.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError as exc:  # its offset counts from the chunk read, not the file
        raise TargetScanError(
            _one_line(f"cannot read {name}: not valid {exc.encoding} text ({exc.reason})")
        ) from None
    except SyntaxError as exc:  # a coding line naming no codec, or undecodable first lines
        raise TargetScanError(_one_line(f"cannot read {name}: {exc.msg}")) from None
    except OSError as exc:
        raise TargetScanError(_one_line(f"cannot read {name}: {exc.strerror or exc}")) from None
    if len(source) > MAX_FILE_BYTES:  # it grew since it was measured
        raise TargetScanError(
            f"{name} is larger than 5 MB: pick the module that defines the function"
        )
    return scan_functions(source, filename=name)


def _bad_target(text: str) -> TargetScanError:
    return TargetScanError(_one_line(f"'{text}': expected module:function or file.py:function"))


def _is_name(text: str) -> bool:
    return text.isidentifier() and not keyword.iskeyword(text)


def split_target(text: str) -> tuple[str, str]:
    """``"pkg.mod:func"`` or ``"dir/file.py:func"`` as (module or path, function name).

    Splits at the last colon, so a Windows path (``C:\\x\\y.py:f``) keeps its drive letter;
    surrounding spaces are dropped. Raises TargetScanError (one line quoting ``text``) when
    there is no colon, the function is not a Python name, or the left part is neither a file
    (see ``is_file_target``) nor a dotted module name.
    """
    left, colon, function = text.strip().rpartition(":")
    left, function = left.strip(), function.strip()
    if not colon or not left or not _is_name(function):
        raise _bad_target(text)
    if not is_file_target(left) and not all(_is_name(part) for part in left.split(".")):
        raise _bad_target(text)
    return left, function


def is_file_target(left: str) -> bool:
    """True if a target's left part names a file (ends with ``.py`` or holds a ``/`` or ``\\``)
    rather than a module to import by name."""
    return left.endswith(".py") or any(sep in left for sep in _SEPARATORS)

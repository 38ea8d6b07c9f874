"""Reading a user's .py file for its top-level functions without importing it, and splitting a
TARGET (module:function, file.py:function): what the function picker shows, and its errors as
one line naming the file or the text."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from mpscope.workers.target_scan import (
    MAX_FILE_BYTES,
    FunctionInfo,
    TargetScanError,
    is_file_target,
    scan_file,
    scan_functions,
)
from mpscope.workers.target_scan import split_target as split

SOURCE = textwrap.dedent(
    '''\
    """A user's module."""
    import sys


    def square(x):
        """Square one item.

        More words the picker does not show.
        """
        return x * x


    class Job:
        def method(self, x):
            return x


    async def fetch(url, timeout=3.0, *rest, retries=2, **options):
        def helper():
            return 1

        return helper()


    def _private(a, /, b, c=1):
        return a


    if sys.platform == "win32":

        def platform_job(x):
            return x

    else:

        def platform_job(x, y=0):
            """The POSIX one."""
            return x


    try:
        import numpy
    except ImportError:

        def fallback():
            return None
    '''
)


def test_top_level_functions_are_listed_in_file_order_with_their_parameters() -> None:
    functions = scan_functions(SOURCE, "user.py")
    assert [f.name for f in functions] == [
        "square",
        "fetch",
        "_private",
        "platform_job",
        "fallback",
    ]
    square, fetch, private, platform_job, fallback = functions
    assert square == FunctionInfo(
        name="square",
        line=5,
        params=("x",),
        required=1,
        varargs=False,
        is_async=False,
        doc="Square one item.",
    )
    assert fetch.is_async and fetch.varargs
    assert (fetch.params, fetch.required, fetch.doc) == (("url", "timeout"), 1, "")
    assert (private.params, private.required) == (("a", "b", "c"), 2)
    # the if/else defines it twice: listed once, as the definition an import keeps last
    assert (platform_job.params, platform_job.required) == (("x", "y"), 1)
    assert platform_job.doc == "The POSIX one."
    assert fallback.params == () and fallback.required == 0


def test_methods_and_nested_functions_are_not_listed() -> None:
    names = {f.name for f in scan_functions(SOURCE)}
    assert "method" not in names
    assert "helper" not in names
    assert "Job" not in names


def test_a_syntax_error_is_one_line_with_the_file_and_line() -> None:
    with pytest.raises(TargetScanError) as info:
        scan_functions("def ok():\n    pass\n\ndef broken(:\n    pass\n", "pkg/user.py")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("pkg/user.py:4: syntax error: ")
    assert isinstance(info.value, ValueError)


def test_source_that_cannot_be_parsed_at_all_is_one_line() -> None:
    for source in ("x = 1\0\n", "-" * 200_000 + "1\n"):
        with pytest.raises(TargetScanError) as info:
            scan_functions(source, "odd.py")
        assert "\n" not in str(info.value)
        assert str(info.value).startswith("odd.py")


def test_a_warning_while_parsing_does_not_hide_the_functions() -> None:
    # an invalid escape warns (DeprecationWarning, SyntaxWarning from 3.12); the tests make
    # warnings errors, as a user's -W error would: the functions are still listed
    source = 'PATTERN = "\\d+"\n\ndef job(x):\n    return x\n'
    assert [f.name for f in scan_functions(source)] == ["job"]


def test_scan_file_reads_a_file_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    path = tmp_path / "user_job.py"
    path.write_text(
        f"import pathlib, sys\npathlib.Path({str(marker)!r}).write_text('ran')\nsys.exit(3)\n\n"
        "def job(x):\n    return x\n",
        encoding="utf-8",
    )
    assert [f.name for f in scan_file(path)] == ["job"]
    assert [f.name for f in scan_file(str(path))] == ["job"]
    assert not marker.exists()
    assert "user_job" not in sys.modules


def test_a_path_from_home_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "jobs.py").write_text("def job(x):\n    return x\n", encoding="utf-8")
    assert [f.name for f in scan_file("~/jobs.py")] == ["job"]


def test_a_coding_line_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "legacy.py"
    path.write_bytes(
        '# -*- coding: latin-1 -*-\ndef café(x):\n    "Grüße aus Köln"\n    return x\n'.encode(
            "latin-1"
        )
    )
    (function,) = scan_file(path)
    assert function.name == "café"
    assert function.doc == "Grüße aus Köln"


def test_a_utf8_file_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.py"
    path.write_bytes("\ufeffdef grün():\n    pass\n".encode())
    assert [f.name for f in scan_file(path)] == ["grün"]


def one_line_error(path: Path) -> str:
    with pytest.raises(TargetScanError) as info:
        scan_file(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "job.py"
    assert one_line_error(missing) == f"no such file: {missing}"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "package.py"
    folder.mkdir()
    message = one_line_error(folder)
    assert str(folder) in message
    assert "directory" in message


def test_a_file_that_is_not_python_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("def job(x):\n    return x\n", encoding="utf-8")
    assert one_line_error(path) == f"{path} is not a .py file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_rather_than_read_forever(tmp_path: Path) -> None:
    path = tmp_path / "pipe.py"
    os.mkfifo(path)
    assert one_line_error(path) == f"{path} is not a regular file"


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "data.py"
    with path.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: a read would find only NUL bytes
    assert one_line_error(path) == (
        f"{path} is larger than 5 MB: pick the module that defines the function"
    )
    at_limit = tmp_path / "big.py"
    at_limit.write_text("def job():\n    pass\n" + "#" * (MAX_FILE_BYTES - 40) + "\n")
    assert [f.name for f in scan_file(at_limit)] == ["job"]


@pytest.mark.parametrize(
    "content",
    [
        b"def job():\n    pass\n\n\nTEXT = '\xff\xfe'\n",  # not UTF-8, past the first lines
        b"TEXT = '\xff'\n",  # not UTF-8 in the lines the coding line may be in
        b"# coding: no-such-codec\ndef job():\n    pass\n",
    ],
)
def test_text_that_does_not_decode_is_one_line_naming_the_file(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    message = one_line_error(path)
    assert message.startswith(f"cannot read {path}: ")


def test_a_syntax_error_in_a_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("def ok():\n    pass\n\ndef broken(:\n", encoding="utf-8")
    assert one_line_error(path).startswith(f"{path}:4: syntax error: ")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("pkg.mod:f", ("pkg.mod", "f")),
        ("mod:run_job", ("mod", "run_job")),
        ("dir/x.py:f", ("dir/x.py", "f")),
        ("/home/me/a:b/x.py:f", ("/home/me/a:b/x.py", "f")),
        ("C:\\a\\b.py:f", ("C:\\a\\b.py", "f")),
        ("  pkg.mod:f  ", ("pkg.mod", "f")),
        ("x.py:café", ("x.py", "café")),
    ],
)
def test_split_target(text: str, parts: tuple[str, str]) -> None:
    assert split(text) == parts


@pytest.mark.parametrize(
    "text",
    [
        "nocolon",
        "x.py:",
        "x.py:1bad",
        "x.py:class",
        ":f",
        "C:\\a\\b.py",
        "pkg mod:f",
        "pkg..mod:f",
        "pkg.mod:a.b",
    ],
)
def test_bad_targets_are_one_line_naming_the_text(text: str) -> None:
    with pytest.raises(TargetScanError) as info:
        split(text)
    assert str(info.value) == f"'{text}': expected module:function or file.py:function"


def test_a_bad_target_with_a_line_break_still_gives_one_line() -> None:
    with pytest.raises(TargetScanError) as info:
        split("x.py:\nf g")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("left", "is_file"),
    [
        ("x.py", True),
        ("dir/x.py", True),
        ("C:\\a\\b.py", True),
        ("scripts/job", True),
        ("pkg.mod", False),
        ("mod", False),
    ],
)
def test_is_file_target(left: str, is_file: bool) -> None:
    assert is_file_target(left) is is_file

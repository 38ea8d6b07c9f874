"""Reading a saved mpscope trace back: its header and every packet, in the order they arrived.

``chrome`` writes the file (its docstring describes the layout); this module is what it and a
replay agree on: the format's marker and version, where a packet is kept (``args.mpscope`` of
the event it made), and which packets may be stored at all (``valid_packet``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mpscope.workers.trace.packets import Packet

FORMAT = "mpscope-trace"
FORMAT_VERSION = 1
# the key, in otherData, of mpscope's header, and in an event's args, of the packet it carries
PACKET_ARG = "mpscope"
# nesting deeper than this in a packet is garbage, not something the hooks send
MAX_DEPTH = 16


class TraceFileError(Exception):
    """A file that is not an mpscope trace, or one cut short; str() names the file and why."""


@dataclass(frozen=True)
class TraceFile:
    """A saved trace: mpscope's header (command, version, start) and the packets, in order."""

    path: Path
    header: dict[str, Any]
    packets: list[Packet]


def valid_packet(packet: Any) -> bool:
    """True for what a trace file can keep and a replay can fold: a JSON object with ``k``
    (text), ``pid`` (a whole number) and ``t`` (a finite number), and no NaN or infinity in
    it (JSON has none; Python's reader would take them, every other reader would refuse)."""
    if type(packet) is not dict:
        return False
    k, pid, t = packet.get("k"), packet.get("pid"), packet.get("t")
    if type(k) is not str or type(pid) is not int:
        return False
    if type(t) is not float and type(t) is not int:
        return False
    return _finite(packet, 0)


def _finite(value: Any, depth: int) -> bool:
    """No NaN or infinity anywhere in ``value`` (as ``json.loads`` makes them), nesting at
    most ``MAX_DEPTH`` deep."""
    for item in value.values() if type(value) is dict else value:
        kind = type(item)
        if kind is float:
            if item - item != 0.0:  # NaN or an infinity
                return False
        elif (kind is dict or kind is list) and (
            depth >= MAX_DEPTH or not _finite(item, depth + 1)
        ):
            return False
    return True


def read_packets(path: str | os.PathLike[str]) -> list[Packet]:
    """Every packet a saved trace holds, in the order the recorder received them.

    Raises TraceFileError (one line: the file's name and what is wrong) for a file that cannot
    be read, is not JSON, is not an mpscope trace, is from a newer mpscope, or was cut short.
    """
    return read_trace(path).packets


def read_trace(path: str | os.PathLike[str]) -> TraceFile:
    """A saved trace's header and packets; TraceFileError as ``read_packets`` says."""
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise TraceFileError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise TraceFileError(f"{name}: {_why_not_json(raw, exc)}") from None
    header = _header(doc, name)
    events = doc.get("traceEvents")
    if not isinstance(events, list):
        raise TraceFileError(f'{name}: "traceEvents" is not a list: not an mpscope trace')
    packets: list[Packet] = []
    for number, event in enumerate(events, 1):
        args = event.get("args") if isinstance(event, dict) else None
        if not isinstance(args, dict) or PACKET_ARG not in args:
            continue
        packet = args[PACKET_ARG]
        if not valid_packet(packet):
            raise TraceFileError(
                f"{name}: event {number} carries a packet without k, pid and t: damaged trace"
            )
        packets.append(packet)
    return TraceFile(path, header, packets)


def _why_not_json(raw: bytes, exc: BaseException) -> str:
    head = raw.lstrip()[:200]
    ours = (
        head.startswith(b'{"otherData":{"' + PACKET_ARG.encode() + b'":')
        and FORMAT.encode() in head
    )
    if ours and not raw.rstrip().endswith(b"]}"):
        return (
            "cut short: the trace was never closed (mpscope was killed, or the disk filled, "
            "while it was written)"
        )
    if isinstance(exc, json.JSONDecodeError):
        return f"not an mpscope trace: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if isinstance(exc, UnicodeDecodeError):
        return "not an mpscope trace: not UTF-8 text"
    return "not an mpscope trace: not JSON"


def _header(doc: Any, name: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise TraceFileError(
            f"{name}: not an mpscope trace (a JSON {type(doc).__name__}, expected an object)"
        )
    other = doc.get("otherData")
    header = other.get(PACKET_ARG) if isinstance(other, dict) else None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        what = "a Chrome trace" if "traceEvents" in doc else "JSON"
        raise TraceFileError(
            f"{name}: not an mpscope trace ({what} without mpscope's header; "
            "open it in Perfetto instead)"
        )
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise TraceFileError(f"{name}: version is {version!r}, expected a whole number")
    if version > FORMAT_VERSION:
        raise TraceFileError(
            f"{name}: written by a newer mpscope (trace version {version}; this one reads up to "
            f"{FORMAT_VERSION})"
        )
    return header

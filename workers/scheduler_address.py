"""Dask scheduler addresses, parsed and checked before a run: a typo costs one line, not a hang."""

from __future__ import annotations

import re
from typing import NamedTuple

SCHEMES = ("tcp", "tls")
EXAMPLE = "tcp://127.0.0.1:8786"
_ADDRESS_RE = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?))"
    r":(?P<port>[0-9]{1,5})$"
)


class SchedulerAddress(NamedTuple):
    """A checked scheduler address."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_scheduler_address(text: str) -> SchedulerAddress:
    """Parse ``tcp://HOST:PORT`` (``tls://`` too; a bare ``HOST:PORT`` means tcp).

    Raises ValueError with one line naming the bad address and what is allowed.
    """
    allowed = f"allowed tcp://HOST:PORT or tls://HOST:PORT, e.g. {EXAMPLE}"
    match = _ADDRESS_RE.match(text.strip())
    if match is None:
        raise ValueError(f"scheduler address {text!r} is malformed: {allowed}")
    scheme = (match["scheme"] or "tcp").lower()
    if scheme not in SCHEMES:
        raise ValueError(f"scheduler address {text!r} has scheme {scheme!r}: {allowed}")
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"scheduler address {text!r} has port {port}: allowed 1..65535")
    return SchedulerAddress(scheme, match["ipv6"] or match["host"], port)

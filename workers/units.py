"""Parsing and formatting of counts, durations and sizes, shared by the CLI and the GUI."""

from __future__ import annotations

import re

_SUFFIX_EXPONENTS = {"": 0, "k": 3, "m": 6, "g": 9, "b": 9, "t": 12}
_COUNT_RE = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?(?:e[+]?[0-9]+)?)\s*([kmgbt]?)\s*$", re.I)


def parse_count(text: str) -> int:
    """Parse a count written as 10000000, 10,000,000, 10_000_000, 1e7, 10M or 2.5k.

    Raises ValueError with a one-line message if ``text`` is not a whole non-negative count.
    """
    match = _COUNT_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a count: write e.g. 10000000, 10,000,000, 1e7 or 10M")
    number, suffix = match.groups()
    mantissa, _, exponent = number.replace(",", "").replace("_", "").lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    shift = int(exponent or 0) + _SUFFIX_EXPONENTS[suffix.lower()] - len(frac)
    digits = int(whole + frac)
    if shift >= 0:
        return int(digits * 10**shift)
    quotient, remainder = divmod(digits, int(10**-shift))
    if remainder:
        raise ValueError(f"{text!r} is not a whole number of items")
    return quotient


def format_count(n: int) -> str:
    """10000000 -> '10,000,000'."""
    return f"{n:,}"


def format_seconds(s: float) -> str:
    """A duration with sensible precision: 0.0123 -> '12.3 ms', 3.456 -> '3.46 s'."""
    if round(s * 1e6) < 1000:
        return f"{s * 1e6:.0f} µs"
    if round(s * 1e3, 1) < 1000:
        return f"{s * 1e3:.1f} ms"
    if round(s, 2) < 60:
        return f"{s:.2f} s"
    minutes, seconds = divmod(round(s, 1), 60)
    return f"{int(minutes)} min {seconds:04.1f} s"


def format_eta(s: float) -> str:
    """Time still to go, in whole units (an estimate has no milliseconds): 'under 1 s',
    '4 s', '2 min 05 s'."""
    if s < 1:
        return "under 1 s"
    whole = round(s)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def format_rate(per_s: float) -> str:
    """Items per second, compact: 1234567 -> '1.23 M/s'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_s >= scale:
            return f"{per_s / scale:.2f} {suffix}/s"
    return f"{per_s:.1f} /s"


def format_bytes(n: float) -> str:
    """Bytes in binary units: 1536 -> '1.5 KiB'."""
    for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if n >= scale:
            return f"{n / scale:.1f} {suffix}"
    return f"{n:.0f} B"

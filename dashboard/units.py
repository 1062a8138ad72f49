"""Byte sizes for people: binary units to show, and the number + unit pair a form sends."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}
FORM_UNITS = ["MiB", "GiB", "TiB"]


def human_bytes(size: int) -> str:
    """1536 → "1.5 KiB"; exact sizes keep no trailing ".0"."""
    if size < 1024:
        return f"{size} B"
    amount = float(size)
    units = ("KiB", "MiB", "GiB", "TiB", "PiB")
    for index, unit in enumerate(units):
        amount /= 1024
        if amount < 1024 or index == len(units) - 1:
            return f"{amount:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    raise AssertionError("unreachable")


def exact_size(size: int) -> str:
    """8589934592 → "8 GiB (8,589,934,592 bytes)": readable, and exact where a limit is compared."""
    return f"{human_bytes(size)} ({size:,} bytes)"


# The rules' and the backend's messages count in bytes: "(8589934592 bytes)" and
# "from 4194304 (4 MiB) to 4398046511104 (4 TiB) bytes".
_BYTES_IN_PARENS = re.compile(r"\((\d+) bytes\)")
_BYTE_RANGE = re.compile(r"from (\d+) \([^)]*\) to (\d+) \([^)]*\) bytes")


def sizes_for_people(message: str) -> str:
    """A message with its raw byte counts written as exact_size does."""
    message = _BYTE_RANGE.sub(lambda m: f"from {exact_size(int(m[1]))} to {exact_size(int(m[2]))}", message)
    return _BYTES_IN_PARENS.sub(lambda m: exact_size(int(m[1])), message)


def parse_size(number: str, unit: str) -> int:
    """The byte count of "2.5" + "GiB"; ValueError for anything that is not a size."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    try:
        amount = Decimal(number.strip())
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError("must be a positive number")
    size = amount * UNITS[unit]
    if size != size.to_integral_value():
        raise ValueError("must be a whole number of bytes")
    return int(size)


def split_size(size: int) -> tuple[str, str]:
    """The largest form unit that shows `size` exactly: 2147483648 → ("2", "GiB"); 0 → ("", "GiB")."""
    if size == 0:
        return "", "GiB"
    for unit in reversed(FORM_UNITS):
        factor = UNITS[unit]
        if size % factor == 0:
            return str(size // factor), unit
    for unit in reversed(FORM_UNITS):
        amount = Decimal(size) / UNITS[unit]
        if amount >= 1 and len(str(amount.normalize())) <= 12:
            return format(amount.normalize(), "f"), unit
    return str(size), "B"

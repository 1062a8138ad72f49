"""Byte sizes for people: binary units to show, and the number + unit pair a form sends."""

from __future__ import annotations

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

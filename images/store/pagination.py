"""Keyset pagination: opaque, tamper-evident page tokens and the "rows after the last one" query."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, DateTimeField, F, Func, IntegerField, Model, Q, QuerySet, Value

from images.errors import InvalidArgument

TokenValue = str | int

MAX_TOKEN_LENGTH = 100
TOKEN_VERSION = 1
MAC_BYTES = 10  # 80 bits of HMAC-SHA256

# A token packs the sort key as text over 40 symbols, read as one base-40 number: 5.3 bits a symbol
# instead of the 8 (or, after base64, 10.7) of JSON text. That is what lets a 63-character name and
# a 20-character id fit in 100 characters together with the version byte and the MAC.
_SYMBOLS = "0123456789abcdefghijklmnopqrstuvwxyz_-|#"
_BASE = len(_SYMBOLS)
_SYMBOL_INDEX = {symbol: index for index, symbol in enumerate(_SYMBOLS)}
_SEPARATOR = "|"
_INT_MARK = "#"
_PACKABLE_STRING = re.compile(r"[a-z0-9_-]*")
_PACKED_INT = re.compile(r"-?[0-9]+")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_MAC_CONTEXT = b"imageservice/page-token\x00"

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def to_micros(value: dt.datetime) -> int:
    """Integer microseconds since the Unix epoch (UTC) of an aware datetime."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("to_micros needs an aware datetime")
    return (value - EPOCH) // _MICROSECOND


def from_micros(micros: int) -> dt.datetime:
    """The aware UTC datetime `micros` microseconds after the Unix epoch."""
    return EPOCH + dt.timedelta(microseconds=micros)


def token_scope(*parts: str) -> str:
    """An unambiguous scope text from its parts (e.g. the method, folder_id, filter and order_by)."""
    return json.dumps(list(parts), ensure_ascii=False)


def _invalid() -> InvalidArgument:
    return InvalidArgument.field("page_token", "invalid page token")


def _pack(values: Sequence[TokenValue]) -> bytes:
    parts = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"a page token holds strings and ints, not {type(value).__name__}")
        if isinstance(value, int):
            parts.append(_INT_MARK + str(value))
        elif _PACKABLE_STRING.fullmatch(value):
            parts.append(value)
        else:
            raise ValueError(f"a page token string must match [a-z0-9_-]*: {value!r}")
    number = 1  # a leading 1 keeps leading zero digits (a "0" or an empty first value)
    for symbol in _SEPARATOR.join(parts):
        number = number * _BASE + _SYMBOL_INDEX[symbol]
    return number.to_bytes((number.bit_length() + 7) // 8, "big")


def _unpack(data: bytes) -> list[TokenValue] | None:
    number = int.from_bytes(data, "big")
    symbols = []
    while number >= _BASE:
        number, index = divmod(number, _BASE)
        symbols.append(_SYMBOLS[index])
    if number != 1:
        return None
    values: list[TokenValue] = []
    for part in "".join(reversed(symbols)).split(_SEPARATOR):
        if part.startswith(_INT_MARK):
            digits = part.removeprefix(_INT_MARK)
            if not _PACKED_INT.fullmatch(digits):
                return None
            values.append(int(digits))
        elif _PACKABLE_STRING.fullmatch(part):
            values.append(part)
        else:
            return None
    return values


def _mac(scope: str, body: bytes) -> bytes:
    setting = settings.IMAGESERVICE_TOKEN_KEY
    key = setting.encode() if isinstance(setting, str) else setting
    scope_bytes = scope.encode("utf-8", "surrogatepass")
    message = _MAC_CONTEXT + len(scope_bytes).to_bytes(4, "big") + scope_bytes + body
    return hmac.new(key, message, hashlib.sha256).digest()[:MAC_BYTES]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def encode_token(values: Sequence[TokenValue], *, scope: str) -> str:
    """The page token for the sort key `values` of a page's last row, bound to `scope`.

    Strings must match [a-z0-9_-]* (names, ids, families) and ints are any ints (microseconds);
    anything else, or a key too long to fit 100 characters, is a bug: ValueError.
    """
    if not values:
        raise ValueError("a page token needs at least one value")
    body = bytes([TOKEN_VERSION]) + _pack(values)
    token = _b64encode(body + _mac(scope, body))
    if len(token) > MAX_TOKEN_LENGTH:
        raise ValueError(f"page token of {len(token)} characters for {values!r}")
    return token


def decode_token(token: str, *, scope: str, arity: int) -> list[TokenValue]:
    """The sort key values inside a token this server issued for `scope`; else InvalidArgument."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _BASE64URL.fullmatch(token):
        raise _invalid()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    # Base64 has several spellings of the same bytes (the unused low bits of the last character);
    # accept only ours, so that changing any character of a token invalidates it.
    if _b64encode(raw) != token or len(raw) < 2 + MAC_BYTES or raw[0] != TOKEN_VERSION:
        raise _invalid()
    body, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(scope, body)):
        raise _invalid()
    values = _unpack(body[1:])
    if values is None or len(values) != arity:
        raise _invalid()
    return values


class _RowAfter(Func):
    """`(f1, f2, ...) > (v1, v2, ...)` ("<" when descending): a row-value comparison, which SQLite
    and PostgreSQL both read as one range of an index on (..., f1, f2, ...). Django's own tuple
    lookup spells it out as `f1 > v1 OR (f1 = v1 AND ...)` on SQLite, which no index serves."""

    output_field = BooleanField()

    def __init__(self, fields: Sequence[str], values: Sequence[Any], *, descending: bool):
        super().__init__(*[F(name) for name in fields], *[Value(value) for value in values])
        self.width = len(fields)
        self.operator = "<" if descending else ">"

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        columns, values = ", ".join(parts[: self.width]), ", ".join(parts[self.width :])
        return f"({columns}) {self.operator} ({values})", params


def after_q(order_fields: Sequence[tuple[str, bool]], last: Sequence[Any]) -> Q:
    """Rows strictly after the row whose sort key is `last`, in the order `order_fields`.

    For (f, id): the row value (f, id) > (v, last_id), "<" for a descending order; every field of
    an order runs in one direction (the id tie-breaker follows the field's).
    """
    directions = {descending for _, descending in order_fields}
    if len(directions) != 1:
        raise ValueError("keyset order fields must all run in one direction")
    fields = [name for name, _ in order_fields]
    if len(fields) == 1:
        return Q(**{f"{fields[0]}__{'lt' if directions == {True} else 'gt'}": last[0]})
    return Q(_RowAfter(fields, last, descending=directions == {True}))


def from_token_value(model: type[Model], field_name: str, value: TokenValue) -> Any:
    """A sort key value read from a token, as the model's field holds it; InvalidArgument if it
    cannot be one (a token of another order)."""
    field = model._meta.get_field(field_name)
    if isinstance(field, DateTimeField):
        if not isinstance(value, int):
            raise _invalid()
        try:
            return from_micros(value)
        except OverflowError:
            raise _invalid() from None
    if isinstance(field, IntegerField) != isinstance(value, int):
        raise _invalid()
    return value


def to_token_value(value: Any) -> TokenValue:
    """A sort key value as a token holds it (datetimes as microseconds)."""
    return to_micros(value) if isinstance(value, dt.datetime) else value


def keyset_page(
    queryset: QuerySet,
    order_fields: Sequence[tuple[str, bool]],
    *,
    page_size: int,
    page_token: str,
    scope: str,
    key_of: Callable[[Any], list[TokenValue]] | None = None,
) -> tuple[list, str]:
    """One page of model instances of `queryset` in `order_fields` order after `page_token` ("" for
    the first page), and the next page's token ("" on the last page). The order must end with a
    unique field (id); `key_of(row)` gives its values as encode_token takes them, by default read
    from the row's attributes. Image List pages run images.store.queries.image_page.
    """
    if page_size < 1:
        raise ValueError("page_size must be positive; resolve 0 with page_size_or_default first")
    if not order_fields:
        raise ValueError("keyset pagination needs at least one order field")
    if page_token:
        values = decode_token(page_token, scope=scope, arity=len(order_fields))
        last = [
            from_token_value(queryset.model, field, value)
            for (field, _), value in zip(order_fields, values, strict=True)
        ]
        queryset = queryset.filter(after_q(order_fields, last))
    queryset = queryset.order_by(*[("-" if descending else "") + field for field, descending in order_fields])
    rows = list(queryset[: page_size + 1])
    if len(rows) <= page_size:
        return rows, ""
    rows = rows[:page_size]
    last_row = rows[-1]
    key = (
        key_of(last_row)
        if key_of
        else [to_token_value(getattr(last_row, field)) for field, _ in order_fields]
    )
    return rows, encode_token(key, scope=scope)

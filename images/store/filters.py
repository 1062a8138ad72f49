"""The List filter and order_by grammar: a tokenizer and recursive-descent parser, and their ORM queries."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import Exact, In, IsNull

from images.errors import InvalidArgument
from images.rules import RULES, matches, quoted
from images.store import pagination
from images.store.models import Image, ImageLabel, ImageStatus

# --- filter ------------------------------------------------------------------------------------

PLAIN_FIELDS = ("name", "id", "family", "status")
LABEL_PREFIX = "labels."
STATUS_NAMES = tuple(name for name in ImageStatus.names if name != "STATUS_UNSPECIFIED")
OPERATORS = ("=", "!=", "IN", "NOT IN")
# The search extensions: `name:"deb"` (CONTAINS), `name:"deb*"` (PREFIX), `labels.k:*` (HAS).
SEARCH_OPERATORS = ("CONTAINS", "PREFIX", "HAS")
SEARCH_FIELDS = ("name",)

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/@")
_ESCAPES = frozenset("\"'\\")


@dataclass(frozen=True)
class Condition:
    field: str  # "name", "id", "family", "status" or "labels.<key>"
    op: str  # one of OPERATORS or SEARCH_OPERATORS
    # One value for =, !=, CONTAINS and PREFIX (the text searched for), one or more for IN and
    # NOT IN, none for HAS.
    values: tuple[str, ...]

    @property
    def label_key(self) -> str | None:
        return self.field.removeprefix(LABEL_PREFIX) if self.field.startswith(LABEL_PREFIX) else None


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "string", "(", ")", ",", "=", "!=", ":", "*", "end"
    text: str  # the word or the string's value (unescaped)
    position: int  # 1-based character position where the token starts

    def shown(self) -> str:
        if self.kind == "end":
            return "end of input"
        if self.kind == "string":
            return f"the quoted value {quoted(self.text)}"
        return quoted(self.text)


def _error(description: str) -> InvalidArgument:
    return InvalidArgument.field("filter", description)


def _read_string(text: str, start: int) -> tuple[str, int]:
    """The value of the string literal whose opening quote is at text[start], and the index after it."""
    quote = text[start]
    chars: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == quote:
            return "".join(chars), i + 1
        if char == "\\":
            if i + 1 == len(text):
                break
            escaped = text[i + 1]
            if escaped not in _ESCAPES:
                raise _error(
                    f"invalid escape {quoted(char + escaped)} at position {i + 1}; "
                    "only \\\", \\' and \\\\ are allowed"
                )
            chars.append(escaped)
            i += 2
            continue
        if char == "\x00":
            raise _error(f"NUL character in a quoted value at position {i + 1}")
        chars.append(char)
        i += 1
    raise _error(f"unterminated string at position {start + 1}")


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "\"'":
            value, end = _read_string(text, i)
            tokens.append(_Token("string", value, i + 1))
            i = end
        elif char in "(),=:*":
            tokens.append(_Token(char, char, i + 1))
            i += 1
        elif char == "!":
            if text.startswith("!=", i):
                tokens.append(_Token("!=", "!=", i + 1))
                i += 2
            else:
                raise _error(f'unexpected character "!" at position {i + 1}; did you mean "!="?')
        elif char in _WORD_CHARS:
            end = i
            while end < len(text) and text[end] in _WORD_CHARS:
                end += 1
            tokens.append(_Token("word", text[i:end], i + 1))
            i = end
        else:
            raise _error(f"unexpected character {quoted(char)} at position {i + 1}")
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


def _fields_hint(fields: tuple[str, ...]) -> str:
    return f"fields are {', '.join(fields)} and labels.<key>"


class _Parser:
    def __init__(self, tokens: list[_Token], fields: tuple[str, ...]):
        self.tokens = tokens
        self.index = 0
        self.fields = fields

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def is_keyword(self, token: _Token, keyword: str) -> bool:
        return token.kind == "word" and token.text.upper() == keyword

    def unexpected(self, token: _Token, expected: str) -> InvalidArgument:
        if token.kind == "end":
            return _error(f"unexpected end of input, expected {expected}")
        return _error(f"expected {expected} at position {token.position}, found {token.shown()}")

    def parse(self) -> list[Condition]:
        if self.peek().kind == "end":
            return []
        conditions = [self.condition()]
        while self.is_keyword(self.peek(), "AND"):
            self.take()
            conditions.append(self.condition())
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token, '"AND" or the end of the filter')
        return conditions

    def condition(self) -> Condition:
        token = self.take()
        if token.kind != "word":
            raise self.unexpected(token, "a field name")
        field = self.field(token)
        token = self.take()
        values: tuple[str, ...]
        if token.kind == ":":
            return self.search(field, token)
        if token.kind in ("=", "!="):
            op, values = token.kind, (self.value(field),)
        elif self.is_keyword(token, "IN"):
            op, values = "IN", self.value_list(field)
        elif self.is_keyword(token, "NOT") and self.is_keyword(self.peek(), "IN"):
            self.take()
            op, values = "NOT IN", self.value_list(field)
        else:
            raise self.unexpected(token, f'"=", "!=", "IN" or "NOT IN" after {quoted(field)}')
        return Condition(field, op, values)

    def search(self, field: str, colon: _Token) -> Condition:
        """The rest of `name:"text"`, `name:"text*"` or `labels.<key>:*` after the colon."""
        token = self.take()
        if field.startswith(LABEL_PREFIX):
            if token.kind != "*":
                raise self.unexpected(
                    token, f'"*" after {quoted(field + ":")} (a label search means "has the key")'
                )
            return Condition(field, "HAS", ())
        if field not in SEARCH_FIELDS:
            raise _error(
                f'":" at position {colon.position} searches name and labels.<key> only, not {quoted(field)}'
            )
        if token.kind != "string":
            raise self.unexpected(token, f"a quoted text to search for after {quoted(field + ':')}")
        text, op = token.text, "CONTAINS"
        if text.endswith("*"):
            text, op = text[:-1], "PREFIX"
        if not text:
            raise _error(f"empty search text at position {token.position}; give at least one character")
        if "*" in text:
            raise _error(
                f'"*" at position {token.position} may only end a search text (a prefix search: "deb*")'
            )
        return Condition(field, op, (text,))

    def field(self, token: _Token) -> str:
        name = token.text
        if name in self.fields:
            return name
        if name.startswith(LABEL_PREFIX):
            key = name.removeprefix(LABEL_PREFIX)
            rule = RULES["label_key"]
            if not key or len(key) > rule.length_limit or not matches(rule, key):
                raise _error(
                    f"invalid label key {quoted(key)} at position {token.position + len(LABEL_PREFIX)}; "
                    "a key has 1 to 63 lowercase letters, digits and - _ . / @, starting with a letter"
                )
            return name
        raise _error(
            f"unknown field {quoted(name)} at position {token.position}; {_fields_hint(self.fields)}"
        )

    def value(self, field: str) -> str:
        token = self.take()
        if token.kind != "string":
            if token.kind == "word":
                raise _error(
                    f"expected a quoted value at position {token.position}, found {token.shown()}; "
                    "quote values with \" or '"
                )
            raise self.unexpected(token, "a quoted value")
        if field == "status" and token.text not in STATUS_NAMES:
            raise _error(
                f"unknown status {quoted(token.text)} at position {token.position}; "
                f"statuses are {', '.join(STATUS_NAMES)}"
            )
        return token.text

    def value_list(self, field: str) -> tuple[str, ...]:
        token = self.take()
        if token.kind != "(":
            raise self.unexpected(token, '"(" to start a list of values')
        values = [self.value(field)]
        while True:
            token = self.take()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise self.unexpected(token, '"," or ")"')
            values.append(self.value(field))


def parse_filter(text: str, *, fields: tuple[str, ...] = PLAIN_FIELDS) -> list[Condition]:
    """The conditions of a List filter (empty for an empty filter); InvalidArgument on field `filter`.

    `fields` are the plain fields the listed resource has (images': PLAIN_FIELDS); labels.<key>
    always applies.
    """
    limit = RULES["filter"].length_limit
    if len(text) > limit:
        raise _error(f"must be at most {limit} characters")
    return _Parser(_tokenize(text), fields).parse()


def _label_q(key: str, values: Iterable[str], *, negated: bool) -> Q:
    value = KeyTextTransform(key, "labels")
    values = list(values)
    matched = Q(Exact(value, values[0])) if len(values) == 1 else Q(In(value, values))
    if not negated:
        return Q(labels__has_key=key) & matched
    # A missing key yields SQL NULL, and NOT (NULL = 'v') is not true: say "no such key" outright.
    return Q(IsNull(value, True)) | ~matched


def _search_q(condition: Condition) -> Q:
    field, text = condition.field, condition.values[0] if condition.values else ""
    if condition.op == "HAS":
        return Q(labels__has_key=condition.label_key)
    lookup = "icontains" if condition.op == "CONTAINS" else "istartswith"
    return Q(**{f"{field}__{lookup}": text})


def _condition_q(condition: Condition) -> Q:
    if condition.op in SEARCH_OPERATORS:
        return _search_q(condition)
    negated = condition.op in ("!=", "NOT IN")
    key = condition.label_key
    if key is not None:
        return _label_q(key, condition.values, negated=negated)
    values: list[str | int] = list(condition.values)
    if condition.field == "status":
        values = [ImageStatus.__members__[name].value for name in condition.values]
    q = Q(**{condition.field: values[0]}) if len(values) == 1 else Q(**{f"{condition.field}__in": values})
    return ~q if negated else q


def filter_q(conditions: Iterable[Condition]) -> Q:
    """The queryset condition for parsed filter conditions (all of them must hold), for any model
    with the fields named (labels read from its JSON `labels` field)."""
    q = Q()
    for condition in conditions:
        q &= _condition_q(condition)
    return q


# Names hold lowercase letters, digits, "-" and "_" only (rules.RULES["name"]), so a search text
# lowered is matched case-insensitively by a plain comparison, which an index on name serves.
_TOP = "\U0010ffff"
_FEW_MATCHES = 2000  # at most this many matches: read them from their index, then order them


def _few_ids_q(sql: str, params: Sequence[Any]) -> Q | None:
    """The condition that the image is one of those `sql` gives (`sql` reads an index) when they
    are few, None when they are many: told by one bounded read, whose rows are then the answer.

    SQLite reads `id IN (subquery)` by collecting the whole subquery first, which for a common
    label or search text is most of the folder; PostgreSQL guesses how many there are from a
    sample. Either way, walking the order's index and testing each image finds a page of a common
    match sooner, and a rare match is found sooner through its index: the real count decides.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {_FEW_MATCHES}", params)
        rows = cursor.fetchall()
    if len(rows) == _FEW_MATCHES:
        return None
    # One JSON parameter, not one per id: the ORM prepares each parameter of a list in Python,
    # which for a thousand ids costs more than the query.
    ids = json.dumps([image_id for (image_id,) in rows])
    sql = _IDS_IN_JSON[connection.vendor]  # constant; the ids are a parameter
    return Q(RawSQL(sql, [ids], output_field=BooleanField()))  # noqa: S611


_IDS_IN_JSON = {
    "sqlite": '"images_image"."id" IN (SELECT value FROM json_each(%s))',
    "postgresql": '"images_image"."id" IN (SELECT jsonb_array_elements_text(%s::jsonb))',
}


def _image_label_q(folder_id: str, condition: Condition) -> Q:
    """A label condition as a range of the label table's (folder_id, key, value, image) index."""
    labels = ImageLabel.objects.filter(folder_id=folder_id, key=condition.label_key)
    if condition.op != "HAS":
        values = list(condition.values)
        labels = labels.filter(value=values[0]) if len(values) == 1 else labels.filter(value__in=values)
    matched = Q(id__in=labels.values("image_id"))
    if connection.vendor == "sqlite":
        few = _few_ids_q(*labels.values("image_id").query.sql_with_params())
        if few is not None:
            matched = few
        else:
            # A common label: probe each image's labels (the (image, key) index) along the order.
            probe = ImageLabel.objects.filter(image_id=OuterRef("id"), key=condition.label_key)
            if condition.op != "HAS":
                probe = probe.filter(value__in=condition.values)
            matched = Q(Exists(probe))
    return ~matched if condition.op in ("!=", "NOT IN") else matched


def _image_name_search_q(folder_id: str, condition: Condition) -> Q:
    text = condition.values[0].lower()
    if condition.op == "PREFIX":
        # The range lets the (folder_id, name, id) index find the names; LIKE keeps it exact.
        return Q(name__gte=text, name__lt=text + _TOP, name__startswith=text)
    if len(text) >= 3:
        if connection.vendor == "sqlite":
            # The trigram table (see migration image_name_search) finds the names holding the text,
            # in every folder (it has no folder column): a text common elsewhere counts as common.
            match = (
                'SELECT "image_id" FROM "images_image_name_search" WHERE "images_image_name_search" MATCH %s'
            )
            few = _few_ids_q(match, ['"' + text.replace('"', '""') + '"'])
        else:
            # The pg_trgm GIN index on name finds them. Asked in one query with an order, the
            # planner guesses how many names hold the text from its statistics sample, and a text
            # held by 0.1% of a million names (1,000) can look like 1%: then it walks the order's
            # index testing each name, 100,000 of them for a page (50-150 ms instead of 3).
            # Reading the matches first, bounded, decides by the real count.
            holding = Image.objects.filter(folder_id=folder_id, name__contains=text).values("id")
            few = _few_ids_q(*holding.query.sql_with_params())
        if few is not None:
            return few & Q(name__contains=text)
        # A common text: test each name along the order's index, up to a page of matches.
    return Q(name__contains=text)


def image_filter_q(folder_id: str, conditions: Iterable[Condition]) -> Q:
    """filter_q for the images of one folder, reading the label table and the name search index."""
    q = Q()
    for condition in conditions:
        if condition.label_key is not None:
            q &= _image_label_q(folder_id, condition)
        elif condition.field in SEARCH_FIELDS and condition.op in SEARCH_OPERATORS:
            q &= _image_name_search_q(folder_id, condition)
        else:
            q &= _condition_q(condition)
    return q


# The label table's columns that give its rows in an image order (the image_label_lookup and
# image_label_created indexes); name changes with a rename, so the table does not carry it.
_LABEL_ORDER_COLUMNS = {"id": "image_id", "created_at": "created_at"}


class ImageFilter:
    """A List filter over one folder's images, as the List query reads it (see
    queries.page_queryset): its condition, and for one label equality the page read off the label
    table's index."""

    def __init__(self, folder_id: str, conditions: Iterable[Condition]):
        self.folder_id = folder_id
        self.conditions = tuple(_plainest(condition) for condition in conditions)

    def __bool__(self) -> bool:
        return bool(self.conditions)

    @cached_property
    def q(self) -> Q:
        return image_filter_q(self.folder_id, self.conditions)

    def label_page(
        self, order_fields: Sequence[tuple[str, bool]], last: Sequence[Any], limit: int
    ) -> Q | None:
        """For a filter of one `labels.k = "v"` or `labels.k IN (...)` in id or createdAt order: the
        condition "is one of the page's images", read as one range of the label index per value in
        that order, each cut at `limit` rows, however common or rare the label. None for any other
        filter or order.

        A rare label's images would otherwise all be read and sorted, a common one's probed one by
        one along the image index: both cost more than the page. With several values the page is
        among the first `limit` rows of each value's range, so the image table reads at most that
        many rows per value and sorts them.
        """
        if len(self.conditions) != 1:
            return None
        (condition,) = self.conditions
        if condition.label_key is None or condition.op not in ("=", "IN"):
            return None
        if any(name not in _LABEL_ORDER_COLUMNS for name, _ in order_fields):
            return None
        label_fields = [(_LABEL_ORDER_COLUMNS[name], descending) for name, descending in order_fields]
        labels = ImageLabel.objects.filter(folder_id=self.folder_id, key=condition.label_key)
        if last:
            labels = labels.filter(pagination.after_q(label_fields, last))
        order = [("-" if descending else "") + column for column, descending in label_fields]
        ranges = [
            labels.filter(value=value).order_by(*order).values("image_id")[:limit]
            for value in condition.values
        ]
        if len(ranges) == 1:
            return Q(id__in=ranges[0])
        return _in_any_range(ranges)


def _plainest(condition: Condition) -> Condition:
    """IN of one value as =, NOT IN of one value as != (repeated values once): the same rows, so
    the same query and plan."""
    values = tuple(dict.fromkeys(condition.values))
    if condition.op in ("IN", "NOT IN") and len(values) == 1:
        return Condition(condition.field, "=" if condition.op == "IN" else "!=", values)
    return Condition(condition.field, condition.op, values)


def _in_any_range(ranges: Sequence[QuerySet]) -> Q:
    """ "The image is in one of these ranges of the label table", as one UNION ALL of them in which
    each keeps its ORDER BY and LIMIT (the ranges are disjoint: an image has one value per key).

    Django's union() cannot keep them on SQLite, which allows ORDER BY and LIMIT in a compound
    query's parts only inside a subquery; so each range's own SQL is wrapped here.
    """
    parts, params = [], []
    for index, queryset in enumerate(ranges):
        sql, range_params = queryset.query.sql_with_params()
        # The ORM's own SQL for the range; every value in it is a parameter.
        parts.append(f'SELECT "image_id" FROM ({sql}) AS "range{index}"')  # noqa: S608
        params += list(range_params)
    union = " UNION ALL ".join(parts)
    return Q(RawSQL(f'"images_image"."id" IN ({union})', params, output_field=BooleanField()))  # noqa: S611


def image_filter(folder_id: str, conditions: Iterable[Condition]) -> ImageFilter:
    """The filter `conditions` over the images of one folder, for queries.image_page."""
    return ImageFilter(folder_id, conditions)


# --- order_by ----------------------------------------------------------------------------------

ORDER_FIELDS = {"id": "id", "name": "name", "createdAt": "created_at"}


@dataclass(frozen=True)
class Ordering:
    field: str  # the model field: "id", "name" or "created_at"
    descending: bool = False

    def order_fields(self) -> list[tuple[str, bool]]:
        """The keyset order: the field, then id as tie-breaker in the same direction."""
        if self.field == "id":
            return [("id", self.descending)]
        return [(self.field, self.descending), ("id", self.descending)]


def parse_order_by(text: str) -> Ordering:
    """`<field> [asc|desc]` with fields id, name, createdAt; `id asc` when empty."""
    limit = RULES["order_by"].length_limit
    if len(text) > limit:
        raise InvalidArgument.field("order_by", f"must be at most {limit} characters")
    words = text.split()
    if not words:
        return Ordering("id")
    field = ORDER_FIELDS.get(words[0])
    if field is None:
        raise InvalidArgument.field(
            "order_by", f"unknown field {quoted(words[0])}; fields are id, name and createdAt"
        )
    if len(words) == 1:
        return Ordering(field)
    direction = words[1].lower()
    if direction not in ("asc", "desc"):
        raise InvalidArgument.field(
            "order_by", f"expected asc or desc after {quoted(words[0])}, found {quoted(words[1])}"
        )
    if len(words) > 2:
        raise InvalidArgument.field(
            "order_by",
            f"unexpected {quoted(words[2])} after {quoted(' '.join(words[:2]))}; "
            "the form is <field> [asc|desc]",
        )
    return Ordering(field, descending=direction == "desc")

"""The image list's URL state (filters, sort, page size, page token) and the API filter it compiles to."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from dashboard.pager import clean_token
from images.errors import FieldViolation
from images.rules import RULES, check_family, check_labels, check_name, check_page_token

STATUSES = ("CREATING", "READY", "ERROR", "DELETING")
# How the name filter matches; the first is the default (and stays out of the URL).
NAME_OPS = {"contains": "contains", "eq": "is", "ne": "is not", "prefix": "starts with", "in": "is any of"}
DEFAULT_NAME_OP = "contains"
SEARCH_NAME_OPS = ("contains", "prefix")
# URL value → the API's order_by. The API can order by id, name and createdAt only, so size and
# status are not offered as sorts. The list opens newest first.
DEFAULT_SORT = "-created"
SORTS = {
    "name": "name asc",
    "-name": "name desc",
    "created": "createdAt asc",
    "-created": "createdAt desc",
}
PAGE_SIZES = (10, 25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50

_SEPARATORS = re.compile(r"[\s,]+")


def quote(value: str) -> str:
    """A string literal of the filter grammar: double quotes, with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_words(text: str) -> list[str]:
    return [word for word in _SEPARATORS.split(text.strip()) if word]


def parse_label_pairs(text: str) -> list[tuple[str, str | None]]:
    """ "env=prod, team= os" → [("env", "prod"), ("team", ""), ("os", None)]: a bare key (no "=")
    means "has this key", whatever its value; "key=" means the empty value."""
    pairs: list[tuple[str, str | None]] = []
    for word in split_words(text):
        key, equals, value = word.partition("=")
        pairs.append((key, value if equals else None))
    return pairs


@dataclass(frozen=True)
class ListState:
    """Everything that decides one page of the image list; it round-trips through the query string."""

    name: str = ""
    name_op: str = DEFAULT_NAME_OP
    family: str = ""
    statuses: tuple[str, ...] = ()
    labels: str = ""
    sort: str = DEFAULT_SORT
    size: int = DEFAULT_PAGE_SIZE
    default_size: int = DEFAULT_PAGE_SIZE  # the person's preferred size: a URL without one means it
    page: str = ""  # the current page's token; "" is the first page
    after: str | None = None  # on a Next link: the token of the page it was followed from

    # --- the API request -------------------------------------------------------------------
    def names(self) -> list[str]:
        return (
            split_words(self.name)
            if self.name_op == "in"
            else ([self.name.strip()] if self.name.strip() else [])
        )

    def api_filter(self) -> str:
        conditions = []
        names = self.names()
        if names:
            if self.name_op == "in":
                conditions.append(f"name IN ({', '.join(quote(n) for n in names)})")
            elif self.name_op in SEARCH_NAME_OPS:
                # Names are lowercase, so the search text is too (the API matches case-insensitively).
                text = names[0].lower() + ("*" if self.name_op == "prefix" else "")
                conditions.append(f"name:{quote(text)}")
            else:
                conditions.append(f"name {'!=' if self.name_op == 'ne' else '='} {quote(names[0])}")
        if self.family:
            conditions.append(f"family = {quote(self.family)}")
        if self.statuses:
            if len(self.statuses) == 1:
                conditions.append(f"status = {quote(self.statuses[0])}")
            else:
                conditions.append(f"status IN ({', '.join(quote(s) for s in self.statuses)})")
        for key, value in parse_label_pairs(self.labels):
            conditions.append(f"labels.{key}:*" if value is None else f"labels.{key} = {quote(value)}")
        return " AND ".join(conditions)

    def order_by(self) -> str:
        return SORTS.get(self.sort, "")

    @property
    def is_filtered(self) -> bool:
        return bool(self.names() or self.family or self.statuses or self.labels.strip())

    # --- URLs ------------------------------------------------------------------------------
    def params(self) -> list[tuple[str, str]]:
        """Only what differs from the defaults, in a stable order, so equal views share one URL."""
        pairs: list[tuple[str, str]] = []
        if self.name.strip():
            pairs.append(("name", self.name.strip()))
            if self.name_op != DEFAULT_NAME_OP:
                pairs.append(("name_op", self.name_op))
        if self.family:
            pairs.append(("family", self.family))
        pairs += [("status", status) for status in self.statuses]
        if self.labels.strip():
            pairs.append(("labels", self.labels.strip()))
        if self.sort != DEFAULT_SORT:
            pairs.append(("sort", self.sort))
        if self.size != self.default_size:
            pairs.append(("size", str(self.size)))
        if self.page:
            pairs.append(("page", self.page))
            if self.after is not None:
                pairs.append(("after", self.after))
        return pairs

    def query(self) -> str:
        pairs = self.params()
        return "?" + urlencode(pairs) if pairs else ""

    def first_page(self) -> ListState:
        return self.at_page("")

    def at_page(self, token: str, after: str | None = None) -> ListState:
        return replace(self, page=token, after=after if token else None)

    @property
    def pager_scope(self) -> str:
        """Tokens already differ per folder, filter and order; the same token at another size does not."""
        return f"images/{self.size}"

    def sorted_by(self, column: str) -> ListState:
        """Clicking a column: ascending first, then descending, then back to the default (newest first)."""
        if self.sort == column:
            sort = "-" + column
        elif self.sort == "-" + column:
            # The default's own column has two states only: the default, then the other way.
            sort = column if DEFAULT_SORT == self.sort else DEFAULT_SORT
        else:
            sort = column
        return replace(self, sort=sort).first_page()

    def sort_direction(self, column: str) -> str:
        """aria-sort value of a column header."""
        if self.sort == column:
            return "ascending"
        if self.sort == "-" + column:
            return "descending"
        return "none"


def parse_state(query, *, default_size: int = DEFAULT_PAGE_SIZE) -> tuple[ListState, dict[str, str]]:
    """A ListState from a QueryDict, and early errors per form field (from the shared rules).
    `default_size`: the page size a URL without one gets (the person's preference)."""
    errors: dict[str, str] = {}
    name_op = query.get("name_op", DEFAULT_NAME_OP)
    if name_op not in NAME_OPS:
        name_op = DEFAULT_NAME_OP
    try:
        size = int(query.get("size", default_size))
    except ValueError:
        size = default_size
    if size not in PAGE_SIZES:
        size = default_size
    sort = query.get("sort") or DEFAULT_SORT
    state = ListState(
        name=query.get("name", "")[:1000],
        name_op=name_op,
        family=query.get("family", "").strip()[:100],
        statuses=tuple(s for s in STATUSES if s in query.getlist("status")),
        labels=query.get("labels", "")[:1000],
        sort=sort if sort in SORTS else DEFAULT_SORT,
        size=size,
        default_size=default_size,
        page=query.get("page", ""),
        after=clean_token(query.get("after")),
    )
    for name in state.names():
        if state.name_op in SEARCH_NAME_OPS:
            # A part of a name need not be a whole valid name ("-web" is fine); only "*" is the
            # grammar's own (a prefix search) and cannot be searched for.
            if "*" in name:
                errors["name"] = "Search text cannot contain “*”; choose “starts with” for a prefix."
            elif len(name) > RULES["name"].length_limit:
                errors["name"] = (
                    f"Search text is longer than a name ({RULES['name'].length_limit} characters)."
                )
            continue
        for violation in check_name(name):
            errors["name"] = f"{name!r} {violation.description}"
    for violation in check_family(state.family):
        errors["family"] = f"Family {violation.description}"
    pairs = parse_label_pairs(state.labels)
    for violation in check_labels({key: value or "" for key, value in pairs}):
        errors["labels"] = _capitalized(violation.description)
    if len(pairs) != len(dict(pairs)):
        errors["labels"] = "Each label key may appear once."
    if check_page_token(state.page):
        return state.first_page(), errors
    if len(state.api_filter()) > RULES["filter"].length_limit:
        errors["name"] = f"The filter is longer than {RULES['filter'].max_length} characters."
    return state, errors


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def violations_to_errors(violations: list[FieldViolation]) -> dict[str, str]:
    """The backend's verdict on a List request, placed on the filter form."""
    errors = {}
    for violation in violations:
        target = {"filter": "name", "order_by": "sort", "page_size": "size"}.get(violation.field)
        if violation.field == "page_token":
            errors["page"] = "This page link has expired. Start again from the first page."
        elif target:
            errors[target] = _capitalized(violation.description)
    return errors

"""The one table of request field rules from the contract, and the checks built on it (pure Python).

Shared: the backend's domain enforces these rules and the dashboard's forms read the same table for
their HTML attributes and early messages. It imports nothing from the backend or Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from images.errors import FieldViolation


@dataclass(frozen=True)
class Rule:
    field: str  # request field name
    label: str  # human label, e.g. "Name"
    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None  # Python regex, always applied with re.fullmatch
    html_pattern: str | None = None  # the same rule for an HTML pattern="" attribute (JS, v-flag safe)
    min_value: int | None = None
    max_value: int | None = None
    max_items: int | None = None
    help: str = ""  # one plain sentence for people, shown under a form field

    @property
    def length_limit(self) -> int:
        """max_length, for a rule known to have one."""
        return _required(self.max_length, self.field)

    @property
    def items_limit(self) -> int:
        return _required(self.max_items, self.field)

    @property
    def value_limit(self) -> int:
        return _required(self.max_value, self.field)


def _required(value: int | None, field: str) -> int:
    if value is None:
        raise LookupError(f"the rule for {field} has no such limit")
    return value


MIN_DISK_SIZE = 4 * 1024**2  # 4 MiB
MAX_DISK_SIZE = 4 * 1024**4  # 4 TiB
DEFAULT_PAGE_SIZE = 100
# The fields ImageService.Update may change (its update_mask paths), in the contract's order.
UPDATABLE_FIELDS = ("name", "description", "min_disk_size", "labels")

# html_pattern escapes "-" and "/" inside classes: browsers compile pattern="" with the `v` flag,
# where an unescaped "-" or "/" in a class is a syntax error and the attribute is then ignored.
RULES: dict[str, Rule] = {
    rule.field: rule
    for rule in [
        Rule("id", "ID", max_length=50, min_length=1, help="The resource ID, at most 50 characters."),
        Rule(
            "folder_id",
            "Folder ID",
            max_length=50,
            min_length=1,
            help="The folder ID, at most 50 characters.",
        ),
        Rule(
            "name",
            "Name",
            max_length=63,
            pattern=r"[a-z]([-_a-z0-9]{0,61}[a-z0-9])?",
            html_pattern=r"[a-z]([\-_a-z0-9]{0,61}[a-z0-9])?",
            help="Optional; up to 63 lowercase letters, digits, hyphens and underscores, "
            "starting with a letter and not ending with a hyphen or underscore.",
        ),
        Rule("description", "Description", max_length=256, help="Optional; at most 256 characters."),
        Rule(
            "family",
            "Family",
            max_length=63,
            pattern=r"[a-z][-a-z0-9]{1,61}[a-z0-9]",
            html_pattern=r"[a-z][\-a-z0-9]{1,61}[a-z0-9]",
            help="Optional; 3 to 63 lowercase letters, digits and hyphens, "
            "starting with a letter and not ending with a hyphen.",
        ),
        Rule(
            "label_key",
            "Label key",
            max_length=63,
            min_length=1,
            pattern=r"[a-z][-_./@0-9a-z]*",
            html_pattern=r"[a-z][\-_.\/@0-9a-z]*",
            help="1 to 63 lowercase letters, digits and - _ . / @, starting with a letter.",
        ),
        Rule(
            "label_value",
            "Label value",
            max_length=63,
            pattern=r"[-_./@0-9a-z]*",
            html_pattern=r"[\-_.\/@0-9a-z]*",
            help="Up to 63 lowercase letters, digits and - _ . / @.",
        ),
        Rule("labels", "Labels", max_items=64, help="At most 64 labels."),
        Rule(
            "min_disk_size",
            "Minimum disk size",
            min_value=MIN_DISK_SIZE,
            max_value=MAX_DISK_SIZE,
            help="In bytes, from 4 MiB to 4 TiB; leave it empty or 0 to take the size of the source.",
        ),
        Rule("product_id", "Product ID", max_length=50, help="At most 50 characters."),
        Rule("product_ids", "Product IDs", help="Each product ID at most 50 characters."),
        Rule(
            "page_size",
            "Page size",
            min_value=0,
            max_value=1000,
            help=f"At most 1000 results per page; 0 means {DEFAULT_PAGE_SIZE}.",
        ),
        Rule("page_token", "Page token", max_length=100, help="The next_page_token of the previous page."),
        Rule(
            "filter",
            "Filter",
            max_length=1000,
            help='Conditions such as name = "web" AND labels.env IN ("prod", "test"), joined by AND.',
        ),
        Rule(
            "order_by",
            "Order by",
            max_length=100,
            help="id, name or createdAt, optionally followed by asc or desc.",
        ),
        Rule("operation_id", "Operation ID", min_length=1, help="The operation ID."),
    ]
}

_NAME_DESCRIPTION = (
    "must start with a lowercase letter, contain only lowercase letters, digits, hyphens and "
    "underscores, and not end with a hyphen or underscore"
)
_FAMILY_DESCRIPTION = (
    "must be 3 to 63 characters: a lowercase letter first, then lowercase letters, digits and "
    "hyphens, not ending with a hyphen"
)
_LABEL_CHARS = "lowercase letters, digits and - _ . / @"


def quoted(text: str, limit: int = 40) -> str:
    """`text` in double quotes for an error message: shortened, with unprintable characters escaped."""
    if len(text) > limit:
        text = text[:limit] + "..."
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def matches(rule: Rule, value: str) -> bool:
    """Whether the whole of `value` matches the rule's pattern (a trailing newline does not)."""
    return rule.pattern is None or re.fullmatch(rule.pattern, value) is not None


def _too_long(value: str, rule: Rule) -> str | None:
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"must be at most {rule.max_length} characters"
    return None


def _nul(value: str) -> str | None:
    # PostgreSQL cannot store NUL in text or jsonb: such a value must be refused here, not by the database.
    return "must not contain NUL characters" if "\x00" in value else None


def _violation(field: str, description: str | None) -> list[FieldViolation]:
    return [FieldViolation(field, description)] if description else []


def check_id(value: str, field: str, *, required: bool = True) -> list[FieldViolation]:
    """Any resource ID: required unless told otherwise, at most 50 characters."""
    if not value:
        return _violation(field, "is required" if required else None)
    return _violation(field, _too_long(value, RULES["id"]) or _nul(value))


def check_operation_id(value: str, field: str = "operation_id") -> list[FieldViolation]:
    return _violation(field, None if value else "is required")


def check_name(value: str, field: str = "name") -> list[FieldViolation]:
    if not value:
        return []
    rule = RULES["name"]
    return _violation(field, _too_long(value, rule) or (None if matches(rule, value) else _NAME_DESCRIPTION))


def check_description(value: str, field: str = "description") -> list[FieldViolation]:
    return _violation(field, _too_long(value, RULES["description"]) or _nul(value))


def _label_problem(key: str, value: str) -> str | None:
    key_rule, value_rule = RULES["label_key"], RULES["label_value"]
    if not key:
        return "label keys must not be empty"
    if len(key) > key_rule.length_limit:
        return f"label key {quoted(key)} must be at most {key_rule.max_length} characters"
    if not matches(key_rule, key):
        return f"label key {quoted(key)} must start with a lowercase letter and contain only {_LABEL_CHARS}"
    if len(value) > value_rule.length_limit:
        return f"the value of label {quoted(key)} must be at most {value_rule.max_length} characters"
    if not matches(value_rule, value):
        return f"the value of label {quoted(key)} must contain only {_LABEL_CHARS}"
    return None


def check_labels(labels: Mapping[str, str], field: str = "labels") -> list[FieldViolation]:
    """At most one violation (the contract sends one per field); the first bad key in sorted order."""
    max_items = RULES["labels"].items_limit
    if len(labels) > max_items:
        return _violation(field, f"must have at most {max_items} labels, got {len(labels)}")
    for key in sorted(labels):
        problem = _label_problem(key, labels[key])
        if problem:
            return _violation(field, problem)
    return []


def check_family(value: str, field: str = "family", *, required: bool = False) -> list[FieldViolation]:
    if not value:
        return _violation(field, "is required" if required else None)
    rule = RULES["family"]
    return _violation(
        field, _too_long(value, rule) or (None if matches(rule, value) else _FAMILY_DESCRIPTION)
    )


def check_min_disk_size(value: int, field: str = "min_disk_size") -> list[FieldViolation]:
    """0 means "not given"; anything else must lie in the contract's range, both ends included."""
    if value == 0 or MIN_DISK_SIZE <= value <= MAX_DISK_SIZE:
        return []
    return _violation(field, f"must be 0 or from {MIN_DISK_SIZE} (4 MiB) to {MAX_DISK_SIZE} (4 TiB) bytes")


def check_product_ids(values: Iterable[str], field: str = "product_ids") -> list[FieldViolation]:
    limit = RULES["product_id"].length_limit
    for index, value in enumerate(values):
        if len(value) > limit:
            return _violation(field, f"product ID #{index + 1} must be at most {limit} characters")
        if _nul(value):
            return _violation(field, f"product ID #{index + 1} {_nul(value)}")
    return []


def check_page_size(value: int, field: str = "page_size") -> list[FieldViolation]:
    rule = RULES["page_size"]
    if value < 0:
        return _violation(field, "must not be negative")
    if value > rule.value_limit:
        return _violation(field, f"must be at most {rule.max_value}")
    return []


def page_size_or_default(value: int) -> int:
    """The page size to use for a valid request value (0 means the default)."""
    return value or DEFAULT_PAGE_SIZE


def check_page_token(value: str, field: str = "page_token") -> list[FieldViolation]:
    return _violation(field, _too_long(value, RULES["page_token"]))


def check_filter_length(value: str, field: str = "filter") -> list[FieldViolation]:
    return _violation(field, _too_long(value, RULES["filter"]))


def check_order_by_length(value: str, field: str = "order_by") -> list[FieldViolation]:
    return _violation(field, _too_long(value, RULES["order_by"]))


def check_list_request(
    *, folder_id: str, page_size: int, page_token: str, filter: str, order_by: str
) -> list[FieldViolation]:
    """The fields every List of a folder takes (images, disks, snapshots), checked alike."""
    return (
        check_id(folder_id, "folder_id")
        + check_page_size(page_size)
        + check_page_token(page_token)
        + check_filter_length(filter)
        + check_order_by_length(order_by)
    )

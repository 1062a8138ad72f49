"""What changed between two versions of an image's fields: for edit previews and family timelines."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.units import exact_size
from images.rules import RULES

_LABELS = {"storage_size": "Storage size", "os": "OS", "size": "Size"}
SIZE_FIELDS = {"min_disk_size", "storage_size", "size"}


@dataclass(frozen=True)
class Change:
    field: str  # the API field, e.g. "labels"
    label: str  # for people, e.g. "Label env"
    kind: str  # added | removed | changed
    old: str = ""
    new: str = ""


def field_label(name: str) -> str:
    return RULES[name].label if name in RULES else _LABELS.get(name, name.replace("_", " ").capitalize())


def show(name: str, value) -> str:
    if name in SIZE_FIELDS:
        return exact_size(value) if value else "not set"
    return str(value)


def diff(old: dict, new: dict) -> list[Change]:
    """Changes from `old` to `new`, field by field in `new`'s order; labels and product ids per item."""
    changes: list[Change] = []
    for name, new_value in new.items():
        old_value = old.get(name)
        if old_value == new_value:
            continue
        if name == "labels":
            old_labels, new_labels = old_value or {}, new_value or {}
            for key in sorted(old_labels.keys() | new_labels.keys()):
                label = f"Label {key}"
                if key not in old_labels:
                    changes.append(Change(name, label, "added", new=new_labels[key]))
                elif key not in new_labels:
                    changes.append(Change(name, label, "removed", old=old_labels[key]))
                elif old_labels[key] != new_labels[key]:
                    changes.append(Change(name, label, "changed", old_labels[key], new_labels[key]))
        elif name == "product_ids":
            old_ids, new_ids = list(old_value or []), list(new_value or [])
            changes += [Change(name, "Product ID", "removed", old=i) for i in old_ids if i not in new_ids]
            changes += [Change(name, "Product ID", "added", new=i) for i in new_ids if i not in old_ids]
        elif not old_value:
            changes.append(Change(name, field_label(name), "added", new=show(name, new_value)))
        elif not new_value:
            changes.append(Change(name, field_label(name), "removed", old=show(name, old_value)))
        else:
            changes.append(
                Change(name, field_label(name), "changed", show(name, old_value), show(name, new_value))
            )
    return changes


def changed_fields(old: dict, new: dict) -> list[str]:
    """The API field paths whose values differ: exactly the update_mask an edit needs."""
    return [name for name, value in new.items() if old.get(name) != value]

"""Three-way merge of an edit: the image as the form opened it, as it is now, and as the form says.

A field the person did not touch takes the image's current value, so a save never reverts what
someone else saved meanwhile; a field both changed (to different values) is a conflict for the
person to settle. Labels merge the same way, key by key.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.diffs import field_label, show

_MISSING = object()


@dataclass(frozen=True)
class EditConflict:
    field: str  # the form field: name, description, min_disk_size or labels
    label: str  # for people: "Description", "Label env"
    theirs: str  # the value someone else saved, for display
    mine: str  # the value in the form, for display


def _pick(base, theirs, mine):
    """The merged value and whether it is a conflict (then the form's value is kept)."""
    if mine == base or mine == theirs:
        return theirs, False
    if theirs == base:
        return mine, False
    return mine, True


def _label_text(value) -> str:
    return "(no label)" if value is _MISSING else value or "(empty)"


def merge(base: dict, theirs: dict, mine: dict) -> tuple[dict, list[EditConflict]]:
    """The values to save and the conflicts, from `base` (opened), `theirs` (now) and `mine` (form)."""
    merged: dict = {}
    conflicts: list[EditConflict] = []
    for name, mine_value in mine.items():
        if name == "labels":
            continue
        merged[name], clash = _pick(base.get(name), theirs.get(name), mine_value)
        if clash:
            conflicts.append(
                EditConflict(
                    name,
                    field_label(name),
                    show(name, theirs.get(name)) or "(empty)",
                    show(name, mine_value) or "(empty)",
                )
            )
    if "labels" in mine:
        base_labels, their_labels, my_labels = (
            base.get("labels", {}),
            theirs.get("labels", {}),
            mine["labels"],
        )
        labels = {}
        for key in sorted(base_labels.keys() | their_labels.keys() | my_labels.keys()):
            values = [labels_.get(key, _MISSING) for labels_ in (base_labels, their_labels, my_labels)]
            value, clash = _pick(*values)
            if value is not _MISSING:
                labels[key] = value
            if clash:
                conflicts.append(
                    EditConflict("labels", f"Label {key}", _label_text(values[1]), _label_text(values[2]))
                )
        merged["labels"] = labels
    return merged, conflicts

"""Forms whose HTML attributes and early messages come from the backend's rules table (images.rules)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import signing

from dashboard.units import FORM_UNITS, UNITS, parse_size, sizes_for_people, split_size
from images.errors import FieldViolation
from images.rules import (
    RULES,
    check_description,
    check_family,
    check_id,
    check_labels,
    check_min_disk_size,
    check_name,
    check_product_ids,
)

SOURCE_KINDS = [
    ("disk_id", "Disk"),
    ("snapshot_id", "Snapshot"),
    ("image_id", "Image"),
    ("family", "Latest of family"),  # resolved to an image id through GetLatestByFamily at submit
    ("uri", "URI"),
]
OS_CHOICES = [("", "Same as the source"), ("1", "Linux"), ("2", "Windows")]
SNAPSHOT_SALT = "dashboard.edit-snapshot"


def _sentence(description: str) -> str:
    description = sizes_for_people(description)
    return description[:1].upper() + description[1:] + ("" if description.endswith(".") else ".")


def _raise_violations(violations: list[FieldViolation]) -> None:
    if violations:
        raise forms.ValidationError([_sentence(v.description) for v in violations])


def rule_attrs(key: str) -> dict[str, str]:
    """HTML validation attributes of one rule: what the browser checks before the backend does.

    No `maxlength`: it silently cuts a longer paste and the cut value would be sent; too long a value
    is refused instead, by the pattern (which bounds the length) or by the server, with the rule's text."""
    rule = RULES[key]
    attrs: dict[str, str] = {}
    if rule.min_length:
        attrs["minlength"] = str(rule.min_length)
    if rule.html_pattern:
        attrs["pattern"] = rule.html_pattern
    if rule.help:
        attrs["title"] = rule.help
    return attrs


def rule_field(key: str, *, required: bool = False, widget=None, label: str | None = None) -> forms.CharField:
    rule = RULES[key]
    widget = widget or forms.TextInput
    return forms.CharField(
        label=label or rule.label,
        required=required,
        strip=True,
        help_text=rule.help,
        widget=widget(attrs={**rule_attrs(key), "autocomplete": "off", "spellcheck": "false"}),
    )


class LabelsWidget(forms.Widget):
    """Rows of key and value inputs (label_key / label_value, same order); templates draw the rows."""

    def value_from_datadict(self, data, files, name):
        keys, values = data.getlist("label_key"), data.getlist("label_value")
        return [(k.strip(), v.strip()) for k, v in zip(keys, values, strict=False) if k.strip() or v.strip()]

    def value_omitted_from_data(self, data, files, name):
        return "label_key" not in data


class LabelsField(forms.Field):
    widget = LabelsWidget

    def __init__(self, **kwargs):
        super().__init__(
            label=RULES["labels"].label, required=False, help_text=RULES["labels"].help, **kwargs
        )

    def to_python(self, value):
        if not value:
            return {}
        if isinstance(value, dict):
            return dict(value)
        pairs = list(value)
        labels = dict(pairs)
        if len(labels) != len(pairs):
            raise forms.ValidationError("Each label key may appear only once.")
        return labels

    def validate(self, value):
        _raise_violations(check_labels(value))


class SizeWidget(forms.MultiWidget):
    def __init__(self):
        super().__init__(
            [
                forms.NumberInput(attrs={"min": "0", "step": "any", "inputmode": "decimal"}),
                forms.Select(choices=[(unit, unit) for unit in FORM_UNITS], attrs={"aria-label": "Unit"}),
            ]
        )

    def decompress(self, value):
        return list(split_size(int(value))) if value else ["", "GiB"]

    def id_for_label(self, id_):
        # The field's <label> names the number; the unit select has its own aria-label.
        return f"{id_}_0" if id_ else id_


class SizeField(forms.MultiValueField):
    """A byte count entered as a number and a unit (MiB, GiB, TiB); empty means 0 (not given)."""

    widget = SizeWidget

    def __init__(self, rule_key: str, **kwargs):
        rule = RULES[rule_key]
        self.rule_key = rule_key
        super().__init__(
            fields=[forms.CharField(required=False), forms.ChoiceField(choices=[(u, u) for u in UNITS])],
            require_all_fields=False,
            required=False,
            label=rule.label,
            help_text=rule.help.replace("In bytes, from", "From"),
            **kwargs,
        )

    def compress(self, data_list):
        if not data_list or not (data_list[0] or "").strip():
            return 0
        number, unit = data_list[0], data_list[1] or "GiB"
        try:
            return parse_size(number, unit)
        except ValueError as error:
            raise forms.ValidationError(_sentence(str(error))) from None

    def validate(self, value):
        _raise_violations(check_min_disk_size(value))


class ProductIdsField(forms.CharField):
    def __init__(self):
        super().__init__(
            label=RULES["product_ids"].label,
            required=False,
            help_text="Separated by commas or spaces. " + RULES["product_ids"].help,
            widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        )

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [item for item in text.replace(",", " ").split() if item]

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def validate(self, value):
        _raise_violations(check_product_ids(value))


class SecretQueryURLInput(forms.URLInput):
    """Sends an address back to the page only when it has no query or fragment (signed URLs keep
    their secrets there); otherwise the person pastes it again."""

    def format_value(self, value):
        value = super().format_value(value)
        return None if value and ("?" in value or "#" in value) else value


class ImageFieldsMixin:
    """Checks shared by create and edit; each message comes from images.rules."""

    if TYPE_CHECKING:  # provided by the forms.Form this is mixed into
        fields: dict[str, forms.Field]
        cleaned_data: dict[str, Any]

        def add_error(self, field: str | None, error: Any) -> None: ...

    def clean_name(self):
        value = self.cleaned_data["name"]
        _raise_violations(check_name(value))
        return value

    def clean_description(self):
        value = self.cleaned_data["description"]
        _raise_violations(check_description(value))
        return value

    # The backend's field paths (FieldViolation.field) → this form's fields.
    VIOLATION_FIELDS = {
        "name": "name",
        "description": "description",
        "family": "family",
        "labels": "labels",
        "min_disk_size": "min_disk_size",
        "product_ids": "product_ids",
        "image_id": "source_id",
        "disk_id": "source_id",
        "snapshot_id": "source_id",
        "uri": "uri",
        "source": "source_kind",
        "os": "os",
    }

    def add_violations(self, violations: list[FieldViolation]) -> None:
        """Puts the backend's verdict next to the fields it names (the rest above the form)."""
        for violation in violations:
            root = violation.field.split(".")[0].split("[")[0]
            target = self.VIOLATION_FIELDS.get(root)
            if target not in self.fields:
                target = None
            self.add_error(target, _sentence(violation.description))


class CreateImageForm(ImageFieldsMixin, forms.Form):
    source_kind = forms.ChoiceField(
        label="Source", choices=SOURCE_KINDS, initial="disk_id", widget=forms.RadioSelect
    )
    source_id = rule_field("id", label="Source ID")
    uri = forms.CharField(
        label="URI",
        required=False,
        max_length=2048,
        help_text="An http(s) address of a qcow2, vmdk, vhd or raw disk image. "
        "An address with a query string is not shown again after an error.",
        widget=SecretQueryURLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = rule_field("name")
    description = rule_field("description", widget=forms.Textarea)
    family = rule_field("family")
    labels = LabelsField()
    min_disk_size = SizeField("min_disk_size")
    product_ids = ProductIdsField()
    os = forms.ChoiceField(label="OS", choices=OS_CHOICES, required=False)
    pooled = forms.BooleanField(label="Pooled (faster disk creation from this image)", required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].widget.attrs["rows"] = "3"
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean_family(self):
        value = self.cleaned_data["family"]
        _raise_violations(check_family(value))
        return value

    def clean(self):
        data = super().clean()
        kind = data.get("source_kind")
        if kind == "uri":
            if not data.get("uri"):
                self.add_error("uri", "Give the address to import the image from.")
            elif not data["uri"].lower().startswith(("http://", "https://")):
                self.add_error("uri", "Use an http:// or https:// address.")
        elif kind == "family":
            for violation in check_family(data.get("source_id", ""), "source_id", required=True):
                self.add_error("source_id", _sentence(violation.description))
        elif kind:
            for violation in check_id(data.get("source_id", ""), "source_id"):
                self.add_error("source_id", _sentence(violation.description))
        return data

    def source(self) -> tuple[str, str]:
        kind = self.cleaned_data["source_kind"]
        return kind, self.cleaned_data["uri"] if kind == "uri" else self.cleaned_data["source_id"]


class EditImageForm(ImageFieldsMixin, forms.Form):
    """The editable fields, plus a signed copy of the image as it was when the form was opened."""

    name = rule_field("name")
    description = rule_field("description", widget=forms.Textarea)
    min_disk_size = SizeField("min_disk_size")
    labels = LabelsField()
    snapshot = forms.CharField(widget=forms.HiddenInput)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["description"].widget.attrs["rows"] = "3"

    @classmethod
    def for_image(cls, editable: dict, data=None) -> EditImageForm:
        initial = {**editable, "snapshot": sign_snapshot(editable), "idempotency_key": uuid.uuid4().hex}
        return cls(data=data, initial=initial)

    def clean_snapshot(self):
        try:
            return signing.loads(self.cleaned_data["snapshot"], salt=SNAPSHOT_SALT)
        except signing.BadSignature:
            raise forms.ValidationError("This form was damaged; open it again.") from None

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("name", "description", "min_disk_size", "labels")}


def sign_snapshot(editable: dict) -> str:
    return signing.dumps(editable, salt=SNAPSHOT_SALT, compress=True)


def label_rows(form: forms.Form, extra: int = 1) -> list[tuple[str, str]]:
    """The rows the labels editor shows: the submitted (or initial) labels, then `extra` empty rows."""
    if form.is_bound:
        rows = form.fields["labels"].widget.value_from_datadict(form.data, None, "labels")
    else:
        rows = list((form.initial.get("labels") or {}).items())
    return [*rows, *([("", "")] * extra)]

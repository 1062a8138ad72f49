"""Each person's dashboard preferences and saved views, read from the signed-in user as loaded.

The account loader (dashboard/accounts.py) brings both along with the user, so a page reads them
without a query; saving either makes this process load the account again on its next request.
"""

from __future__ import annotations

from django import forms

from dashboard import folders
from dashboard.filters import DEFAULT_PAGE_SIZE, PAGE_SIZES
from dashboard.models import THEMES, Preferences, SavedView

# The image list's columns, in order: (key, header, sort key). The name column always shows (it
# names the row); every other one can be hidden with the column chooser.
LIST_COLUMNS = (
    ("name", "Name", "name"),
    ("family", "Family", ""),
    ("status", "Status", ""),
    ("size", "Size", ""),
    ("min_disk", "Min disk", ""),
    ("os", "OS", ""),
    ("labels", "Labels", ""),
    ("created", "Created", "created"),
)
HIDEABLE_COLUMNS = {key: label for key, label, _ in LIST_COLUMNS if key != "name"}


def of(user) -> Preferences:
    """The person's preferences, or the defaults (unsaved) if they never chose any."""
    try:
        preferences = user.dashboard_preferences
    except Preferences.DoesNotExist:
        preferences = None
    return preferences or Preferences(user_id=user.pk)


def theme(user) -> str:
    return of(user).theme if user.is_authenticated else "auto"


def page_size(user) -> int:
    size = of(user).page_size
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def hidden_columns(user) -> list[str]:
    return [key for key in of(user).hidden_columns if key in HIDEABLE_COLUMNS]


def saved_views(user, folder_id: str | None = None) -> list[SavedView]:
    views = list(user.saved_views.all())  # prefetched with the account
    return [view for view in views if folder_id is None or view.folder_id == folder_id]


def update(user, **fields) -> Preferences:
    preferences, _ = Preferences.objects.update_or_create(user_id=user.pk, defaults=fields)
    return preferences


class PreferencesForm(forms.Form):
    theme = forms.ChoiceField(choices=THEMES.items(), widget=forms.RadioSelect, label="Theme")
    page_size = forms.TypedChoiceField(
        choices=[("", f"Default ({DEFAULT_PAGE_SIZE})"), *((n, str(n)) for n in PAGE_SIZES)],
        coerce=int,
        empty_value=None,
        required=False,
        label="Images per page",
    )
    visible_columns = forms.MultipleChoiceField(
        choices=HIDEABLE_COLUMNS.items(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Columns of the image list",
        help_text="The name always shows.",
    )
    default_folder = forms.CharField(
        required=False,
        max_length=50,
        label="Default folder",
        help_text="Where the console opens. Empty: the folder you used last.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    @classmethod
    def for_user(cls, user, data=None) -> PreferencesForm:
        preferences = of(user)
        initial = {
            "theme": preferences.theme,
            "page_size": preferences.page_size or "",
            "visible_columns": [key for key in HIDEABLE_COLUMNS if key not in hidden_columns(user)],
            "default_folder": preferences.default_folder,
        }
        return cls(data, initial=initial)

    def clean_default_folder(self) -> str:
        folder_id = self.cleaned_data["default_folder"].strip()
        if folder_id and not folders.is_valid(folder_id):
            raise forms.ValidationError("A folder ID is 1 to 50 characters.")
        return folder_id

    def save(self, user) -> Preferences:
        data = self.cleaned_data
        return update(
            user,
            theme=data["theme"],
            page_size=data["page_size"],
            hidden_columns=[key for key in HIDEABLE_COLUMNS if key not in data["visible_columns"]],
            default_folder=data["default_folder"],
        )

"""URL path converters: any ID the API accepts, as one path segment."""

from __future__ import annotations

from urllib.parse import quote, unquote


class IdConverter:
    """An ID is any 1 to 50 characters (`/`, `?`, `#`, `%` and dots included), so it is escaped here.

    Django decodes %xx before it routes, so `a/b` would split the path even as `a%2Fb`: the ID is
    escaped once here and once more by reverse() (`a/b` is sent as `a%252Fb`, routed as `a%2Fb`,
    and unescaped back to `a/b`). IDs of letters, digits and `-._~` read as themselves. `.` and `..`
    are escaped too, or browsers would treat them as "this folder" and "the parent folder".
    """

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        escaped = quote(value, safe="")
        return escaped.replace(".", "%2E") if not escaped.strip(".") else escaped

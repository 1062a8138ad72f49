"""API tokens and callers: creation, lookup by hash in constant time, the caller's role."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from images.errors import Unauthenticated
from images.store.models import ApiToken, Role

_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Caller:
    id: str  # the token's name; becomes an operation's created_by
    role: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(*, name: str, role: str) -> str:
    """Stores a new token for `name` with `role` and returns it; only its hash is kept."""
    if role not in Role.values:
        raise ValueError(f"role must be one of {', '.join(Role.values)}")
    token = "ism_" + secrets.token_urlsafe(32)
    ApiToken.objects.update_or_create(name=name, defaults={"role": role, "token_sha256": _digest(token)})
    return token


class TokenAuthenticator:
    """Resolves bearer tokens to callers, with a short cache so a call costs no query."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[float, Caller | None]] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None) -> Caller:
        if not authorization or not authorization.startswith("Bearer "):
            raise Unauthenticated("missing bearer token in the authorization metadata")
        token = authorization[len("Bearer ") :].strip()
        if not token:
            raise Unauthenticated("missing bearer token in the authorization metadata")
        digest = _digest(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            caller = cached[1]
        else:
            caller = self._lookup(digest)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[digest] = (now + _CACHE_SECONDS, caller)
        if caller is None:
            raise Unauthenticated("unknown token")
        return caller

    @staticmethod
    def _lookup(digest: str) -> Caller | None:
        row = ApiToken.objects.filter(token_sha256=digest).values_list("name", "role", "token_sha256").first()
        # The index finds the row; the comparison that decides is constant-time.
        if row is None or not hmac.compare_digest(row[2], digest):
            return None
        return Caller(id=row[0], role=row[1])

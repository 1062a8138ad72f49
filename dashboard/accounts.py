"""The signed-in person, their role, backend token and preferences: loaded once, then kept a few seconds per process.

Every page needs all three before its view runs; without this they cost three queries a request
(user, BackendAccount, the editor group). The session itself still decides who is signed in (a
logged-out session finds no user id, at once, in every process), and Django still checks the
session's password hash against the cached user. What the cache delays, in *other* processes and
for at most DASHBOARD_ACCOUNT_CACHE_SECONDS, is a change to the account itself: a new token, a role
change, a deactivation or a password change. This process forgets an account as soon as it saves
one (signals), so a request never sees its own change late.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from dashboard.models import BackendAccount, Preferences, SavedView

_lock = threading.Lock()
_accounts: dict[object, tuple[float, object]] = {}  # user id → (expires at, user)


class CachedAccountBackend(ModelBackend):
    """Django's ModelBackend whose get_user comes with backend_account and the role, briefly cached.

    The user object is shared by the requests of this process that read it: treat it as read-only.
    """

    def get_user(self, user_id):
        ttl = settings.DASHBOARD_ACCOUNT_CACHE_SECONDS
        now = time.monotonic()
        cached = _accounts.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = self._load(user_id)
        if user is not None and ttl > 0:
            with _lock:
                if len(_accounts) > 10_000:
                    _accounts.clear()
                _accounts[user_id] = (now + ttl, user)
        return user

    def _load(self, user_id):
        model = get_user_model()
        try:
            user = (
                model._default_manager.select_related("backend_account", "dashboard_preferences")
                .prefetch_related("saved_views")
                .get(pk=user_id)
            )
        except model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        user._dashboard_is_editor = user.groups.filter(name="editor").exists()  # read by access.is_editor
        return user


def forget(user_id=None) -> None:
    """Drops one cached account (or all of them); the next request loads it again."""
    with _lock:
        if user_id is None:
            _accounts.clear()
        else:
            _accounts.pop(user_id, None)


def _forget_user(sender, instance, **kwargs):
    forget(instance.pk)


def _forget_account(sender, instance, **kwargs):
    forget(instance.user_id)


def _forget_all(sender, **kwargs):
    forget()


def connect_signals() -> None:
    """Called once from the app config: forget an account whenever this process changes it."""
    user_model = get_user_model()
    post_save.connect(_forget_user, sender=user_model, dispatch_uid="dashboard-accounts-user-save")
    post_delete.connect(_forget_user, sender=user_model, dispatch_uid="dashboard-accounts-user-delete")
    post_save.connect(_forget_account, sender=BackendAccount, dispatch_uid="dashboard-accounts-token-save")
    post_delete.connect(
        _forget_account, sender=BackendAccount, dispatch_uid="dashboard-accounts-token-delete"
    )
    for model in (Preferences, SavedView):
        post_save.connect(
            _forget_account, sender=model, dispatch_uid=f"dashboard-accounts-{model.__name__}-save"
        )
        post_delete.connect(
            _forget_account, sender=model, dispatch_uid=f"dashboard-accounts-{model.__name__}-delete"
        )
    m2m_changed.connect(
        _forget_all, sender=user_model.groups.through, dispatch_uid="dashboard-accounts-groups"
    )
    post_save.connect(_forget_all, sender=Group, dispatch_uid="dashboard-accounts-group-save")
    post_delete.connect(_forget_all, sender=Group, dispatch_uid="dashboard-accounts-group-delete")

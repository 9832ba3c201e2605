"""Writes to accounts and roles: a new account becomes a reviewer; an admin appoints curators
and disables accounts; a user revokes their API tokens."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from knox.models import AuthToken

from assessments.permissions import REVIEWER, ROLE_PERMISSIONS, is_admin
from assessments.services.moderation import AssessmentError

ROLES = tuple(ROLE_PERMISSIONS)


@transaction.atomic
def role_group(*, role: str) -> Group:
    """The group of ``role``, made if missing, holding the permissions the role's pages ask
    for (``ROLE_PERMISSIONS``) besides any an admin added."""
    group, _ = Group.objects.get_or_create(name=role)
    wanted = ROLE_PERMISSIONS[role]
    if wanted:
        q = Q()
        for name in wanted:
            app_label, codename = name.split(".")
            q |= Q(content_type__app_label=app_label, codename=codename)
        found = list(Permission.objects.filter(q))
        if len(found) != len(wanted):
            raise AssessmentError(f"the permissions of the {role} role are not all installed")
        group.permissions.add(*found)
    return group


@transaction.atomic
def user_register(*, user) -> None:
    """Give a newly signed-up ``user`` the reviewer role: anyone may become a reviewer;
    curators are appointed by an admin (``user_role_set``)."""
    user.groups.add(role_group(role=REVIEWER))


def _require_admin(actor) -> None:
    if not (actor.is_active and is_admin(actor)):
        raise AssessmentError("only admins appoint roles or disable accounts", code="forbidden")


@transaction.atomic
def user_role_set(*, user, role: str, granted: bool, actor) -> None:
    """Give ``user`` the role (a group) or take it away; only an admin may."""
    _require_admin(actor)
    if role not in ROLES:
        raise AssessmentError(f"unknown role {role!r}; use one of {list(ROLES)}", path="role")
    group = role_group(role=role)
    if granted:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    for cached in ("_atlas_roles", "_perm_cache", "_group_perm_cache"):
        if hasattr(user, cached):
            delattr(user, cached)


def user_tokens_revoke(*, user) -> int:
    """Revoke every API token of ``user``; returns how many there were. A request with any
    of them is refused from then on."""
    count, _ = AuthToken.objects.filter(user=user).delete()
    return count


@transaction.atomic
def user_disable(*, user, actor) -> int:
    """Disable ``user``, end every session they have open and revoke all their API tokens;
    returns how many sessions ended.

    Django already refuses an inactive user on their next request; deleting the sessions
    also ends them in stores that do not ask the user table again, and deleting the tokens
    means that enabling the account again does not bring them back to life.
    """
    _require_admin(actor)
    if user.pk == actor.pk:
        raise AssessmentError("you cannot disable your own account", code="forbidden")
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_tokens_revoke(user=user)
    ended = 0
    # Sessions are opaque blobs; scanning the live ones is fine at this site's scale.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended

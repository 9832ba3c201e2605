"""Roles (the `reviewer`, `curator` and `admin` groups) and the API permissions built on them.

A curator can do everything a reviewer can; an admin (the `admin` group, or a superuser) is
also a curator and a reviewer. Roles are read once per request and cached on the user object.
The pages outside this app (triage, "Read it now", probes) ask for Django permissions instead:
``ROLE_PERMISSIONS`` are the ones each role's group holds, so they follow the role.
"""

from __future__ import annotations

from rest_framework import permissions

REVIEWER = "reviewer"
CURATOR = "curator"
ADMIN = "admin"

# What each role's group may do on the pages that check Django permissions; keep
# assessments/migrations/0008_role_permissions.py (existing groups) in step.
CURATOR_PERMISSIONS = (
    "catalog.change_claim",  # triage and the unverifiable claims
    "crawlers.change_crawlsettings",  # "Read it now" on a source
    "inference.run_probe",  # a claim's probes and "Test this claim now"
)
ROLE_PERMISSIONS = {REVIEWER: (), CURATOR: CURATOR_PERMISSIONS, ADMIN: CURATOR_PERMISSIONS}


def user_roles(user) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_atlas_roles", None)
    if cached is None:
        names = set(
            user.groups.filter(name__in=(REVIEWER, CURATOR, ADMIN)).values_list("name", flat=True)
        )
        if user.is_superuser or ADMIN in names:
            names |= {REVIEWER, CURATOR, ADMIN}
        elif CURATOR in names:
            names.add(REVIEWER)
        cached = frozenset(names)
        user._atlas_roles = cached
    return cached


def is_curator(user) -> bool:
    return CURATOR in user_roles(user)


def is_reviewer(user) -> bool:
    """Reviewers, curators and admins."""
    return REVIEWER in user_roles(user)


def is_admin(user) -> bool:
    return ADMIN in user_roles(user)


class ReadOnlyOrReviewer(permissions.BasePermission):
    """Anyone reads; only reviewers and curators write (and anonymous writes are 401)."""

    message = "Only reviewers and curators may do this."

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return is_reviewer(request.user)


class IsReviewer(permissions.BasePermission):
    message = "Only reviewers and curators may do this."

    def has_permission(self, request, view) -> bool:
        return is_reviewer(request.user)


class IsCurator(permissions.BasePermission):
    message = "Only curators may do this."

    def has_permission(self, request, view) -> bool:
        return is_curator(request.user)

"""Roles (the `reviewer` and `curator` groups) and the API permissions built on them.

A curator can do everything a reviewer can. Roles are read once per request
and cached on the user object.
"""

from __future__ import annotations

from rest_framework import permissions

REVIEWER = "reviewer"
CURATOR = "curator"


def user_roles(user) -> frozenset[str]:
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_atlas_roles", None)
    if cached is None:
        cached = frozenset(
            user.groups.filter(name__in=(REVIEWER, CURATOR)).values_list("name", flat=True)
        )
        user._atlas_roles = cached
    return cached


def is_curator(user) -> bool:
    return CURATOR in user_roles(user)


def is_reviewer(user) -> bool:
    """Reviewers and curators."""
    return bool(user_roles(user))


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

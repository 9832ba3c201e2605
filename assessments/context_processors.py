from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from assessments.permissions import user_roles


def roles(request: HttpRequest) -> dict:
    """``roles``: the signed-in user's roles (names), read only when a template asks."""
    return {"roles": SimpleLazyObject(lambda: user_roles(getattr(request, "user", None)))}

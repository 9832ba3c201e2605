"""The one error shape every API response uses, and the exception handler that writes it.

Every error leaves the API as one JSON shape (``ERROR_SCHEMA``)::

    {"error": {"code": "invalid", "message": "...",
               "fields": [{"path": "ratings.0.value", "code": "invalid_choice", "message": "..."}]}}

``code`` is machine-readable and stable; ``fields`` lists each offending input
by its path (body fields by their JSON path, query parameters as
``query.<name>``) and is empty when the error is not about one input.

DRF's settings import this module: it imports no DRF view.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Machine-readable error code, e.g. `invalid`, `not_found`, "
                    "`not_authenticated`, `permission_denied`, `conflict`, `throttled`.",
                },
                "message": {"type": "string", "description": "What went wrong, in words."},
                "fields": {
                    "type": "array",
                    "description": "One entry per offending input; empty when none.",
                    "items": {
                        "type": "object",
                        "required": ["path", "code", "message"],
                        "properties": {
                            "path": {
                                "type": "string",
                                "description": "JSON path of the body field (`ratings.0.value`) "
                                "or `query.<name>` for a query parameter.",
                            },
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource changed or is in a state that does not allow this."
    default_code = "conflict"


class RequestTooLarge(exceptions.APIException):
    """A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``; 400, the status Django gives it."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The request body is too large."
    default_code = "request_too_large"


class QueryValidationError(exceptions.ValidationError):
    """A bad query parameter; its fields are reported as ``query.<name>``."""


def _flatten(detail: Any, path: str, out: list[dict[str, str]]) -> None:
    if isinstance(detail, dict):
        for key, value in detail.items():
            _flatten(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(detail, list):
        if all(isinstance(item, exceptions.ErrorDetail | str) for item in detail):
            for item in detail:
                _flatten(item, path, out)
        else:
            for index, item in enumerate(detail):
                if item:
                    _flatten(item, f"{path}.{index}" if path else str(index), out)
    else:
        code = getattr(detail, "code", None) or "invalid"
        out.append({"path": path or "non_field_errors", "code": str(code), "message": str(detail)})


def error_body(*, code: str, message: str, fields: list[dict[str, str]] | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or []}}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn every API exception into the one error shape; unknown exceptions stay 500s."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields: list[dict[str, str]] = []
        prefix = "query" if isinstance(exc, QueryValidationError) else ""
        _flatten(exc.detail, prefix, fields)
        names = ", ".join(f["path"] for f in fields)
        body = error_body(code="invalid", message=f"Invalid input: {names}.", fields=fields)
    else:
        detail = exc.detail
        code = detail.code if isinstance(detail, exceptions.ErrorDetail) else exc.default_code
        body = error_body(code=str(code), message=str(detail))
    return Response(body, status=exc.status_code, headers=headers)


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Anything under /api/ no route matches: a JSON 404 in the error shape, not an HTML page."""
    return JsonResponse(
        error_body(code="not_found", message=f"No API endpoint at {request.path}."), status=404
    )

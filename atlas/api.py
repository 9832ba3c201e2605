"""Plumbing shared by every API view: error shape, paging, ordering, throttling, conditional
GET and the page cache.

This module imports no DRF view, because DRF settings import it.

Every error leaves the API as one JSON shape (``ERROR_SCHEMA``)::

    {"error": {"code": "invalid", "message": "...",
               "fields": [{"path": "ratings.0.value", "code": "invalid_choice", "message": "..."}]}}

``code`` is machine-readable and stable; ``fields`` lists each offending input
by its path (body fields by their JSON path, query parameters as
``query.<name>``) and is empty when the error is not about one input.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, pagination, parsers, status, throttling
from rest_framework.response import Response

# --- errors ---------------------------------------------------------------------------------

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


# --- paging and query parameters ------------------------------------------------------------


class CursorPagination(pagination.CursorPagination):
    """Cursor paging: stable over data that changes while a client pages through it."""

    page_size_query_param = "page_size"
    ordering = "id"

    @property
    def max_page_size(self) -> int:  # read at request time so tests can override settings
        return settings.API_MAX_PAGE_SIZE

    def get_page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if str(size) != raw.strip() or not 1 <= size <= self.max_page_size:
            raise QueryValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def decode_cursor(self, request):
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise QueryValidationError(
                {"cursor": ["Not a cursor this API issued; use the `next` or `previous` link."]}
            ) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == "page_size":
                param["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                    "default": self.page_size,
                }
        return params

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]
        return response


class SearchFilter(filters.SearchFilter):
    search_description = "Case-insensitive words to look for in names and descriptions."


class OrderingFilter(filters.OrderingFilter):
    """Ordering by one of the view's ``ordering_fields`` (prefix `-` to reverse); anything else is
    a 400, so a typo is not silently ignored."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        allowed = self._choices(view)
        if raw not in allowed:
            raise QueryValidationError(
                {self.ordering_param: [f"Unknown ordering {raw!r}; use one of {allowed}."]}
            )
        # A unique tie-breaker keeps cursor paging stable on non-unique fields.
        return (raw, "-id" if raw.startswith("-") else "id") if raw.lstrip("-") != "id" else (raw,)

    def _choices(self, view) -> list[str]:
        fields = list(getattr(view, "ordering_fields", None) or [])
        return [value for field in fields for value in (field, f"-{field}")]

    def get_schema_operation_parameters(self, view) -> list[dict]:
        choices = self._choices(view)
        if not choices:
            return []
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Sort by this field; prefix `-` for descending order.",
                "schema": {"type": "string", "enum": choices},
            }
        ]


class ClientRateThrottle(throttling.SimpleRateThrottle):
    """One bucket per API token, per signed-in browser session user, or per anonymous address."""

    def get_rate(self) -> str | None:
        return None  # chosen per request in allow_request

    def allow_request(self, request, view) -> bool:
        self.scope = "client" if request.user and request.user.is_authenticated else "anon"
        self.rate = self.THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str:
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "digest"):
            ident = f"token:{token.digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    @property
    def THROTTLE_RATES(self) -> dict:
        from rest_framework.settings import api_settings

        return api_settings.DEFAULT_THROTTLE_RATES


# --- conditional GET ------------------------------------------------------------------------


def _latest_timestamp(data: Any) -> dt.datetime | None:
    """The newest ``updated_at`` anywhere in a response body (records nest other records)."""
    latest: dt.datetime | None = None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "updated_at" and isinstance(value, str):
                    try:
                        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                    except ValueError:
                        continue
                    if latest is None or stamp > latest:
                        latest = stamp
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    return latest


class ConditionalGetMixin:
    """ETag (a hash of the body) and Last-Modified (the newest ``updated_at`` in it) on every
    successful GET, answering ``If-None-Match`` / ``If-Modified-Since`` with 304.

    The ETag covers everything in the representation, including nested records and removals;
    Last-Modified is the weaker validator, as HTTP intends, and ETag wins when both are sent.
    A page from the page cache (``PageCacheMixin``) carries the validators computed when it
    was rendered; a freshly rendered page is stored there when its view marked it so.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        patch_vary_headers(response, ("Authorization", "Cookie"))
        if isinstance(response, CachedPage):
            etag, last_modified = response.etag, response.last_modified
        else:
            response.render()
            etag = '"' + hashlib.sha256(response.content).hexdigest()[:40] + '"'
            latest = _latest_timestamp(response.data)
            last_modified = int(latest.timestamp()) if latest is not None else None
            store = getattr(response, "page_cache", None)
            if store is not None:
                key, tokens = store
                page = (tokens, response.content, response["Content-Type"], etag, last_modified)
                caches[PAGE_CACHE].set(key, page)
        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        return get_conditional_response(
            request, etag=etag, last_modified=last_modified, response=response
        )


# --- page cache -----------------------------------------------------------------------------

PAGE_CACHE = "api_pages"


class CachedPage(HttpResponse):
    """A rendered page served from the page cache, with the validators it was rendered with."""

    def __init__(self, content: bytes, *, content_type: str, etag: str, last_modified: int | None):
        super().__init__(content, content_type=content_type)
        self.etag, self.last_modified = etag, last_modified


class PageCacheMixin:
    """Serves list and detail pages from the ``api_pages`` cache.

    A page is stored with the change stamps of the tables its queries read: the tokens
    ``page_cache_stamps()`` gave before it was built (table -> token; each must change with
    every committed write to its table), for the tables ``page_cache_tables()`` names from
    the SQL it ran. It is served while those tokens are unchanged, so a write to a table the
    page never read leaves it cached. The key is the absolute URI (paging links name the
    host), the negotiated media type, the date (freshness is relative to today) and the
    settings that shape a page. Nothing is cached while the stamps are None, nor a page whose
    tables cannot be told. Authentication, permissions, throttling and query checks run
    before the cache is read, so a cached page is answered exactly as a fresh one. Only for
    views whose pages are the same for every client that may see them."""

    def page_cache_stamps(self) -> dict[str, str] | None:
        return None

    def page_cache_tables(self, statements: list[str]) -> set[str] | None:
        return None

    def page_cache_key(self, request) -> str:
        parts = (
            timezone.localdate().isoformat(),
            str(settings.ATLAS_FRESHNESS_DAYS),
            str(settings.API_PAGE_SIZE),
            str(settings.API_MAX_PAGE_SIZE),
            request.accepted_media_type or "",
            request.build_absolute_uri(),
        )
        return "api-page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def list(self, request, *args, **kwargs):
        return self._cached_page(super().list, request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._cached_page(super().retrieve, request, *args, **kwargs)

    def _cached_page(self, handler, request, *args, **kwargs):
        # Read before the page is built: a write committed meanwhile leaves the page stored
        # under the older token, so the next request sees a change and builds it again.
        stamps = self.page_cache_stamps()
        if stamps is None:
            return handler(request, *args, **kwargs)
        key = self.page_cache_key(request)
        page = caches[PAGE_CACHE].get(key)
        if page is not None:
            tokens, content, content_type, etag, last_modified = page
            if all(stamps.get(table) == token for table, token in tokens.items()):
                return CachedPage(
                    content, content_type=content_type, etag=etag, last_modified=last_modified
                )
        statements: list[str] = []

        def record(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            response = handler(request, *args, **kwargs)
        tables = self.page_cache_tables(statements)
        if tables is not None and tables <= stamps.keys():
            response.page_cache = (key, {table: stamps[table] for table in tables})
        return response


class StrictQueryMixin:
    """Rejects query parameters the endpoint does not know, naming them (a typo in a filter
    would otherwise return the whole unfiltered list)."""

    extra_query_params: tuple[str, ...] = ()

    def allowed_query_params(self) -> set[str]:
        allowed = set(self.extra_query_params)
        if getattr(self, "action", None) == "list" or getattr(self, "is_list", False):
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                allowed |= set(filterset_class.base_filters)
            if getattr(self, "search_fields", None):
                allowed.add("search")
            if getattr(self, "ordering_fields", None):
                allowed.add("ordering")
            if getattr(self, "pagination_class", None) is not None:
                allowed |= {"cursor", "page_size"}
        return allowed

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        errors = {
            name: ["This endpoint has no such query parameter."]
            for name in sorted(set(request.query_params) - self.allowed_query_params())
        }
        for name, values in request.query_params.lists():
            if name in errors:
                continue
            if any(value == "" for value in values):
                errors[name] = ["Empty value; leave the parameter out instead."]
            reasons = [reason for value in values if (reason := unstorable_text(value))]
            if reasons:
                errors[name] = reasons[:1]
        if errors:
            raise QueryValidationError(errors)


# --- schema ---------------------------------------------------------------------------------

_ERROR_RESPONSES = {
    "400": "The request is invalid; `fields` names each offending input.",
    "401": "Authentication is required (or the token is invalid, expired or revoked).",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such resource, or not one you may see.",
    "405": "The method is not allowed on this resource.",
    "406": "The Accept header asks for a representation this endpoint does not produce.",
    "409": "The resource changed meanwhile, or its state does not allow this.",
    "415": "The request body is not JSON.",
    "429": "Too many requests; retry after the number of seconds in `Retry-After`.",
}


_BACKEND_BOUNDS = (2**15 - 1, 2**31 - 1, 2**63 - 1)


def postprocess_schema(result: dict, generator, request, public) -> dict:
    """Document the shared error shape and conditional GET on every operation."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in schemas.items():
        # Request bodies refuse unknown fields (RejectUnknownFieldsMixin); say so.
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
        else:
            # Integer bounds of responses come from the database backend's column ranges;
            # the contract must not change with the database, so they are left out.
            for prop in schema.get("properties", {}).values():
                if prop.get("type") == "integer" and prop.get("maximum") in _BACKEND_BOUNDS:
                    prop.pop("maximum")
                    if prop.get("format") == "int64":
                        prop.pop("format")
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.setdefault("responses", {})
            wanted = ["400", "401", "403", "404", "405", "406", "429"]
            if method in ("post", "put", "patch", "delete"):
                wanted += ["409", "415"]
            for code in wanted:
                responses.setdefault(
                    code,
                    {
                        "description": _ERROR_RESPONSES[code],
                        "content": {"application/json": {"schema": ref}},
                    },
                )
            if method == "get":
                responses.setdefault(
                    "304",
                    {
                        "description": "Not modified: the `ETag` or `Last-Modified` you sent "
                        "still matches."
                    },
                )
                for name, description in (
                    ("If-None-Match", "An ETag from an earlier response; 304 if unchanged."),
                    ("If-Modified-Since", "An HTTP date; 304 if nothing changed since."),
                ):
                    operation.setdefault("parameters", []).append(
                        {
                            "in": "header",
                            "name": name,
                            "required": False,
                            "description": description,
                            "schema": {"type": "string"},
                        }
                    )
                ok = responses.get("200")
                if ok is not None:
                    ok.setdefault("headers", {}).update(
                        {
                            "ETag": {"schema": {"type": "string"}, "description": "Body hash."},
                            "Last-Modified": {
                                "schema": {"type": "string"},
                                "description": "Newest `updated_at` in the body, when any.",
                            },
                        }
                    )
    return result


class FilterBackend(DjangoFilterBackend):
    """django-filter, with invalid values reported as ``query.<name>`` errors."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise QueryValidationError(
                {
                    name: [str(message) for message in messages]
                    for name, messages in filterset.errors.items()
                }
            )
        return filterset.qs


class RejectUnknownFieldsMixin:
    """For request serializers: a field the endpoint does not take is an error, not ignored."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise exceptions.ValidationError(
                    {name: ["This endpoint takes no such field."] for name in unknown}
                )
        return super().to_internal_value(data)


def unstorable_text(value: str) -> str | None:
    """Why a text cannot be stored (a NUL character, or a lone surrogate that is not
    Unicode text), or None when it can. PostgreSQL refuses both."""
    if "\x00" in value:
        return "Contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Contains a lone surrogate; send valid Unicode text."
    return None


def _unstorable_paths(data: Any, path: str, out: dict[str, list[str]]) -> None:
    if isinstance(data, str):
        reason = unstorable_text(data)
        if reason:
            out[path or "non_field_errors"] = [reason]
    elif isinstance(data, dict):
        for key, value in data.items():
            key_reason = unstorable_text(str(key))
            if key_reason:
                out[path or "non_field_errors"] = [
                    f"A field name {key_reason[0].lower()}{key_reason[1:]}"
                ]
                continue
            _unstorable_paths(value, f"{path}.{key}" if path else str(key), out)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _unstorable_paths(value, f"{path}.{index}" if path else str(index), out)


class JSONParser(parsers.JSONParser):
    """JSON bodies, refusing text no database can store, naming where it is."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        errors: dict[str, list[str]] = {}
        _unstorable_paths(data, "", errors)
        if errors:
            raise exceptions.ValidationError(errors)
        return data

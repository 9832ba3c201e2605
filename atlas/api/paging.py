"""How a list is paged, ordered, searched and filtered; a bad query parameter is a 400 naming
it (``query.<name>``), never silently ignored.

DRF's settings import this module: it imports no DRF view.
"""

from __future__ import annotations

from django.conf import settings
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, filters, pagination
from rest_framework.response import Response

from atlas.api.errors import QueryValidationError


class CursorPagination(pagination.CursorPagination):
    """Cursor paging, the one style of every list: stable over data that changes while a
    client pages through it. A page is ``{next, previous, has_more, results}``, plus ``count``
    (every item on all pages, one more query) when asked for with ``?count=true``."""

    page_size_query_param = "page_size"
    count_query_param = "count"
    ordering = "id"
    count: int | None = None

    def paginate_queryset(self, queryset, request, view=None):
        self.count = queryset.count() if self.wants_count(request) else None
        return super().paginate_queryset(queryset, request, view)

    def wants_count(self, request) -> bool:
        raw = request.query_params.get(self.count_query_param)
        if raw is None or raw == "false":
            return False
        if raw == "true":
            return True
        raise QueryValidationError({self.count_query_param: ["Must be true or false."]})

    def get_paginated_response(self, data) -> Response:
        body = {
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "has_more": self.has_next,
            "results": data,
        }
        if self.count is not None:
            body["count"] = self.count
        return Response(body)

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
            # Well formed as the schema has it (an opaque string), but naming no position.
            raise QueryValidationError(
                {"cursor": ["Not a cursor this API issued; use the `next` or `previous` link."]},
                code="does_not_exist",
            ) from None

    def get_schema_operation_parameters(self, view) -> list[dict]:
        params = super().get_schema_operation_parameters(view)
        params.append(
            {
                "name": self.count_query_param,
                "required": False,
                "in": "query",
                "description": "`true` adds `count`, the number of items on all pages.",
                "schema": {"type": "boolean", "default": False},
            }
        )
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
        response["properties"]["has_more"] = {
            "type": "boolean",
            "description": "Whether a page follows this one (at `next`).",
        }
        response["properties"]["count"] = {
            "type": "integer",
            "minimum": 0,
            "description": "Items on all pages; only with `?count=true`.",
        }
        response["required"] = ["next", "previous", "has_more", "results"]
        return response


class SearchFilter(filters.SearchFilter):
    """Search over the view's ``search_fields``; documented only where the view has them (DRF
    documents ``search`` on every list, which the strict query parser then refuses)."""

    search_description = "Case-insensitive words to look for in names and descriptions."

    def get_schema_operation_parameters(self, view) -> list[dict]:
        if not getattr(view, "search_fields", None):
            return []
        return super().get_schema_operation_parameters(view)


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

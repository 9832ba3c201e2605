"""Strict reading of what a client sends: query parameters an endpoint does not know, body
fields it does not take, and text no database can store are errors naming the input.

DRF's settings import this module (``JSONParser``): it imports no DRF view.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import exceptions, parsers

from atlas.api.errors import QueryValidationError


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

"""Strict reading of what a client sends: query parameters an endpoint does not know, body
fields it does not take, text no database can store, and JSON nested deeper than
``MAX_JSON_DEPTH`` or larger than Django's body limit are errors naming the input or the limit.

DRF's settings import this module (``JSONParser``): it imports no DRF view.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers
from rest_framework.utils.json import strict_constant

from atlas.api.errors import QueryValidationError, RequestTooLarge
from atlas.request_limits import body_too_large_message
from atlas.storable_text import unstorable_text

# No request this API takes nests deeper than a few levels; the bound stops a hostile body
# from exhausting the recursion of the JSON decoder and of everything that walks the result.
MAX_JSON_DEPTH = 64
# A JSON string, escapes included: its brackets do not nest.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class StrictQueryMixin:
    """Rejects query parameters the endpoint does not know, naming them (a typo in a filter
    would otherwise return the whole unfiltered list). Text no database can store is refused
    before any view, by ``atlas.request_limits``."""

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
                allowed |= {"cursor", "page_size", "count"}
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


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the arrays and objects in the JSON ``text`` nest deeper than ``limit``.

    Counted over the brackets outside strings, without recursion, so it is safe to ask before
    decoding any text; malformed JSON is left for the decoder to report.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for bracket in _NOT_BRACKETS.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > limit:
            return True
    return False


class JSONParser(parsers.JSONParser):
    """JSON bodies no larger than Django's body limit and nested at most ``MAX_JSON_DEPTH``
    deep, refusing text no database can store, naming where it is."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        # Django checks a declared size before any view (``atlas.request_limits``); a body
        # sent without one is bounded here as it is read.
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(body_too_large_message())
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if json_too_deep(text):
            raise exceptions.ParseError(
                f"JSON nested deeper than {MAX_JSON_DEPTH} levels; this API accepts at most "
                f"{MAX_JSON_DEPTH}."
            )
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        errors: dict[str, list[str]] = {}
        _unstorable_paths(data, "", errors)
        if errors:
            raise exceptions.ValidationError(errors)
        return data

"""The shared OpenAPI additions: the error shape and conditional GET on every operation.

Named in ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``.
"""

from __future__ import annotations

import re

from atlas.api.errors import ERROR_SCHEMA

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


# Text no database can store is refused before any view (``atlas.request_limits``, the
# JSON parser): a NUL character. (A lone surrogate cannot be sent as UTF-8 at all.)
STORABLE_TEXT = "^[^\\x00]*$"


# drf-spectacular's pattern for a decimal sent as a string lets "-" and "" through, which the
# field refuses: at least one digit is required.
_DECIMAL = re.compile(r"^\^-\?\\d\{0,(\d+)\}\(\?:\\\.\\d\{0,(\d+)\}\)\?\$$")


def _decimal_needs_a_digit(schema: dict) -> None:
    match = _DECIMAL.match(schema.get("pattern", ""))
    if match:
        whole, places = match.groups()
        schema["pattern"] = rf"^-?(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


# A body's required text is trimmed before it is checked, so it needs a character besides spaces.
NON_BLANK_TEXT = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"


def _storable(schema: dict, *, trimmed: bool = False) -> None:
    """Say that a free-text string may not hold a NUL character (nor, for ``trimmed`` text
    that may not be blank, only spaces)."""
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & schema.keys():
        blank_refused = trimmed and schema.get("minLength", 0) >= 1
        schema["pattern"] = NON_BLANK_TEXT if blank_refused else STORABLE_TEXT


def _no_empty_values(schema: dict) -> None:
    """A query parameter's value may not be empty (``StrictQueryMixin`` refuses it) nor hold a
    NUL character: say so."""
    if schema.get("type") == "array":
        schema.setdefault("minItems", 1)
        _no_empty_values(schema.setdefault("items", {"type": "string"}))
    elif schema.get("type", "string") == "string" and "enum" not in schema:
        schema.setdefault("minLength", 1)
        _storable(schema)


def postprocess_schema(result: dict, generator, request, public) -> dict:
    """Document the shared error shape and conditional GET on every operation."""
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in schemas.items():
        # Request bodies refuse unknown fields (RejectUnknownFieldsMixin); say so.
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
            for prop in schema.get("properties", {}).values():
                _storable(prop, trimmed=True)
                _decimal_needs_a_digit(prop)
                if prop.get("type") == "array":
                    _storable(prop.get("items", {}), trimmed=True)
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
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    _no_empty_values(parameter["schema"])
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

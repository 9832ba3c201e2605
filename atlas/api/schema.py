"""The shared OpenAPI additions: the error shape and conditional GET on every operation.

Named in ``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``.
"""

from __future__ import annotations

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

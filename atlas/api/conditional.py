"""Conditional GET: ETag and Last-Modified on every successful GET, 304 when they match.

``ConditionalGetMixin`` derives them from a rendered body; a streamed response (the exports)
computes them before streaming and asks ``not_modified`` whether to stream at all."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date


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


def set_validators(response, *, etag: str, last_modified: int | None) -> None:
    """Put the validators on ``response``; they differ per client, as bodies do."""
    patch_vary_headers(response, ("Authorization", "Cookie"))
    response["ETag"] = etag
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)


def not_modified(request, *, etag: str, last_modified: int | None):
    """A 304 (or 412) carrying the validators when the request's ``If-None-Match`` /
    ``If-Modified-Since`` (or ``If-Match`` / ``If-Unmodified-Since``) decide it; None when the
    full response is due."""
    response = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if response is not None:
        set_validators(response, etag=etag, last_modified=last_modified)
    return response


class ConditionalGetMixin:
    """ETag (a hash of the body) and Last-Modified (the newest ``updated_at`` in it) on every
    successful GET, answering ``If-None-Match`` / ``If-Modified-Since`` with 304.

    The ETag covers everything in the representation, including nested records and removals;
    Last-Modified is the weaker validator, as HTTP intends, and ETag wins when both are sent.
    """

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        etag, last_modified = self.validators(response)
        set_validators(response, etag=etag, last_modified=last_modified)
        return get_conditional_response(
            request, etag=etag, last_modified=last_modified, response=response
        )

    def validators(self, response) -> tuple[str, int | None]:
        """The ETag and the Last-Modified timestamp (None when the body has no ``updated_at``)
        of a successful response, rendering it."""
        response.render()
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:40] + '"'
        latest = _latest_timestamp(response.data)
        return etag, int(latest.timestamp()) if latest is not None else None

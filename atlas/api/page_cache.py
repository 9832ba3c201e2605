"""The API page cache: when a rendered list or detail page is served again, and when not.

A view declares the models whose tables its pages read (``page_cache_models``, and
``detail_page_cache_models`` when a detail page reads more). A page is stored with the change
stamps of those tables (``catalog.change_stamp``), read before it was built, and served while
they are unchanged: a write to a table the view does not read leaves it cached. Nothing is
cached while the stamps are None (SQLite; inside a transaction) or by a view that declares no
models. The cache is ``CACHES["api_pages"]``, whose timeout is ``API_PAGE_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.db.models import Model
from django.http import HttpResponse
from django.utils import timezone

from atlas.api.conditional import ConditionalGetMixin
from catalog.change_stamp import change_stamps, stamped_tables

PAGE_CACHE = "api_pages"


class CachedPage(HttpResponse):
    """A rendered page served from the page cache, with the validators it was rendered with."""

    def __init__(self, content: bytes, *, content_type: str, etag: str, last_modified: int | None):
        super().__init__(content, content_type=content_type)
        self.etag, self.last_modified = etag, last_modified


class PageCacheMixin(ConditionalGetMixin):
    """Serves list and detail pages from the ``api_pages`` cache.

    ``page_cache_models`` name every table a list page reads, for its body or for any of its
    filters; ``detail_page_cache_models`` those a detail page reads (the list's when None).
    Their tables must be stamped; a test runs every cached view and checks that it reads no
    other table. The key is the absolute URI (paging links name the host), the negotiated
    media type, the date (freshness is relative to today) and the settings that shape a page.
    Authentication, permissions, throttling and query checks run before the cache is read, so
    a cached page is answered exactly as a fresh one. Only for views whose pages are the same
    for every client that may see them."""

    page_cache_models: tuple[type[Model], ...] = ()
    detail_page_cache_models: tuple[type[Model], ...] | None = None

    def page_cache_tables(self) -> frozenset[str]:
        """The tables this request's page reads, as declared."""
        declared = self.page_cache_models
        if self.action == "retrieve" and self.detail_page_cache_models is not None:
            declared = self.detail_page_cache_models
        return stamped_tables(declared)

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
        tables = self.page_cache_tables()
        # Read before the page is built: a write committed meanwhile leaves the page stored
        # under the older token, so the next request sees a change and builds it again.
        stamps = change_stamps() if tables else None
        if stamps is None or not tables <= stamps.keys():
            return handler(request, *args, **kwargs)
        tokens = {table: stamps[table] for table in tables}
        key = self.page_cache_key(request)
        page = caches[PAGE_CACHE].get(key)
        if page is not None:
            stored_tokens, content, content_type, etag, last_modified = page
            if stored_tokens == tokens:
                return CachedPage(
                    content, content_type=content_type, etag=etag, last_modified=last_modified
                )
        response = handler(request, *args, **kwargs)
        response.page_cache = (key, tokens)
        return response

    def validators(self, response) -> tuple[str, int | None]:
        """A cached page's stored validators; a page built for the cache is stored with its."""
        if isinstance(response, CachedPage):
            return response.etag, response.last_modified
        etag, last_modified = super().validators(response)
        store = getattr(response, "page_cache", None)
        if store is not None:
            key, tokens = store
            page = (tokens, response.content, response["Content-Type"], etag, last_modified)
            caches[PAGE_CACHE].set(key, page)
        return etag, last_modified

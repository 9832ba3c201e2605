"""The read-only viewset every catalogue resource is served by: list and detail, strict
query parameters, conditional GET and the page cache."""

from __future__ import annotations

from rest_framework import mixins, serializers, viewsets

from atlas.api.page_cache import PageCacheMixin
from atlas.api.parsing import StrictQueryMixin

SLUG_REGEX = "[-a-zA-Z0-9_]+"
ID_REGEX = "[0-9]+"


class ReadOnlyViewSet(
    StrictQueryMixin,
    PageCacheMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """List and detail; a detail page uses ``detail_serializer_class`` when set. Pages are
    cached when the view declares ``page_cache_models`` (see ``PageCacheMixin``)."""

    # Slugs, keys and ids only: anything else is the API's JSON 404 before a query runs.
    lookup_value_regex = SLUG_REGEX
    detail_serializer_class: type[serializers.Serializer] | None = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class is not None:
            return self.detail_serializer_class
        return self.serializer_class

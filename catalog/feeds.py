"""Atom feeds (RFC 4287) of the changes to claims and ratings, for all providers or one.

Each entry's id is an absolute URL naming the change (an IRI, the same whichever page lists
it), each entry names who made the change as its author and the feed names Atlas; a feed
holds one page of changes and links to the next, older one (``rel="next"``, RFC 5005).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from catalog.models import Provider
from catalog.selectors.changes import Change, ChangesPage, changes_page
from catalog.selectors.pages import provider_by_slug


class PagedAtom1Feed(Atom1Feed):
    """Atom with the paging links of RFC 5005 (``first``, ``previous``, ``next``)."""

    def add_root_elements(self, handler) -> None:
        super().add_root_elements(handler)
        for rel in ("first", "previous", "next"):
            href = self.feed.get(f"{rel}_link")
            if href:
                handler.addQuickElement("link", "", {"rel": rel, "href": href})


@dataclass(frozen=True)
class FeedPage:
    """What one request for a feed shows: the provider (or all), the page, its neighbours."""

    provider: Provider | None
    page: ChangesPage
    links: dict[str, str]


class ChangesFeed(Feed):
    feed_type = PagedAtom1Feed
    author_name = "Atlas"

    def get_object(self, request: HttpRequest, slug: str | None = None) -> FeedPage:
        provider = provider_by_slug(slug=slug) if slug is not None else None
        try:
            number = max(1, int(request.GET.get("page", "1")))
        except ValueError:
            number = 1
        page = changes_page(provider=provider, number=number)

        def at(n: int) -> str:
            return request.build_absolute_uri(f"{request.path}?page={n}" if n > 1 else request.path)

        links = {"first_link": at(1)}
        if page.has_previous:
            links["previous_link"] = at(page.previous_page_number)
        if page.has_next:
            links["next_link"] = at(page.next_page_number)
        return FeedPage(provider, page, links)

    def get_feed(self, obj: FeedPage, request: HttpRequest):
        feed = super().get_feed(obj, request)
        # Ids are made absolute here, where the request is known (the item hooks get none).
        for entry in feed.items:
            entry["unique_id"] = request.build_absolute_uri(entry["unique_id"])
        return feed

    def feed_extra_kwargs(self, obj: FeedPage) -> dict:
        return obj.links

    def title(self, obj: FeedPage) -> str:
        if obj.provider is not None:
            return f"Atlas: what changed at {obj.provider.name}"
        return "Atlas: what changed"

    def subtitle(self, obj: FeedPage) -> str:
        if obj.provider is not None:
            return f"Recent changes to {obj.provider.name}'s sourced claims and GDPR ratings."
        return "Recent changes to sourced claims and GDPR ratings in the Atlas catalogue."

    def link(self, obj: FeedPage) -> str:
        query = f"?provider={obj.provider.slug}" if obj.provider is not None else ""
        return reverse("catalog:changes") + query

    def items(self, obj: FeedPage) -> list[Change]:
        return obj.page.changes

    def item_title(self, item: Change) -> str:
        return f"{item.title} ({item.action})"

    def item_description(self, item: Change) -> str:
        lines = [item.summary]
        # Only the first letter: criterion names carry capitals of their own ("EU SaaS").
        lines += [f"{name[:1].upper()}{name[1:]}: {old} → {new}" for name, old, new in item.diffs]
        return "\n".join(lines)

    def item_link(self, item: Change) -> str:
        query = f"?provider={item.provider.slug}" if item.provider is not None else ""
        return f"{reverse('catalog:changes')}{query}#{item.uid}"

    def item_guid(self, item: Change) -> str:
        # The change's own address, whatever page or provider filter lists it.
        return f"{reverse('catalog:changes')}#{item.uid}"

    def item_author_name(self, item: Change) -> str:
        return item.who

    def item_updateddate(self, item: Change):
        return item.when

    def item_pubdate(self, item: Change):
        return item.when


class ProviderChangesFeed(ChangesFeed):
    """The changes of one provider (``slug`` in the address)."""

"""Atom feeds of recent changes to claims and ratings, for all providers or one."""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from catalog.models import Provider
from catalog.selectors.changes import Change, recent_changes
from catalog.selectors.pages import provider_by_slug


class ChangesFeed(Feed):
    feed_type = Atom1Feed
    title = "Atlas: what changed"
    subtitle = "Recent changes to sourced claims and GDPR ratings in the Atlas catalogue."

    def link(self) -> str:
        return reverse("catalog:changes")

    def items(self) -> list[Change]:
        return recent_changes()

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
        return f"atlas-change-{item.uid}"

    item_guid_is_permalink = False

    def item_updateddate(self, item: Change):
        return item.when

    def item_pubdate(self, item: Change):
        return item.when


class ProviderChangesFeed(ChangesFeed):
    def get_object(self, request: HttpRequest, slug: str) -> Provider:
        return provider_by_slug(slug=slug)

    def title(self, obj: Provider) -> str:
        return f"Atlas: what changed at {obj.name}"

    def subtitle(self, obj: Provider) -> str:
        return f"Recent changes to {obj.name}'s sourced claims and GDPR ratings."

    def link(self, obj: Provider) -> str:
        return reverse("catalog:changes") + f"?provider={obj.slug}"

    def items(self, obj: Provider) -> list[Change]:
        return recent_changes(provider=obj)

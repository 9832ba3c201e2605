"""The changes feed (``/api/v1/changes``): what was created, updated, retired or deleted in
the catalogue and its published assessments since a moment, read from the history tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Max,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.models import Assessment
from atlas.api.errors import QueryValidationError
from atlas.api.parsing import StrictQueryMixin
from catalog.models import AIModel, Claim, Licence, Price, Provider, Source, Verification


@dataclass(frozen=True)
class Tracked:
    resource: str
    model: type
    lookup: str
    route: str

    def retired_q(self) -> Q | None:
        today = timezone.localdate()
        return {
            "provider": Q(status=Provider.Status.DEFUNCT),
            "model": Q(retirement_date__lte=today),
            "claim": Q(status=Claim.Status.RETIRED),
            "assessment": Q(status=Assessment.Status.SUPERSEDED),
        }.get(self.resource)


TRACKED = (
    Tracked("provider", Provider, "slug", "providers"),
    Tracked("model", AIModel, "slug", "models"),
    Tracked("licence", Licence, "slug", "licences"),
    Tracked("source", Source, "slug", "sources"),
    Tracked("claim", Claim, "id", "claims"),
    Tracked("price", Price, "id", "prices"),
    Tracked("assessment", Assessment, "id", "assessments"),
)
CHANGES_MAX_LIMIT = 5000


class ChangeSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=[(t.resource, t.resource) for t in TRACKED])
    id = serializers.CharField(help_text="The lookup of the record: a slug, or an id.")
    change = serializers.ChoiceField(
        choices=[(c, c) for c in ("created", "updated", "retired", "deleted")]
    )
    changed_at = serializers.DateTimeField()
    url = serializers.CharField(help_text="Path of the record's detail endpoint.")


class ChangesSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField(help_text="Pass this as `since` on your next call.")
    truncated = serializers.BooleanField(help_text="More changes follow; see `next_since`.")
    has_more = serializers.BooleanField(help_text="As `truncated`, named as on the lists.")
    next_since = serializers.DateTimeField(
        allow_null=True, help_text="When truncated: call again with this `since`."
    )
    changes = ChangeSerializer(many=True)


class ChangesQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="ISO 8601 date-time; changes at or after it.")
    limit = serializers.IntegerField(min_value=1, max_value=CHANGES_MAX_LIMIT, default=1000)


def _history_rows(history: type, *, since: dt.datetime, limit: int, **lookups) -> list[dict]:
    """The first ``limit + 1`` records with history at or after ``since``, by their latest
    change: ``{"id", "changed_at", "created"}`` (``created`` counts creations since)."""
    return list(
        history.objects.filter(history_date__gte=since, **lookups)
        .values("id")
        .annotate(
            changed_at=Max("history_date"),
            created=Count("history_id", filter=Q(history_type="+")),
        )
        .order_by("changed_at", "id")[: limit + 1]
    )


def _claim_rows(*, since: dt.datetime, limit: int) -> list[dict]:
    """Like ``_history_rows`` for claims, where a verification written since counts as a
    change too: a crawler or probe adds a Verification row and leaves the claim's own row (and
    its history) untouched, yet the claim's representation changed. Exact: the first
    ``limit + 1`` by the latest of both, existing claims and deleted ones merged."""
    history = Claim.history.model
    changed = history.objects.filter(history_date__gte=since)
    verified = Verification.objects.filter(created_at__gte=since)
    last_changed = (
        changed.filter(id=OuterRef("pk"))
        .order_by()
        .values("id")
        .annotate(latest=Max("history_date"))
        .values("latest")
    )
    last_verified = (
        verified.filter(claim=OuterRef("pk"))
        .order_by()
        .values("claim")
        .annotate(latest=Max("created_at"))
        .values("latest")
    )
    # One set of ids (a UNION), not two IN tests joined by OR, which would scan every claim.
    ids = changed.order_by().values("id").union(verified.order_by().values("claim_id"))
    existing = list(
        Claim.objects.filter(pk__in=ids)
        .annotate(changed=Subquery(last_changed), verified=Subquery(last_verified))
        .annotate(
            changed_at=Greatest(Coalesce("changed", "verified"), Coalesce("verified", "changed")),
            created=Exists(changed.filter(id=OuterRef("pk"), history_type="+")),
        )
        .order_by("changed_at", "id")
        .values("id", "changed_at", "created")[: limit + 1]
    )
    # A deleted claim had no verifications (they protect it), so its history says it all.
    deleted = _history_rows(history, since=since, limit=limit, history_type="-")
    seen = {row["id"] for row in existing}
    deleted = [row for row in deleted if row["id"] not in seen]
    rows = sorted(existing + deleted, key=lambda row: (row["changed_at"], row["id"]))
    return rows[: limit + 1]


def changes_since(*, since: dt.datetime, limit: int) -> tuple[list[dict], bool]:
    """What changed at or after ``since``, oldest first, from the history tables (and, for
    claims, their verifications): one entry per record with its latest change. Returns
    (changes, truncated). Two or three queries per resource."""
    changes: list[dict] = []
    for tracked in TRACKED:
        history = tracked.model.history.model
        if tracked.model is Claim:
            rows = _claim_rows(since=since, limit=limit)
        else:
            rows = _history_rows(history, since=since, limit=limit)
        if not rows:
            continue
        current = tracked.model.objects.filter(pk__in=[row["id"] for row in rows])
        if tracked.resource == "assessment":
            # Drafts are private: the feed lists only what the public can read.
            current = current.filter(
                status__in=(Assessment.Status.PUBLISHED, Assessment.Status.SUPERSEDED)
            )
        elif tracked.resource == "source":
            # So are sources only an unapproved draft cites.
            current = current.listed()
        retired = tracked.retired_q()
        fields = ["pk", tracked.lookup]
        if retired is not None:
            current = current.annotate(is_retired=ExpressionWrapper(retired, BooleanField()))
            fields.append("is_retired")
        state = {row["pk"]: row for row in current.values(*fields)}
        deleted = {
            row["id"]: row[tracked.lookup]
            for row in history.objects.filter(
                id__in=[r["id"] for r in rows if r["id"] not in state], history_type="-"
            ).values("id", tracked.lookup)
        }
        for row in rows:
            now_row = state.get(row["id"])
            if now_row is None:
                if row["id"] not in deleted:
                    continue  # a draft, or a record this feed does not show
                lookup, change = deleted[row["id"]], "deleted"
            else:
                lookup = now_row[tracked.lookup]
                if now_row.get("is_retired"):
                    change = "retired"
                elif row["created"]:
                    change = "created"
                else:
                    change = "updated"
            changes.append(
                {
                    "resource": tracked.resource,
                    "id": str(lookup),
                    "change": change,
                    "changed_at": row["changed_at"],
                    "url": f"/api/v1/{tracked.route}/{lookup}",
                }
            )
    changes.sort(key=lambda change: (change["changed_at"], change["resource"], change["id"]))
    truncated = len(changes) > limit
    return changes[:limit], truncated


@extend_schema(tags=["sync"])
class ChangesView(StrictQueryMixin, APIView):
    """What was created, updated, retired or deleted since a moment, so a mirror can catch up
    without downloading the catalogue again. Assessments appear once published."""

    permission_classes = [AllowAny]
    extra_query_params = ("since", "limit")

    @extend_schema(
        parameters=[ChangesQuerySerializer],
        responses={200: ChangesSerializer},
        summary="Changes since a moment",
    )
    def get(self, request):
        query = ChangesQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise QueryValidationError(query.errors)
        until = timezone.now()
        changes, truncated = changes_since(
            since=query.validated_data["since"], limit=query.validated_data["limit"]
        )
        body = {
            "since": query.validated_data["since"],
            "until": until,
            "truncated": truncated,
            "has_more": truncated,
            "next_since": changes[-1]["changed_at"] if truncated else None,
            "changes": changes,
        }
        return Response(ChangesSerializer(body).data)

"""The catalogue's change stamps: per table, a token that changes whenever a write to that
table is committed, so a page rendered from tables whose tokens have not changed since is
still exact.

PostgreSQL keeps them with triggers (migration ``0005_api_change_stamp_triggers`` and those
after it that stamp more tables, whose frozen ``TABLES`` together must equal
``STAMPED_TABLES``, the one list of stamped tables). A cache
names the models it reads (``stamped_tables``); to cache what reads another table, stamp the
table in a migration and list it here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Model

STAMPED_TABLES = frozenset(
    {
        "catalog_provider",
        "catalog_licence",
        "catalog_licenceterm",
        "catalog_modality",
        "catalog_aimodel",
        "catalog_aimodel_modalities",
        "catalog_source",
        "catalog_claimkey",
        "catalog_claim",
        "catalog_verification",
        "catalog_price",
        "assessments_criterion",
        "assessments_assessment",
        "assessments_rating",
    }
)


def change_stamps() -> dict[str, str] | None:
    """Every stamped table's token, or None when no cached page may be used: on a database
    without the triggers (SQLite), and inside a transaction, whose own writes move the
    tokens only when it commits (the triggers are deferred to commit time). One query."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, token FROM catalog_change_stamp")
        return dict(cursor.fetchall())


def stamped_tables(models: Iterable[type[Model]]) -> frozenset[str]:
    """The tables of ``models`` (a many-to-many field's ``through`` model for its table).
    Raises ``ImproperlyConfigured`` naming any that has no stamp: what is cached from it could
    go stale unseen."""
    tables = frozenset(model._meta.db_table for model in models)
    unstamped = sorted(tables - STAMPED_TABLES)
    if unstamped:
        raise ImproperlyConfigured(
            f"No change stamp for {', '.join(unstamped)}: stamp it in a migration and list it "
            "in STAMPED_TABLES."
        )
    return tables


def tables_stamp(*, models: Iterable[type[Model]], fallback: Iterable[type[Model]]) -> str:
    """A token that moves whenever a write to the table of any of ``models`` commits (each
    must be stamped, see ``stamped_tables``).

    Exact where the triggers keep the tokens (one query for all tables). Elsewhere (SQLite,
    or inside a transaction) it is the newest ``updated_at`` of the ``fallback`` models, one
    lookup each, which a deletion or a bulk ``update()`` does not move: whatever is cached
    under it must expire on its own.
    """
    tables = stamped_tables(models)
    stamps = change_stamps()
    if stamps is not None:
        parts = ["tables", *(stamps.get(table, "-") for table in sorted(tables))]
    else:
        parts = ["saves"]
        for model in fallback:
            latest = model.objects.order_by("-updated_at").values_list("updated_at", flat=True)
            newest = latest.first()
            parts.append(newest.isoformat() if newest else "-")
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:32]

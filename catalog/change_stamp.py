"""The catalogue's change stamp: a token that changes whenever a write to a table the API
reads is committed, so a page rendered under one token is never served after such a write.

PostgreSQL keeps it with triggers (migration ``0003_api_change_stamp_triggers``, which lists
the tables); a table an API body or filter starts to read must be added there.
"""

from __future__ import annotations

from django.db import connection


def catalogue_change_stamp() -> str | None:
    """The current token, or None when no cached page may be used: on a database without the
    triggers (SQLite), and inside a transaction, whose own writes move the token only when it
    commits (the triggers are deferred to commit time). One query."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM catalog_change_stamp WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None

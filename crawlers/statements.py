"""The statements every check runs, written by hand.

A worker spends most of a check's CPU compiling ORM queries, not fetching: these few run on
every check, so their SQL is built once per process from the models' metadata. Values still
go through each field's own ``get_db_prep_save``, exactly as the ORM would send them. Only
``crawlers.services`` calls them; they take ids and values and return model instances.
"""

from __future__ import annotations

import datetime as dt
import functools

from django.db import connection

from catalog.models import Claim
from crawlers.models import OPEN_STATUSES, Check, CrawlSettings, Version


def _columns(model, names: tuple[str, ...], alias: str) -> tuple[list[str], str]:
    """The attnames of ``names`` in the model's field order, and their SELECT list."""
    fields = [f for f in model._meta.concrete_fields if f.attname in names]
    quote = connection.ops.quote_name
    return [f.attname for f in fields], ", ".join(f"{alias}.{quote(f.column)}" for f in fields)


# Only columns whose database value already is the Python value (numbers and text: no dates,
# no JSON), so rows become instances without the ORM's converters; anything else is deferred
# and loads on first access like any deferred field.
_CHECK_FIELDS = ("id", "source_id", "kind", "status", "reason", "url", "attempts")
_CRAWL_FIELDS = (
    "id",
    "source_id",
    "enabled",
    "keep_selectors",
    "remove_selectors",
    "interval_hours",
    "consecutive_failures",
    "current_version_id",
    "etag",
    "last_modified",
)
_VERSION_FIELDS = (
    "id",
    "source_id",
    "number",
    "content_hash",
    "raw_hash",
    "raw_content_type",
    "keep_selectors",
    "remove_selectors",
    "extractor_revision",
)


@functools.cache
def _load_statement(vendor: str) -> tuple[str, list[str], list[str], list[str]]:
    del vendor  # the cache key: quoting belongs to the backend
    quote = connection.ops.quote_name
    check_names, check_sql = _columns(Check, _CHECK_FIELDS, "c")
    crawl_names, crawl_sql = _columns(CrawlSettings, _CRAWL_FIELDS, "s")
    version_names, version_sql = _columns(Version, _VERSION_FIELDS, "v")
    claims = quote(Claim._meta.db_table)
    sql = (
        f"SELECT {check_sql}, {crawl_sql}, {version_sql}, EXISTS (SELECT 1 FROM {claims} cl "
        "WHERE cl.source_id = c.source_id AND cl.status <> %s) "
        f"FROM {quote(Check._meta.db_table)} c "
        f"LEFT JOIN {quote(CrawlSettings._meta.db_table)} s ON s.source_id = c.source_id "
        f"LEFT JOIN {quote(Version._meta.db_table)} v ON v.id = s.current_version_id "
        "WHERE c.id = %s"
    )
    return sql, check_names, crawl_names, version_names


def check_claim_and_load(check_id: int, *, now: dt.datetime) -> Check | None:
    """Claim an open check for this delivery and read it; None when it is already finished.

    The claim is a conditional UPDATE (only one delivery at a time finds the check open and
    counts its attempt); then one SELECT reads the check with its crawl settings, the current
    version (without its text and raw body: they load on access) and whether any live claim
    cites the source (``cited``). ``check.source.crawl`` is set when the settings exist.
    """
    quote = connection.ops.quote_name
    started_at = Check._meta.get_field("started_at").get_db_prep_save(now, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Check._meta.db_table)} SET status = %s, started_at = %s, "
            "attempts = attempts + 1 WHERE id = %s AND status IN (%s, %s)",
            [Check.Status.RUNNING, started_at, check_id, *OPEN_STATUSES],
        )
        if cursor.rowcount != 1:
            return None
        sql, check_names, crawl_names, version_names = _load_statement(connection.vendor)
        cursor.execute(sql, [Claim.Status.RETIRED, check_id])
        row = cursor.fetchone()
    db = connection.alias
    split, split2 = len(check_names), len(check_names) + len(crawl_names)
    check = Check.from_db(db, check_names, row[:split])
    check.cited = bool(row[-1])
    crawl_row, version_row = row[split:split2], row[split2:-1]
    if crawl_row[0] is not None:
        crawl = CrawlSettings.from_db(db, crawl_names, crawl_row)
        crawl.current_version = (
            Version.from_db(db, version_names, version_row) if version_row[0] is not None else None
        )
        check._crawl = crawl
    return check


def row_update(
    model,
    *,
    values: dict,
    where: str,
    params: list,
    extra: str = "",
    extra_params: tuple | list = (),
) -> int:
    """UPDATE ``model``'s table: ``values`` (field name: value) where ``where`` holds.

    ``extra`` is one more hand-written assignment (with its ``extra_params``). Returns the
    number of rows changed. Related fields take an instance or None.
    """
    quote = connection.ops.quote_name
    assignments, arguments = [], []
    for name, value in values.items():
        field = model._meta.get_field(name)
        if field.is_relation and value is not None:
            value = value.pk
        assignments.append(f"{quote(field.column)} = %s")
        arguments.append(field.get_db_prep_save(value, connection))
    if extra:
        assignments.append(extra)
        arguments.extend(extra_params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(model._meta.db_table)} SET {', '.join(assignments)} WHERE {where}",
            [*arguments, *params],
        )
        return cursor.rowcount


@functools.cache
def _lock_statement(vendor: str, *, with_text: bool) -> tuple[str, list[str], list[str]]:
    quote = connection.ops.quote_name
    crawl_names, crawl_sql = _columns(CrawlSettings, _CRAWL_FIELDS, "s")
    version_fields = (*_VERSION_FIELDS, "fetched_url", *(("text",) if with_text else ()))
    version_names, version_sql = _columns(Version, version_fields, "v")
    sql = (
        f"SELECT {crawl_sql}, {version_sql} FROM {quote(CrawlSettings._meta.db_table)} s "
        f"LEFT JOIN {quote(Version._meta.db_table)} v ON v.id = s.current_version_id "
        "WHERE s.source_id = %s"
    )
    if connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF s"
    elif connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    return sql, crawl_names, version_names


def crawl_lock(source_id: int, *, with_text: bool = True) -> CrawlSettings:
    """The source's settings under a row lock, with the current version (raw body deferred).

    Everything that writes a source's versions or schedule holds this lock, so two deliveries
    of one check, or a check and a selector edit, take turns. The current text comes along
    only when claims will be searched in it. Raises ``CrawlSettings.DoesNotExist``.
    """
    sql, crawl_names, version_names = _lock_statement(connection.vendor, with_text=with_text)
    with connection.cursor() as cursor:
        cursor.execute(sql, [source_id])
        row = cursor.fetchone()
    if row is None:
        raise CrawlSettings.DoesNotExist(f"No crawl settings for source {source_id}.")
    split = len(crawl_names)
    crawl = CrawlSettings.from_db(connection.alias, crawl_names, row[:split])
    crawl.current_version = (
        Version.from_db(connection.alias, version_names, row[split:])
        if row[split] is not None
        else None
    )
    return crawl


# The next check never moves backwards: a later one already set is kept.
NOT_BEFORE = "next_check_at = CASE WHEN next_check_at > %s THEN next_check_at ELSE %s END"


def not_before(when: dt.datetime) -> list:
    value = CrawlSettings._meta.get_field("next_check_at").get_db_prep_save(when, connection)
    return [value, value]

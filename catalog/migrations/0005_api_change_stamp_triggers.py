"""Change stamps for the API's page cache, kept by PostgreSQL triggers.

``catalog_change_stamp`` holds one row per table an API page may read, whose token changes
when a transaction that wrote to that table commits: every insert, update and delete (also
from ``QuerySet.update()``, ``bulk_create`` and raw SQL, which bypass signals) and every
TRUNCATE. ``catalog.change_stamp`` reads them. The row triggers are deferred to commit time,
so a stamp row is locked only for the instant before commit; taken at the first write, that
lock would serialise writers and let two of them deadlock over it. On other databases (the
SQLite default) nothing is installed and the API caches no page.
"""

from __future__ import annotations

from django.db import migrations

# Every table a catalogue endpoint reads, for its bodies or for its filters; a page that reads
# any other table of these apps is not cached (catalog.change_stamp.STAMPED_TABLES).
TABLES = (
    "catalog_provider",
    "catalog_licence",
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
)

CREATE = """
CREATE TABLE catalog_change_stamp (
    name varchar(63) PRIMARY KEY,
    token varchar(64) NOT NULL,
    txid bigint NULL
);
CREATE FUNCTION catalog_change_stamp_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Once per table and transaction: the first row's trigger sets the token, the others
    -- find their own transaction id there and write nothing.
    INSERT INTO catalog_change_stamp AS stamp (name, token, txid)
        VALUES (TG_TABLE_NAME, md5(random()::text || clock_timestamp()::text), txid_current())
        ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, txid = EXCLUDED.txid
        WHERE stamp.txid IS DISTINCT FROM EXCLUDED.txid;
    RETURN NULL;
END
$$;
"""

TRIGGERS = """
INSERT INTO catalog_change_stamp (name, token)
    VALUES ('{table}', md5(random()::text || clock_timestamp()::text));
CREATE CONSTRAINT TRIGGER catalog_change_stamp AFTER INSERT OR UPDATE OR DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION catalog_change_stamp_bump();
CREATE TRIGGER catalog_change_stamp_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_change_stamp_bump();
"""

DROP_TRIGGERS = """
DROP TRIGGER IF EXISTS catalog_change_stamp ON {table};
DROP TRIGGER IF EXISTS catalog_change_stamp_truncate ON {table};
"""

DROP = """
DROP FUNCTION IF EXISTS catalog_change_stamp_bump();
DROP TABLE IF EXISTS catalog_change_stamp;
"""


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE)
    for table in TABLES:
        schema_editor.execute(TRIGGERS.format(table=table))


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(DROP_TRIGGERS.format(table=table))
    schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_verification_created_at_index"),
        ("assessments", "0005_admin_role"),
    ]

    operations = [migrations.RunPython(install, uninstall)]

"""Substring search on CallerID numbers served by an index on PostgreSQL (issue 21).

A GIN trigram index (pg_trgm) on `number`: the list page's and the exports' search
(`number LIKE '%…%'`) reads it instead of scanning every CallerID of the extension. Built
CONCURRENTLY (the PBX API keeps writing the table meanwhile), so the migration is not
atomic; an invalid index left by an interrupted build is dropped and built again.

pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it. On
SQLite (and any other database) both operations do nothing: SQLite keeps its scan.
"""

from django.db import migrations

INDEX = "callerid_number_trgm"
TABLE = "callerids_authorizedcallerid"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [INDEX],
        )
        found = cursor.fetchone()
        if found and found[0]:
            return
        if found:
            cursor.execute(f"DROP INDEX CONCURRENTLY {INDEX}")
        cursor.execute(
            f"CREATE INDEX CONCURRENTLY {INDEX} ON {TABLE} USING gin (number gin_trgm_ops)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("callerids", "0003_list_indexes"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]

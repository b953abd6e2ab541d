"""A trigram index for the members search (issue 15): the search matches Membership.search_text with
`UPPER(search_text) LIKE UPPER('%…%')` (Django's icontains); a GIN pg_trgm index on that expression finds
the matching members without reading every member of the seller.

PostgreSQL only, and only where the pg_trgm extension is there or may be created here: the tests' and the
development superuser create it; in production `manage.py db_roles` (run as a superuser before `migrate`)
does. Without it the migration creates no index and says so; the search then reads the seller's members,
as correct, just slower. SQLite has no such index."""

from django.db import DatabaseError, migrations, transaction

INDEX = "accounts_member_search_trgm"


def install(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    except DatabaseError as error:
        print(f"\n  accounts.0011: no pg_trgm ({error}); the members search goes without its index.")
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON accounts_membership USING gin (upper(search_text) gin_trgm_ops)",
        params=None,
    )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0010_membership_sort_name")]

    operations = [migrations.RunPython(install, remove)]

"""Assignment.seller: the membership's seller, kept by the database (issue 15: pages that do not grow).

A trigger (PostgreSQL: BEFORE INSERT OR UPDATE; SQLite: after insert and after a change of membership)
copies the membership's seller onto the assignment (a membership never changes seller), so every way of
writing an assignment, bulk ones included, fills it. The index (seller, id)
lets the API's assignments list, oldest first, read one page of the seller's assignments instead of
walking every seller's assignments in id order."""

from django.db import migrations, models

POSTGRESQL_INSTALL = """
CREATE FUNCTION roles_assignment_seller() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT seller_id INTO NEW.seller_id FROM accounts_membership WHERE id = NEW.membership_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER roles_assignment_seller BEFORE INSERT OR UPDATE ON roles_assignment
    FOR EACH ROW EXECUTE FUNCTION roles_assignment_seller();

UPDATE roles_assignment SET seller_id = accounts_membership.seller_id
    FROM accounts_membership WHERE accounts_membership.id = roles_assignment.membership_id;
"""

POSTGRESQL_REMOVE = """
DROP TRIGGER roles_assignment_seller ON roles_assignment;
DROP FUNCTION roles_assignment_seller();
"""

_SQLITE_SET = (
    "UPDATE roles_assignment SET seller_id = (SELECT seller_id FROM accounts_membership"
    " WHERE id = roles_assignment.membership_id) WHERE {where}"
)
SQLITE_INSTALL = [
    "CREATE TRIGGER roles_assignment_seller_insert AFTER INSERT ON roles_assignment BEGIN "
    + _SQLITE_SET.format(where="id = NEW.id")
    + "; END",
    "CREATE TRIGGER roles_assignment_seller_update AFTER UPDATE OF membership_id, seller_id"
    " ON roles_assignment BEGIN " + _SQLITE_SET.format(where="id = NEW.id") + "; END",
    _SQLITE_SET.format(where="1 = 1"),
]
SQLITE_REMOVE = [
    "DROP TRIGGER roles_assignment_seller_update",
    "DROP TRIGGER roles_assignment_seller_insert",
]


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_INSTALL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_INSTALL:
            schema_editor.execute(statement, params=None)


def remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_REMOVE, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_REMOVE:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_membership_sort_name"),
        ("roles", "0006_ozon_cabinet_catalog"),
    ]

    operations = [
        migrations.AddField(
            model_name="assignment",
            name="seller",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="+",
                to="accounts.seller",
            ),
        ),
        migrations.RunPython(install, remove),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(fields=["seller", "id"], name="roles_assignment_seller_id"),
        ),
    ]

"""The members list's sort key and search text, kept by the database (issue 15: pages that do not grow).

Membership.sort_name is accounts.selectors.member_name() stored on the membership: the person's own name
once they have joined, else the name the seller typed, else the e-mail. Membership.search_text is the
e-mail, that name and the job title joined by chr(31), what the members search matches. Both are written
only by these triggers (PostgreSQL and SQLite each have their own): on every insert or update of a
membership, and on a user's change of name or e-mail (for each of their memberships). The index (seller,
kind, sort_name, id) serves the list's order, so a page of the list reads a page of the index instead of
sorting every member joined with their user."""

from django.db import migrations, models

POSTGRESQL_INSTALL = """
CREATE FUNCTION accounts_membership_names() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    user_name text;
    user_email text;
BEGIN
    SELECT display_name, email INTO user_name, user_email FROM accounts_user WHERE id = NEW.user_id;
    NEW.sort_name := COALESCE(
        CASE WHEN NEW.kind <> 'member' OR (NEW.activated_at IS NOT NULL AND NEW.status <> 'invited')
            THEN NULLIF(user_name, '')
            ELSE NULLIF(NEW.invited_name, '')
        END,
        user_email,
        ''
    );
    NEW.search_text := COALESCE(user_email, '') || chr(31) || NEW.sort_name || chr(31) || NEW.job_title;
    RETURN NEW;
END
$$;

CREATE TRIGGER accounts_membership_names BEFORE INSERT OR UPDATE ON accounts_membership
    FOR EACH ROW EXECUTE FUNCTION accounts_membership_names();

CREATE FUNCTION accounts_user_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE accounts_membership SET user_id = user_id WHERE user_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_user_names AFTER UPDATE OF display_name, email ON accounts_user
    FOR EACH ROW
    WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name OR OLD.email IS DISTINCT FROM NEW.email)
    EXECUTE FUNCTION accounts_user_names();

UPDATE accounts_membership SET user_id = user_id;
"""

POSTGRESQL_REMOVE = """
DROP TRIGGER accounts_user_names ON accounts_user;
DROP FUNCTION accounts_user_names();
DROP TRIGGER accounts_membership_names ON accounts_membership;
DROP FUNCTION accounts_membership_names();
"""

# SQLite cannot change NEW: its triggers update the row after it is written (the update touches only the
# two columns, which fires none of them again).
_SQLITE_SET = """
    UPDATE accounts_membership SET sort_name = COALESCE(
        CASE WHEN kind <> 'member' OR (activated_at IS NOT NULL AND status <> 'invited')
            THEN NULLIF((SELECT display_name FROM accounts_user WHERE id = accounts_membership.user_id), '')
            ELSE NULLIF(invited_name, '')
        END,
        (SELECT email FROM accounts_user WHERE id = accounts_membership.user_id),
        ''
    ) WHERE {where};
    UPDATE accounts_membership SET search_text =
        COALESCE((SELECT email FROM accounts_user WHERE id = accounts_membership.user_id), '')
        || char(31) || sort_name || char(31) || job_title
    WHERE {where};
"""
SQLITE_INSTALL = [
    "CREATE TRIGGER accounts_membership_names_insert AFTER INSERT ON accounts_membership BEGIN"
    + _SQLITE_SET.format(where="id = NEW.id")
    + "END",
    "CREATE TRIGGER accounts_membership_names_update AFTER UPDATE OF user_id, kind, status, activated_at,"
    " invited_name, job_title, sort_name, search_text ON accounts_membership BEGIN"
    + _SQLITE_SET.format(where="id = NEW.id")
    + "END",
    "CREATE TRIGGER accounts_user_names AFTER UPDATE OF display_name, email ON accounts_user BEGIN"
    + _SQLITE_SET.format(where="user_id = NEW.id")
    + "END",
    *_SQLITE_SET.format(where="1 = 1").strip().rstrip(";").split(";"),
]
SQLITE_REMOVE = [
    "DROP TRIGGER accounts_user_names",
    "DROP TRIGGER accounts_membership_names_update",
    "DROP TRIGGER accounts_membership_names_insert",
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
        ("accounts", "0009_access_review_policy"),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="sort_name",
            field=models.CharField(default="", editable=False, max_length=254),
        ),
        migrations.AddField(
            model_name="membership",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(install, remove),
        migrations.AddIndex(
            model_name="membership",
            index=models.Index(
                fields=["seller", "kind", "sort_name", "id"], name="accounts_member_list_order"
            ),
        ),
    ]

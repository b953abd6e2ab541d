"""Create (or repair) the three PostgreSQL roles of a least-privilege deployment, idempotently.

- owner (`OZONSEAT_DB_OWNER_ROLE`, default ozonseat_owner): owns every table, sequence and function; runs
  migrations (`DATABASE_OWNER_URL`, `manage.py migrate`).
- app (`OZONSEAT_DB_APP_ROLE`, ozonseat_app): what web, worker and beat connect as (`DATABASE_URL`). Owns
  nothing; reads and writes the application's tables, but on audit events only SELECT and INSERT, on chain
  heads only SELECT (they move through audit_lock_chain / audit_advance_chain, owned by the owner).
- retention (`OZONSEAT_DB_RETENTION_ROLE`, ozonseat_retention): what `audit_archive` and the retention job
  connect as; the only role besides the owner that may EXECUTE audit_apply_retention.

Run it as a role that may create roles (a superuser; DATABASE_ADMIN_URL, else DATABASE_URL) on the
application's database, before and again after
`migrate` (the second run grants on the tables the migration created). Passwords, when given in
OZONSEAT_DB_<OWNER|APP|RETENTION>_PASSWORD, are set on every run. Safe to run concurrently: roles are
cluster-wide, and a role someone else created a moment ago counts as existing."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, transaction

AUDIT_EVENTS = "audit_auditevent"
AUDIT_CHAINS = "audit_auditchain"
AUDIT_POLICY = "audit_auditpolicy"
APP_FUNCTIONS = ("audit_lock_chain(text, bigint)", "audit_advance_chain(text, bigint, text)")
RETENTION_FUNCTION = "audit_apply_retention(bigint, bigint)"


def quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


class Command(BaseCommand):
    help = "Create or repair the owner, application and retention database roles and their grants."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default="admin" if "admin" in settings.DATABASES else "default",
            help="The connection to act through: DATABASE_ADMIN_URL when set, else DATABASE_URL.",
        )
        parser.add_argument("--owner", default=settings.DATABASE_ROLES["owner"])
        parser.add_argument("--app", default=settings.DATABASE_ROLES["app"])
        parser.add_argument("--retention", default=settings.DATABASE_ROLES["retention"])

    def handle(self, *args, database="default", owner, app, retention, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError(
                "Database roles exist only on PostgreSQL. The embedded SQLite default has one user: see "
                "docs/operations.md for what its triggers do and do not protect against."
            )
        if len({owner, app, retention}) != 3:
            raise CommandError("The owner, app and retention roles must be three different roles.")
        self.connection = connection
        with transaction.atomic(using=database):
            for kind, role in (("owner", owner), ("app", app), ("retention", retention)):
                self.ensure_role(kind, role)
            self.revoke_membership(app, owner)
            self.revoke_membership(retention, owner)
            self.schema_and_database(owner, app, retention)
            tables = self.tables()
            if AUDIT_EVENTS not in tables:
                self.say(
                    "the audit tables do not exist yet: run `manage.py migrate`, then this command again"
                )
                return
            self.take_ownership(owner)
            self.grant_app(owner, app, tables)
            self.grant_retention(retention)
        self.say("done")

    # --- helpers -------------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.stdout.write(text)

    def run(self, sql: str, params=None) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)

    def fetch(self, sql: str, params=None) -> list:
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def q(self, name: str) -> str:
        return quote(self.connection, name)

    def ensure_role(self, kind: str, role: str) -> None:
        exists = self.fetch("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if not exists:
            try:
                with transaction.atomic(using=self.connection.alias):
                    self.run(f"CREATE ROLE {self.q(role)} LOGIN")
                self.say(f"{kind} role {role}: created")
            except DatabaseError as error:  # created by a concurrent run a moment ago
                if getattr(getattr(error, "__cause__", None), "pgcode", None) != "42710":
                    raise
                self.say(f"{kind} role {role}: exists")
        else:
            self.say(f"{kind} role {role}: exists")
        # Nothing above what it needs, whatever someone changed by hand.
        self.run(f"ALTER ROLE {self.q(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS")
        password = settings.DATABASE_ROLE_PASSWORDS.get(kind)
        if password:
            self.run(f"ALTER ROLE {self.q(role)} PASSWORD %s", [password])
            self.say(f"{kind} role {role}: password set from OZONSEAT_DB_{kind.upper()}_PASSWORD")

    def revoke_membership(self, member: str, group: str) -> None:
        (is_member,) = self.fetch("SELECT pg_has_role(%s, %s, 'MEMBER')", [member, group])[0]
        if is_member:
            self.run(f"REVOKE {self.q(group)} FROM {self.q(member)}")
            self.say(f"{member}: membership in {group} revoked")

    def schema_and_database(self, owner: str, app: str, retention: str) -> None:
        (database,) = self.fetch("SELECT current_database()")[0]
        for role in (owner, app, retention):
            self.run(f"GRANT CONNECT, TEMPORARY ON DATABASE {self.q(database)} TO {self.q(role)}")
        self.run(f"GRANT USAGE, CREATE ON SCHEMA public TO {self.q(owner)}")
        # Nobody else creates objects in the schema (no look-alike functions, no tables of their own).
        self.run("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        for role in (app, retention):
            self.run(f"REVOKE CREATE ON SCHEMA public FROM {self.q(role)}")
            self.run(f"GRANT USAGE ON SCHEMA public TO {self.q(role)}")
        self.say(f"database {database}: connect for all three; schema public: create for {owner} only")

    def tables(self) -> set[str]:
        rows = self.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
        )
        return {name for (name,) in rows}

    def take_ownership(self, owner: str) -> None:
        objects = self.fetch(
            """
            SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
              AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = %s)
              AND NOT (c.relkind = 'S' AND EXISTS (
                  SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
            ORDER BY c.relkind DESC, c.relname
            """,
            [owner],
        )
        keyword = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
        for name, kind in objects:
            self.run(f"ALTER {keyword[kind]} {self.q(name)} OWNER TO {self.q(owner)}")
        functions = self.fetch(
            """
            SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'public' AND p.proname LIKE 'audit\\_%%'
              AND p.proowner <> (SELECT oid FROM pg_roles WHERE rolname = %s)
            """,
            [owner],
        )
        for (signature,) in functions:
            self.run(f"ALTER FUNCTION {signature} OWNER TO {self.q(owner)}")
        if objects or functions:
            self.say(f"ownership: {len(objects)} tables/sequences and {len(functions)} functions to {owner}")
        else:
            self.say(f"ownership: everything already belongs to {owner}")

    def grant_app(self, owner: str, app: str, tables: set[str]) -> None:
        role = self.q(app)
        self.run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        self.run(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        self.run(f"REVOKE UPDATE, DELETE ON {AUDIT_EVENTS} FROM {role}")
        self.run(f"REVOKE INSERT, UPDATE, DELETE ON {AUDIT_CHAINS} FROM {role}")
        # Erasing a person clears these two unchained columns; the trigger allows nothing else.
        if self.fetch(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = 'client_ip'",
            [AUDIT_EVENTS],
        ):
            self.run(f"GRANT UPDATE (client_ip, client_agent) ON {AUDIT_EVENTS} TO {role}")
        self.run(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        # Tables a later migration creates get the same, until the next run of this command narrows them.
        self.run(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {self.q(owner)} IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}"
        )
        self.run(
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {self.q(owner)} IN SCHEMA public "
            f"GRANT USAGE, SELECT ON SEQUENCES TO {role}"
        )
        for function in APP_FUNCTIONS:
            self.run(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
        self.run(f"REVOKE ALL ON FUNCTION {RETENTION_FUNCTION} FROM PUBLIC, {role}")
        self.say(
            f"app role {app}: read/write on {len(tables)} tables; {AUDIT_EVENTS}: SELECT, INSERT only "
            "(and clearing the erasable client details); "
            f"{AUDIT_CHAINS}: SELECT only (heads move through audit_advance_chain); no TRUNCATE anywhere"
        )

    def grant_retention(self, retention: str) -> None:
        role = self.q(retention)
        self.run(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        self.run(f"GRANT SELECT ON {AUDIT_EVENTS}, {AUDIT_CHAINS}, {AUDIT_POLICY} TO {role}")
        self.run(f"GRANT INSERT ON {AUDIT_EVENTS} TO {role}")
        self.run(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        for function in (*APP_FUNCTIONS, RETENTION_FUNCTION):
            self.run(f"GRANT EXECUTE ON FUNCTION {function} TO {role}")
        self.say(
            f"retention role {retention}: reads the audit tables, appends audit.archived, and alone may "
            f"EXECUTE audit_apply_retention"
        )

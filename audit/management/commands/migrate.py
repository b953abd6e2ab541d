"""`manage.py migrate` as the owner role when DATABASE_OWNER_URL is set.

The application connects as a role that owns nothing (`manage.py db_roles`), so it cannot create or alter
tables; migrations run as the owner. Django's own `--database` would open a second connection for data
migrations that use the default one (and deadlock on their own locks): here the default connection itself
is pointed at the owner for the length of the command."""

from django.conf import settings
from django.core.management.commands.migrate import Command as DjangoMigrate
from django.db import connections


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        owner = settings.DATABASES.get("owner")
        if owner and options.get("database", "default") == "default":
            default = connections["default"]
            default.close()
            for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS"):
                if key in owner:
                    default.settings_dict[key] = owner[key]
            if options.get("verbosity", 1) >= 1:
                self.stdout.write(f"Migrating as {owner.get('USER')} (DATABASE_OWNER_URL).")
        return super().handle(*args, **options)

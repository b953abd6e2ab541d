"""Prove (or restore) that the django-guardian index equals what the assignments say.

manage.py permissions_sync --check               report every difference, exit 1 if any
manage.py permissions_sync                       rewrite what differs (recorded in each seller's audit log)
manage.py permissions_sync [--check] --seller N  the same for one seller only (reads only its rows)

A difference is a group of the index (missing or extra), a member of a group, a group's row, or a row in
guardian's per-user tables (which the index keeps empty).
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Seller
from roles import index, services


def _entries(count):
    return f"{count} index {'entry' if count == 1 else 'entries'}"


class Command(BaseCommand):
    help = "Compare the permission index with the assignments (--check) or repair it."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report differences; exit 1 if any.")
        parser.add_argument("--seller", type=int, help="Only this seller id.")

    def handle(self, *args, check=False, seller=None, **options):
        if seller is not None and not Seller.objects.filter(pk=seller).exists():
            raise CommandError(f"No seller with id {seller}.")
        if check:
            if seller is not None:
                reports = {seller: index.sync(seller, check_only=True)}
            else:
                reports = index.sync_all(check_only=True)
        else:
            reports = services.repair_permission_index(seller_id=seller)
        differing = 0
        for seller_id, report in reports.items():
            for kind, rows in (("missing", report.missing), ("extra", report.extra)):
                for entry in sorted(rows, key=str):
                    differing += 1
                    self.stdout.write(
                        f"{'' if check else 'repaired '}{kind}: seller={seller_id} {index.describe(entry)}"
                    )
        if check:
            awaiting = sum(len(report.awaiting_expiry) for report in reports.values())
            if awaiting:
                self.stdout.write(
                    f"{_entries(awaiting)} belong to members past their end date; expire_memberships "
                    "(every 5 minutes) removes them, and every check refuses them meanwhile."
                )
            if differing:
                self.stderr.write(f"{_entries(differing)} differ from the assignments.")
                sys.exit(1)
            self.stdout.write("The permission index matches the assignments.")
        else:
            self.stdout.write(f"Repaired {_entries(differing)}.")

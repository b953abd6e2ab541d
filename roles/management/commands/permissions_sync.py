"""Prove (or restore) that the django-guardian index equals what the assignments say.

manage.py permissions_sync --check     report every differing row, exit 1 if any
manage.py permissions_sync             rewrite the differing rows (recorded in each seller's audit log)
"""

import sys

from django.core.management.base import BaseCommand

from roles import index, services


class Command(BaseCommand):
    help = "Compare the permission index with the assignments (--check) or repair it."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Only report differences; exit 1 if any.")
        parser.add_argument("--seller", type=int, help="Only this seller id.")

    def handle(self, *args, check=False, seller=None, **options):
        if check:
            reports = index.sync_all(check_only=True)
            if seller is not None:
                reports = {k: v for k, v in reports.items() if k == seller}
        else:
            reports = services.repair_permission_index(seller_id=seller)
        differing = 0
        for seller_id, report in reports.items():
            for kind, rows in (("missing", report.missing), ("extra", report.extra)):
                for level, user_id, permission, object_id in sorted(rows, key=str):
                    differing += 1
                    self.stdout.write(
                        f"{'' if check else 'repaired '}{kind}: seller={seller_id} {level}={object_id} "
                        f"user={user_id} permission={permission}"
                    )
        if check:
            awaiting = sum(len(report.awaiting_expiry) for report in reports.values())
            if awaiting:
                self.stdout.write(
                    f"{awaiting} row(s) belong to members past their end date; expire_memberships (every 5 "
                    "minutes) removes them, and every check refuses them meanwhile."
                )
            if differing:
                self.stderr.write(f"{differing} index row(s) differ from the assignments.")
                sys.exit(1)
            self.stdout.write("The permission index matches the assignments.")
        else:
            self.stdout.write(f"Repaired {differing} index row(s).")

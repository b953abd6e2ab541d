"""Recompute every audit chain. Exit 1 when one is broken or a stored digest no longer matches.

Prints one `digest SELLER:COUNT:HASH` line per chain, and checks each chain against the digests the daily
job kept outside the database (audit/digests.py): a rewritten history, a removed event or a cut-off tail
is reported with the first event that differs. --expect-digest checks a digest kept anywhere else."""

from django.core.management.base import BaseCommand, CommandError

from audit.digests import check_against_store, stored_digests
from audit.verification import (
    MAX_WORKERS,
    chains_to_verify,
    check_digest,
    default_workers,
    parse_digest,
    verify_chains,
)


class Command(BaseCommand):
    help = "Verify the audit log's hash chains and print a digest per seller."

    def add_arguments(self, parser):
        parser.add_argument("--seller", help="Verify only this seller's chain (an id, or 'global').")
        parser.add_argument(
            "--expect-digest",
            action="append",
            default=[],
            metavar="SELLER:COUNT:HASH",
            help="A digest printed earlier; fails unless the chain still contains it. Repeatable.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes verifying in parallel on a large log (default: the CPUs, at most "
            f"{MAX_WORKERS}; here {default_workers()}). 1: verify in this process only.",
        )

    def handle(self, *args, seller=None, expect_digest=(), workers=None, **options):
        try:
            expected = [parse_digest(text) for text in expect_digest]
        except ValueError as error:
            raise CommandError(str(error)) from None
        if seller is not None:
            try:
                seller_ids = [None if seller == "global" else int(seller)]
            except ValueError:
                raise CommandError("--seller takes a seller id or 'global'") from None
        else:
            seller_ids = chains_to_verify()
        seller_ids += [seller_id for seller_id, _count, _hash in expected if seller_id not in seller_ids]
        if workers is not None and workers < 1:
            raise CommandError("--workers takes a number of processes, 1 or more")
        failed = False
        reports = verify_chains(seller_ids, workers=workers)
        for seller_id in seller_ids:
            report = reports[seller_id]
            name = f"seller {report.label}" if seller_id is not None else "global"
            if report.ok:
                kept = report.count - report.checkpoint_sequence
                archived = (
                    f", #1-#{report.checkpoint_sequence} archived" if report.checkpoint_sequence else ""
                )
                self.stdout.write(f"{name}: OK, {report.count} events ({kept} kept{archived})")
            else:
                failed = True
                where = f" [event id {report.broken_event_id}]" if report.broken_event_id else ""
                self.stdout.write(f"{name}: BROKEN at #{report.broken_sequence}{where}: {report.problem}")
            self.stdout.write(f"digest {report.digest}")
            if report.ok and stored_digests(seller_id):
                problem = check_against_store(report)
                if problem:
                    failed = True
                    self.stdout.write(f"{name}: DIFFERS FROM THE DIGEST STORE: {problem}")
                else:
                    newest = stored_digests(seller_id)[-1]
                    self.stdout.write(
                        f"{name}: matches the digest store (up to #{newest.count}, {newest.recorded_at})"
                    )
        for seller_id, count, digest in expected:
            report = reports[seller_id]
            label = report.label
            if not report.ok:
                self.stdout.write(f"expected digest {label}:{count}: not checked, the chain is broken")
                continue
            problem = check_digest(report, count, digest)
            if problem:
                failed = True
                self.stdout.write(f"expected digest {label}:{count}: MISMATCH: {problem}")
            elif 0 < count < report.checkpoint_sequence:
                self.stdout.write(
                    f"expected digest {label}:{count}: archived before checkpoint "
                    f"#{report.checkpoint_sequence}; check it against the archive file"
                )
            else:
                self.stdout.write(f"expected digest {label}:{count}: OK")
        if failed:
            raise SystemExit(1)

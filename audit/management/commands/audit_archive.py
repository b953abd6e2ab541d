"""Archive a seller's audit events older than its retention setting to a JSON Lines file and remove them.

The only way events leave the log: it opens the database's removal switch for its own transaction, and
leaves a checkpoint (the last removed sequence and hash) plus an audit.archived event, so the remaining
chain still verifies."""

from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from audit.retention import archive_events
from ozonseat.errors import ServiceError


def _parse_before(text: str) -> datetime:
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            raise CommandError(f"--before {text!r}: use YYYY-MM-DD or an ISO date-time")
        moment = datetime.combine(day, time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Archive and remove audit events older than the seller's retention setting."

    def add_arguments(self, parser):
        parser.add_argument("--seller", type=int, required=True)
        parser.add_argument(
            "--before", help="Archive only events before this date (UTC), if older than retention."
        )
        parser.add_argument("--output", required=True, help="The JSON Lines file to write (must not exist).")

    def handle(self, *args, seller, before=None, output, **options):
        try:
            result = archive_events(
                seller_id=seller, output=output, before=_parse_before(before) if before else None
            )
        except ServiceError as error:
            raise CommandError(str(error.message)) from None
        if not result.removed:
            self.stdout.write(f"seller {seller}: nothing older than {result.cutoff.isoformat()}")
            return
        self.stdout.write(
            f"seller {seller}: archived and removed {result.removed} events to {output} "
            f"(sha256 {result.archive_sha256}); "
            f"checkpoint #{result.checkpoint_sequence} {result.checkpoint_hash}"
        )

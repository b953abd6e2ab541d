"""The audit log as a file, for the dashboard's export and the API's alike: CSV or JSON Lines, streamed in
keyset batches, one event a row. Each row holds the stored event for machines (ids, the raw changes, the
chain's hashes: the file can be checked against the chain) and its description for people, in the
language of whoever asked for it."""

import csv
import json
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone, translation

from ozonseat.spreadsheets import safe_cell

from . import selectors
from .chain import format_timestamp
from .describe import describe_events

# What both exports are sent as. JSON Lines as application/jsonl, the type jsonlines.org suggests: one name
# for the format, the `.jsonl` file and the type.
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}
COLUMNS = (
    "id",
    "sequence",
    "created_at",
    "action",
    "label",
    "description",
    "details",
    "actor_user_id",
    "actor_token_id",
    "actor",
    "target_type",
    "target_id",
    "target",
    "store_id",
    "changes",
    "ip",
    "user_agent",
    "request_id",
    "previous_hash",
    "hash",
)


def export_response(
    seller, filters, export_format: str, *, oldest_first: bool, for_spreadsheets: bool
) -> StreamingHttpResponse:
    """The streamed export of the seller's filtered events (`export_format` already validated). Rows are
    described in the language active now: the stream is read after the request's language is reset.
    `for_spreadsheets`: the CSV starts with a byte order mark, so that spreadsheet programs read it as
    UTF-8 (Chinese and Russian names); programs reading the API's get plain UTF-8."""
    records = _records(
        seller,
        filters,
        language=translation.get_language(),
        oldest_first=oldest_first,
        # A CSV cell holds the details as the line a person reads; JSON Lines, as the API lists them.
        details_as_text=export_format == "csv",
    )
    if export_format == "csv":
        lines = _csv_lines(records, byte_order_mark="\ufeff" if for_spreadsheets else "")
    else:
        lines = _jsonl_lines(records)
    response = StreamingHttpResponse(lines, content_type=CONTENT_TYPES[export_format])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-{seller.pk}-{stamp}.{export_format}"'
    response["Cache-Control"] = "no-store"  # the audit log must not linger in proxies or browser caches
    return response


def _records(seller, filters, *, language: str, oldest_first: bool, details_as_text: bool) -> Iterator[dict]:
    for batch in selectors.iter_event_batches(seller, filters, oldest_first=oldest_first):
        # The override covers one batch and no yield, so it never leaks into whatever runs between rows.
        with translation.override(language):
            rows = [
                _record(item, details_as_text) for item in describe_events(batch, time_zone=seller.time_zone)
            ]
        yield from rows


def _record(description, details_as_text: bool) -> dict:
    event = description.event
    details = (
        description.details_text
        if details_as_text
        else [{"field": d.field, "label": d.label, "old": d.old, "new": d.new} for d in description.details]
    )
    return {
        "id": event.pk,
        "sequence": event.sequence,
        "created_at": format_timestamp(event.created_at),
        "action": event.action,
        "label": description.label,
        "description": description.text,
        "details": details,
        "actor_user_id": event.actor_user_id,
        "actor_token_id": event.actor_token_id,
        "actor": description.actor,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target": description.target,
        "store_id": event.store_id,
        "changes": event.changes,
        "ip": event.shown_ip,
        "user_agent": event.shown_user_agent,
        "request_id": event.request_id,
        "previous_hash": event.previous_hash,
        "hash": event.hash,
    }


class _Echo:
    def write(self, value):
        return value


def _csv_lines(records, *, byte_order_mark: str) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield byte_order_mark + writer.writerow(COLUMNS)
    for record in records:
        yield writer.writerow([safe_cell(record[column]) for column in COLUMNS])


def _jsonl_lines(records) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"

"""Digests kept outside the database: each day the beat's job writes every chain's head (and the hash of
each event appended since the last digest) to an append-only store and e-mails the head to the seller's
owner and the addresses the seller added. `audit_verify` (no arguments) reads them back and names the
first event that no longer matches: a rewritten history, a removed event, a cut-off tail.

The store is a directory (`OZONSEAT_AUDIT_DIGEST_DIR`, default `<OZONSEAT_VAR_DIR>/audit-digests`) of
files that are only ever appended to, two per chain:
- `<chain>.digests.jsonl`: one line per digest: {"chain", "count", "hash", "recorded_at"} (small; the audit
  page shows its tail);
- `<chain>.hashes.jsonl`: one line per digest: {"from": first sequence, "hashes": [...]}, every event's hash
  since the digest before it.
Point the directory at storage the database's administrators cannot write, ideally write-once (a mount
with `chattr +a`, an object-lock bucket mounted with s3fs/rclone, another host's NFS export): see
docs/operations.md."""

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .chain import chain_key, format_timestamp
from .models import AuditChain, AuditEvent, AuditPolicy
from .verification import ChainReport, chains_to_verify, verify_chain

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredDigest:
    chain: str
    count: int
    hash: str
    recorded_at: str

    @property
    def text(self) -> str:
        return f"{self.chain}:{self.count}:{self.hash}"


def store_dir() -> Path:
    return Path(settings.AUDIT_DIGEST_DIR)


def _label(seller_id: int | None) -> str:
    return "global" if seller_id is None else str(int(seller_id))


def _append(path: Path, record: dict) -> None:
    line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
    # O_APPEND only: the store is never rewritten, so it works on append-only (chattr +a) files.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                records.append(json.loads(line))
            except ValueError:  # a torn last line (the writer died mid-write): ignore it, loudly
                logger.warning("audit digest store: %s line %s is not JSON; ignored", path, number)
    return records


def stored_digests(seller_id: int | None) -> list[StoredDigest]:
    """Every digest the job stored for the chain, oldest first."""
    label = _label(seller_id)
    return [
        StoredDigest(label, int(record["count"]), record["hash"], record.get("recorded_at", ""))
        for record in _read(store_dir() / f"{label}.digests.jsonl")
        if record.get("chain") == label
    ]


def latest_digests(seller_id: int | None, limit: int = 5) -> list[StoredDigest]:
    """The newest first, for the audit page."""
    return stored_digests(seller_id)[-limit:][::-1]


def stored_hashes(seller_id: int | None) -> dict[int, str]:
    """{sequence: hash} of every event the digests covered."""
    hashes = {}
    for record in _read(store_dir() / f"{_label(seller_id)}.hashes.jsonl"):
        first = int(record["from"])
        for offset, value in enumerate(record["hashes"]):
            hashes.setdefault(first + offset, value)
    return hashes


def store_digest(report: ChainReport) -> StoredDigest | None:
    """Append the verified chain's digest, and the hashes of the events since the last one. None when
    nothing was appended since (the store keeps what it has)."""
    label = report.label
    previous = stored_digests(report.seller_id)
    last_count = previous[-1].count if previous else 0
    if previous and previous[-1].count == report.count and previous[-1].hash == report.last_hash:
        return None
    directory = store_dir()
    directory.mkdir(parents=True, exist_ok=True)
    start = max(last_count, report.checkpoint_sequence) + 1
    hashes = list(
        _events(report.seller_id)
        .filter(sequence__gte=start, sequence__lte=report.count)
        .order_by("sequence")
        .values_list("hash", flat=True)
    )
    if hashes:
        _append(directory / f"{label}.hashes.jsonl", {"chain": label, "from": start, "hashes": hashes})
    digest = StoredDigest(label, report.count, report.last_hash, format_timestamp(timezone.now()))
    _append(
        directory / f"{label}.digests.jsonl",
        {"chain": label, "count": digest.count, "hash": digest.hash, "recorded_at": digest.recorded_at},
    )
    return digest


def _events(seller_id):
    return (
        AuditEvent.objects.filter(seller_id=seller_id)
        if seller_id is not None
        else (AuditEvent.objects.filter(seller_id=None))
    )


def check_against_store(report: ChainReport) -> str:
    """'' when the chain still holds every event the stored digests cover, else the first difference:
    a rewritten or removed event (named), or a cut-off tail. Events archived by retention (up to the
    checkpoint) are checked only at the checkpoint itself."""
    digests = stored_digests(report.seller_id)
    if not digests:
        return ""
    hashes = stored_hashes(report.seller_id)
    newest = digests[-1]
    checkpoint = report.checkpoint_sequence
    if checkpoint and checkpoint in hashes:
        chain = AuditChain.objects.filter(key=chain_key(report.seller_id)).first()
        if chain is not None and chain.checkpoint_hash != hashes[checkpoint]:
            return f"the retention checkpoint #{checkpoint} differs from the digest store"
    expected = checkpoint + 1
    queryset = _events(report.seller_id).filter(sequence__gt=checkpoint, sequence__lte=newest.count)
    for sequence, pk, value in (
        queryset.order_by("sequence").values_list("sequence", "pk", "hash").iterator(chunk_size=5000)
    ):
        if sequence != expected:
            return (
                f"event #{expected} is missing: the digest store has it (the next one present is "
                f"#{sequence}, id {pk})"
            )
        stored = hashes.get(sequence)
        if stored is not None and stored != value:
            return (
                f"event #{sequence} (id {pk}) differs from the digest store: the history from it on was "
                "rewritten"
            )
        expected += 1
    if expected <= newest.count:
        return (
            f"events #{expected} to #{newest.count} are missing: the digest of {newest.recorded_at} covers "
            f"{newest.count} events, the chain now ends at #{expected - 1} (its tail was cut off)"
        )
    for digest in digests:
        if digest.count > checkpoint and hashes.get(digest.count, digest.hash) != digest.hash:
            return f"the digest store is inconsistent at #{digest.count}: check its files"
    return ""


# --- the daily job --------------------------------------------------------------------------------


# audit knows no one: the app that owns sellers and people (accounts) tells it, in its AppConfig.ready,
# how to find a seller by id and the owner's addresses (`provide_sellers`).
_sellers: dict = {}


def provide_sellers(*, seller_by_id, owner_addresses) -> None:
    """`seller_by_id(id)` -> the seller or None; `owner_addresses(seller)` -> the owner's e-mail addresses."""
    _sellers.update(seller_by_id=seller_by_id, owner_addresses=owner_addresses)


def digest_recipients(seller) -> list[str]:
    """The owner's address and the policy's further recipients, each once."""
    owner_addresses = _sellers.get("owner_addresses")
    addresses = list(owner_addresses(seller)) if owner_addresses else []
    policy = AuditPolicy.objects.filter(seller_id=seller.pk).first()
    for address in (policy.digest_recipients if policy else []) or []:
        if address.lower() not in {known.lower() for known in addresses}:
            addresses.append(address)
    return addresses


def send_digest_email(seller, digest: StoredDigest) -> None:
    recipients = digest_recipients(seller)
    if not recipients:
        return
    with translation.override(seller.default_language or settings.LANGUAGE_CODE):
        subject = _("Audit log digest of %(seller)s") % {"seller": seller.name}
        body = _(
            "The audit log of %(seller)s holds %(count)s events. Its digest on %(moment)s UTC:\n\n"
            "%(digest)s\n\n"
            "Keep this e-mail. Anyone can later prove that none of these events was changed or removed:\n"
            "python manage.py audit_verify --expect-digest %(digest)s\n"
        ) % {
            "seller": seller.name,
            "count": digest.count,
            "moment": digest.recorded_at,
            "digest": digest.text,
        }
    EmailMessage(subject, body, to=recipients).send()


def record_daily_digests() -> list[StoredDigest]:
    """The beat's daily job: verify every chain, store its digest, e-mail sellers' digests. A chain that
    does not verify is not stored (it is logged as an error: `audit_verify` says where it broke)."""
    seller_by_id = _sellers.get("seller_by_id")
    stored = []
    for seller_id in chains_to_verify():
        report = verify_chain(seller_id)
        problem = report.problem or check_against_store(report)
        if problem:  # never store the digest of a chain that no longer holds what earlier digests saw
            logger.error("audit chain %s does not verify: %s", report.label, problem)
            continue
        digest = store_digest(report)
        if digest is None:
            continue
        stored.append(digest)
        if seller_id is not None:
            seller = seller_by_id(seller_id) if seller_by_id else None
            if seller is not None:
                try:
                    send_digest_email(seller, digest)
                except Exception:  # the digest is stored; tomorrow's e-mail carries a newer one
                    logger.exception("could not e-mail the audit digest of seller %s", seller_id)
    return stored

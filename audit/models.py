"""The append-only, hash-chained audit log.

People, sellers and tokens are referenced by id (plain integers, not foreign keys): deleting or erasing a
row elsewhere can never cascade into the log, and the chain never depends on personal data.
"""

from django.db import models
from django.utils import timezone


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit events are immutable.")

    def delete(self):
        raise TypeError("Audit events are immutable.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise TypeError("Audit events are immutable.")

    def bulk_create(self, objs, *args, **kwargs):
        raise TypeError("Audit events are appended one by one through audit.services.record_event.")


class AuditEvent(models.Model):
    seller_id = models.BigIntegerField(null=True, blank=True)
    sequence = models.BigIntegerField()
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_token_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    # The store the event concerns (its target, or a store named in the change), kept in its own indexed
    # column so "everything that happened on the KZ store" is an index scan, not a JSON search.
    store_id = models.BigIntegerField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Where the request came from, kept beside the chain (not hashed) so that erasing a person
    # (accounts/privacy.py) can clear it: the one UPDATE the triggers allow sets both to NULL and changes
    # nothing else. Events written before migration 0006 hold these in the chained ip/user_agent.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    client_agent = models.CharField(max_length=300, null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["seller_id", "sequence"], name="audit_event_chain_position"),
        ]
        # Every viewer filter has an index ending in (created_at, id), so a keyset page is one index range
        # scan at any depth, with or without the filter.
        indexes = [
            models.Index(fields=["seller_id", "-created_at", "-id"], name="audit_event_seller_newest"),
            models.Index(
                fields=["seller_id", "action", "-created_at", "-id"], name="audit_event_seller_action"
            ),
            models.Index(
                fields=["seller_id", "target_type", "target_id", "-created_at", "-id"],
                name="audit_event_seller_target",
            ),
            models.Index(
                fields=["seller_id", "actor_user_id", "-created_at", "-id"], name="audit_event_seller_actor"
            ),
            models.Index(
                fields=["seller_id", "store_id", "-created_at", "-id"], name="audit_event_seller_store"
            ),
        ]

    def __str__(self):
        return f"{self.action} #{self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("Audit events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are immutable.")

    @property
    def shown_ip(self):
        return self.client_ip or self.ip

    @property
    def shown_user_agent(self) -> str:
        return self.client_agent or self.user_agent


class AuditChain(models.Model):
    """The head of one chain: one row per seller, plus one (key 'global') for events outside any seller.

    Appends lock this row (SELECT ... FOR UPDATE), so concurrent writers serialise and the chain stays linear.
    """

    key = models.CharField(max_length=40, unique=True)
    seller_id = models.BigIntegerField(null=True, blank=True)
    last_sequence = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    # Retention checkpoint: events up to this sequence were archived and removed by `audit_archive`; the
    # first remaining event links to checkpoint_hash. The audit.archived event in the chain repeats both
    # values, so a checkpoint edited here without rewriting the chain does not verify.
    checkpoint_sequence = models.BigIntegerField(default=0)
    checkpoint_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return self.key


class AuditPolicy(models.Model):
    """A seller's retention setting. No row, or retention_days empty: keep events forever."""

    seller_id = models.BigIntegerField(unique=True)
    retention_days = models.PositiveIntegerField(null=True, blank=True)
    # Addresses, beyond the owner's, that receive the daily digest of the seller's chain (audit/digests.py).
    digest_recipients = models.JSONField(default=list, blank=True)

    def __str__(self):
        return f"seller {self.seller_id}: {self.retention_days or 'forever'}"

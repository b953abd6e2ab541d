"""Row locks taken up front, in the project's lock order.

As the accounts and roles services: membership (and its user) -> seller -> audit chain; a review and its
items come before any of those. PostgreSQL checks foreign keys at commit, after the audit chain's lock, with
a KEY SHARE lock on each row they point at: a service holding such a row and waiting for the seller or the
chain would deadlock with us. So the rows our new foreign keys point at are locked first, in that order.
"""

from django.db import connection

from accounts.models import Membership, User


def share_rows(sql: str, params) -> None:
    """SELECT ... FOR KEY SHARE: keeps the rows from being deleted or their keys changed until commit, and
    takes now the lock PostgreSQL would take at commit for a foreign key pointing at them."""
    if connection.vendor != "postgresql":
        return  # SQLite: one writer at a time, no row locks
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)


def share_members_and_users(seller_id) -> None:
    share_rows(
        f"SELECT m.id FROM {Membership._meta.db_table} m "  # noqa: S608 (table names from the models)
        f"JOIN {User._meta.db_table} u ON u.id = m.user_id WHERE m.seller_id = %s ORDER BY m.id",
        [seller_id],
    )


def share_user(user) -> None:
    if user is not None:
        share_rows(f"SELECT id FROM {User._meta.db_table} WHERE id = %s", [user.pk])  # noqa: S608

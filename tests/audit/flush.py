"""Test databases are emptied after each transactional test with TRUNCATE (PostgreSQL) or DELETE (SQLite),
which the audit log's append-only triggers refuse. Tests flush through the same deliberate switch that
retention uses, so the triggers stay installed, and active, for every test."""

from django.db import transaction
from django.db.backends.base.operations import BaseDatabaseOperations

from audit.immutability import removal_switch

_original_execute_sql_flush = BaseDatabaseOperations.execute_sql_flush


def _execute_sql_flush_with_switch(self, sql_list):
    with transaction.atomic(using=self.connection.alias), removal_switch(self.connection.alias):
        _original_execute_sql_flush(self, sql_list)


def allow_test_database_flush() -> None:
    BaseDatabaseOperations.execute_sql_flush = _execute_sql_flush_with_switch

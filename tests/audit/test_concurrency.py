import threading

import pytest
from django.db import connection

from audit.models import AuditChain, AuditEvent
from audit.verification import verify_chain
from tests.audit.helpers import append

THREADS = 8
PER_THREAD = 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_appending_to_one_seller_leave_one_valid_chain_with_every_event(seller, owner):
    barrier = threading.Barrier(THREADS)
    errors = []
    made: list[list] = [[] for _ in range(THREADS)]

    def worker(index):
        try:
            barrier.wait(timeout=30)
            made[index] = append(seller, PER_THREAD, actor=owner)
        except Exception as error:  # reported below, with the thread's index
            errors.append((index, error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    stored = list(AuditEvent.objects.filter(seller_id=seller.pk).order_by("sequence"))
    written = {event.pk for events in made for event in events}
    assert len(written) == THREADS * PER_THREAD
    assert {event.pk for event in stored} == written
    assert [event.sequence for event in stored] == list(range(1, THREADS * PER_THREAD + 1))
    report = verify_chain(seller.pk)
    assert report.ok, report.problem
    assert report.count == THREADS * PER_THREAD
    assert AuditChain.objects.get(seller_id=seller.pk).last_hash == stored[-1].hash

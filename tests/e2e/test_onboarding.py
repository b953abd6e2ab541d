"""Bulk onboarding on a real Celery worker (Redis, PostgreSQL, SMTP): the worker is killed (SIGKILL) in the
middle of an import; the beat's resume job, on a new worker, finishes it, and nobody is invited twice."""

import secrets

import pytest

from accounts.models import Membership
from audit.models import AuditEvent
from onboarding import services, tasks
from onboarding.models import ImportStatus, MemberImport, RowState
from tests.e2e.conftest import (
    WORKER_ARGUMENTS,
    WORKER_START_TIMEOUT,
    process_env,
    publishing_to_the_broker,
    start_celery,
    wait_until,
)
from tests.onboarding.test_import import Team, as_csv, spreadsheet_rows
from tests.services import REDIS_KEY_PREFIX, delete_redis_keys, need_postgres, need_redis

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def worker_env(django_db_setup, django_db_blocker, smtp_server, tmp_path_factory):
    redis_url = need_redis()
    with django_db_blocker.unblock():
        need_postgres()
        env = process_env(
            smtp_port=smtp_server[0].port,
            var_dir=tmp_path_factory.mktemp("onboarding-var"),
            OZONSEAT_ONBOARDING_RESUME_AFTER_SECONDS="0",
        )
    yield env
    delete_redis_keys(redis_url, REDIS_KEY_PREFIX)


def start_worker(env):
    worker = start_celery([*WORKER_ARGUMENTS, "--hostname", f"e2e-{secrets.token_hex(4)}@%h"], env)
    worker.wait_for_log(r"\bready\.", timeout=WORKER_START_TIMEOUT)
    return worker


def staff(seller):
    return list(
        Membership.objects.filter(seller=seller, user__email__startswith="staff").values_list(
            "user__email", flat=True
        )
    )


def test_a_worker_killed_mid_import_resumes_without_doubles(worker_env, mailbox):
    team = Team()
    upload = services.upload_import(
        actor=team.uploader, seller=team.seller, file_name="team.csv", content=as_csv(spreadsheet_rows(150))
    )
    worker = start_worker(worker_env)
    try:
        with publishing_to_the_broker():
            services.apply_import(actor=team.uploader, member_import=upload)
            wait_until(
                lambda: MemberImport.objects.get(pk=upload.pk).processed_rows >= 15,
                timeout=120,
                message="the worker inviting",
            )
            worker.kill()
            upload.refresh_from_db()
            assert upload.status == ImportStatus.APPLYING and upload.processed_rows < upload.ready_rows
            # Every invitation made so far was committed with its row's state, and no other.
            invited_rows = upload.rows.filter(state=RowState.INVITED).count()
            assert len(staff(team.seller)) == invited_rows
            worker = start_worker(worker_env)
            tasks.resume_stalled_imports.delay()  # the beat's job
            wait_until(
                lambda: MemberImport.objects.get(pk=upload.pk).status == ImportStatus.DONE,
                timeout=240,
                message="the resumed import finishing",
            )
    finally:
        worker.stop()
    upload.refresh_from_db()
    emails = staff(team.seller)
    assert len(emails) == len(set(emails)) == upload.ready_rows
    assert upload.rows.filter(state=RowState.INVITED).count() == upload.ready_rows
    invited = AuditEvent.objects.filter(action="member.invited", seller_id=team.seller.pk).count()
    assert invited == upload.ready_rows

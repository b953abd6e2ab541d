"""Bulk onboarding: 500 rows with 10 broken ones — the preview names each problem in the uploader's
language, applying invites the 490 exactly once through the invitation service, a second upload invites
nobody, and an import interrupted in the middle of an invitation resumes without doubles."""

import base64
import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook
from rest_framework.test import APIClient

from accounts.models import Invitation, Membership
from audit.models import AuditEvent
from onboarding import files, services
from onboarding.models import ImportStatus, MemberImport, RowState
from onboarding.preview import columns_of
from roles import services as roles_services
from roles.models import Role
from tests.factories import make_member, make_seller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

UNKNOWN_PLACE_RU = "Нет активного магазина, склада или рынка с названием «Новосибирск»."  # noqa: RUF001
HEADER = ["E-mail", "Name", "Language", "Role", "Scope", "End date"]
LANGUAGES = ["en", "ru", "zh-hans", ""]
SCOPES = ["Москва", "RU", "Москва; Казань", "казань"]
# line -> (row, the problem the preview must name)
BROKEN = {
    10: (["ten@example.com", "Десятый", "ru", "Picker T", "Новосибирск", ""], "unknown_place"),
    50: (["not-an-email", "Пятидесятый", "ru", "Picker T", "RU", ""], "bad_email"),
    90: (["ninety@example.com", "Ninety", "en", "Finance T", "RU", ""], "role_not_grantable"),
    130: (["staff2@example.com", "Дубль", "ru", "Picker T", "RU", ""], "duplicate_row"),
    170: (["x170@example.com", "Курьер", "ru", "Курьер-X", "RU", ""], "unknown_role"),
    210: (["x210@example.com", "Date", "en", "Picker T", "RU", "31/31/2031"], "bad_end_date"),
    250: (["x250@example.com", "Past", "en", "Picker T", "RU", "2001-01-01"], "past_end_date"),
    290: (["existing@example.com", "Existing", "en", "Picker T", "RU", ""], "already_member"),
    330: (["x330@example.com", "Lang", "klingon", "Picker T", "RU", ""], "bad_language"),
    370: (["x370@example.com", "Алматы", "ru", "Picker T", "KZ", ""], "role_not_grantable"),
}


class Team:
    """A seller with RU and KZ stores; the uploader manages members and holds the picker's permissions
    only in RU; an existing member."""

    def __init__(self):
        self.seller, owner = make_seller(name="Onboarding")
        self.owner = owner.user
        add = roles_services.add_store
        self.moscow = add(actor=self.owner, seller=self.seller, name="Москва", client_id="1", market="RU")
        self.kazan = add(actor=self.owner, seller=self.seller, name="Казань", client_id="2", market="RU")
        self.almaty = add(actor=self.owner, seller=self.seller, name="Алматы", client_id="3", market="KZ")
        create = roles_services.create_role
        self.picker = create(
            actor=self.owner,
            seller=self.seller,
            name="Picker T",
            permissions=["products.view", "products.edit"],
        )
        create(actor=self.owner, seller=self.seller, name="Finance T", permissions=["finance.view"])
        manager = create(
            actor=self.owner, seller=self.seller, name="Onboarder T", permissions=["members.manage"]
        )
        self.uploader_membership = make_member(self.seller)
        self.uploader = self.uploader_membership.user
        grant = roles_services.grant_role
        grant(actor=self.owner, membership=self.uploader_membership, role=manager, scope_kind="seller")
        grant(
            actor=self.owner,
            membership=self.uploader_membership,
            role=self.picker,
            scope_kind="market",
            market="RU",
        )
        from tests.factories import UserFactory

        make_member(self.seller, user=UserFactory(email="existing@example.com"))


@pytest.fixture
def team(db):
    return Team()


def spreadsheet_rows(count=500):
    rows = [HEADER]
    for n in range(count):
        line = n + 2
        if line in BROKEN:
            rows.append(BROKEN[line][0])
        else:
            rows.append(
                [
                    f"staff{n}@example.com",
                    f"Сотрудник {n}",
                    LANGUAGES[n % 4],
                    "Picker T",
                    SCOPES[n % 4],
                    "2031-12-31" if n % 3 == 0 else "",
                ]
            )
    return rows


def as_csv(rows) -> bytes:
    return files.as_file(rows, "csv")


def as_xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def invited_emails(seller):
    return list(
        Membership.objects.filter(seller=seller, status="invited").values_list("user__email", flat=True)
    )


@pytest.mark.parametrize("make_file", [as_csv, as_xlsx], ids=["csv", "xlsx"])
def test_the_preview_names_every_broken_row_and_nothing_else(team, make_file):
    upload = services.upload_import(
        actor=team.uploader, seller=team.seller, file_name="team.x", content=make_file(spreadsheet_rows())
    )
    assert (upload.total_rows, upload.ready_rows) == (500, 490)
    problems = {row.number: [p["code"] for p in row.problems] for row in upload.rows.exclude(problems=[])}
    assert problems == {line: [code] for line, (_row, code) in BROKEN.items()}
    assert invited_emails(team.seller) == []  # a preview invites nobody


def test_problems_read_in_the_readers_language(client, team):
    upload = services.upload_import(
        actor=team.uploader, seller=team.seller, file_name="team.csv", content=as_csv(spreadsheet_rows(20))
    )
    client.force_login(team.uploader)
    url = reverse("onboarding:import", args=[team.seller.pk, upload.pk])
    russian = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert UNKNOWN_PLACE_RU in russian
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "Новосибирск" in chinese and "没有" in chinese


def apply(team, upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.apply_import(actor=team.uploader, member_import=upload)
    upload.refresh_from_db()
    return upload


def test_applying_invites_the_490_once_and_a_second_upload_invites_nobody(
    team, django_capture_on_commit_callbacks, mailoutbox
):
    content = as_csv(spreadsheet_rows())
    upload = services.upload_import(
        actor=team.uploader, seller=team.seller, file_name="t.csv", content=content
    )
    events_before = AuditEvent.objects.filter(action="member.invited").count()
    upload = apply(team, upload, django_capture_on_commit_callbacks)
    assert upload.status == ImportStatus.DONE and upload.processed_rows == 490
    emails = invited_emails(team.seller)
    assert len(emails) == len(set(emails)) == 490
    assert AuditEvent.objects.filter(action="member.invited").count() - events_before == 490
    assert AuditEvent.objects.filter(action="members.imported", target_id=upload.pk).count() == 1
    assert Invitation.objects.filter(membership__seller=team.seller).count() == 490
    assert upload.rows.filter(state=RowState.INVITED).count() == 490
    assert upload.rows.filter(state=RowState.SKIPPED).count() == 10
    person = Membership.objects.get(seller=team.seller, user__email="staff2@example.com")
    assert [(a.role_id, a.scope_kind) for a in person.assignments.all()] == [(team.picker.pk, "stores")]
    # The same file again: every ready row is now a member.
    again = services.upload_import(
        actor=team.uploader, seller=team.seller, file_name="t.csv", content=content
    )
    assert again.ready_rows == 0
    assert again.rows.filter(problems__0__code="already_member").count() == 490 + 1  # and existing@
    again = apply(team, again, django_capture_on_commit_callbacks)
    assert len(invited_emails(team.seller)) == 490
    with pytest.raises(Exception) as conflict:
        services.apply_import(actor=team.uploader, member_import=upload)
    assert conflict.value.code == "applied"


def test_an_import_interrupted_in_the_middle_of_an_invitation_resumes_without_doubles(
    team, django_capture_on_commit_callbacks, monkeypatch
):
    upload = services.upload_import(
        actor=team.uploader, seller=team.seller, file_name="t.csv", content=as_csv(spreadsheet_rows(120))
    )
    real = services.invite_member_with_roles
    calls = {"count": 0}

    class WorkerKilled(BaseException):
        pass

    def dies_after_the_invitation(**kwargs):
        membership = real(**kwargs)
        calls["count"] += 1
        if calls["count"] == 40:
            raise WorkerKilled()  # after the invitation, before its row is saved: both roll back
        return membership

    monkeypatch.setattr(services, "invite_member_with_roles", dies_after_the_invitation)
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        services.apply_import(actor=team.uploader, member_import=upload)
    upload.refresh_from_db()
    assert upload.status == ImportStatus.APPLYING and upload.processed_rows == 39
    assert len(invited_emails(team.seller)) == 39
    monkeypatch.setattr(services, "invite_member_with_roles", real)
    with django_capture_on_commit_callbacks(execute=True):
        services.run_import(import_id=upload.pk)
        services.run_import(import_id=upload.pk)  # a second worker, or a repeated message: nothing more
    upload.refresh_from_db()
    ready = upload.ready_rows
    emails = invited_emails(team.seller)
    assert upload.status == ImportStatus.DONE and len(emails) == len(set(emails)) == ready


def test_the_result_file_and_the_templates(client, team, django_capture_on_commit_callbacks):
    client.force_login(team.uploader)
    for language in ("en", "ru", "zh-hans"):
        response = client.get(
            reverse("onboarding:template", args=[team.seller.pk]), {"language": language, "format": "xlsx"}
        )
        header = next(load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
        assert set(columns_of(header)) == {"email", "name", "language", "role", "scope", "ends_on"}
        with translation.override(language):
            assert header[0] == str(files.HEADERS["email"])
    response = client.post(
        reverse("onboarding:upload", args=[team.seller.pk]),
        {"file": _named(as_csv(spreadsheet_rows(15)), "team.csv")},
    )
    upload = MemberImport.objects.get(seller=team.seller)
    assert response.status_code == 302 and response["Location"].endswith(f"/{upload.pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("onboarding:import", args=[team.seller.pk, upload.pk])).status_code == 302
    result = client.get(reverse("onboarding:result", args=[team.seller.pk, upload.pk]), {"format": "csv"})
    text = result.content.decode("utf-8-sig")
    assert text.count("Invited") == 14 and "Новосибирск" in text


def _named(content, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_the_api_uploads_previews_applies_and_reports(team, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(team.uploader)
    base = f"/api/v1/sellers/{team.seller.pk}/member-imports"
    body = {
        "file_name": "team.csv",
        "content_base64": base64.b64encode(as_csv(spreadsheet_rows(15))).decode(),
    }
    answer = api.post(base, body, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    assert data["status"] == "preview" and data["ready_rows"] == 14
    [broken] = [row for row in data["rows"] if row["line"] == 10]
    assert broken["problems"] == [UNKNOWN_PLACE_RU]
    with django_capture_on_commit_callbacks(execute=True):
        applied = api.post(f"{base}/{data['id']}/apply", format="json")
    assert applied.status_code == 202
    done = api.get(f"{base}/{data['id']}").json()
    assert done["status"] == "done" and sum(row["state"] == "invited" for row in done["rows"]) == 14
    assert api.post(f"{base}/{data['id']}/apply", format="json").status_code == 409
    bad = api.post(base, {"file_name": "x.csv", "content_base64": "!!"}, format="json")
    assert bad.status_code == 400
    not_a_sheet = api.post(
        base, {"file_name": "x.csv", "content_base64": base64.b64encode(b"hello").decode()}, format="json"
    )
    assert not_a_sheet.status_code == 400 and "file" in not_a_sheet.json()["errors"]


def test_only_members_managers_upload(client, team):
    plain = make_member(team.seller)
    client.force_login(plain.user)
    assert client.get(reverse("onboarding:upload", args=[team.seller.pk])).status_code == 403
    assert not Role.objects.filter(name="x").exists()

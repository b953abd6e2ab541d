"""Wording a Chinese or Russian shop owner meets in forms and errors: Django's and DRF's own messages come out
in the page's language and read naturally (password rules, length limits), a thing's name is 名称 /
«Название» and a person's 姓名 / «Имя», and a failed CSRF check is a page of the site, not "403 Forbidden"."""

import re

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts.models import ApiToken, Seller, User
from ozonseat.api.errorviews import csrf_failure
from roles import services as roles_services
from roles.models import Role, Store, Warehouse
from tests.api.conftest import client_with, token_for, url

pytestmark = pytest.mark.django_db

SCRIPT = {"zh-hans": re.compile(r"[\u4e00-\u9fff]"), "ru": re.compile(r"[\u0400-\u04ff]")}
ENGLISH_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
STIFF = ("确保该变量", "Убедитесь, что", "请确保这个字段")


def assert_reads_in(language: str, message: str):
    assert SCRIPT[language].search(message), (language, message)
    assert not ENGLISH_WORD.search(message), (language, message)
    assert not any(stiff in message for stiff in STIFF), (language, message)


@pytest.mark.parametrize("language", ["zh-hans", "ru"])
@pytest.mark.parametrize("password", ["short1", "password1234", "1234567890123", "li.wei@example.com"])
def test_every_password_rule_speaks_the_pages_language(language, password):
    user = User(email="li.wei@example.com", display_name="Li Wei")
    with translation.override(language), pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, user)
    for message in refused.value.messages:
        assert_reads_in(language, message)


@pytest.mark.parametrize(
    ("language", "expected"), [("zh-hans", "密码太短"), ("ru", "Пароль слишком короткий")]
)
def test_the_sign_up_page_says_the_password_is_too_short_in_its_language(client, language, expected):
    response = client.post(
        reverse("accounts:sign_up"),
        {
            "seller_name": "Tea",
            "display_name": "Li",
            "email": "li@example.com",
            "password": "short1",
            "language": "en",
            "time_zone": "Europe/Moscow",
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    errors = " ".join(response.context["form"].errors["password"])
    assert expected in errors
    assert_reads_in(language, errors)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "最多 150 个字符（当前 151 个）。"), ("ru", "Не более 150 символов (сейчас 151).")],  # noqa: RUF001
)
def test_a_form_field_too_long_says_so_naturally(client, language, expected):
    response = client.post(
        reverse("accounts:sign_up"), {"seller_name": "x" * 151}, HTTP_ACCEPT_LANGUAGE=language
    )
    # The page, not form.errors: a form's messages are lazy, and the request's language is gone by now.
    assert expected in response.content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", ["最多 150 个字符。"]), ("ru", ["Максимум символов: 150."]), ("en", None)],
)
def test_an_api_field_too_long_says_so_naturally(owner_membership, seller, language, expected):
    response = client_with(token_for(owner_membership), HTTP_ACCEPT_LANGUAGE=language).post(
        url(seller, "members"), {"email": "a@example.com", "display_name": "x" * 151}, format="json"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]["display_name"]
    if expected is None:
        assert errors == ["Ensure this field has no more than 150 characters."]
    else:
        assert errors == expected


@pytest.mark.parametrize(
    ("language", "thing", "person"), [("zh-hans", "名称", "姓名"), ("ru", "название", "имя")]
)
def test_things_have_a_name_and_people_a_personal_name(language, thing, person):
    with translation.override(language):
        for model in (Seller, Store, Warehouse, Role, ApiToken):
            assert str(model._meta.get_field("name").verbose_name) == thing, model
        assert str(User._meta.get_field("display_name").verbose_name) == person


@pytest.mark.parametrize(
    ("language", "thing", "person"), [("zh-hans", "名称", "姓名"), ("ru", "Название", "Имя")]
)
def test_forms_and_tables_label_a_things_name_as_a_thing(client, seller, owner, language, thing, person):
    store = roles_services.add_store(actor=owner, seller=seller, name="North", client_id="1", market="RU")
    client.force_login(owner)
    owner.preferred_language = language
    owner.save(update_fields=["preferred_language"])

    def labels(path):
        html = client.get(path).content.decode()
        return set(re.findall(r"<(?:label|th)[^>]*>\s*(?:<a[^>]*>)?([^<]+)", html))

    for path in (
        reverse("roles:stores", args=[seller.pk]),
        reverse("roles:store", args=[seller.pk, store.pk]),
        reverse("roles:role_create", args=[seller.pk]),
        reverse("dashboard:tokens", args=[seller.pk]),
    ):
        found = {label.strip() for label in labels(path)}
        assert thing in found, (path, found)
        assert person not in found, (path, found)
    assert person in {label.strip() for label in labels(reverse("accounts:invite", args=[seller.pk]))}


@pytest.mark.parametrize(
    ("language", "title"),
    [("zh-hans", "页面已过期"), ("ru", "Страница устарела"), ("en", "This page has expired")],
)
def test_a_failed_csrf_check_is_a_translated_page_of_the_site(db, language, title):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("accounts:login"),
        {"username": "a@example.com", "password": "x"},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert f"<title>{title} · OzonSeat</title>" in html and f"<h1>{title}</h1>" in html
    assert "Forbidden" not in html and 'class="topbar"' in html  # the site's own page, header included
    assert reverse("accounts:home") in html


def test_a_failed_csrf_check_on_an_api_path_is_a_problem(db):
    request = RequestFactory().post("/api/v1/sellers/1/members")
    response = csrf_failure(request, reason="CSRF cookie not set.")
    assert response.status_code == 403 and response["Content-Type"] == "application/problem+json"

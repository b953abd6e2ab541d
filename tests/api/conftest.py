import pytest
from rest_framework.test import APIClient

from accounts import api_tokens
from ozonseat.api.roles_support import ROLES
from tests.factories import make_member, make_seller

# These prove the stores / roles / assignments endpoints and the check, which exist only once the roles
# app's models and selectors are installed (they are then wired up, and these run). Until then there is
# nothing for them to test.
collect_ignore = [] if ROLES else ["test_check.py", "test_scopes.py"]


def token_for(membership, *, actor=None, name="tool", expires_at=None) -> str:
    """A working token of the membership; its secret."""
    return api_tokens.create_api_token(
        actor=actor or membership.user, membership=membership, name=name, expires_at=expires_at
    ).secret


def client_with(secret: str | None = None, **headers) -> APIClient:
    client = APIClient()
    if secret:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}", **headers)
    elif headers:
        client.credentials(**headers)
    return client


@pytest.fixture
def owner_token(owner_membership):
    return token_for(owner_membership)


@pytest.fixture
def owner_api(owner_token):
    return client_with(owner_token)


@pytest.fixture
def plain_member(seller):
    """An active member with no roles: no seller permission."""
    return make_member(seller)


@pytest.fixture
def plain_api(plain_member):
    return client_with(token_for(plain_member))


@pytest.fixture
def other_seller(db):
    return make_seller(name="Other shop")


def url(seller, path: str = "") -> str:
    return f"/api/v1/sellers/{getattr(seller, 'pk', seller)}/{path}"


def assert_problem(response, status: int, slug: str | None = None):
    assert response.status_code == status, (response.status_code, getattr(response, "content", b"")[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:ozonseat:problem:")
    if slug:
        assert body["type"] == f"urn:ozonseat:problem:{slug}"
    assert body["title"] and body["detail"]
    return body

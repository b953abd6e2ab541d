"""Revocation stays instant on the API's fast paths (issue 15): for every way access ends, the request made
right after the ending commits is answered from the new state, on each path a token takes — ping, me, the
member checking themselves, and a service account checking the member. Each path is used just before the
ending too, so anything a request might have cached or kept would be in place when the next one comes."""

import pytest
from rest_framework.test import APIClient

from accounts import api_tokens
from tests.test_access_ends import Scene

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ENDINGS = (
    "suspend",
    "remove",
    "expire",
    "revoke_token",
    "require_two_factor",
    "revoke_assignment",
    "narrow_role",
    "narrow_scope",
)
PATHS = ("ping", "me", "check_self", "check_by_service")
NARROWING = ("revoke_assignment", "narrow_role", "narrow_scope")
REFUSED = None


def _client(secret):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return api


class Paths:
    def __init__(self, scene):
        self.scene = scene
        owner = scene.owner
        service = api_tokens.create_service_account(actor=owner, seller=scene.seller, name="Watcher")
        self.service_secret = api_tokens.create_api_token(actor=owner, membership=service, name="w").secret
        self.everything = sorted(scene.full_access)

    def answer(self, path):
        """What the path gives now: REFUSED, or the set of (permission, store) the member holds."""
        scene = self.scene
        if path == "ping":
            response = _client(scene.token_secret).get("/api/v1/ping")
            if response.status_code != 200:
                return REFUSED
            assert response.json()["seller_id"] == scene.seller.pk
            return scene.access_of(secret=scene.token_secret)  # the same token, one request later
        if path == "me":
            return scene.access_of(secret=scene.token_secret)
        secret = scene.token_secret if path == "check_self" else self.service_secret
        items = [
            {"member": scene.member.pk, "permission": permission, "store": store}
            for permission, store in self.everything
        ]
        response = _client(secret).post(
            f"/api/v1/sellers/{scene.seller.pk}/check", {"checks": items}, format="json"
        )
        if response.status_code != 200:
            assert response.status_code in (401, 403), response.content
            return REFUSED
        results = response.json()["results"]
        return {key for key, result in zip(self.everything, results, strict=True) if result["allowed"]}


def expected(ending, path, scene):
    if ending in NARROWING:
        return scene.full_access - scene.what_ends
    if path == "check_by_service":
        if ending in ("revoke_token", "require_two_factor"):
            return scene.full_access  # the member's permissions did not change; only their token ended
        return set()  # suspended, removed or past the end date: the member holds nothing
    return REFUSED


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("ending", ENDINGS)
def test_the_request_right_after_an_ending_sees_it(ending, path, django_capture_on_commit_callbacks):
    scene = Scene(django_capture_on_commit_callbacks, ending, "api_token")
    scene.arrange()
    paths = Paths(scene)
    for _ in range(2):  # used, and used again: whatever a first request leaves behind is in place
        assert paths.answer(path) == scene.full_access
    scene.end_access()
    assert paths.answer(path) == expected(ending, path, scene)

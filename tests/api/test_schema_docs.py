import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = [pytest.mark.django_db]


def schema():
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def test_schema_documents_every_operation_with_problem_errors_and_bearer_auth():
    document = schema()
    assert document["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail"} <= set(problem["required"])
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert len(operations) >= 19
    for path, method, operation in operations:
        responses = operation["responses"]
        for code in ("400", "401", "403", "404", "405", "429"):
            assert code in responses, (path, method, code)
            content = responses[code]["content"]
            assert "application/problem+json" in content, (path, method, code)
        assert "Retry-After" in responses["429"]["headers"]
        assert operation.get("summary"), (path, method)
        if method in ("post", "patch") and "requestBody" in operation:
            assert "415" in responses and "413" in responses
    invite = document["paths"]["/api/v1/sellers/{seller_id}/members"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in invite["parameters"])


def test_docs_pages_load_their_assets_from_this_server_not_a_cdn():
    for path in ("/api/docs/", "/api/docs/redoc/"):
        response = Client().get(path)
        assert response.status_code == 200
        html = response.content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources, path
        for source in sources:
            assert not source.startswith(("http://", "https://", "//")), (path, source)
        assert "cdn" not in html.lower(), path
        for source in sources:
            if source.startswith("/static/"):
                assert finders.find(source.removeprefix("/static/")), source


def test_schema_is_valid_yaml_too():
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")


def test_the_audit_filters_are_documented_on_the_list_and_the_export():
    paths = schema()["paths"]
    for path in (
        "/api/v1/sellers/{seller_id}/audit-events",
        "/api/v1/sellers/{seller_id}/audit-events/export",
    ):
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert {"action", "actor", "target_type", "target_id", "store", "since", "until"} <= set(
            parameters
        ), path
        assert parameters["store"]["schema"]["type"] == "integer", path
        assert "store" in parameters["store"]["description"], path

import inspect
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


def test_the_export_documents_only_the_parameters_it_takes_and_both_of_its_content_types():
    paths = schema()["paths"]
    filters = {"action", "actor", "target_type", "target_id", "store", "since", "until"}

    def query(path):
        return {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}

    assert query("/api/v1/sellers/{seller_id}/audit-events") == filters | {"cursor", "page_size"}
    export = "/api/v1/sellers/{seller_id}/audit-events/export"
    assert query(export) == filters | {"format"}
    assert set(paths[export]["get"]["responses"]["200"]["content"]) == {"text/csv", "application/jsonl"}


def test_an_audit_event_documents_its_store():
    event = schema()["components"]["schemas"]["AuditEvent"]
    store_id = event["properties"]["store_id"]
    assert "store_id" in event["required"]
    assert store_id["type"] == "integer" and store_id["nullable"] and "store" in store_id["description"]


# Words of developer notes, which once reached every operation's description through the SellerView
# docstring (drf-spectacular publishes a view's docstring, or its nearest base's, as the description).
INTERNAL_MARKERS = (
    "`permission` (or `permissions` per HTTP method)",
    "the handler needs",
    "None means any working member",
    "Services check again",
    "the early, cheap answer",
    "An input serializer that refuses fields",
    "serializer",
    "handler",
    "docstring",
    "self.seller",
    "self.membership",
)


def _api_views():
    """(schema path, view class) of every API endpoint, from the API's URLconf (the documentation pages,
    which serve the schema, are not operations of it)."""
    from ozonseat.api import urls

    for pattern in urls.urlpatterns:
        view = getattr(pattern.callback, "view_class", None)
        if (
            view is None
            or not view.__module__.startswith("ozonseat.api.")
            or view.__module__ == "ozonseat.api.docs"
        ):
            continue
        yield "/api/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(pattern.pattern)), view


def _inherited_docstrings() -> set[str]:
    """Docstrings of our own base classes of the API views and serializers: what drf-spectacular would
    publish for an operation or a component without a description of its own."""
    from ozonseat.api.serializers import StrictSerializer

    classes = [base for _path, view in _api_views() for base in view.__mro__[1:]] + [StrictSerializer]
    return {
        inspect.cleandoc(cls.__doc__)
        for cls in classes
        if cls.__module__.startswith("ozonseat.") and cls.__doc__
    }


def test_every_operation_has_a_summary_and_its_own_description_for_api_users():
    document = schema()
    inherited = _inherited_docstrings()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert len(operations) >= 19
    for path, method, operation in operations:
        assert operation.get("summary"), (path, method)
        description = operation.get("description", "")
        assert description, (path, method)
        assert description not in inherited, (path, method)
        leaked = [marker for marker in INTERNAL_MARKERS if marker.lower() in description.lower()]
        assert not leaked, (path, method, leaked)
    for name, component in document["components"]["schemas"].items():
        description = component.get("description", "")
        assert description not in inherited, name
        assert not [marker for marker in INTERNAL_MARKERS if marker.lower() in description.lower()], name


def test_each_operation_says_which_permission_it_needs():
    """An operation the view guards with a seller permission names it in its description (who may call it)."""
    paths = schema()["paths"]
    checked = 0
    for path, view in _api_views():
        required_permission = getattr(view, "required_permission", None)
        for method, operation in paths[path].items():
            permission = required_permission(view(), method.upper()) if required_permission else None
            if permission:
                assert f"`{permission}`" in operation["description"], (path, method, permission)
                checked += 1
            else:
                assert "may call it" in operation["description"] or "may ask" in operation["description"], (
                    path,
                    method,
                )
    assert checked >= 10
